/* Private to linalg/gemm*.c: the blocking constants, the argument check
 * shared by muon_gemm and muon_gemm_naive (so both reject exactly the same
 * calls), and the three pieces of machinery around the five loops of
 * linalg/gemm.c: the packing-buffer pool (gemm_pool.c), the thread grid
 * (gemm_grid.c) and the contention guard (gemm_guard.c). */
#ifndef MUON_GEMM_INTERNAL_H
#define MUON_GEMM_INTERNAL_H

#include "linalg/linalg.h"

/* Register tile, picked from the vector ISA the compiler targets (predefined
 * macros only; the code is the same C). The MR x NR accumulator plus one row
 * of B and a broadcast must fit the vector registers: with 32 512-bit
 * registers (AVX-512) 8 x 32 floats is 16 accumulators; with 16 256-bit ones
 * (AVX2) 6 x 16 is 12; SSE2's 16 128-bit ones take 4 x 8. Larger tiles
 * spill, smaller ones reload B more often per multiply-add. `muon bench
 * gemm` compares choices (-DMUON_GEMM_MR=.. -DMUON_GEMM_NR=.. override). */
#if !defined(MUON_GEMM_MR) && !defined(MUON_GEMM_NR)
#if defined(__AVX512F__)
#define MUON_GEMM_MR 8
#define MUON_GEMM_NR 32
#elif defined(__AVX__)
#define MUON_GEMM_MR 6
#define MUON_GEMM_NR 16
#else
#define MUON_GEMM_MR 4
#define MUON_GEMM_NR 8
#endif
#endif
#ifndef MUON_GEMM_MR
#define MUON_GEMM_MR 8
#endif
#ifndef MUON_GEMM_NR
#define MUON_GEMM_NR 32
#endif
/* Cache blocks, from the cache sizes of a typical x86-64 core (L1d 32-48
 * KiB, L2 1 MiB per core, L3 tens of MiB shared):
 *   KC: an A sliver, KC x MR x 4 bytes, is reused by every B micro-panel
 *       of the panel (the inner loop of linalg/gemm.c), so it should stay
 *       in L1d: 256 x 8 x 4 = 8 KiB, beside the B micro-panel streaming
 *       through (256 x 32 x 4 = 32 KiB); a smaller KC updates C from memory
 *       more often;
 *   MC: the packed A block, MC x KC x 4 bytes, is read once, sliver by
 *       sliver, per B panel: 384 x 256 x 4 = 384 KiB, about 40% of L2,
 *       bounds the packing buffer and leaves L2 to the B panel and C;
 *   NC: the packed B panel, KC x NC x 4 bytes, is read once per A sliver:
 *       at most 4 MiB per thread (KC x N for N < NC), in L2 where N is small (the
 *       model's per-sequence products) and in L3 otherwise, a contiguous
 *       stream either way (1024 and 2048 measured no better).
 * The blocks follow the rule; `muon bench gemm` checks a change. */
#ifndef MUON_GEMM_KC
#define MUON_GEMM_KC 256
#endif
#ifndef MUON_GEMM_MC
#define MUON_GEMM_MC 384
#endif
#ifndef MUON_GEMM_NC
#define MUON_GEMM_NC 4096
#endif

enum {
    MR = MUON_GEMM_MR,
    NR = MUON_GEMM_NR,
    KC = MUON_GEMM_KC,
    MC = (MUON_GEMM_MC + MUON_GEMM_MR - 1) / MUON_GEMM_MR * MUON_GEMM_MR,
    NC = (MUON_GEMM_NC + MUON_GEMM_NR - 1) / MUON_GEMM_NR * MUON_GEMM_NR
};

/* ceil(x/d) for x >= 0 without overflowing near INT_MAX */
#define CEIL_DIV(x, d) ((x) / (d) + ((x) % (d) != 0))


/* MUON_OK, or MUON_ERR_ARG (message set) for a negative size or a leading
 * dimension shorter than a stored row of A, B or C. */
int muon_gemm_check_args(muon_op opA, muon_op opB, int M, int N, int K,
                         int lda, int ldb, int ldc);

/* Test hook: 0 turns off the contention guard of muon_gemm (which runs calls
 * on one thread for a while after threads were seen waiting for cores), so a
 * test asking for 2 threads gets 2 whatever the machine's load; 1 turns it
 * back on. */
void muon_gemm_guard_enable(int on);

/* ---- packing-buffer pool (linalg/gemm_pool.c) ---- */

/* A buffer of n floats, reused between calls; *slot is its pool slot or -1
 * (a private allocation). NULL (message set) when out of memory. */
float *muon_gemm_pool_get(size_t n, int *slot);
/* Returns a buffer from muon_gemm_pool_get. */
void muon_gemm_pool_put(float *buf, int slot);

/* ---- thread grid (linalg/gemm_grid.c) ---- */

/* Splits nt threads into a tm x tn grid over the M and N tiles of an
 * op(A)(M,K) op(B)(K,N) product. */
void muon_gemm_grid(int nt, muon_op opA, muon_op opB, int M, int N, int *tm, int *tn);

/* ---- contention guard (linalg/gemm_guard.c) ---- */

#define MUON_GEMM_GUARD_MAX_THREADS 64   /* threads timed; larger teams are not guarded */
typedef struct {
    double start, busy; /* seconds after the fork; seconds in the thread's share */
    long tiles;         /* micro-kernel calls made */
} muon_gemm_times;
/* 1 if the next threaded call should run on one thread (contention seen). */
int muon_gemm_guard_says_serial(void);
/* Records how the threads of a call of total seconds fared. */
void muon_gemm_guard_record(const muon_gemm_times *t, int nt, double total);

#endif
