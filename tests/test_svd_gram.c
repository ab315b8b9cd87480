/* Suite svd_gram: the Gram-matrix path (linalg/svd_gram.c) against the
 * one-sided Jacobi (muon_svd, itself checked against NumPy in suite svd),
 * on the shapes and spectra the metrics see.
 *
 * Tolerances follow the path's error bound DBL_EPSILON sigma_1^2 / sigma_i
 * (linalg/svd_gram.c) plus both results' float32 rounding: values within
 * 4e-7 relative (a few float32 ulps) where sigma_i >= 1e-3 sigma_1, and
 * within 1e-7 sigma_1 absolute below (where only "numerically zero" is
 * asked of it); the top-k vectors' |cos| with the Jacobi's within 1e-5 of 1
 * wherever the singular value is separated from its neighbours by 1e-3
 * relative (closer values have no well-defined single vector, in either
 * method), and the product U diag(S) V^T restricted to them consistent. */
#include "test.h"
#include "linalg/svd_gram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K_TOP 5

enum { TOP_FROM_T, TOP_FROM_ROTATIONS, TOP_EITHER };

/* The top-k path against muon_svd_gram_path_ws's full path (all N
 * eigenvectors by the QL rotations): the same values bit for bit, the path
 * expected (TOP_FROM_T: inverse iteration on T, where the top values are
 * separated; TOP_FROM_ROTATIONS: the fallback, where they are not), and
 * each separated vector equal up to sign within TOP_VEC_TOL, or bit for bit
 * where both came from the rotations. TOP_VEC_TOL: both are within about
 * N eps sigma_1^2 / gap of the true vector, far below the float32 rounding
 * of the output, so two ulps of a unit vector's entries (2^-23) plus that. */
#define TOP_VEC_TOL (2.0 / 8388608.0 + 1e-9)
static void top_vs_full(const char *what, int m, int n, const float *A, const float *S, int k,
                        const float *Uk, const float *Vk, int from_t, int path)
{
    const int r = m < n ? m : n;
    float *Sf = malloc(sizeof(float) * r);
    float *Uf = malloc(sizeof(float) * m * k + 1), *Vf = malloc(sizeof(float) * n * k + 1);
    muon_workspace ws = {0, 0};
    double worst = 0.0;
    int i, t, st, from_t_full = -1;
    if (!Sf || !Uf || !Vf) { check(0, "%s: test out of memory", what); goto done; }
    if (k == 0) goto done;
    check(path == TOP_EITHER || from_t == (path == TOP_FROM_T), "%s: top-%d vectors %s (%s expected)", what, k,
          from_t ? "by inverse iteration on T" : "from all N rotations",
          path == TOP_FROM_T ? "T" : path == TOP_FROM_ROTATIONS ? "rotations" : "either");
    st = muon_svd_gram_path_ws(&ws, m, n, A, Sf, k, Uf, Vf, 1, &from_t_full);
    if (!check(st == MUON_OK && from_t_full == 0 && !memcmp(S, Sf, sizeof(float) * r),
               "%s: the full path's values the same bits", what))
        goto done;
    if (!from_t) {
        check(!memcmp(Uk, Uf, sizeof(float) * m * k) && !memcmp(Vk, Vf, sizeof(float) * n * k),
              "%s: top-%d vectors from the rotations: the full path's bits", what, k);
        goto done;
    }
    for (t = 0; t < k; t++) {
        double dot = 0.0, sg;
        if (!(S[t] > 1e-3 * S[0])) continue;
        if (t > 0 && !((S[t - 1] - S[t]) > 1e-3 * S[0])) continue;
        if (t + 1 < r && !((S[t] - S[t + 1]) > 1e-3 * S[0])) continue;
        for (i = 0; i < n; i++) dot += (double)Vk[(size_t)i * k + t] * Vf[(size_t)i * k + t];
        sg = dot < 0 ? -1.0 : 1.0;
        for (i = 0; i < m; i++) {
            double d = fabs(Uk[(size_t)i * k + t] - sg * Uf[(size_t)i * k + t]);
            if (d > worst) worst = d;
        }
        for (i = 0; i < n; i++) {
            double d = fabs(Vk[(size_t)i * k + t] - sg * Vf[(size_t)i * k + t]);
            if (d > worst) worst = d;
        }
    }
    check(worst <= TOP_VEC_TOL, "%s: top-%d vectors from T match the full path's up to sign (max |diff| %.1e, tol %.1e)",
          what, k, worst, TOP_VEC_TOL);
done:
    muon_workspace_free(&ws);
    free(Sf); free(Uf); free(Vf);
}

static void compare(const char *what, int m, int n, const float *A, int path)
{
    const int r = m < n ? m : n, k = r < K_TOP ? r : K_TOP;
    float *S = malloc(sizeof(float) * r), *Sj = malloc(sizeof(float) * r);
    float *U = malloc(sizeof(float) * m * r), *V = malloc(sizeof(float) * n * r);
    float *Uk = malloc(sizeof(float) * m * k), *Vk = malloc(sizeof(float) * n * k);
    float *S0 = malloc(sizeof(float) * r);
    muon_workspace ws = {0, 0};
    double verr = 0.0, cerr = 0.0, s1;
    int i, t, st, stv, vals_ok = 1, checked = 0, from_t = -1;
    if (!S || !Sj || !U || !V || !Uk || !Vk || !S0) { check(0, "%s: test out of memory", what); goto done; }
    st = muon_svd(m, n, A, Sj, U, V, NULL);
    stv = muon_svd_gram_path_ws(&ws, m, n, A, S, k, Uk, Vk, 0, &from_t);   /* muon_svd_gram_ws, and its path */
    if (!check(st == MUON_OK && stv == MUON_OK, "%s: Jacobi and Gram paths run (%d, %d)", what, st, stv)) goto done;
    st = muon_svd_gram_ws(&ws, m, n, A, S0, 0, NULL, NULL);
    check(st == MUON_OK && !memcmp(S0, S, sizeof(float) * r), "%s: Gram values the same bits with or without vectors", what);
    s1 = Sj[0];
    for (i = 0; i < r; i++) {
        double d = fabs((double)S[i] - Sj[i]);
        double tol = Sj[i] >= 1e-3 * s1 ? 4e-7 * Sj[i] + 1e-30 : 1e-7 * s1 + 1e-30;
        if (d / (s1 > 0 ? s1 : 1) > verr) verr = d / (s1 > 0 ? s1 : 1);
        if (!(d <= tol)) vals_ok = 0;
    }
    check(vals_ok, "%s: Gram singular values match the Jacobi's (max |diff|/sigma_1 %.1e)", what, verr);
    for (t = 0; t < k; t++) {
        double gap = 1e300, cu = 0.0, cv = 0.0;
        if (!(Sj[t] > 1e-3 * s1) || s1 == 0.0) continue;   /* numerically zero: any vector */
        if (t > 0) gap = (Sj[t - 1] - Sj[t]) / s1;
        if (t + 1 < r && (Sj[t] - Sj[t + 1]) / s1 < gap) gap = (Sj[t] - Sj[t + 1]) / s1;
        if (!(gap > 1e-3)) continue;
        for (i = 0; i < m; i++) cu += (double)Uk[(size_t)i * k + t] * U[(size_t)i * r + t];
        for (i = 0; i < n; i++) cv += (double)Vk[(size_t)i * k + t] * V[(size_t)i * r + t];
        /* each vector up to sign, and U and V with the same sign (A v = s u) */
        if (fabs(1.0 - fabs(cu)) > cerr) cerr = fabs(1.0 - fabs(cu));
        if (fabs(1.0 - fabs(cv)) > cerr) cerr = fabs(1.0 - fabs(cv));
        if (cu * cv < 0) cerr = 1.0;
        checked++;
    }
    /* every top vector, separated or not, is a singular pair of A:
     * ||A v_t - s_t u_t|| small against sigma_1, and u_t, v_t unit */
    {
        double res = 0.0, nrm = 0.0;
        int kk;
        for (t = 0; t < k; t++) {
            double e2 = 0.0, nu = 0.0, nv = 0.0;
            if (!(Sj[t] > 1e-3 * s1) || s1 == 0.0) continue;
            for (i = 0; i < m; i++) {
                double av = 0.0, d;
                for (kk = 0; kk < n; kk++) av += (double)A[(size_t)i * n + kk] * Vk[(size_t)kk * k + t];
                d = av - (double)S[t] * Uk[(size_t)i * k + t];
                e2 += d * d;
                nu += (double)Uk[(size_t)i * k + t] * Uk[(size_t)i * k + t];
            }
            for (i = 0; i < n; i++) nv += (double)Vk[(size_t)i * k + t] * Vk[(size_t)i * k + t];
            if (sqrt(e2) / s1 > res) res = sqrt(e2) / s1;
            if (fabs(nu - 1.0) > nrm) nrm = fabs(nu - 1.0);
            if (fabs(nv - 1.0) > nrm) nrm = fabs(nv - 1.0);
        }
        check(res <= 1e-5 && nrm <= 1e-5, "%s: top Gram vectors are singular pairs (max ||A v - s u||/sigma_1 %.1e, max | |u|^2 - 1 | %.1e)",
              what, res, nrm);
    }
    /* and orthonormal among themselves, clustered or not (inverse iterations
     * at equal values would give one vector twice): |U^T U - I|, |V^T V - I|
     * within 1e-5, a hundred float32 roundings of a unit vector */
    {
        double worst = 0.0;
        int a, c, kk;
        for (a = 0; a < k; a++)
            for (c = 0; c <= a; c++) {
                double du = 0.0, dv = 0.0;
                if (!(Sj[a] > 1e-3 * s1) || !(Sj[c] > 1e-3 * s1) || s1 == 0.0) continue;
                for (kk = 0; kk < m; kk++) du += (double)Uk[(size_t)kk * k + a] * Uk[(size_t)kk * k + c];
                for (kk = 0; kk < n; kk++) dv += (double)Vk[(size_t)kk * k + a] * Vk[(size_t)kk * k + c];
                du -= a == c; dv -= a == c;
                if (fabs(du) > worst) worst = fabs(du);
                if (fabs(dv) > worst) worst = fabs(dv);
            }
        check(worst <= 1e-5, "%s: top Gram vectors orthonormal (max |U^T U - I|, |V^T V - I| %.1e)", what, worst);
    }
    check(cerr <= 1e-5, "%s: top-%d Gram vectors match the Jacobi's where separated (%d compared, max 1-|cos| %.1e)",
          what, k, checked, cerr);
    top_vs_full(what, m, n, A, S, k, Uk, Vk, from_t, path);
done:
    muon_workspace_free(&ws);
    free(S); free(Sj); free(U); free(V); free(Uk); free(Vk); free(S0);
}

/* The metrics' "no SVD twice for one subspace": dW = c O (Muon without weight
 * decay) takes dW's vectors from O's SVD, which must give dW's own
 * alignments; dW with weight decay (not a multiple) must take its own SVD,
 * bit for bit what it gets without O. */
static void shared_subspace(void)
{
    enum { R = 48, C = 32 };
    static float W[R * C], O[R * C], D[R * C], Dwd[R * C];
    muon_metrics with_o, without_o;
    int i, j, st1, st2;
    test_fill_random(W, R * C, 31);
    test_fill_random(O, R * C, 32);
    /* clear gaps at the top of O, so its top-5 vectors are well defined */
    for (i = 0; i < R; i++)
        for (j = 0; j < C; j++) O[i * C + j] *= (float)pow(10.0, -2.0 * j / C);
    for (i = 0; i < R * C; i++) {
        D[i] = (W[i] + (-0.01f) * O[i]) - W[i];                 /* the float update, as the optimizer makes it */
        Dwd[i] = (W[i] * 0.999f + (-0.01f) * O[i]) - W[i];      /* with weight decay */
    }
    st1 = muon_metrics_compute(R, C, W, D, NULL, O, &with_o);
    st2 = muon_metrics_compute(R, C, W, D, NULL, NULL, &without_o);
    check(st1 == MUON_OK && st2 == MUON_OK &&
          fabs(with_o.value[MUON_METRIC_ALIGNMENT_LEFT] - without_o.value[MUON_METRIC_ALIGNMENT_LEFT]) <= 1e-6 &&
          fabs(with_o.value[MUON_METRIC_ALIGNMENT_RIGHT] - without_o.value[MUON_METRIC_ALIGNMENT_RIGHT]) <= 1e-6,
          "metrics: dW = -0.01 O through O's SVD gives dW's own alignments (%.9f vs %.9f, %.9f vs %.9f; atol 1e-6)",
          with_o.value[MUON_METRIC_ALIGNMENT_LEFT], without_o.value[MUON_METRIC_ALIGNMENT_LEFT],
          with_o.value[MUON_METRIC_ALIGNMENT_RIGHT], without_o.value[MUON_METRIC_ALIGNMENT_RIGHT]);
    st1 = muon_metrics_compute(R, C, W, Dwd, NULL, O, &with_o);
    st2 = muon_metrics_compute(R, C, W, Dwd, NULL, NULL, &without_o);
    check(st1 == MUON_OK && st2 == MUON_OK &&
          with_o.value[MUON_METRIC_ALIGNMENT_LEFT] == without_o.value[MUON_METRIC_ALIGNMENT_LEFT] &&
          with_o.value[MUON_METRIC_ALIGNMENT_RIGHT] == without_o.value[MUON_METRIC_ALIGNMENT_RIGHT] &&
          !isnan(with_o.value[MUON_METRIC_ALIGNMENT_LEFT]),
          "metrics: dW with weight decay is not taken for a multiple of O (same bits with and without O: %.9f, %.9f)",
          with_o.value[MUON_METRIC_ALIGNMENT_LEFT], with_o.value[MUON_METRIC_ALIGNMENT_RIGHT]);
}

void suite_svd_gram(void)
{
    shared_subspace();
    static const int shapes[][2] = {{128, 128}, {128, 512}, {512, 128}, {128, 384}, {40, 25}, {25, 40},
                                    {1, 7}, {9, 1}, {3, 3}};
    char what[96];
    size_t q;
    int s, i, j;
    for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
        int m = shapes[s][0], n = shapes[s][1];
        float *A = malloc(sizeof(float) * m * n), *O = malloc(sizeof(float) * m * n);
        if (!check(A && O, "svd_gram: test out of memory")) { free(A); free(O); return; }
        test_fill_random(A, (size_t)m * n, 100 + s);
        snprintf(what, sizeof what, "random %dx%d", m, n);
        compare(what, m, n, A, TOP_FROM_T);
        /* graded: columns (or rows) scaled over 4 decades, as in a trained layer's tail */
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++) A[(size_t)i * n + j] *= (float)pow(10.0, -4.0 * (m >= n ? j : i) / (m >= n ? n : m));
        snprintf(what, sizeof what, "graded %dx%d", m, n);
        compare(what, m, n, A, TOP_FROM_T);
        /* near-orthogonal, like Muon's O and dW: clustered values near 1 */
        test_fill_random(A, (size_t)m * n, 200 + s);
        if (muon_orthogonalize(MUON_ORTH_POLAR_EXPRESS, 0, m, n, A, O) == MUON_OK) {
            snprintf(what, sizeof what, "polar-express output %dx%d", m, n);
            compare(what, m, n, O, TOP_EITHER);
        }
        free(A);
        free(O);
    }
    {
        /* graded over 10 decades, as a gradient's spectrum (seen: layer 1's
         * k at d_model 256, sigma from 1e-3 down to 1e-13): its Gram
         * eigenvalues span 1e20, past double's 1/DBL_EPSILON, where QL's
         * relative deflation test alone was never met (all of 10 seeds at
         * 256x256 ran out of iterations) */
        static const int gshapes[][2] = {{256, 256}, {512, 256}, {256, 512}};
        for (s = 0; s < 3; s++) {
            int m = gshapes[s][0], n = gshapes[s][1];
            float *A = malloc(sizeof(float) * m * n);
            if (!check(A != NULL, "svd_gram: test out of memory")) return;
            test_fill_random(A, (size_t)m * n, 300 + s);
            for (i = 0; i < m; i++)
                for (j = 0; j < n; j++)
                    A[(size_t)i * n + j] *= (float)(1e-3 * pow(10.0, -10.0 * (m >= n ? j : i) / (m >= n ? n : m)));
            snprintf(what, sizeof what, "graded over 10 decades %dx%d", m, n);
            compare(what, m, n, A, TOP_FROM_T);
            free(A);
        }
    }
    {
        /* rank 3 and zero: the values that must come out (numerically) zero */
        float A[30 * 20], Z[5 * 4];
        float a[30 * 3], b[3 * 20];
        test_fill_random(a, 90, 7);
        test_fill_random(b, 60, 8);
        for (i = 0; i < 30; i++)
            for (j = 0; j < 20; j++)
                A[i * 20 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[20 + j] + a[i * 3 + 2] * b[40 + j];
        compare("rank 3 30x20", 30, 20, A, TOP_EITHER);
        for (q = 0; q < 20; q++) Z[q] = 0.0f;
        compare("zero 5x4", 5, 4, Z, TOP_EITHER);
    }
    {
        /* [X 0; 0 X]: every value twice, so no top vector is defined alone
         * and the vectors come from the rotations; [X 0; 0 X/2]: the values
         * of both blocks interleaved, none repeated */
        enum { BR = 40, BC = 24 };
        static float X[BR * BC], D[2 * BR * 2 * BC];
        test_fill_random(X, BR * BC, 41);
        memset(D, 0, sizeof D);
        for (i = 0; i < BR; i++)
            for (j = 0; j < BC; j++) D[i * 2 * BC + j] = D[(BR + i) * 2 * BC + BC + j] = X[i * BC + j];
        compare("block-diagonal [X 0; 0 X] 80x48", 2 * BR, 2 * BC, D, TOP_FROM_ROTATIONS);
        for (i = 0; i < BR; i++)
            for (j = 0; j < BC; j++) D[(BR + i) * 2 * BC + BC + j] *= 0.5f;
        compare("block-diagonal [X 0; 0 X/2] 80x48", 2 * BR, 2 * BC, D, TOP_EITHER);
        /* far from 1 either way: G then near 1e72 or 1e-72, and the
         * inverse iteration's pivots and scaling with it */
        for (i = 0; i < BR * BC; i++) D[i] = X[i] * 1e36f;
        compare("random 40x24 x 1e36", BR, BC, D, TOP_FROM_T);
        for (i = 0; i < BR * BC; i++) D[i] = X[i] * 1e-36f;
        compare("random 40x24 x 1e-36", BR, BC, D, TOP_FROM_T);
    }
    {
        float A[6] = {1, 2, 3, NAN, 5, 6}, S[2];
        muon_workspace ws = {0, 0};
        check(muon_svd_gram_ws(&ws, 2, 3, A, S, 0, NULL, NULL) == MUON_ERR_NUMERIC, "svd_gram: NaN input rejected");
        check(muon_svd_gram_ws(&ws, 2, 3, A, S, 3, NULL, NULL) == MUON_ERR_ARG, "svd_gram: k > min(m,n) rejected");
        muon_workspace_free(&ws);
    }
}
