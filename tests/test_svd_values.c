/* Suite svd_values: the values-only path (linalg/svd_values.c: Householder
 * bidiagonalisation and bidiagonal QR) against NumPy float64 (the golden
 * cases of suite svd, tests/golden/gen_linalg.py) and against the one-sided
 * Jacobi (muon_svd, itself checked against NumPy in suite svd).
 *
 * Tolerances: both paths work in double and round to float32 at the end, so
 * they differ by the float32 rounding (2.5e-7 relative: two ulps) plus this
 * path's absolute error, a small multiple of DBL_EPSILON sigma_1 from the
 * orthogonal transformations; atol = 64 N DBL_EPSILON sigma_1 (1e-14 sigma_1
 * at N = 1, 7e-12 at N = 512) holds that with room, and is still far below
 * float32's resolution of sigma_1 (6e-8), so only values under about
 * 1e-7 sigma_1 can use it. Every check prints the measured difference. */
#include "test.h"
#include "linalg/svd_values.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* max |S - Sref| / sigma_1 (NaN if any difference is NaN) and whether every
 * value is inside the tolerance */
static int values_match(int r, const float *S, const float *Sref, double *worst)
{
    const double s1 = Sref[0] > 0.0f ? Sref[0] : 1.0, atol = 64.0 * r * DBL_EPSILON * s1;
    int i, ok = 1, nan = 0;
    *worst = 0.0;
    for (i = 0; i < r; i++) {
        const double d = fabs((double)S[i] - Sref[i]);
        if (d != d) nan = 1;
        else if (d / s1 > *worst) *worst = d / s1;
        if (!(d <= 2.5e-7 * Sref[i] + atol)) ok = 0;
    }
    if (nan) *worst = NAN;
    return ok;
}

/* The path against the Jacobi on A(m,n): same values within the tolerance,
 * descending and >= 0, the QR sweeps converged (no fallback) in at most
 * max_sweeps, and the same bits when the workspace is reused. */
static void compare(const char *what, int m, int n, const float *A, int max_sweeps)
{
    const int r = m < n ? m : n;
    float *S = malloc(sizeof(float) * r), *Sj = malloc(sizeof(float) * r), *S2 = malloc(sizeof(float) * r);
    muon_workspace ws = {0, 0};
    double worst = 0.0;
    int st, stj, sweeps = -2, sweeps2 = -2, i, sorted = 1;
    if (!S || !Sj || !S2) { check(0, "%s: test out of memory", what); goto done; }
    st = muon_svd_values_ws(&ws, m, n, A, S, &sweeps);
    stj = muon_svd(m, n, A, Sj, NULL, NULL, NULL);
    if (!check(st == MUON_OK && stj == MUON_OK, "%s: values path and Jacobi run (%d, %d)", what, st, stj)) goto done;
    for (i = 0; i < r; i++)
        if (!(S[i] >= 0.0f) || (i > 0 && !(S[i - 1] >= S[i]))) sorted = 0;
    check(sorted, "%s: values >= 0 and descending", what);
    check(sweeps >= 0 && sweeps <= max_sweeps, "%s: the bidiagonal QR converged in %d sweeps (<= %d, no Jacobi fallback)",
          what, sweeps, max_sweeps);
    i = values_match(r, S, Sj, &worst);
    check(i, "%s: values match the Jacobi's (max |diff|/sigma_1 %.1e, atol %.1e)", what, worst, 64.0 * r * DBL_EPSILON);
    st = muon_svd_values_ws(&ws, m, n, A, S2, &sweeps2);
    check(st == MUON_OK && sweeps2 == sweeps && !memcmp(S, S2, sizeof(float) * r),
          "%s: the same bits again in the reused workspace", what);
done:
    muon_workspace_free(&ws);
    free(S); free(Sj); free(S2);
}

static void golden(void)
{
    static const struct { const char *name; int m, n; } cases[] = {
        {"rand_40x25", 40, 25}, {"rand_25x40", 25, 40}, {"rand_64x64", 64, 64},
        {"graded_48x32", 48, 32}, {"graded_24x36", 24, 36}, {"rank3_30x20", 30, 20},
        {"zero_5x4", 5, 4}, {"row_1x7", 1, 7}, {"col_9x1", 9, 1},
    };
    muon_safetensors f;
    muon_workspace ws = {0, 0};
    size_t c;
    if (golden_open("svd.safetensors", &f)) return;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int m = cases[c].m, n = cases[c].n, r = m < n ? m : n;
        char key[64];
        const float *A, *Sr;
        float S[64];
        double worst = 0.0;
        int ok;
        snprintf(key, sizeof key, "%s.A", cases[c].name); A = golden_get(&f, key, (size_t)m * n);
        snprintf(key, sizeof key, "%s.S", cases[c].name); Sr = golden_get(&f, key, (size_t)r);
        if (!A || !Sr) continue;
        ok = muon_svd_values_ws(&ws, m, n, A, S, NULL) == MUON_OK;
        ok = ok && values_match(r, S, Sr, &worst);      /* before check() reads worst */
        check(ok, "%s: values path vs NumPy (max |diff|/sigma_1 %.1e)", cases[c].name, worst);
    }
    muon_workspace_free(&ws);
    muon_safetensors_free(&f);
}

/* A(m,n) = the upper bidiagonal (d, e) placed at the top left (tall) or
 * transposed (wide): the reflectors are all the identity on it, so its zero
 * diagonal entries reach the QR as they are and take the chases. */
static void bidiagonal_input(const char *what, int m, int n, const float *d, const float *e)
{
    const int r = m < n ? m : n;
    float *A = calloc((size_t)m * n, sizeof *A);
    int i;
    if (!check(A != NULL, "%s: test buffers allocated", what)) return;
    for (i = 0; i < r; i++) {
        if (m >= n) { A[(size_t)i * n + i] = d[i]; if (i + 1 < r) A[(size_t)i * n + i + 1] = e[i]; }
        else        { A[(size_t)i * n + i] = d[i]; if (i + 1 < r) A[(size_t)(i + 1) * n + i] = e[i]; }
    }
    compare(what, m, n, A, 3 * r);
    free(A);
}

static void structured(void)
{
    float d[12], e[12], A[8 * 5], B[36];
    int i, j;
    for (i = 0; i < 12; i++) { d[i] = (float)(1.0 + 0.37 * i); e[i] = (float)(0.5 - 0.11 * i); }
    d[4] = 0.0f;
    bidiagonal_input("bidiagonal 12x12, zero d[4] (row chase)", 12, 12, d, e);
    d[4] = 2.0f; d[11] = 0.0f;
    bidiagonal_input("bidiagonal 12x12, zero last d (column chase)", 12, 12, d, e);
    d[0] = 0.0f; d[6] = 0.0f;
    bidiagonal_input("bidiagonal 12x12, zero d[0], d[6], d[11]", 12, 12, d, e);
    bidiagonal_input("bidiagonal 12x15 wide, the same zeros", 12, 15, d, e);
    e[3] = 0.0f; e[8] = 0.0f;
    bidiagonal_input("bidiagonal 15x12 tall, split blocks too", 15, 12, d, e);
    /* rank 1 (four exact zeros), the identity (all values tie), zero rows
     * and columns, 1x1 */
    test_fill_random(A, 8, 11);
    for (i = 7; i >= 0; i--)
        for (j = 0; j < 5; j++) A[i * 5 + j] = A[i];
    compare("equal columns 8x5 (rank 1)", 8, 5, A, 15);
    for (i = 0; i < 36; i++) B[i] = i % 7 == 0 ? 1.0f : 0.0f;
    compare("identity 6x6", 6, 6, B, 18);
    test_fill_random(B, 36, 12);
    for (i = 0; i < 6; i++) { B[i * 6 + 2] = 0.0f; B[4 * 6 + i] = 0.0f; }
    compare("random 6x6 with a zero row and column", 6, 6, B, 18);
    for (i = 0; i < 36; i++) B[i] = 0.0f;
    compare("zero 6x6", 6, 6, B, 18);
    B[0] = -3.0f;
    compare("1x1 -3", 1, 1, B, 0);
}

static void random_shapes(void)
{
    /* two-stage (M >= 2N, with and without a partial QR panel) and not,
     * tall and wide, odd sizes around the 32-lane loops */
    static const int shapes[][2] = {{128, 128}, {70, 130}, {130, 70}, {300, 100}, {100, 300}, {512, 128},
                                    {17, 16}, {2, 2}, {3, 2}, {1, 7}, {9, 1}};
    char what[96];
    int s, i, j;
    for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
        const int m = shapes[s][0], n = shapes[s][1], r = m < n ? m : n;
        float *A = malloc(sizeof(float) * m * n), *O = malloc(sizeof(float) * m * n);
        size_t q;
        if (!check(A && O, "svd_values: test buffers allocated")) { free(A); free(O); return; }
        test_fill_random(A, (size_t)m * n, 300 + s);
        snprintf(what, sizeof what, "random %dx%d", m, n);
        compare(what, m, n, A, 3 * r);
        /* graded over 6 decades: the smallest values lean on the atol */
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++) A[(size_t)i * n + j] *= (float)pow(10.0, -6.0 * (m >= n ? j : i) / (m >= n ? n : m));
        snprintf(what, sizeof what, "graded %dx%d (1e-6)", m, n);
        compare(what, m, n, A, 3 * r);
        /* clustered values near 1, like Muon's O */
        test_fill_random(A, (size_t)m * n, 400 + s);
        if (muon_orthogonalize(MUON_ORTH_POLAR_EXPRESS, 0, m, n, A, O) == MUON_OK) {
            snprintf(what, sizeof what, "polar-express output %dx%d", m, n);
            compare(what, m, n, O, 3 * r);
        }
        /* float32's extremes: no scaling inside, so squares must stay in range */
        test_fill_random(A, (size_t)m * n, 500 + s);
        for (q = 0; q < (size_t)m * n; q++) A[q] *= 1e36f;
        snprintf(what, sizeof what, "random %dx%d times 1e36", m, n);
        compare(what, m, n, A, 3 * r);
        for (q = 0; q < (size_t)m * n; q++) A[q] = (A[q] * 1e-36f) * 1e-36f;
        snprintf(what, sizeof what, "random %dx%d times 1e-36", m, n);
        compare(what, m, n, A, 3 * r);
        free(A);
        free(O);
    }
}

static void errors(void)
{
    float A[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, S[3], S0[3];
    muon_workspace ws = {0, 0};
    int k, st, nomem = 1;
    check(muon_svd_values_ws(&ws, 0, 3, A, S, NULL) == MUON_ERR_ARG, "svd values: m = 0 gives MUON_ERR_ARG (%s)",
          muon_last_error());
    check(muon_svd_values_ws(&ws, 4, 3, NULL, S, NULL) == MUON_ERR_ARG, "svd values: A = NULL gives MUON_ERR_ARG");
    A[5] = NAN;
    st = muon_svd_values_ws(&ws, 4, 3, A, S, NULL);
    check(st == MUON_ERR_NUMERIC && S[0] != S[0] && S[2] != S[2], "svd values: NaN in A gives MUON_ERR_NUMERIC and NaN S (%s)",
          muon_last_error());
    A[5] = -INFINITY;
    check(muon_svd_values_ws(&ws, 3, 4, A, S, NULL) == MUON_ERR_NUMERIC, "svd values: -Inf in A gives MUON_ERR_NUMERIC");
    A[5] = 6;
    st = muon_svd_values_ws(&ws, 4, 3, A, S0, NULL);
    muon_workspace_free(&ws);
    for (k = 1; k <= 4; k++) {
        muon_workspace fresh = {0, 0};
        muon_alloc_fail_after(k);
        st = muon_svd_values_ws(&fresh, 4, 3, A, S, NULL);
        muon_alloc_fail_after(0);
        muon_workspace_free(&fresh);
        if (st != MUON_ERR_NOMEM && st != MUON_OK) nomem = 0;
        if (st == MUON_OK) break;
    }
    check(nomem && k > 1 && st == MUON_OK && !memcmp(S, S0, sizeof S),
          "svd values: allocation failures 1..%d give MUON_ERR_NOMEM, then the same values", k - 1);
}

void suite_svd_values(void)
{
    golden();
    structured();
    random_shapes();
    errors();
}
