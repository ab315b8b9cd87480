/* The fast GEMM: BLIS's five loops around a register-tile micro-kernel, in
 * plain C99 (Van Zee & van de Geijn, "BLIS: a framework for rapidly
 * instantiating BLAS functionality", ACM TOMS 2015; block sizes after Low et
 * al., "Analytical modeling is enough for high-performance BLIS", TOMS 2016).
 *
 *   for jc in [0,N) step NC           a B panel (KC x NC) lives in L3
 *     for pc in [0,K) step KC         pack the thread's columns of that panel
 *       for ic in [0,M) step MC       pack an A block (MC x KC): L2
 *         for jr in [0,nc) step NR    a B micro-panel (KC x NR) stays in L1
 *           for ir in [0,mc) step MR  an A micro-panel streams from L2
 *             micro-kernel: the MR x NR tile of C, kept in registers
 *
 * Threads take a tm x tn grid of the M and N tiles and pack what they need
 * themselves, so they never wait for each other inside a call. Matrix-vector
 * shapes (M or N == 1) skip the tiles (thin_product). A contention guard
 * falls back to one thread while other processes hold the cores.
 *
 * Row-major view: C's rows are the MR direction (one broadcast of A each),
 * its contiguous columns the NR direction (NR/16 512-bit vectors of B), so
 * the MR x NR accumulator is MR*NR/16 vector registers.
 *
 * Determinism: each element of C is one k loop of fused multiply-adds in
 * index order inside a KC block, the KC blocks are added in order, and the
 * blocking never depends on the thread count; threads only split the M and
 * N tiles. So the result is bit-identical for any number of threads.
 */
#include "linalg/linalg.h"
#include "linalg/omp.h"
#include "linalg/gemm_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Register tile, picked from the vector ISA the compiler targets (predefined
 * macros only; the code is the same C). The MR x NR accumulator plus one row
 * of B and a broadcast must fit the vector registers. Measured single-thread
 * GFLOP/s at 512^3 / 1024x384x128 (gcc 12, Zen 4, best of 4 interleaved):
 *   AVX-512 (32 zmm): 8x32 109/106, 6x32 95/104, 14x32 89/96, 12x32 80/101,
 *                     6x64 93/102, 16x16 59/99, 4x48 74/77;
 *   AVX2+FMA (16 ymm): 6x16 93/104, 4x24 90/102, 8x32 44/59 (spills);
 *   SSE2 (16 xmm, no FMA: PORTABLE=1): 4x8 23/39, 8x32 15/25.
 * Overridable (-DMUON_GEMM_MR=.. -DMUON_GEMM_NR=..) for such runs. */
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
/* Cache blocks, from the caches of the target (Zen 4 here: L1d 32 KiB,
 * L2 1 MiB per core, L3 32 MiB shared; Zen 5: L1d 48 KiB, L2 1 MiB):
 *   KC: a B micro-panel, KC x NR x 4 bytes, is reused by every A sliver of
 *       the block, so it should stay in L1d: 256 x 32 x 4 = 32 KiB, most of
 *       L1d (the A sliver, 8 KiB, streams through beside it); a smaller KC
 *       updates C from memory more often and measured slower (below);
 *   MC: the packed A block, MC x KC x 4 bytes, is reused by every B
 *       micro-panel, so it should stay in L2: 384 x 256 x 4 = 384 KiB,
 *       about 40% of L2, leaving room for the B panel strips and C;
 *   NC: the packed B panel, KC x NC x 4 bytes, lives in L3: 4 MiB per thread.
 * Measured (1 thread, 512^3 / 1024^3 GFLOP/s, best of 4-5 interleaved runs
 * on the shared machine; 1024^3 is the noisiest): KC,MC = 256,384: 107/94;
 * 256,192: 106/92; 256,768: 95/43; 384,384: 106/75; 384,192: 102/77;
 * 512,192: 101/74; 192,384: 102/58; 128,384: 91/35. The small and model
 * shapes hardly care (within 2%). */
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

/* Below this many multiply-adds a second thread costs more (waking it and
 * joining) than it saves: measured break-even near 64^3 on 2 cores (64^3:
 * 73 GFLOP/s on 1 thread, 70 on 2; 96^3: 83 vs 96; 128x128x64: 87 vs 121). */
#define PARALLEL_MIN_FMAS (128.0 * 64.0 * 64.0)

/* What packing one float costs, in multiply-adds (58 G/s per core here):
 * a contiguous copy (A transposed, B not) runs at ~9 G floats/s, a
 * transposing one (A not transposed, B transposed) at ~2 G/s. Only steers
 * the thread grid. */
#define PACK_COST_COPY 6.0
#define PACK_COST_TRANSPOSE 30.0

/* ISO C mode (-std=c99) forbids the compiler to contract a*b+c, so the fused
 * multiply-add is asked for by name where the target has it in hardware
 * (FP_FAST_FMAF, C99 7.12); elsewhere fmaf would be a slow library call. */
#ifdef FP_FAST_FMAF
#define MADD(a, b, c) fmaf((a), (b), (c))
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

/* ---- micro-kernel -------------------------------------------------------- */

/* C(mr,nr) = alpha * a*b + beta * C for one tile, mr <= MR, nr <= NR.
 * a and b are packed and zero-padded to full MR and NR, so the k loop is the
 * same for edge tiles; only the store is clipped. beta == 0 never reads C. */
static void micro_kernel(int kc,
                         const float *restrict a, /* (kc, MR) packed A sliver */
                         const float *restrict b, /* (kc, NR) packed B sliver */
                         float alpha, float beta,
                         float *restrict c, /* (mr, nr) tile of C, row stride ldc */
                         ptrdiff_t ldc, int mr, int nr)
{
    float acc[MR][NR];
    int i, j, p;
    for (i = 0; i < MR; i++)
MUON_OMP(omp simd)
        for (j = 0; j < NR; j++) acc[i][j] = 0.0f;
    /* The same multiply-adds in the same order either way; only the loop
     * nest differs, because the compilers keep the tile in registers for
     * different nests (checked in the assembly: MR*NR/16 zmm accumulators,
     * vfmadd231ps zmm, no spills). gcc 12 vectorises j and unrolls i in the
     * i-j nest; clang 14 unrolls that j loop into scalars first and leaves
     * acc in memory (1.3 GFLOP/s), but vectorises the j-i nest (115). */
#ifdef __clang__
    for (p = 0; p < kc; p++) {
MUON_OMP(omp simd)
        for (j = 0; j < NR; j++) {
            const float bj = b[(ptrdiff_t)p * NR + j];
            for (i = 0; i < MR; i++) acc[i][j] = MADD(a[(ptrdiff_t)p * MR + i], bj, acc[i][j]);
        }
    }
#else
    for (p = 0; p < kc; p++) {
        for (i = 0; i < MR; i++) {
            const float ai = a[(ptrdiff_t)p * MR + i];
MUON_OMP(omp simd)
            for (j = 0; j < NR; j++) acc[i][j] = MADD(ai, b[(ptrdiff_t)p * NR + j], acc[i][j]);
        }
    }
#endif
    if (mr == MR && nr == NR) {
        if (beta == 0.0f) {
            for (i = 0; i < MR; i++)
MUON_OMP(omp simd)
                for (j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j];
        } else {
            for (i = 0; i < MR; i++)
MUON_OMP(omp simd)
                for (j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j] + beta * c[i * ldc + j];
        }
    } else {
        if (beta == 0.0f) {
            for (i = 0; i < mr; i++)
                for (j = 0; j < nr; j++) c[i * ldc + j] = alpha * acc[i][j];
        } else {
            for (i = 0; i < mr; i++)
                for (j = 0; j < nr; j++) c[i * ldc + j] = alpha * acc[i][j] + beta * c[i * ldc + j];
        }
    }
}

/* ---- packing ------------------------------------------------------------- */

/* Packs rows [i0, i0+m) and columns [p0, p0+kc) of op(A) into MR-row
 * slivers: dst[s*MR*kc + p*MR + i] = op(A)[i0 + s*MR + i][p0 + p], rows past
 * m zero-filled. */
static void pack_a(muon_op op, const float *A, ptrdiff_t lda, int i0, int m,
                   int p0, int kc, float *restrict dst /* (ceil(m/MR), kc, MR) */)
{
    int s, i, p;
    for (s = 0; s * MR < m; s++) {
        int rows = m - s * MR < MR ? m - s * MR : MR;
        float *d = dst + (ptrdiff_t)s * MR * kc;
        if (op == MUON_NOTRANS && rows == MR) {
            /* p outer, the MR rows inner: the writes are contiguous, and
             * gcc and clang turn this into vector loads and an in-register
             * transpose (8.9 G floats/s against 2.6 row by row) */
            const float *src = A + (ptrdiff_t)(i0 + s * MR) * lda + p0;
            for (p = 0; p < kc; p++)
                for (i = 0; i < MR; i++) d[(ptrdiff_t)p * MR + i] = src[i * lda + p];
        } else if (op == MUON_NOTRANS) {
            for (i = 0; i < rows; i++) {
                const float *src = A + (ptrdiff_t)(i0 + s * MR + i) * lda + p0;
                for (p = 0; p < kc; p++) d[(ptrdiff_t)p * MR + i] = src[p];
            }
            for (; i < MR; i++)
                for (p = 0; p < kc; p++) d[(ptrdiff_t)p * MR + i] = 0.0f;
        } else if (rows == MR) {
            /* a fixed-length copy: one vector move per p */
            const float *src = A + (ptrdiff_t)p0 * lda + i0 + s * MR;
            for (p = 0; p < kc; p++)
                for (i = 0; i < MR; i++) d[(ptrdiff_t)p * MR + i] = src[p * lda + i];
        } else {
            for (p = 0; p < kc; p++) {
                const float *src = A + (ptrdiff_t)(p0 + p) * lda + i0 + s * MR;
                for (i = 0; i < rows; i++) d[(ptrdiff_t)p * MR + i] = src[i];
                for (; i < MR; i++) d[(ptrdiff_t)p * MR + i] = 0.0f;
            }
        }
    }
}

/* Columns per transposed block in pack_b: 8 loads of B^T rows make one
 * 32-byte row of the block. */
#define TB 8

/* Packs rows [p0, p0+kc) and the NR-column slivers s0 <= s < s1 of columns
 * [j0, j0+n) of op(B): dst[(s-s0)*NR*kc + p*NR + j] = op(B)[p0+p][j0 + s*NR + j],
 * columns past n zero-filled. */
static void pack_b(muon_op op, const float *B, ptrdiff_t ldb, int p0, int kc,
                   int j0, int n, int s0, int s1, float *restrict dst /* (s1-s0, kc, NR) */)
{
    int s, j, p;
    for (s = s0; s < s1; s++) {
        int cols = n - s * NR < NR ? n - s * NR : NR;
        float *d = dst + (ptrdiff_t)(s - s0) * NR * kc;
        if (op == MUON_TRANS && cols == NR && NR % TB == 0) {
            /* TB columns at a time through a contiguous (kc, TB) block, for
             * the same reason as in pack_a (5.7 G floats/s against 2.2) */
            float t[KC * TB];
            int jb;
            for (jb = 0; jb < NR; jb += TB) {
                const float *src = B + (ptrdiff_t)(j0 + s * NR + jb) * ldb + p0;
                for (p = 0; p < kc; p++)
                    for (j = 0; j < TB; j++) t[p * TB + j] = src[j * ldb + p];
                for (p = 0; p < kc; p++)
                    for (j = 0; j < TB; j++) d[(ptrdiff_t)p * NR + jb + j] = t[p * TB + j];
            }
        } else if (op == MUON_NOTRANS && cols == NR) {
            /* a fixed-length copy: NR/16 vector moves per p */
            const float *src = B + (ptrdiff_t)p0 * ldb + j0 + s * NR;
            for (p = 0; p < kc; p++)
                for (j = 0; j < NR; j++) d[(ptrdiff_t)p * NR + j] = src[p * ldb + j];
        } else if (op == MUON_NOTRANS) {
            for (p = 0; p < kc; p++) {
                const float *src = B + (ptrdiff_t)(p0 + p) * ldb + j0 + s * NR;
                for (j = 0; j < cols; j++) d[(ptrdiff_t)p * NR + j] = src[j];
                for (; j < NR; j++) d[(ptrdiff_t)p * NR + j] = 0.0f;
            }
        } else {
            for (j = 0; j < cols; j++) {
                const float *src = B + (ptrdiff_t)(j0 + s * NR + j) * ldb + p0;
                for (p = 0; p < kc; p++) d[(ptrdiff_t)p * NR + j] = src[p];
            }
            for (; j < NR; j++)
                for (p = 0; p < kc; p++) d[(ptrdiff_t)p * NR + j] = 0.0f;
        }
    }
}

/* ---- packing-buffer cache ------------------------------------------------ */

/* Packing buffers are kept between calls so the hot path does not allocate
 * (and does not page-fault fresh memory). One slot per concurrent call; the
 * slot table is guarded by an OpenMP critical section. Without OpenMP muon
 * itself never runs two calls at once. More concurrent calls than slots fall
 * back to a private allocation. */
#define POOL_SLOTS 32

static struct {
    float *buf;
    size_t cap; /* floats */
    int busy;
} pool[POOL_SLOTS];

/* A buffer of n floats; *slot is its pool slot or -1 (then muon_free it). */
static float *pool_get(size_t n, int *slot)
{
    int s, pick = -1;
MUON_OMP(omp critical(muon_gemm_pool))
    {
        /* the smallest free buffer that fits, else the largest free one */
        for (s = 0; s < POOL_SLOTS; s++)
            if (!pool[s].busy && pool[s].cap >= n && (pick < 0 || pool[s].cap < pool[pick].cap))
                pick = s;
        if (pick < 0)
            for (s = 0; s < POOL_SLOTS; s++)
                if (!pool[s].busy && (pick < 0 || pool[s].cap > pool[pick].cap)) pick = s;
        if (pick >= 0) pool[pick].busy = 1;
    }
    *slot = pick;
    if (pick < 0) return muon_alloc(n * sizeof(float));
    if (pool[pick].cap < n) {
        muon_free(pool[pick].buf);
        pool[pick].buf = muon_alloc(n * sizeof(float));
        pool[pick].cap = pool[pick].buf ? n : 0;
        if (!pool[pick].buf) {
MUON_OMP(omp critical(muon_gemm_pool))
            pool[pick].busy = 0;
            *slot = -1;
            return NULL;
        }
    }
    return pool[pick].buf;
}

static void pool_put(float *buf, int slot)
{
    if (slot < 0) {
        muon_free(buf);
        return;
    }
MUON_OMP(omp critical(muon_gemm_pool))
    pool[slot].busy = 0;
}

void muon_gemm_release(void)
{
    int s;
MUON_OMP(omp critical(muon_gemm_pool))
    for (s = 0; s < POOL_SLOTS; s++)
        if (!pool[s].busy) {
            muon_free(pool[s].buf);
            pool[s].buf = NULL;
            pool[s].cap = 0;
        }
}

/* ---- the five loops ------------------------------------------------------ */

typedef struct {
    muon_op opA, opB;
    int M, N, K;
    float alpha, beta;
    const float *A, *B;
    ptrdiff_t lda, ldb, ldc;
    float *C;
    int nt, tm, tn;  /* threads, as a tm x tn grid over M tiles x N tiles */
    int mc;          /* rows per packed A block (multiple of MR, <= MC) */
    int kcmax;       /* min(K, KC) */
    int nb;          /* columns per packed B panel (multiple of NR, <= NC) */
    float *bpack;    /* (nt, kcmax, nb) one packed B panel per thread */
    float *apack;    /* (nt, mc, kcmax) one packed A block per thread */
} gemm_job;

/* Everything thread tid does. Each thread packs the B columns it needs
 * itself (threads splitting M pack the same B panel twice, a K*N copy
 * against M*N*K/nt multiply-adds), so threads never wait for each other:
 * with a barrier per panel, a thread descheduled by another process made
 * the other spin through its time slice (measured 20x slowdowns on the
 * shared machine). */
static long gemm_thread(const gemm_job *g, int tid)
{
    long tiles = 0;
    const int ti = tid / g->tn, tj = tid % g->tn;
    const long long mtiles = CEIL_DIV(g->M, MR);
    const int m0 = (int)(mtiles * ti / g->tm * MR);
    const long long m1l = mtiles * (ti + 1) / g->tm * MR;
    const int m1 = m1l < g->M ? (int)m1l : g->M;
    float *apack = g->apack + (ptrdiff_t)tid * g->mc * g->kcmax;
    float *bpack = g->bpack + (ptrdiff_t)tid * g->nb * g->kcmax;
    int jc, pc, ic, jr, ir;

    if (m0 >= m1) return 0;
    for (jc = 0; jc < g->N; jc += NC) {
        const int nc = g->N - jc < NC ? g->N - jc : NC;
        const long long ntiles = CEIL_DIV(nc, NR);
        const int s0 = (int)(ntiles * tj / g->tn), s1 = (int)(ntiles * (tj + 1) / g->tn);
        for (pc = 0; pc < g->K; pc += KC) {
            const int kc = g->K - pc < KC ? g->K - pc : KC;
            const float beta = pc == 0 ? g->beta : 1.0f;
            if (s0 == s1) continue;
            pack_b(g->opB, g->B, g->ldb, pc, kc, jc, nc, s0, s1, bpack);
            for (ic = m0; ic < m1; ic += g->mc) {
                const int mc = m1 - ic < g->mc ? m1 - ic : g->mc;
                pack_a(g->opA, g->A, g->lda, ic, mc, pc, kc, apack);
                for (jr = s0; jr < s1; jr++) {
                    const int nr = nc - jr * NR < NR ? nc - jr * NR : NR;
                    const float *b = bpack + (ptrdiff_t)(jr - s0) * NR * kc;
                    for (ir = 0; ir < mc; ir += MR) {
                        const int mr = mc - ir < MR ? mc - ir : MR;
                        micro_kernel(kc, apack + (ptrdiff_t)ir * kc, b, g->alpha, beta,
                                     g->C + (ptrdiff_t)(ic + ir) * g->ldc + jc + jr * NR,
                                     g->ldc, mr, nr);
                        tiles++;
                    }
                }
            }
        }
    }
    return tiles;
}

/* ---- matrix-vector products ---------------------------------------------- */

/* y(R) = alpha*op(Mat)*x + beta*y for the thin cases N == 1 or M == 1,
 * where an MR x NR tile would be almost all padding (3 GFLOP/s at 512x1x512
 * through the tiles). op(Mat) is (R, K): Mat stored (R, K) gives R dot
 * products; stored (K, R) gives K updates of an R-vector, so either way the
 * inner loop runs along contiguous memory. x has stride incx (copied to
 * work when not 1), y stride incy. Single-threaded: these are memory-bound
 * and small. beta == 0 never reads y. */
static void thin_product(muon_op op, const float *Mat, ptrdiff_t ldm, int R, int K,
                         const float *x, ptrdiff_t incx, float alpha, float beta,
                         float *y, ptrdiff_t incy, float *restrict work /* (R + K) */)
{
    const float *xv = x;
    float *acc = work;
    int r, p;
    if (incx != 1) {
        float *t = work + R;
        for (p = 0; p < K; p++) t[p] = x[p * incx];
        xv = t;
    }
    if (op == MUON_NOTRANS) {
        for (r = 0; r < R; r++) {
            const float *m = Mat + r * ldm;
            float s = 0.0f;
MUON_OMP(omp simd reduction(+ : s))
            for (p = 0; p < K; p++) s = MADD(m[p], xv[p], s);
            acc[r] = s;
        }
    } else {
        for (r = 0; r < R; r++) acc[r] = 0.0f;
        for (p = 0; p < K; p++) {
            const float xp = xv[p];
            const float *restrict m = Mat + p * ldm;
MUON_OMP(omp simd)
            for (r = 0; r < R; r++) acc[r] = MADD(xp, m[r], acc[r]);
        }
    }
    if (beta == 0.0f)
        for (r = 0; r < R; r++) y[r * incy] = alpha * acc[r];
    else
        for (r = 0; r < R; r++) y[r * incy] = alpha * acc[r] + beta * y[r * incy];
}

/* ---- contention guard ---------------------------------------------------- */

#ifdef _OPENMP
/* When other processes keep the cores busy, a fork/join waits for whichever
 * thread the OS has descheduled: measured on the shared 2-core machine at
 * load 5-7, the median 2-thread 1024x384x128 took 7-20 ms against 0.5 ms at
 * best and 1.1 ms on one thread. So each threaded call measures how much
 * later each thread finished than it would have starting at once at the
 * pace of the fastest thread (per micro-kernel call, so uneven shares do
 * not count); if that lag was over a quarter of the call (and over
 * GUARD_MIN_LAG), calls run on one thread for a while, the while doubling
 * as long as the contention lasts. The results are the same bits either
 * way; only the speed changes. */
#define GUARD_MIN_LAG 1e-4     /* seconds: below this, lag is just wake-up */
#define GUARD_MAX_THREADS 64   /* threads timed; larger teams are not guarded */
#define GUARD_FIRST_PAUSE 0.02 /* seconds on one thread after a bad call */
#define GUARD_MAX_PAUSE 0.25

static int guard_on = 1;
static double guard_until = 0.0, guard_pause = GUARD_FIRST_PAUSE;

void muon_gemm_guard_enable(int on)
{
MUON_OMP(omp critical(muon_gemm_guard))
    {
        guard_on = on;
        guard_until = 0.0;
        guard_pause = GUARD_FIRST_PAUSE;
    }
}

static int guard_says_serial(void)
{
    int serial;
    double now = omp_get_wtime();
MUON_OMP(omp critical(muon_gemm_guard))
    serial = guard_on && now < guard_until;
    return serial;
}

typedef struct {
    double start, busy; /* seconds after the fork; seconds in gemm_thread */
    long tiles;         /* micro-kernel calls made */
} guard_times;

static void guard_record(const guard_times *t, int nt, double total)
{
    double now = omp_get_wtime(), pace = -1.0, lag = 0.0;
    int i;
    for (i = 0; i < nt; i++)
        if (t[i].tiles > 0 && (pace < 0.0 || t[i].busy / t[i].tiles < pace))
            pace = t[i].busy / t[i].tiles;
    for (i = 0; i < nt; i++) {
        double late = t[i].start + t[i].busy - (pace > 0.0 ? pace * t[i].tiles : 0.0);
        if (late > lag) lag = late;
    }
MUON_OMP(omp critical(muon_gemm_guard))
    {
        if (lag > GUARD_MIN_LAG && lag > 0.25 * total) {
            guard_until = now + guard_pause;
            guard_pause = 2.0 * guard_pause < GUARD_MAX_PAUSE ? 2.0 * guard_pause : GUARD_MAX_PAUSE;
        } else {
            guard_pause = GUARD_FIRST_PAUSE;
        }
    }
}
#else
void muon_gemm_guard_enable(int on) { (void)on; }
#endif

/* C = beta*C for the cases with nothing to multiply (K == 0, alpha == 0). */
static void scale_c(int M, int N, float beta, float *C, ptrdiff_t ldc)
{
    int i, j;
    for (i = 0; i < M; i++) {
        float *c = C + (ptrdiff_t)i * ldc;
        if (beta == 0.0f)
            for (j = 0; j < N; j++) c[j] = 0.0f;
        else if (beta != 1.0f)
            for (j = 0; j < N; j++) c[j] *= beta;
    }
}

/* Splits nt threads into a tm x tn grid over the M and N tiles: the least
 * work for the busiest thread, in units of one MR x NR tile update, counting
 * its packing too (each of its MR-row slivers of A packs MR*kc floats, each
 * NR-column sliver of B NR*kc, and threads sharing rows or columns pack them
 * twice). */
static void choose_grid(int nt, muon_op opA, muon_op opB, int M, int N, int *tm, int *tn)
{
    const double ca = opA == MUON_NOTRANS ? PACK_COST_TRANSPOSE : PACK_COST_COPY;
    const double cb = opB == MUON_TRANS ? PACK_COST_TRANSPOSE : PACK_COST_COPY;
    const double mtiles = CEIL_DIV(M, MR);
    const double ntiles = CEIL_DIV(N < NC ? N : NC, NR);
    double best = -1.0;
    int d;
    *tm = 1;
    *tn = nt;
    for (d = 1; d <= nt; d++) {
        double rows, cols, cost;
        if (nt % d) continue;
        rows = ceil(mtiles / d);
        cols = ceil(ntiles / (nt / d));
        cost = rows * cols + rows * ca / NR + cols * cb / MR;
        if (best < 0.0 || cost <= best) {
            best = cost;
            *tm = d;
            *tn = nt / d;
        }
    }
}

int muon_gemm(muon_op opA, muon_op opB, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc)
{
    gemm_job g;
    float *buf;
    size_t nfloats;
    int slot, nt = 1, kc;
    long long rows;
    int st = muon_gemm_check_args(opA, opB, M, N, K, lda, ldb, ldc);
    if (st) return st;
    if (M == 0 || N == 0) return MUON_OK;
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return MUON_OK;
    }
    if (N == 1 || M == 1) {
        /* C(M,1) = op(A) x, x a column of op(B); C(1,N) = op(B)^T x, x a
         * row of op(A), where op(B)^T is B itself read with the other op */
        const int R = N == 1 ? M : N;
        buf = pool_get((size_t)R + (size_t)K, &slot);
        if (!buf) return muon_error(MUON_ERR_NOMEM, "gemm: out of memory for a work vector (%lu bytes)",
                                    (unsigned long)(((size_t)R + K) * sizeof(float)));
        if (N == 1)
            thin_product(opA, A, lda, M, K, B, opB == MUON_NOTRANS ? ldb : 1, alpha, beta, C, ldc, buf);
        else
            thin_product(opB == MUON_NOTRANS ? MUON_TRANS : MUON_NOTRANS, B, ldb, N, K, A,
                         opA == MUON_NOTRANS ? 1 : lda, alpha, beta, C, 1, buf);
        pool_put(buf, slot);
        return MUON_OK;
    }

#ifdef _OPENMP
    /* inside someone else's parallel region: run on the calling thread */
    if (!omp_in_parallel() && (double)M * N * K >= PARALLEL_MIN_FMAS && !guard_says_serial())
        nt = omp_get_max_threads();
#endif
    {
        /* no more threads than tiles */
        double tiles = (double)CEIL_DIV(M, MR) * CEIL_DIV(N < NC ? N : NC, NR);
        if (nt > tiles) nt = (int)tiles;
        if (nt < 1) nt = 1;
    }

    g.opA = opA; g.opB = opB;
    g.M = M; g.N = N; g.K = K;
    g.alpha = alpha; g.beta = beta;
    g.A = A; g.B = B; g.C = C;
    g.lda = lda; g.ldb = ldb; g.ldc = ldc;
    g.nt = nt;
    choose_grid(nt, opA, opB, M, N, &g.tm, &g.tn);
    rows = (long long)CEIL_DIV(CEIL_DIV(M, MR), g.tm) * MR;
    g.mc = rows < MC ? (int)rows : MC;
    kc = K < KC ? K : KC;
    g.kcmax = kc;

    /* pack only what this call needs: per thread one A block and the B
     * columns of its share of one NC panel */
    g.nb = CEIL_DIV(CEIL_DIV(N < NC ? N : NC, NR), g.tn) * NR;
    nfloats = (size_t)nt * ((size_t)g.mc + (size_t)g.nb) * (size_t)kc;
    buf = pool_get(nfloats, &slot);
    if (!buf) return muon_error(MUON_ERR_NOMEM, "gemm: out of memory for packing buffers (%lu bytes)",
                                (unsigned long)(nfloats * sizeof(float)));
    g.apack = buf;
    g.bpack = buf + (size_t)nt * g.mc * kc;

    if (nt == 1) {
        gemm_thread(&g, 0);
    } else {
#ifdef _OPENMP
        guard_times times[GUARD_MAX_THREADS];
        double t0 = omp_get_wtime();
        int full_team = 0;
MUON_OMP(omp parallel num_threads(nt))
        {
            if (omp_get_num_threads() == nt) {
                int tid = omp_get_thread_num();
                double start = omp_get_wtime();
                long tiles = gemm_thread(&g, tid);
                if (tid < GUARD_MAX_THREADS) {
                    times[tid].start = start - t0;
                    times[tid].busy = omp_get_wtime() - start;
                    times[tid].tiles = tiles;
                }
                if (tid == 0) full_team = 1;
            } else if (omp_get_thread_num() == 0) {
                /* the runtime gave fewer threads than asked (a thread
                 * limit): the first does it all, on the same blocking */
                gemm_job g1 = g;
                g1.nt = g1.tm = g1.tn = 1;
                gemm_thread(&g1, 0);
            }
        }
        if (full_team && nt <= GUARD_MAX_THREADS) guard_record(times, nt, omp_get_wtime() - t0);
#endif
    }
    pool_put(buf, slot);
    return MUON_OK;
}
