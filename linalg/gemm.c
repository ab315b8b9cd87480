/* The fast GEMM: BLIS's five loops around a register-tile micro-kernel, in
 * plain C99 (Van Zee & van de Geijn, "BLIS: a framework for rapidly
 * instantiating BLAS functionality", ACM TOMS 2015; block sizes after Low et
 * al., "Analytical modeling is enough for high-performance BLIS", TOMS 2016).
 *
 *   for jc in [0,N) step NC           B panel (KC x NC), shared, lives in L3
 *     for pc in [0,K) step KC         pack that B panel (threads split it)
 *       for ic in [0,M) step MC       pack an A block (MC x KC) per thread: L2
 *         for jr in [0,nc) step NR    a B micro-panel (KC x NR) stays in L1
 *           for ir in [0,mc) step MR  an A micro-panel streams from L2
 *             micro-kernel: the MR x NR tile of C, kept in registers
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
#include "muon.h"
#include "linalg/gemm_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Register tile. MR*NR/16 accumulators plus NR/16 B vectors and a broadcast
 * must fit the 32 zmm registers of AVX-512. Overridable (-DMUON_GEMM_MR=..)
 * for the tuning runs recorded in gemm_bench.c. */
#ifndef MUON_GEMM_MR
#define MUON_GEMM_MR 8
#endif
#ifndef MUON_GEMM_NR
#define MUON_GEMM_NR 32
#endif
/* Cache blocks, from the caches of the target (Zen 4 class: L1d 32-48 KiB,
 * L2 1 MiB per core, L3 32 MiB shared):
 *   KC: the B micro-panel KC x NR x 4 bytes takes about half of L1d
 *       (256 x 32 x 4 = 32 KiB ... see the measurements in gemm_bench.c),
 *       leaving room for the streaming A micro-panels and C tile;
 *   MC: the packed A block MC x KC x 4 bytes takes about half of L2
 *       (384 x 256 x 4 = 384 KiB), the rest holds B micro-panels and C;
 *   NC: the packed B panel KC x NC x 4 bytes a fraction of L3
 *       (256 x 4096 x 4 = 4 MiB), shared by the threads. */
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

/* Below this many multiply-adds a second thread costs more (waking it, two
 * barriers) than it saves. */
#define PARALLEL_MIN_FMAS (64.0 * 64.0 * 64.0)

/* A packed float costs about as much as this many multiply-adds (a copy
 * through L1/L2 versus 16-lane FMAs); only steers the thread grid. */
#define PACK_COST 8.0

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
#pragma omp simd
        for (j = 0; j < NR; j++) acc[i][j] = 0.0f;
    /* The same multiply-adds in the same order either way; only the loop
     * nest differs, because the compilers keep the tile in registers for
     * different nests (checked in the assembly: MR*NR/16 zmm accumulators,
     * vfmadd231ps zmm, no spills). gcc 12 vectorises j and unrolls i in the
     * i-j nest; clang 14 unrolls that j loop into scalars first and leaves
     * acc in memory (1.3 GFLOP/s), but vectorises the j-i nest (115). */
#ifdef __clang__
    for (p = 0; p < kc; p++) {
#pragma omp simd
        for (j = 0; j < NR; j++) {
            const float bj = b[(ptrdiff_t)p * NR + j];
            for (i = 0; i < MR; i++) acc[i][j] = MADD(a[(ptrdiff_t)p * MR + i], bj, acc[i][j]);
        }
    }
#else
    for (p = 0; p < kc; p++) {
        for (i = 0; i < MR; i++) {
            const float ai = a[(ptrdiff_t)p * MR + i];
#pragma omp simd
            for (j = 0; j < NR; j++) acc[i][j] = MADD(ai, b[(ptrdiff_t)p * NR + j], acc[i][j]);
        }
    }
#endif
    if (mr == MR && nr == NR) {
        if (beta == 0.0f) {
            for (i = 0; i < MR; i++)
#pragma omp simd
                for (j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j];
        } else {
            for (i = 0; i < MR; i++)
#pragma omp simd
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
        if (op == MUON_NOTRANS) {
            for (i = 0; i < rows; i++) {
                const float *src = A + (ptrdiff_t)(i0 + s * MR + i) * lda + p0;
                for (p = 0; p < kc; p++) d[(ptrdiff_t)p * MR + i] = src[p];
            }
            for (; i < MR; i++)
                for (p = 0; p < kc; p++) d[(ptrdiff_t)p * MR + i] = 0.0f;
        } else {
            for (p = 0; p < kc; p++) {
                const float *src = A + (ptrdiff_t)(p0 + p) * lda + i0 + s * MR;
                for (i = 0; i < rows; i++) d[(ptrdiff_t)p * MR + i] = src[i];
                for (; i < MR; i++) d[(ptrdiff_t)p * MR + i] = 0.0f;
            }
        }
    }
}

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
        if (op == MUON_NOTRANS) {
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
#pragma omp critical(muon_gemm_pool)
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
#pragma omp critical(muon_gemm_pool)
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
#pragma omp critical(muon_gemm_pool)
    pool[slot].busy = 0;
}

void muon_gemm_release(void)
{
    int s;
#pragma omp critical(muon_gemm_pool)
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
static void gemm_thread(const gemm_job *g, int tid)
{
    const int ti = tid / g->tn, tj = tid % g->tn;
    const int mtiles = (g->M + MR - 1) / MR;
    const int m0 = mtiles * ti / g->tm * MR;
    const int m1 = mtiles * (ti + 1) / g->tm * MR < g->M ? mtiles * (ti + 1) / g->tm * MR : g->M;
    float *apack = g->apack + (ptrdiff_t)tid * g->mc * g->kcmax;
    float *bpack = g->bpack + (ptrdiff_t)tid * g->nb * g->kcmax;
    int jc, pc, ic, jr, ir;

    if (m0 >= m1) return;
    for (jc = 0; jc < g->N; jc += NC) {
        const int nc = g->N - jc < NC ? g->N - jc : NC;
        const int ntiles = (nc + NR - 1) / NR;
        const int s0 = ntiles * tj / g->tn, s1 = ntiles * (tj + 1) / g->tn;
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
                    }
                }
            }
        }
    }
}

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
 * its packing too (a packed float costs about PACK_COST multiply-adds: each
 * of its rows of MR slivers packs MR*kc floats, each column sliver NR*kc). */
static void choose_grid(int nt, int M, int N, int *tm, int *tn)
{
    const double mtiles = (M + MR - 1) / MR;
    const double ntiles = (double)((N < NC ? N : NC) + NR - 1) / NR;
    double best = -1.0;
    int d;
    for (d = 1; d <= nt; d++) {
        double rows, cols, cost;
        if (nt % d) continue;
        rows = ceil(mtiles / d);
        cols = ceil(ntiles / (nt / d));
        cost = rows * cols + PACK_COST * (rows / NR + cols / MR);
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
    int slot, nt = 1, kc, rows;
    int st = muon_gemm_check_args(opA, opB, M, N, K, lda, ldb, ldc);
    if (st) return st;
    if (M == 0 || N == 0) return MUON_OK;
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return MUON_OK;
    }

#ifdef _OPENMP
    /* inside someone else's parallel region: run on the calling thread */
    if (!omp_in_parallel() && (double)M * N * K >= PARALLEL_MIN_FMAS)
        nt = omp_get_max_threads();
#endif
    {
        /* no more threads than tiles */
        int tiles = ((M + MR - 1) / MR) * (((N < NC ? N : NC) + NR - 1) / NR);
        if (nt > tiles) nt = tiles;
        if (nt < 1) nt = 1;
    }

    g.opA = opA; g.opB = opB;
    g.M = M; g.N = N; g.K = K;
    g.alpha = alpha; g.beta = beta;
    g.A = A; g.B = B; g.C = C;
    g.lda = lda; g.ldb = ldb; g.ldc = ldc;
    g.nt = nt;
    choose_grid(nt, M, N, &g.tm, &g.tn);
    rows = ((M + MR - 1) / MR + g.tm - 1) / g.tm * MR;
    g.mc = rows < MC ? rows : MC;
    kc = K < KC ? K : KC;
    g.kcmax = kc;

    /* pack only what this call needs: per thread one A block and the B
     * columns of its share of one NC panel */
    g.nb = ((((N < NC ? N : NC) + NR - 1) / NR) + g.tn - 1) / g.tn * NR;
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
#pragma omp parallel num_threads(nt)
        {
            if (omp_get_num_threads() == nt) {
                gemm_thread(&g, omp_get_thread_num());
            } else if (omp_get_thread_num() == 0) {
                /* the runtime gave fewer threads than asked (a thread
                 * limit): the first does it all, on the same blocking */
                gemm_job g1 = g;
                g1.nt = g1.tm = g1.tn = 1;
                gemm_thread(&g1, 0);
            }
        }
#endif
    }
    pool_put(buf, slot);
    return MUON_OK;
}
