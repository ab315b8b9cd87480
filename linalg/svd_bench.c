/* `muon bench svd`: SVD and orthogonaliser timings (README "Performance").
 * Best of up to 3 runs (fewer once 2 s have been spent on one line, so the
 * whole table stays quick), since the machine may be shared; inputs are N(0,1),
 * the case the metrics and Muon see most (a flat-ish spectrum, which is the
 * slowest case for Jacobi: pivoting cannot grade it). */
#include "linalg/linalg.h"
#include "linalg/svd_gram.h"
#include "linalg/svd_values.h"

#include <stdlib.h>

#ifdef MUON_BENCH_OPENBLAS
#include <cblas.h>
#include <lapacke.h>

/* LAPACK beside each SVD row, on the same matrix in double (what our Jacobi
 * works in): dgesdd (divide and conquer, the fast one) and dgesvj (LAPACK's
 * one-sided Jacobi, our algorithm's relative), values only ('N') and with
 * U, V. A row-major (m,n) matrix is the column-major (n,m) A^T, whose SVD has
 * the same values and the vectors swapped, so no transpose is needed; dgesvj
 * wants rows >= columns, which A^T or A has. Returns the best time in s, or
 * a negative number if LAPACK failed. */
static double lapack_time(int m, int n, const float *A, int vectors, int gesvj, double *work,
                          size_t nwork, int reps)
{
    int M = n, N = m, r = m < n ? m : n, k, info = 0;       /* column-major A^T is (n, m) */
    double *a = work, *s = a + (size_t)m * n, *u = s + r, *vt = u + (size_t)M * r;
    double *sv = vt + (size_t)r * N, best = 1e300, spent = 0.0;
    size_t i;
    (void)nwork;
    for (k = 0; k < reps && spent < 2.0; k++) {
        double t;
        for (i = 0; i < (size_t)m * n; i++) a[i] = A[i];
        t = muon_seconds();
        if (!gesvj) {
            info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, vectors ? 'S' : 'N', M, N, a, M, s, u, M, vt, r);
        } else if (M >= N) {
            info = LAPACKE_dgesvj(LAPACK_COL_MAJOR, 'G', vectors ? 'U' : 'N', vectors ? 'V' : 'N',
                                  M, N, a, M, s, 0, vt, N, sv);
        } else {
            /* (M < N): A^T is wide, so hand dgesvj A itself, row-major = column-major of A */
            info = LAPACKE_dgesvj(LAPACK_ROW_MAJOR, 'G', vectors ? 'U' : 'N', vectors ? 'V' : 'N',
                                  m, n, a, n, s, 0, vt, n, sv);
        }
        t = muon_seconds() - t;
        if (info != 0) return -1.0;
        spent += t;
        if (t < best) best = t;
    }
    return best;
}
#endif

static int bench_one_svd(FILE *out, int m, int n, int vectors, int reps)
{
    int r = m < n ? m : n, k, st = MUON_OK;
    float *A = muon_alloc((size_t)m * n * sizeof *A), *S = muon_alloc((size_t)r * sizeof *S);
    float *U = vectors ? muon_alloc((size_t)m * r * sizeof *U) : NULL;
    float *V = vectors ? muon_alloc((size_t)n * r * sizeof *V) : NULL;
    double best = 1e300, spent = 0.0;
    muon_svd_info info = {0, 0.0, 0};
    muon_rng rng;
    if (!A || !S || (vectors && (!U || !V))) { st = MUON_ERR_NOMEM; goto done; }
    muon_rng_seed(&rng, 1);
    muon_rng_fill_normal(&rng, A, (size_t)m * n, 1.0f);
    for (k = 0; k < reps && spent < 2.0; k++) {
        double t = muon_seconds();
        st = muon_svd(m, n, A, S, U, V, &info);
        t = muon_seconds() - t;
        if (st) goto done;
        spent += t;
        if (t < best) best = t;
    }
    fprintf(out, "svd   %5d x %-5d %-12s %9.4f s   sweeps %2d  max|cos| %.1e%s", m, n,
            vectors ? "U, S, V" : "values only", best, info.sweeps, info.max_cos,
            info.converged ? "" : "  NOT CONVERGED");
#ifdef MUON_BENCH_OPENBLAS
    {
        /* a, s, u, vt, and dgesvj's 6-entry stat and work beyond */
        size_t nwork = (size_t)m * n * 2 + (size_t)r * (m + n + 2) + 64 + (size_t)(m > n ? m : n) * 8;
        double *work = muon_alloc(nwork * sizeof *work), tsdd, tsvj;
        if (!work) { st = MUON_ERR_NOMEM; goto done; }
        openblas_set_num_threads(muon_threads());
        tsdd = lapack_time(m, n, A, vectors, 0, work, nwork, reps);
        tsvj = lapack_time(m, n, A, vectors, 1, work, nwork, reps);
        muon_free(work);
        fprintf(out, "   dgesdd %9.4f s (muon/dgesdd %5.2f)  dgesvj %9.4f s (muon/dgesvj %5.2f)",
                tsdd, best / tsdd, tsvj, best / tsvj);
    }
#endif
    fputc('\n', out);
done:
    muon_free(A); muon_free(S); muon_free(U); muon_free(V);
    return st;
}

/* The faster paths on the same matrix: the metrics' Gram path
 * (linalg/svd_gram.c), values only (k = 0) and with the top-5 vectors (what
 * tracking asks for), or (bidiag) values by bidiagonalisation
 * (linalg/svd_values.c). */
static int bench_one_fast(FILE *out, int m, int n, int k, int bidiag, int reps)
{
    int r = m < n ? m : n, i, st = MUON_OK;
    float *A = muon_alloc((size_t)m * n * sizeof *A), *S = muon_alloc((size_t)r * sizeof *S);
    float *U = k ? muon_alloc((size_t)m * k * sizeof *U) : NULL, *V = k ? muon_alloc((size_t)n * k * sizeof *V) : NULL;
    double best = 1e300, spent = 0.0;
    muon_workspace ws = {0, 0};
    muon_rng rng;
    int sweeps = 0;
    if (!A || !S || (k && (!U || !V))) { st = MUON_ERR_NOMEM; goto done; }
    muon_rng_seed(&rng, 1);
    muon_rng_fill_normal(&rng, A, (size_t)m * n, 1.0f);
    for (i = 0; i < reps + 1 && spent < 2.0; i++) {   /* the first run sizes the workspace */
        double t = muon_seconds();
        st = bidiag ? muon_svd_values_ws(&ws, m, n, A, S, &sweeps) : muon_svd_gram_ws(&ws, m, n, A, S, k, U, V);
        if (st) goto done;
        t = muon_seconds() - t;
        spent += t;
        if (i > 0 && t < best) best = t;
    }
    if (bidiag)
        fprintf(out, "svd   %5d x %-5d bidiag values %9.4f s   (%d QR sweeps, linalg/svd_values.c)", m, n, best, sweeps);
    else
        fprintf(out, "svd   %5d x %-5d gram, %-6s %9.4f s   (the metrics' path, linalg/svd_gram.c)", m, n,
                k ? "top-5" : "values", best);
#ifdef MUON_BENCH_OPENBLAS
    if (!k) {
        /* values only: the row beside LAPACK's values-only dgesdd, as the Jacobi's */
        size_t nwork = (size_t)m * n * 2 + (size_t)r * (m + n + 2) + 64 + (size_t)(m > n ? m : n) * 8;
        double *work = muon_alloc(nwork * sizeof *work), tsdd;
        if (!work) { st = MUON_ERR_NOMEM; goto done; }
        openblas_set_num_threads(muon_threads());
        tsdd = lapack_time(m, n, A, 0, 0, work, nwork, reps);
        muon_free(work);
        fprintf(out, "   dgesdd %9.4f s (%s/dgesdd %5.2f)", tsdd, bidiag ? "bidiag" : "gram", best / tsdd);
    }
#endif
    fputc('\n', out);
done:
    muon_workspace_free(&ws);
    muon_free(A); muon_free(S); muon_free(U); muon_free(V);
    return st;
}

static int bench_one_orth(FILE *out, muon_orth_kind kind, int m, int n, int reps)
{
    int k, st = MUON_OK;
    float *G = muon_alloc((size_t)m * n * sizeof *G), *O = muon_alloc((size_t)m * n * sizeof *O);
    double best = 1e300, spent = 0.0;
    muon_rng rng;
    if (!G || !O) { st = MUON_ERR_NOMEM; goto done; }
    muon_rng_seed(&rng, 2);
    muon_rng_fill_normal(&rng, G, (size_t)m * n, 1.0f);
    for (k = 0; k < reps && spent < 2.0; k++) {
        double t = muon_seconds();
        st = muon_orthogonalize(kind, 0, m, n, G, O);
        t = muon_seconds() - t;
        if (st) goto done;
        spent += t;
        if (t < best) best = t;
    }
    fprintf(out, "orth  %5d x %-5d %-14s %9.4f s\n", m, n, muon_orth_name(kind), best);
done:
    muon_free(G); muon_free(O);
    return st;
}

int muon_bench_svd(FILE *out)
{
    static const int shapes[][2] = {{128, 128}, {512, 512}, {512, 2048}};
    int i, k, st;
    fprintf(out, "# SVD (one-sided Jacobi, double inside) and orthogonalisers; best of 3,"
                 " %d thread(s)%s\n", muon_threads(),
#ifdef MUON_BENCH_OPENBLAS
            "; LAPACK (OpenBLAS) in double on the same matrix, same threads"
#else
            ""
#endif
            );
#ifdef MUON_BENCH_OPENBLAS
    fprintf(out, "# LAPACK's BLAS kernel: %s (OPENBLAS_CORETYPE picks another)\n", openblas_get_corename());
#endif
    for (i = 0; i < 3; i++)
        for (k = 0; k < 2; k++)
            if ((st = bench_one_svd(out, shapes[i][0], shapes[i][1], k, 3))) return st;
    for (i = 0; i < 3; i++)
        if ((st = bench_one_fast(out, shapes[i][0], shapes[i][1], 0, 1, 3))) return st;
    for (i = 0; i < 3; i++)
        for (k = 0; k < 2; k++)
            if ((st = bench_one_fast(out, shapes[i][0], shapes[i][1], k ? 5 : 0, 0, 3))) return st;
    for (i = 1; i < 3; i++)
        for (k = 0; k <= MUON_ORTH_SVD; k++)
            if ((st = bench_one_orth(out, (muon_orth_kind)k, shapes[i][0], shapes[i][1], 3))) return st;
    return MUON_OK;
}
