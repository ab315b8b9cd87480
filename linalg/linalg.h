/* linalg/linalg.h -- internal declarations of linalg/: errors, memory, random numbers, vectors, GEMM, bf16. */
#ifndef MUON_LINALG_H
#define MUON_LINALG_H

#include "muon.h"
#include "stdio.h"
#include <math.h>    /* FP_FAST_FMA and fma, for MUON_DMADD */
#include "linalg/bf16.h"   /* muon_bf16_round, muon_bf16_round_array */

/* ---- Errors and memory (linalg/status.c) ----------------------------------- */

/* Records a printf-style message as the last error and returns status. */
int muon_error(int status, const char *fmt, ...);
/* Like muon_error, but keeps the current message after the new text:
 * "resume x.st: " + "tensor 'w' is missing". */
int muon_error_prefix(int status, const char *fmt, ...);
/* The first failure of a parallel loop: a worker calls muon_failure_note
 * with its item index and status (its message is its own thread's); after
 * the loop the caller's muon_failure_raise returns that status and makes the
 * message its own. Zero-initialise (muon_failure f = {0}). */
typedef struct { int status, index; char msg[512]; } muon_failure;
void muon_failure_note(muon_failure *f, int index, int status);
int muon_failure_raise(const muon_failure *f);

/* 64-byte aligned allocation of n bytes (n may be 0); NULL on failure, with the
 * last error set. Free with muon_free (NULL is fine). */
void *muon_alloc(size_t n);
/* Like muon_alloc, zero-filled. */
void *muon_calloc(size_t count, size_t size);
void muon_free(void *p);
/* Test hook: the n-th allocation from now on fails (n >= 1); 0 disables. */
void muon_alloc_fail_after(long n);
/* The calling thread's number inside a parallel region (0 outside, and
 * without OpenMP). */
int muon_thread_id(void);
/* min(muon_threads(), n), at least 1: the team for n independent pieces of
 * work, so that every thread has one and its muon_thread_id() < n can index
 * a per-piece buffer. */
int muon_threads_upto(int n);
/* Wall-clock seconds from an arbitrary origin (monotonic where available). */
double muon_seconds(void);

/* ------------------------------------------------------------------------- */
/* Random numbers (linalg/rng.c): xoshiro256** seeded by splitmix64           */
/* ------------------------------------------------------------------------- */

typedef struct { uint64_t s[4]; } muon_rng;

/* Seeds the generator; the same seed always gives the same stream. */
void muon_rng_seed(muon_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t muon_rng_next(muon_rng *r);
/* Uniform float64 in [0, 1). */
double muon_rng_uniform(muon_rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t muon_rng_below(muon_rng *r, uint64_t n);
/* Standard normal (Box-Muller on two uniforms). */
double muon_rng_normal(muon_rng *r);
/* Fills x(n) with N(0, std^2). */
void muon_rng_fill_normal(muon_rng *r, float *x, size_t n, float std);

/* ------------------------------------------------------------------------- */
/* Small vector helpers (linalg/vec.c); sums are accumulated in double        */
/* ------------------------------------------------------------------------- */

double muon_dot(const float *x, const float *y, size_t n);      /* x(n).y(n) */
double muon_norm2(const float *x, size_t n);                    /* ||x||_2 */
void muon_axpy(float a, const float *x, float *y, size_t n);    /* y += a*x */
void muon_scale(float a, float *x, size_t n);                   /* x *= a */
/* MUON_DMADD(a, b, c) = a*b + c in double, fused where the hardware has it
 * (FP_FAST_FMA, C99 7.12): ISO C mode forbids contracting it, and elsewhere
 * fma would be a slow library call. */
#ifdef FP_FAST_FMA
#define MUON_DMADD(a, b, c) fma((a), (b), (c))
#else
#define MUON_DMADD(a, b, c) ((a) * (b) + (c))
#endif
/* x(n).y(n) in double with MUON_DOT_LANES interleaved partial sums combined
 * by halves: vectorisable without reassociation (so OpenMP or not, vectorised
 * or not, any thread count gets the same bits within a build), and enough
 * independent sums (four AVX-512 vectors) that the adds' latency hides
 * behind the loads. */
#define MUON_DOT_LANES 32
double muon_dot_d(const double *x, const double *y, int n);
/* acc[0] + ... + acc[MUON_DOT_LANES - 1], by halves: muon_dot_d's order, for
 * loops that fuse its sum with other work. */
double muon_lanes_sum(double *acc);
/* Out-of-place transpose: out(n,m) = in(m,n)^T. */
void muon_transpose(const float *in, float *out, int m, int n);
/* 1 if every x(n) is finite, else 0. */
int muon_all_finite(const float *x, size_t n);

/* ------------------------------------------------------------------------- */
/* GEMM (linalg/gemm.c, reference in linalg/gemm_naive.c)                    */
/* ------------------------------------------------------------------------- */

typedef enum { MUON_NOTRANS = 0, MUON_TRANS = 1 } muon_op;

/* C(M,N) = alpha*op(A)*op(B) + beta*C, row-major with leading dimensions
 * lda/ldb/ldc (elements between rows as stored). op(A) is (M,K): A is stored
 * (M,K) for MUON_NOTRANS, (K,M) for MUON_TRANS; op(B) is (K,N) likewise.
 * beta == 0 never reads C (so C may hold NaN). M, N or K may be 0; K == 0 or
 * alpha == 0 gives C = beta*C without reading A or B (as BLAS does).
 * Cache-blocked and packed (BLIS style), OpenMP-parallel over M/N tiles
 * (never over K), so the result is bit-identical for any thread count (and
 * after threads were seen waiting for cores busy with other processes it runs
 * on one thread for a while, same bits, less waiting); when
 * called inside an active parallel region it runs on the calling thread, and
 * concurrent calls from several (OpenMP) threads are safe. Packing buffers are cached
 * between calls (see muon_gemm_release), so it allocates only when a call
 * needs more than any earlier one. Returns MUON_OK, MUON_ERR_ARG (negative
 * size, short leading dimension) or MUON_ERR_NOMEM (packing buffers). */
int muon_gemm(muon_op opA, muon_op opB, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);

/* Floats of op(B)(K,N) packed by muon_gemm_pack_b (0 when K or N is 0). */
size_t muon_gemm_packed_size(int K, int N);
/* packed(muon_gemm_packed_size(K,N)) = op(B)(K,N), stored as for muon_gemm,
 * in the layout muon_gemm's loops read, so products that share one B (a
 * weight against many short sequences) pack it once instead of per call.
 * MUON_ERR_ARG for a negative size or short ldb; allocates nothing. */
int muon_gemm_pack_b(muon_op opB, int K, int N, const float *B, int ldb, float *packed);
/* muon_gemm with op(B) read from Bpacked, muon_gemm_pack_b of the same B
 * (NULL: muon_gemm itself); the same bits as muon_gemm. B must still be
 * there: the matrix-vector shapes (M or N == 1) read it instead. */
int muon_gemm_packed(muon_op opA, muon_op opB, int M, int N, int K,
                     float alpha, const float *A, int lda, const float *B, int ldb,
                     const float *Bpacked, float beta, float *C, int ldc);

/* muon_gemm's K block: with K at most this (and K > 0), each element's
 * product is finished in float before it meets C, so alpha = beta = 1
 * stores C + (that product) rounded once, the bits of computing the product
 * apart and adding it to C afterwards. */
int muon_gemm_k_block(void);

/* Frees the packing buffers muon_gemm keeps between calls (they are reused so
 * the hot path does not allocate); call at exit, e.g. before valgrind's leak
 * check. Buffers of calls still running are left alone. Safe to call any time. */
void muon_gemm_release(void);

/* The slow, obviously correct triple loop (double accumulation, one rounding
 * per element); same contract, single-threaded, allocates nothing. */
int muon_gemm_naive(muon_op opA, muon_op opB, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc);

/* Flags for muon_orthogonalize_flags. MUON_ORTH_BF16 emulates a bfloat16 backend
 * running modded-nanogpt's PyTorch loop: the input, the normalisation and the
 * result of every matmul and every elementwise op (b*A, c*A, (c*A)@A, their
 * sum, a*X, B@X, the new X) are rounded to bf16 (ties to even), matmuls
 * accumulate in float32, Python scalars act as float32 (PyTorch 2).
 * MUON_ORTH_BF16_TORCH1 (implies BF16) reproduces PyTorch 1.13 on CPU, bit
 * for bit on the golden data: scalars rounded to bf16 first, and the norm's
 * sum of squares rounded to bf16 before its square root. Ignored by svd. */
#define MUON_ORTH_BF16 1u
#define MUON_ORTH_BF16_TORCH1 2u
/* MUON_ORTH_PARTIAL: stop after `steps` iterations for every polynomial method
 * (0: the normalised input; at most the table's 5 for the Polar Express and
 * keller), so a conformance check sees each iterate. Ignored by svd. */
#define MUON_ORTH_PARTIAL 4u
/* With BF16: the matmuls on the blocked GEMM (float32 sums in its own
 * order) instead of the reference one: fast enough to train with
 * (--precision bf16), and the same up to a rare bf16 rounding flip. */
#define MUON_ORTH_BF16_BLOCKED 8u
/* muon_orthogonalize with flags (0: the same as muon_orthogonalize). */
int muon_orthogonalize_flags(muon_orth_kind kind, int steps, int rows, int cols,
                          const float *G, float *O, unsigned flags);


/* ---- SVD (linalg/svd.c): one-sided Jacobi, after LAPACK's dgesvj -- */

typedef struct {
    int sweeps;      /* Jacobi sweeps performed (<= 30), the last one a check */
    double max_cos;  /* largest column-pair |cosine| at the last sweep */
    int converged;   /* 1 if max_cos fell below the tolerance sqrt(min(m,n))*DBL_EPSILON */
} muon_svd_info;

/* Thin SVD of A(m,n) = U diag(S) V^T with r = min(m,n): S(r) descending and
 * >= 0; U(m,r) and V(n,r) row-major (columns are singular vectors), each may be
 * NULL when not wanted (values only is faster; S is bit-identical either way).
 * Computed in double (pivoted QR, then Jacobi on R^T) and rounded to float32;
 * vectors of zero singular values complete U and V to orthonormal columns.
 * A is not modified. info may be NULL. Allocates its workspace per call
 * (muon_svd_ws in linalg/linalg.h reuses one). Returns MUON_OK, MUON_ERR_ARG
 * (m or n < 1, A or S NULL), MUON_ERR_NUMERIC (A has NaN/Inf; S, U, V are then
 * NaN) or MUON_ERR_NOMEM. Not converging in 30 sweeps is reported in info. */
int muon_svd(int m, int n, const float *A, float *S, float *U, float *V,
             muon_svd_info *info);

/* C(N,M) = the columns of B(M,N) as rows, in double, B = A(m,n) for m >= n
 * and A^T otherwise (M = max, N = min): the SVDs' layout, in which every
 * column operation is a contiguous vector operation. */
void muon_svd_columns(int m, int n, const float *A, double *C);

/* R of B(M,N) = Q R, M >= N, by muon_svd's blocked Householder QR (no
 * pivoting). B column-major (column j at C + j M), overwritten by the
 * reflectors; R(N,N) column-major, upper triangular with zeros below.
 * scratch: muon_qr_r_scratch_bytes(M, N) bytes, 64-byte aligned. */
size_t muon_qr_r_scratch_bytes(int M, int N);
void muon_qr_r(int M, int N, double *C, double *R, void *scratch);

/* The slow, obviously correct SVD beside muon_svd: the same pivoted QR and
 * Q application, and the one-sided Jacobi rotating one pair of rows at a time
 * (no block-pair products). Same contract as muon_svd; the tests compare the
 * two. */
int muon_svd_reference(int m, int n, const float *A, float *S, float *U, float *V,
                       muon_svd_info *info);

/* ---- Enum names (linalg/names.c): one table per enum, indexed by value ---- */

/* names[value], or "unknown" out of range. */
const char *muon_name_of(const char *const *names, int count, int value);
/* The value whose name is name, or -1. */
int muon_name_index(const char *const *names, int count, const char *name);
/* *value = the index of name; MUON_ERR_ARG "unknown <what> 'name' (valid: a,
 * b, ...)" when there is none. */
int muon_name_parse(const char *what, const char *const *names, int count,
                    const char *name, int *value);

/* ---- Workspaces (linalg/workspace.c) ------------------------------------- */

/* A growing block of 64-byte aligned scratch memory (zero-initialise it:
 * muon_workspace ws = {0}). The kernels below that take one lay their
 * buffers out in it and allocate only when it is too small, so a caller that
 * reserves once (muon_*_workspace_bytes) allocates nothing afterwards. */
typedef struct { void *buf; size_t cap; } muon_workspace;
/* Grows ws to at least bytes (contents lost); MUON_ERR_NOMEM. */
int muon_workspace_reserve(muon_workspace *ws, size_t bytes);
/* The next buffer of bytes at offset *used, which it advances (aligned);
 * ws == NULL only advances *used and returns NULL, so one layout function
 * serves as the size query too. */
void *muon_workspace_take(muon_workspace *ws, size_t *used, size_t bytes);
/* bytes rounded up to the alignment of every buffer taken. */
size_t muon_workspace_round(size_t bytes);
void muon_workspace_free(muon_workspace *ws);

/* Bytes muon_svd_ws needs for an (m,n) matrix, with or without vectors. */
size_t muon_svd_workspace_bytes(int m, int n, int want_u, int want_v);
/* muon_svd with its scratch in ws (grown when too small). */
int muon_svd_ws(muon_workspace *ws, int m, int n, const float *A, float *S, float *U,
                float *V, muon_svd_info *info);
/* Bytes muon_orthogonalize_ws needs for a (rows,cols) matrix of kind. */
size_t muon_orth_workspace_bytes(muon_orth_kind kind, int rows, int cols);
/* muon_orthogonalize_flags with its scratch in ws (grown when too small). */
int muon_orthogonalize_ws(muon_workspace *ws, muon_orth_kind kind, int steps, int rows,
                          int cols, const float *G, float *O, unsigned flags);

#endif /* MUON_LINALG_H */
