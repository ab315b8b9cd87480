/* `muon bench svd`: SVD and orthogonaliser timings (README "Performance").
 * Best of up to 3 runs (fewer once 2 s have been spent on one line, so the
 * whole table stays quick), since the machine may be shared; inputs are N(0,1),
 * the case the metrics and Muon see most (a flat-ish spectrum, which is the
 * slowest case for Jacobi: pivoting cannot grade it). */
#include "linalg/linalg.h"

#include <stdlib.h>

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
    fprintf(out, "svd   %5d x %-5d %-12s %9.4f s   sweeps %2d  max|cos| %.1e%s\n", m, n,
            vectors ? "U, S, V" : "values only", best, info.sweeps, info.max_cos,
            info.converged ? "" : "  NOT CONVERGED");
done:
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
                 " %d thread(s)\n", muon_threads());
    for (i = 0; i < 3; i++)
        for (k = 0; k < 2; k++)
            if ((st = bench_one_svd(out, shapes[i][0], shapes[i][1], k, 3))) return st;
    for (i = 1; i < 3; i++)
        for (k = 0; k <= MUON_ORTH_SVD; k++)
            if ((st = bench_one_orth(out, (muon_orth_kind)k, shapes[i][0], shapes[i][1], 3))) return st;
    return MUON_OK;
}
