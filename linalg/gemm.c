/* The fast GEMM: BLIS's five loops around a register-tile micro-kernel, in
 * plain C99 (Van Zee & van de Geijn, "BLIS: a framework for rapidly
 * instantiating BLAS functionality", ACM TOMS 2015; block sizes after Low et
 * al., "Analytical modeling is enough for high-performance BLIS", TOMS 2016).
 *
 *   for jc in [0,N) step NC           a B panel (KC x NC) lives in L2/L3
 *     for pc in [0,K) step KC         pack the thread's columns of that panel
 *       for ic in [0,M) step MC       pack an A block (MC x KC)
 *         for ir in [0,mc) step MR    an A micro-panel (KC x MR) stays in L1
 *           for jr in [0,nc) step NR  the B micro-panels stream from the panel
 *             micro-kernel: the MR x NR tile of C, kept in registers
 *
 * The two inner loops run in this order, not BLIS's (jr outside ir), for
 * C's sake: consecutive tiles then store along the same MR rows of C, so
 * its lines are written in address order, which the hardware prefetchers
 * follow, rather than MR rows further down each time. Where C is not in
 * cache (a model's activations, a whole pass apart), each tile's stores
 * otherwise wait for its lines one after another. The B micro-panels come
 * from a packed, contiguous panel, a stream the prefetchers also follow
 * (docs/performance.md, the Zen 4 host, has the measurements).
 *
 * Threads take a tm x tn grid of the M and N tiles and pack what they need
 * themselves, so they never wait for each other inside a call. Matrix-vector
 * shapes (M or N == 1) skip the tiles (thin_product). A B shared by many
 * products (a weight against many short sequences) can be packed whole once
 * (muon_gemm_pack_b) for muon_gemm_packed, whose threads then read their
 * slivers from it instead of packing their own. Around the loops, in
 * files of their own: the packing-buffer pool (gemm_pool.c), the choice of
 * the thread grid (gemm_grid.c), and a contention guard that falls back to
 * one thread while other processes hold the cores (gemm_guard.c).
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
#include "linalg/tile.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many multiply-adds a second thread costs more (waking it and
 * joining) than it saves; the break-even lies near 64^3 on two cores. */
#define PARALLEL_MIN_FMAS (128.0 * 64.0 * 64.0)

/* ---- micro-kernel -------------------------------------------------------- */

/* The micro-kernel contract (BLIS's kernel how-to is the model):
 *
 *   C(mr,nr) = alpha * A_s(mr,kc) B_s(kc,nr) + beta * C(mr,nr)
 *
 * for one tile, 1 <= mr <= MR, 1 <= nr <= NR, 1 <= kc <= KC, where the
 * slivers come packed by pack_a and pack_b:
 *
 *   a: packed A sliver, kc columns of MR     b: packed B sliver, kc rows of NR
 *      a[p*MR + i] = A_s(i, p)                  b[p*NR + j] = B_s(p, j)
 *
 *        p=0   p=1       p=kc-1                  j=0 ........... j=NR-1
 *      +-----+-----+ ... +-----+           p=0   [ b0 b1 ...  b(NR-1) ]
 *   i=0| a0  |aMR  |     |     |           p=1   [ ...                ]
 *   .. | ..  | ..  |     |     |           ..
 *MR-1  |a(MR-1)    |     |     |           p=kc-1[ ...                ]
 *      +-----+-----+ ... +-----+
 *   (contiguous: column p of the sliver     (contiguous: row p of the sliver
 *    is MR consecutive floats)               is NR consecutive floats)
 *
 * Step p of the k loop is the rank-1 update acc += a(:,p) b(p,:)^T: one
 * MR-vector against one NR-vector, both unit-stride, which is what the
 * register tile acc[MR][NR] needs.
 *
 *   - Edge tiles: rows i >= mr of a and columns j >= nr of b are zero (the
 *     packing pads them), so the k loop is always the full MR x NR one and
 *     computes zeros there; only the store is clipped to mr x nr.
 *   - alpha scales the product once, at the store.
 *   - beta == 0 never reads C, so C may hold NaN or Inf (0 * NaN is NaN):
 *     a separate store that writes alpha * acc, not alpha * acc + 0 * C.
 *   - c points at the tile's top-left element, rows ldc floats apart; the
 *     kernel touches exactly C[0..mr) x [0..nr).
 *   - Each acc[i][j] takes its kc multiply-adds in p order, the first
 *     onto zero (MUON_TILE_FMA_FROM_ZERO, linalg/tile.h), so the result
 *     never depends on the loop nest. */
#define A_SLIVER(i, p) a[(ptrdiff_t)(p) * MR + (i)]
static void full_tile(int kc,
                      const float *restrict a, /* (kc, MR) packed A sliver */
                      const float *restrict b, /* (kc, NR) packed B sliver */
                      float alpha, float beta,
                      float *restrict c, /* (MR, NR) tile of C, row stride ldc */
                      ptrdiff_t ldc)
{
    float acc[MR][NR];
    int i, j;
    MUON_TILE_FMA_FROM_ZERO(acc, MR, NR, A_SLIVER, b, NR, kc);
    if (beta == 0.0f) {
        for (i = 0; i < MR; i++)
MUON_SIMD(omp simd)
            for (j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j];
    } else {
        for (i = 0; i < MR; i++)
MUON_SIMD(omp simd)
            for (j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j] + beta * c[i * ldc + j];
    }
}

/* An edge tile goes through a full one in a local buffer, written as
 * 1 * acc (exact), so its elements get the same bits as a full tile's; the
 * accumulators of full_tile then never need a copy in memory. */
static void micro_kernel(int kc,
                         const float *restrict a, /* (kc, MR) packed A sliver */
                         const float *restrict b, /* (kc, NR) packed B sliver */
                         float alpha, float beta,
                         float *restrict c, /* (mr, nr) tile of C, row stride ldc */
                         ptrdiff_t ldc, int mr, int nr)
{
    float t[MR * NR];
    int i, j;
    if (mr == MR && nr == NR) {
        full_tile(kc, a, b, alpha, beta, c, ldc);
        return;
    }
    full_tile(kc, a, b, 1.0f, 0.0f, t, NR);
    if (beta == 0.0f) {
        for (i = 0; i < mr; i++)
            for (j = 0; j < nr; j++) c[i * ldc + j] = alpha * t[i * NR + j];
    } else {
        for (i = 0; i < mr; i++)
            for (j = 0; j < nr; j++) c[i * ldc + j] = alpha * t[i * NR + j] + beta * c[i * ldc + j];
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
             * transpose, several times faster than row by row */
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

/* dst[0..8) = src[0..8), as eight assignments rather than a loop: gcc turns
 * a short copy loop into a call to memmove, which for one 128-byte row of a
 * B sliver costs more than the copy; these it vectorises in place. */
static void copy8(float *restrict dst, const float *restrict src)
{
    dst[0] = src[0]; dst[1] = src[1]; dst[2] = src[2]; dst[3] = src[3];
    dst[4] = src[4]; dst[5] = src[5]; dst[6] = src[6]; dst[7] = src[7];
}

/* Columns per transposed block in pack_b: TB loads of B^T rows make one
 * row of the block, one vector wide (16 floats with 512-bit vectors, 8 with
 * 256-bit ones), so the copy into the sliver moves whole vectors. */
#if defined(__AVX512F__) && MUON_GEMM_NR % 16 == 0
#define TB 16
#else
#define TB 8
#endif

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
             * the same reason as in pack_a */
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
                for (j = 0; j < NR; j += 8) copy8(d + (ptrdiff_t)p * NR + j, src + p * ldb + j);
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

/* ---- op(B) packed once, for products that share it ------------------------ */

/* The layout muon_gemm_pack_b writes: pack_b's slivers of every (KC block,
 * NC panel) of op(B)(K,N), panel by panel and, in a panel, block by block,
 * so each block is exactly what gemm_thread would pack for it and the
 * products read the same floats in the same order (the same bits). Panel
 * jc starts after jc/NC full panels of K rows of NC columns; in a panel of
 * nc columns, block pc after pc rows of its CEIL_DIV(nc, NR) slivers. */
static ptrdiff_t packed_block_at(int K, int jc, int nc, int pc)
{
    return (ptrdiff_t)jc * K + (ptrdiff_t)CEIL_DIV(nc, NR) * NR * pc;
}

size_t muon_gemm_packed_size(int K, int N)
{
    if (K <= 0 || N <= 0) return 0;
    return (size_t)CEIL_DIV(N, NR) * NR * (size_t)K;
}

int muon_gemm_pack_b(muon_op opB, int K, int N, const float *B, int ldb, float *packed)
{
    int jc, pc;
    int st = muon_gemm_check_args(MUON_NOTRANS, opB, 1, N, K, K > 1 ? K : 1, ldb, N > 1 ? N : 1);
    if (st) return st;
    for (jc = 0; jc < N; jc += NC) {
        const int nc = N - jc < NC ? N - jc : NC;
        for (pc = 0; pc < K; pc += KC) {
            const int kc = K - pc < KC ? K - pc : KC;
            pack_b(opB, B, ldb, pc, kc, jc, nc, 0, CEIL_DIV(nc, NR), packed + packed_block_at(K, jc, nc, pc));
        }
    }
    return MUON_OK;
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
    const float *bpre; /* op(B) packed whole by muon_gemm_pack_b, or NULL: pack here */
    float *apack;    /* (nt, mc, kcmax) one packed A block per thread */
} gemm_job;

/* Everything thread tid does. Each thread packs the B columns it needs
 * itself (threads splitting M pack the same B panel twice, a K*N copy
 * against M*N*K/nt multiply-adds), so threads never wait for each other:
 * with a barrier per panel, a thread descheduled by another process would
 * make the other spin through its time slice. */
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
            const float *panel = bpack;
            if (s0 == s1) continue;
            if (g->bpre)
                panel = g->bpre + packed_block_at(g->K, jc, nc, pc) + (ptrdiff_t)s0 * NR * kc;
            else
                pack_b(g->opB, g->B, g->ldb, pc, kc, jc, nc, s0, s1, bpack);
            for (ic = m0; ic < m1; ic += g->mc) {
                const int mc = m1 - ic < g->mc ? m1 - ic : g->mc;
                pack_a(g->opA, g->A, g->lda, ic, mc, pc, kc, apack);
                for (ir = 0; ir < mc; ir += MR) {
                    const int mr = mc - ir < MR ? mc - ir : MR;
                    for (jr = s0; jr < s1; jr++) {
                        const int nr = nc - jr * NR < NR ? nc - jr * NR : NR;
                        const float *b = panel + (ptrdiff_t)(jr - s0) * NR * kc;
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
 * where an MR x NR tile would be almost all padding. op(Mat) is (R, K): Mat stored (R, K) gives R dot
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
MUON_SIMD(omp simd reduction(+ : s))
            for (p = 0; p < K; p++) s = MUON_MADD(m[p], xv[p], s);
            acc[r] = s;
        }
    } else {
        for (r = 0; r < R; r++) acc[r] = 0.0f;
        for (p = 0; p < K; p++) {
            const float xp = xv[p];
            const float *restrict m = Mat + p * ldm;
MUON_SIMD(omp simd)
            for (r = 0; r < R; r++) acc[r] = MUON_MADD(xp, m[r], acc[r]);
        }
    }
    if (beta == 0.0f)
        for (r = 0; r < R; r++) y[r * incy] = alpha * acc[r];
    else
        for (r = 0; r < R; r++) y[r * incy] = alpha * acc[r] + beta * y[r * incy];
}

/* ---- contention guard ---------------------------------------------------- */

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

/* KC: the k loop of the five loops adds the KC blocks to C one by one;
 * thin_product has no blocks at all. */
int muon_gemm_k_block(void) { return KC; }

/* muon_gemm, and muon_gemm_packed with bpre, op(B) packed already */
static int gemm_run(muon_op opA, muon_op opB, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B, int ldb,
                    const float *bpre, float beta, float *C, int ldc)
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
        buf = muon_gemm_pool_get((size_t)R + (size_t)K, &slot);
        if (!buf) return muon_error(MUON_ERR_NOMEM, "gemm: out of memory for a work vector (%lu bytes)",
                                    (unsigned long)(((size_t)R + K) * sizeof(float)));
        if (N == 1)
            thin_product(opA, A, lda, M, K, B, opB == MUON_NOTRANS ? ldb : 1, alpha, beta, C, ldc, buf);
        else
            thin_product(opB == MUON_NOTRANS ? MUON_TRANS : MUON_NOTRANS, B, ldb, N, K, A,
                         opA == MUON_NOTRANS ? 1 : lda, alpha, beta, C, 1, buf);
        muon_gemm_pool_put(buf, slot);
        return MUON_OK;
    }

#ifdef _OPENMP
    /* inside someone else's parallel region: run on the calling thread */
    if (!omp_in_parallel() && (double)M * N * K >= PARALLEL_MIN_FMAS && !muon_gemm_guard_says_serial())
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
    g.bpre = bpre;
    g.lda = lda; g.ldb = ldb; g.ldc = ldc;
    g.nt = nt;
    muon_gemm_grid(nt, opA, opB, M, N, &g.tm, &g.tn);
    rows = (long long)CEIL_DIV(CEIL_DIV(M, MR), g.tm) * MR;
    g.mc = rows < MC ? (int)rows : MC;
    kc = K < KC ? K : KC;
    g.kcmax = kc;

    /* pack only what this call needs: per thread one A block and the B
     * columns of its share of one NC panel (none with B packed already) */
    g.nb = bpre ? 0 : CEIL_DIV(CEIL_DIV(N < NC ? N : NC, NR), g.tn) * NR;
    nfloats = (size_t)nt * ((size_t)g.mc + (size_t)g.nb) * (size_t)kc;
    buf = muon_gemm_pool_get(nfloats, &slot);
    if (!buf) return muon_error(MUON_ERR_NOMEM, "gemm: out of memory for packing buffers (%lu bytes)",
                                (unsigned long)(nfloats * sizeof(float)));
    g.apack = buf;
    g.bpack = buf + (size_t)nt * g.mc * kc;

    if (nt == 1) {
        gemm_thread(&g, 0);
    } else {
#ifdef _OPENMP
        muon_gemm_times times[MUON_GEMM_GUARD_MAX_THREADS];
        double t0 = omp_get_wtime();
        int full_team = 0;
MUON_OMP(omp parallel num_threads(nt))
        {
            if (omp_get_num_threads() == nt) {
                int tid = omp_get_thread_num();
                double start = omp_get_wtime();
                long tiles = gemm_thread(&g, tid);
                if (tid < MUON_GEMM_GUARD_MAX_THREADS) {
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
        if (full_team && nt <= MUON_GEMM_GUARD_MAX_THREADS) muon_gemm_guard_record(times, nt, omp_get_wtime() - t0);
#endif
    }
    muon_gemm_pool_put(buf, slot);
    return MUON_OK;
}

int muon_gemm(muon_op opA, muon_op opB, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc)
{
    return gemm_run(opA, opB, M, N, K, alpha, A, lda, B, ldb, NULL, beta, C, ldc);
}

int muon_gemm_packed(muon_op opA, muon_op opB, int M, int N, int K,
                     float alpha, const float *A, int lda, const float *B, int ldb,
                     const float *Bpacked, float beta, float *C, int ldc)
{
    return gemm_run(opA, opB, M, N, K, alpha, A, lda, B, ldb, Bpacked, beta, C, ldc);
}
