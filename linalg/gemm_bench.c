/* `muon bench gemm`: GFLOP/s of muon_gemm on square and model shapes, with
 * one thread and with all threads, as a fraction of the machine's FMA peak;
 * with `make bench BLAS=openblas` OpenBLAS's cblas_sgemm on the same calls
 * beside it (the only place BLAS is ever linked; never in a normal build).
 *
 * Peak: measured at the start of the table on the machine it runs on
 * (muon_fma_peak_gflops, linalg/fma_peak.c: register-only multiply-add
 * chains), so "% of peak" means the same on every machine. The table checks
 * the measurement the other way too: a GEMM faster than the peak would mean
 * the loop missed it, and is flagged.
 *
 * Timings are the best of several repetitions (the machine is shared, and
 * the best run is the one least disturbed by other processes). Read the
 * threaded column on a quiet machine only: when more threads are runnable
 * than there are cores, every fork/join waits for a descheduled thread.
 * muon_gemm's contention guard, which then falls back to one thread, is off
 * while timing, so the column shows what the threads do, not the guard. */
#include "linalg/linalg.h"
#include "linalg/gemm_internal.h"
#include "linalg/fma_peak.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef MUON_BENCH_OPENBLAS
#include <cblas.h>
#endif

#define ROUNDS 3

typedef struct {
    int M, N, K;
    muon_op a, b;
    const char *what;
} bench_shape;

/* The model's products for a (tokens x d) activation and a (out, in)
 * weight: forward x W^T is NT with K = in, dX = dY W is NN, dW = dY^T x is
 * TN with K = tokens; attention adds small per-head products, and the
 * orthogonaliser X X^T on a (128, 512) matrix. */
static const bench_shape shapes[] = {
    {512, 512, 512, MUON_NOTRANS, MUON_NOTRANS, "square"},
    {1024, 1024, 1024, MUON_NOTRANS, MUON_NOTRANS, "square"},
    {1024, 384, 128, MUON_NOTRANS, MUON_NOTRANS, "model"},
    {1024, 384, 128, MUON_NOTRANS, MUON_TRANS, "model"},
    {1024, 384, 128, MUON_TRANS, MUON_NOTRANS, "model"},
    {1024, 128, 512, MUON_NOTRANS, MUON_NOTRANS, "model"},
    {1024, 128, 512, MUON_NOTRANS, MUON_TRANS, "model"},
    {1024, 128, 512, MUON_TRANS, MUON_NOTRANS, "model"},
    {384, 128, 1024, MUON_TRANS, MUON_NOTRANS, "model dW"},
    {128, 512, 1024, MUON_TRANS, MUON_NOTRANS, "model dW"},
    {128, 128, 512, MUON_NOTRANS, MUON_TRANS, "orth X X^T"},
    {256, 256, 64, MUON_NOTRANS, MUON_TRANS, "attn QK^T"},
    {256, 64, 256, MUON_NOTRANS, MUON_NOTRANS, "attn PV"},
    {64, 64, 64, MUON_NOTRANS, MUON_NOTRANS, "tiny"},
};

#define NSHAPES (sizeof shapes / sizeof shapes[0])

typedef int (*gemm_fn)(muon_op, muon_op, int, int, int, float, const float *, int,
                       const float *, int, float, float *, int);

#ifdef MUON_BENCH_OPENBLAS
static int openblas_gemm(muon_op opA, muon_op opB, int M, int N, int K, float alpha,
                         const float *A, int lda, const float *B, int ldb, float beta,
                         float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, opA == MUON_TRANS ? CblasTrans : CblasNoTrans,
                opB == MUON_TRANS ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
    return MUON_OK;
}
#endif

/* Raises *gflops to the best GFLOP/s of fn over repetitions filling about
 * 0.15 s (at least 5). */
static int best_gflops(gemm_fn fn, const bench_shape *s, const float *A, const float *B,
                       float *C, double *gflops)
{
    int lda = s->a == MUON_NOTRANS ? s->K : s->M, ldb = s->b == MUON_NOTRANS ? s->N : s->K;
    double flops = 2.0 * s->M * s->N * s->K, best = 1e30, spent = 0.0, g;
    int r, st;
    for (r = 0; r < 5 || (spent < 0.15 && r < 100000); r++) {
        double t = muon_seconds();
        st = fn(s->a, s->b, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        t = muon_seconds() - t;
        if (st) return st;
        if (r > 0 && t < best) best = t; /* the first run warms caches and buffers */
        spent += t;
    }
    g = flops / (best > 0.0 ? best : 1e-9) / 1e9;
    if (g > *gflops) *gflops = g;
    return MUON_OK;
}

int muon_bench_gemm(FILE *out, int blas)
{
    size_t i, maxa = 0, maxc = 0;
    int nt = muon_threads(), st = MUON_OK, round;
    double g1[NSHAPES] = {0}, gn[NSHAPES] = {0}, b1[NSHAPES] = {0}, bn[NSHAPES] = {0};
    double diff[NSHAPES] = {0}, peak, best1 = 0.0;
    float *A, *B, *C, *C2;
    for (i = 0; i < NSHAPES; i++) {
        size_t a = (size_t)shapes[i].M * shapes[i].K, b = (size_t)shapes[i].K * shapes[i].N;
        size_t c = (size_t)shapes[i].M * shapes[i].N;
        if (a > maxa) maxa = a;
        if (b > maxa) maxa = b;
        if (c > maxc) maxc = c;
    }
    A = muon_alloc(maxa * sizeof(float));
    B = muon_alloc(maxa * sizeof(float));
    C = muon_alloc(maxc * sizeof(float));
    C2 = muon_alloc(maxc * sizeof(float));
    if (!A || !B || !C || !C2) {
        st = MUON_ERR_NOMEM;
        goto done;
    }
    {
        muon_rng r;
        muon_rng_seed(&r, 1);
        muon_rng_fill_normal(&r, A, maxa, 1.0f);
        muon_rng_fill_normal(&r, B, maxa, 1.0f);
    }
#ifndef MUON_BENCH_OPENBLAS
    if (blas)
        fprintf(out, "gemm: built without OpenBLAS; `make bench BLAS=openblas` adds it\n");
    blas = 0;
#else
    /* the anchor is only as good as the kernel OpenBLAS picked for this CPU
     * (it may not know a newer one, and fall back to an old SSE kernel):
     * say which, so a reader can judge it or set OPENBLAS_CORETYPE */
    if (blas)
        fprintf(out, "OpenBLAS kernel: %s (%s)\n", openblas_get_corename(), openblas_get_config());
#endif
    /* All muon runs first, then all OpenBLAS runs: OpenBLAS's idle worker
     * threads keep spinning for a while after each call and would steal the
     * second core from OpenMP's threads. ROUNDS passes over the shapes, keeping each
     * one's best, so a burst of load from other processes spoils one pass,
     * not the table. */
    muon_gemm_guard_enable(0);
    peak = muon_fma_peak_gflops();
    if (!(peak > 0.0)) { st = muon_error(MUON_ERR_IO, "gemm bench: the clock did not advance"); goto done; }
    for (round = 0; round < ROUNDS; round++)
        for (i = 0; i < NSHAPES; i++) {
            muon_set_threads(1);
            st = best_gflops(muon_gemm, &shapes[i], A, B, C, &g1[i]);
            muon_set_threads(nt);
            if (!st) st = best_gflops(muon_gemm, &shapes[i], A, B, C, &gn[i]);
            if (st) goto done;
        }
#ifdef MUON_BENCH_OPENBLAS
    for (round = 0; blas && round < ROUNDS; round++)
        for (i = 0; i < NSHAPES; i++) {
            openblas_set_num_threads(1);
            best_gflops(openblas_gemm, &shapes[i], A, B, C2, &b1[i]);
            openblas_set_num_threads(nt);
            best_gflops(openblas_gemm, &shapes[i], A, B, C2, &bn[i]);
        }
    for (i = 0; blas && i < NSHAPES; i++) {
        const bench_shape *s = &shapes[i];
        size_t k, n = (size_t)s->M * s->N;
        double scale = 0.0;
        const int lda = s->a == MUON_NOTRANS ? s->K : s->M, ldb = s->b == MUON_NOTRANS ? s->N : s->K;
        /* the two must agree to rounding: a wrong benchmark is worse than none */
        muon_gemm(s->a, s->b, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        openblas_gemm(s->a, s->b, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C2, s->N);
        for (k = 0; k < n; k++) {
            double d = fabs((double)C[k] - C2[k]);
            if (d > diff[i]) diff[i] = d;
            if (fabs(C2[k]) > scale) scale = fabs(C2[k]);
        }
        diff[i] /= scale > 0.0 ? scale : 1.0;
    }
#endif
    for (i = 0; i < NSHAPES; i++) if (g1[i] > best1) best1 = g1[i];
    fprintf(out, "FMA peak %.1f GFLOP/s float32 per core (register-only multiply-add loop, best of 8);"
            " best GEMM 1t = %.0f%% of it%s\n", peak, 100.0 * best1 / peak,
            best1 > peak ? "  (GEMM above the peak: the peak loop fell short on this machine)" : "");
    fprintf(out, "GEMM float32, GFLOP/s (best of %d passes x >= 5 runs); %%pk = of %.1f GFLOP/s "
            "per core used (the FMA peak above); x = muon %dt / muon 1t\n", ROUNDS, peak, nt);
    fprintf(out, "%-16s %-2s %-10s %9s %5s %8s%d %5s %5s", "M x N x K", "op", "", "muon 1t", "%pk",
            "muon ", nt, "%pk", "x");
    if (blas) fprintf(out, " %9s %8s%d %7s %s", "oblas 1t", "oblas ", nt, "mu/ob1", "max|diff|/max|C|");
    fputc('\n', out);
    for (i = 0; i < NSHAPES; i++) {
        const bench_shape *s = &shapes[i];
        char dims[32];
        snprintf(dims, sizeof dims, "%dx%dx%d", s->M, s->N, s->K);
        fprintf(out, "%-16s %c%c %-10s %9.1f %4.0f%% %9.1f %4.0f%% %5.2f", dims,
                s->a == MUON_TRANS ? 'T' : 'N', s->b == MUON_TRANS ? 'T' : 'N', s->what,
                g1[i], 100.0 * g1[i] / peak, gn[i], 100.0 * gn[i] / (nt * peak), gn[i] / g1[i]);
        if (blas)
            fprintf(out, " %9.1f %9.1f %6.0f%% %.1e", b1[i], bn[i], 100.0 * g1[i] / b1[i], diff[i]);
        fputc('\n', out);
    }
done:
    muon_gemm_guard_enable(1);
    muon_set_threads(nt);
    muon_free(A);
    muon_free(B);
    muon_free(C);
    muon_free(C2);
    muon_gemm_release();
    if (st == MUON_ERR_NOMEM) return muon_error(st, "gemm bench: out of memory");
    return st;
}
