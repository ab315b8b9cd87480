/* Suite svd: muon_svd against NumPy/LAPACK float64 (tests/golden/gen_linalg.py)
 * and against its own invariants.
 *
 * Tolerances: the SVD works in double from the float32 input, so what is left
 * is the rounding of S, U, V to float32 (relative 6e-8 per value) plus the
 * golden file's own float32 storage of U, V. Each bound below is a small
 * multiple of that, with the measured values printed by every check. */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int m, n;
} svd_case;

static const svd_case golden_cases[] = {
    {"rand_40x25", 40, 25}, {"rand_25x40", 25, 40}, {"rand_64x64", 64, 64},
    {"graded_48x32", 48, 32}, {"graded_24x36", 24, 36}, {"rank3_30x20", 30, 20},
    {"zero_5x4", 5, 4}, {"row_1x7", 1, 7}, {"col_9x1", 9, 1},
};

/* ||A - U diag(S) V^T||_F / ||A||_F (plain ||.||_F when A = 0), in double. */
static double residual(int m, int n, const float *A, const float *S, const float *U, const float *V)
{
    int r = m < n ? m : n, i, j, k;
    double e = 0.0, a = 0.0;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0, d;
            for (k = 0; k < r; k++) s += (double)U[(size_t)i * r + k] * S[k] * V[(size_t)j * r + k];
            d = A[(size_t)i * n + j] - s;
            e += d * d;
            a += (double)A[(size_t)i * n + j] * A[(size_t)i * n + j];
        }
    return a > 0.0 ? sqrt(e / a) : sqrt(e);
}

/* ||Q^T Q - I||_F for Q(rows, r), in double. */
static double orth_err(int rows, int r, const float *Q)
{
    int i, j, k;
    double e = 0.0;
    for (i = 0; i < r; i++)
        for (j = 0; j < r; j++) {
            double s = 0.0;
            for (k = 0; k < rows; k++) s += (double)Q[(size_t)k * r + i] * Q[(size_t)k * r + j];
            s -= i == j;
            e += s * s;
        }
    return sqrt(e);
}

/* Smallest |q_i . qref_i| over the columns i whose singular value is separated
 * from its neighbours by more than gap * sigma_1 (their vectors are then
 * determined up to sign); -1 if no column qualifies. */
static double min_vec_agreement(int rows, int r, const float *Q, const float *Qref,
                                const float *Sref, double gap, int *count)
{
    int i, k;
    double worst = 2.0;
    *count = 0;
    for (i = 0; i < r; i++) {
        double g = 1e300, s = 0.0;
        if (i > 0) g = fabs((double)Sref[i - 1] - Sref[i]);
        if (i + 1 < r && fabs((double)Sref[i] - Sref[i + 1]) < g) g = fabs((double)Sref[i] - Sref[i + 1]);
        if (!(g > gap * Sref[0])) continue;
        for (k = 0; k < rows; k++) s += (double)Q[(size_t)k * r + i] * Qref[(size_t)k * r + i];
        if (fabs(s) < worst) worst = fabs(s);
        (*count)++;
    }
    return *count ? worst : -1.0;
}

static void golden_case(const muon_safetensors *f, const svd_case *c)
{
    int m = c->m, n = c->n, r = m < n ? m : n, cnt;
    char key[64];
    const float *A, *Sr, *Ur, *Vr;
    float *S = malloc(sizeof(float) * r), *U = malloc(sizeof(float) * m * r),
          *V = malloc(sizeof(float) * n * r), *S2 = malloc(sizeof(float) * r);
    muon_svd_info info;
    double e, agree, atol;
    int st;
    sprintf(key, "%s.A", c->name); A = golden_get(f, key, (size_t)m * n);
    sprintf(key, "%s.S", c->name); Sr = golden_get(f, key, (size_t)r);
    sprintf(key, "%s.U", c->name); Ur = golden_get(f, key, (size_t)m * r);
    sprintf(key, "%s.V", c->name); Vr = golden_get(f, key, (size_t)n * r);
    if (!A || !Sr || !Ur || !Vr || !S || !U || !V || !S2) goto done;

    st = muon_svd(m, n, A, S, U, V, &info);
    if (!check(st == MUON_OK, "%s: muon_svd returns ok (%s)", c->name, muon_last_error())) goto done;
    check(info.converged && info.sweeps >= 0 && info.sweeps <= 30,
          "%s: converged in %d sweeps (<= 30), final max |cos| %.2e", c->name, info.sweeps, info.max_cos);
    /* values: both sides are float32 roundings of double values that agree to
     * ~1e-15 sigma_1, so 2 float32 ulps relative, and for values far below
     * sigma_1 (rank-deficient noise, the zero matrix) 1e-12 sigma_1 absolute */
    atol = 1e-12 * Sr[0];
    sprintf(key, "%s: singular values vs NumPy", c->name);
    check_close(key, S, Sr, (size_t)r, 2.5e-7, atol);
    /* residual: float32 rounding of U, S, V gives ~sqrt(3) * 6e-8 per entry */
    e = residual(m, n, A, S, U, V);
    check(e <= 3e-7, "%s: ||A - U S V^T||_F / ||A||_F = %.2e (<= 3e-7)", c->name, e);
    /* orthogonality: only the float32 rounding of U and V shows; measured
     * ~4e-8 sqrt(r) in Frobenius norm, held to 1e-7 (sqrt(r) + 1) */
    e = orth_err(m, r, U);
    check(e <= 1e-7 * (sqrt(r) + 1.0), "%s: ||U^T U - I||_F = %.2e (<= %.1e)", c->name, e, 1e-7 * (sqrt(r) + 1.0));
    e = orth_err(n, r, V);
    check(e <= 1e-7 * (sqrt(r) + 1.0), "%s: ||V^T V - I||_F = %.2e (<= %.1e)", c->name, e, 1e-7 * (sqrt(r) + 1.0));
    /* singular vectors with a relative gap > 1e-3 are determined up to sign;
     * their perturbation is ~1e-16/1e-3, so only the float32 storage shows */
    agree = min_vec_agreement(m, r, U, Ur, Sr, 1e-3, &cnt);
    if (cnt) check(agree >= 1.0 - 1e-6, "%s: %d separated left vectors: min |u_i . u_ref_i| = 1 - %.2e (>= 1 - 1e-6)",
                   c->name, cnt, 1.0 - agree);
    agree = min_vec_agreement(n, r, V, Vr, Sr, 1e-3, &cnt);
    if (cnt) check(agree >= 1.0 - 1e-6, "%s: %d separated right vectors: min |v_i . v_ref_i| = 1 - %.2e (>= 1 - 1e-6)",
                   c->name, cnt, 1.0 - agree);
    /* values only: the same rotations, so the same bits */
    st = muon_svd(m, n, A, S2, NULL, NULL, NULL);
    check(st == MUON_OK && !memcmp(S, S2, sizeof(float) * r), "%s: values-only S equals S with vectors, bit for bit", c->name);
done:
    free(S); free(U); free(V); free(S2);
}

/* A self-check on shapes without golden data: invariants only. */
static void invariants(const char *what, int m, int n, const float *A)
{
    int r = m < n ? m : n;
    float *S = malloc(sizeof(float) * r), *U = malloc(sizeof(float) * m * r), *V = malloc(sizeof(float) * n * r);
    muon_svd_info info;
    int st, k, sorted = 1;
    double e;
    if (!S || !U || !V) { check(0, "%s: test allocation", what); goto done; }
    st = muon_svd(m, n, A, S, U, V, &info);
    if (!check(st == MUON_OK, "%s: muon_svd returns ok", what)) goto done;
    for (k = 0; k + 1 < r; k++) if (!(S[k] >= S[k + 1])) sorted = 0;
    for (k = 0; k < r; k++) if (!(S[k] >= 0.0f)) sorted = 0;
    check(sorted, "%s: singular values >= 0 and descending", what);
    check(info.converged && info.sweeps <= 30, "%s: converged in %d sweeps, max |cos| %.2e", what, info.sweeps, info.max_cos);
    e = residual(m, n, A, S, U, V);
    check(e <= 3e-7, "%s: ||A - U S V^T||_F / ||A||_F = %.2e (<= 3e-7)", what, e);
    e = orth_err(m, r, U);
    check(e <= 1e-7 * (sqrt(r) + 1.0), "%s: ||U^T U - I||_F = %.2e (<= %.1e)", what, e, 1e-7 * (sqrt(r) + 1.0));
    e = orth_err(n, r, V);
    check(e <= 1e-7 * (sqrt(r) + 1.0), "%s: ||V^T V - I||_F = %.2e (<= %.1e)", what, e, 1e-7 * (sqrt(r) + 1.0));
done:
    free(S); free(U); free(V);
}

static void edge_shapes(void)
{
    float A[8 * 5], B[6 * 6];
    int i, j;
    /* every column the same: rank 1, four exactly-zero singular values whose
     * right vectors must be completed to an orthonormal basis */
    test_fill_random(A, 8, 11);
    for (i = 7; i >= 0; i--)
        for (j = 0; j < 5; j++) A[i * 5 + j] = A[i];
    invariants("equal columns 8x5 (rank 1)", 8, 5, A);
    invariants("equal rows 5x8 (rank 1)", 5, 8, A);
    /* identity: all singular values tie */
    for (i = 0; i < 36; i++) B[i] = i % 7 == 0 ? 1.0f : 0.0f;
    invariants("identity 6x6", 6, 6, B);
    /* a zero column and a zero row inside a random matrix */
    test_fill_random(B, 36, 12);
    for (i = 0; i < 6; i++) { B[i * 6 + 2] = 0.0f; B[4 * 6 + i] = 0.0f; }
    invariants("random 6x6 with a zero row and column", 6, 6, B);
    A[0] = 0.0f;
    invariants("1x1 zero", 1, 1, A);
    A[0] = -3.0f;
    invariants("1x1 -3", 1, 1, A);
}

static void bigger(void)
{
    int m = 240, n = 160, r = 160, i;
    float *A = malloc(sizeof(float) * m * n), *At = malloc(sizeof(float) * m * n);
    float *S1 = malloc(sizeof(float) * r), *U1 = malloc(sizeof(float) * m * r), *V1 = malloc(sizeof(float) * n * r);
    float *S2 = malloc(sizeof(float) * r), *U2 = malloc(sizeof(float) * m * r), *V2 = malloc(sizeof(float) * n * r);
    int t0 = muon_threads(), st1, st2;
    if (!A || !At || !S1 || !U1 || !V1 || !S2 || !U2 || !V2) { check(0, "svd: test allocation"); goto done; }
    test_fill_random(A, (size_t)m * n, 21);
    /* a graded spectrum on top, so convergence is not only the easy case */
    for (i = 0; i < m * n; i++) A[i] *= (float)pow(10.0, -3.0 * (i % n) / n);
    invariants("graded random 240x160", m, n, A);

    /* thread count must not change a bit */
    if (!threads_begin("8000x80 SVD")) goto done;
    muon_set_threads(1);
    st1 = muon_svd(m, n, A, S1, U1, V1, NULL);
    muon_set_threads(2);
    st2 = muon_svd(m, n, A, S2, U2, V2, NULL);
    threads_end();
    (void)t0;
    check(!st1 && !st2 && !memcmp(S1, S2, sizeof(float) * r) && !memcmp(U1, U2, sizeof(float) * m * r)
          && !memcmp(V1, V2, sizeof(float) * n * r), "240x160 (every parallel loop active): S, U, V identical with 1 and 2 threads");

    /* A^T goes through the same tall problem: same S, U and V swapped */
    /* (the Householder QR and the Q application only go parallel on big
     * tall matrices, so those loops get their own check below) */
    muon_transpose(A, At, m, n);
    st2 = muon_svd(n, m, At, S2, V2, U2, NULL);
    check(!st1 && !st2 && !memcmp(S1, S2, sizeof(float) * r) && !memcmp(U1, U2, sizeof(float) * m * r)
          && !memcmp(V1, V2, sizeof(float) * n * r), "SVD of A^T (160x240) is the transpose of A's, bit for bit");

    /* only one side wanted: the same values and that side unchanged */
    st2 = muon_svd(m, n, A, S2, U2, NULL, NULL);
    check(!st2 && !memcmp(S1, S2, sizeof(float) * r) && !memcmp(U1, U2, sizeof(float) * m * r),
          "U only (V = NULL): same S and U");
    st2 = muon_svd(m, n, A, S2, NULL, V2, NULL);
    check(!st2 && !memcmp(S1, S2, sizeof(float) * r) && !memcmp(V1, V2, sizeof(float) * n * r),
          "V only (U = NULL): same S and V");
done:
    free(A); free(At); free(S1); free(U1); free(V1); free(S2); free(U2); free(V2);
}

/* Tall and skinny: the parallel QR and Q application (Jacobi is serial here). */
static void tall_threads(void)
{
    int m = 8000, n = 80, t0 = muon_threads(), st1, st2;
    float *A = malloc(sizeof(float) * m * n), *U1 = malloc(sizeof(float) * m * n), *U2 = malloc(sizeof(float) * m * n);
    float S1[80], S2[80], V1[80 * 80], V2[80 * 80];
    if (!A || !U1 || !U2) { check(0, "tall_threads: test allocation"); goto done; }
    test_fill_random(A, (size_t)m * n, 23);
    muon_set_threads(1);
    st1 = muon_svd(m, n, A, S1, U1, V1, NULL);
    muon_set_threads(2);
    st2 = muon_svd(m, n, A, S2, U2, V2, NULL);
    muon_set_threads(t0);
    check(!st1 && !st2 && !memcmp(S1, S2, sizeof S1) && !memcmp(U1, U2, sizeof(float) * m * n)
          && !memcmp(V1, V2, sizeof V1), "8000x80 (parallel QR and Q): S, U, V identical with 1 and 2 threads");
done:
    free(A); free(U1); free(U2);
}

static void errors(void)
{
    float A[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, S[3], S0[3], U[12], V[9];
    muon_svd_info info;
    int k, st, nomem = 1;
    check(muon_svd(0, 3, A, S, U, V, &info) == MUON_ERR_ARG, "m = 0 gives MUON_ERR_ARG (%s)", muon_last_error());
    check(muon_svd(4, -1, A, S, U, V, &info) == MUON_ERR_ARG, "n = -1 gives MUON_ERR_ARG (%s)", muon_last_error());
    check(muon_svd(4, 3, NULL, S, U, V, &info) == MUON_ERR_ARG, "A = NULL gives MUON_ERR_ARG");
    check(muon_svd(4, 3, A, NULL, U, V, &info) == MUON_ERR_ARG, "S = NULL gives MUON_ERR_ARG");
    A[5] = NAN;
    st = muon_svd(4, 3, A, S, U, V, &info);
    check(st == MUON_ERR_NUMERIC && S[0] != S[0] && U[0] != U[0] && V[8] != V[8],
          "NaN in A: MUON_ERR_NUMERIC and NaN outputs (%s)", muon_last_error());
    A[5] = INFINITY;
    check(muon_svd(4, 3, A, S, NULL, NULL, NULL) == MUON_ERR_NUMERIC, "Inf in A: MUON_ERR_NUMERIC");
    A[5] = 6;
    st = muon_svd(4, 3, A, S0, NULL, NULL, NULL);
    /* every allocation in turn fails: always MUON_ERR_NOMEM, never a crash
     * (leaks show under the sanitizer build) */
    for (k = 1; k <= 16; k++) {
        muon_alloc_fail_after(k);
        st = muon_svd(4, 3, A, S, U, V, &info);
        muon_alloc_fail_after(0);
        if (st != MUON_ERR_NOMEM && st != MUON_OK) nomem = 0;
        if (st == MUON_OK) break;
    }
    check(nomem && k > 1, "allocation failures 1..%d give MUON_ERR_NOMEM, then ok", k - 1);
    st = muon_svd(4, 3, A, S, NULL, NULL, &info);
    check(st == MUON_OK && !memcmp(S, S0, sizeof S), "after the failures it works again, same values");
}

/* The blocked kernel (muon_svd) against the row-by-row reference
 * (muon_svd_reference) on shapes whose block pairs have unequal, padded and
 * single-row blocks: the same values to float32 rounding (both converge to
 * the same double values, up to ~1e-14 sigma_1), and vectors of separated
 * values the same up to sign. */
static void versus_reference(const char *what, int m, int n, double grade, const float *given)
{
    int r = m < n ? m : n, i, cnt;
    float *A = malloc(sizeof(float) * m * n);
    float *S1 = malloc(sizeof(float) * r), *U1 = malloc(sizeof(float) * m * r), *V1 = malloc(sizeof(float) * n * r);
    float *S2 = malloc(sizeof(float) * r), *U2 = malloc(sizeof(float) * m * r), *V2 = malloc(sizeof(float) * n * r);
    muon_svd_info i1, i2;
    double agree;
    char key[128];
    if (!A || !S1 || !U1 || !V1 || !S2 || !U2 || !V2) { check(0, "%s: test allocation", what); goto done; }
    if (given) memcpy(A, given, sizeof(float) * m * n);
    else {
        test_fill_random(A, (size_t)m * n, 31 + m + n);
        for (i = 0; i < m * n; i++) A[i] *= (float)pow(10.0, -grade * (i % n) / n);
    }
    if (!check(!muon_svd(m, n, A, S1, U1, V1, &i1) && !muon_svd_reference(m, n, A, S2, U2, V2, &i2),
               "%s: blocked and reference SVD return ok", what)) goto done;
    check(i1.converged && i2.converged, "%s: both converge (blocked %d sweeps, reference %d)", what, i1.sweeps, i2.sweeps);
    sprintf(key, "%s: blocked singular values vs the reference", what);
    check_close(key, S1, S2, (size_t)r, 2.5e-7, 1e-12 * S2[0]);
    agree = min_vec_agreement(m, r, U1, U2, S2, 1e-3, &cnt);
    if (cnt) check(agree >= 1.0 - 1e-6, "%s: %d separated left vectors: min |u_i . u_ref_i| = 1 - %.2e (>= 1 - 1e-6)",
                   what, cnt, 1.0 - agree);
    agree = min_vec_agreement(n, r, V1, V2, S2, 1e-3, &cnt);
    if (cnt) check(agree >= 1.0 - 1e-6, "%s: %d separated right vectors: min |v_i . v_ref_i| = 1 - %.2e (>= 1 - 1e-6)",
                   what, cnt, 1.0 - agree);
    invariants(what, m, n, A);
done:
    free(A); free(S1); free(U1); free(V1); free(S2); free(U2); free(V2);
}

/* Kahan's matrix (upper triangular, rows scaled by s^i, -c above the
 * diagonal): its pivoted QR keeps a mild diagonal (|R_11 / R_NN| ~ 1e4) while
 * its condition number is ~1e9, so muon_svd first takes the warm start (and
 * would take the triangular solve for U), finds sigma_1 / sigma_N too large
 * and runs the Jacobi again from R, cold (accumulating U's rotations). Values
 * only must take the same second run: the same S, bit for bit. */
static void kahan(void)
{
    enum { KN = 60 };
    static float A[KN * KN];
    const double s = pow(10.0, -4.0 / (KN - 1)), c = sqrt(1.0 - s * s);
    double d = 1.0;
    int i, j;
    /* column j scaled by 0.999^j, so the pivoting keeps Kahan's order */
    for (i = 0; i < KN; i++, d *= s)
        for (j = 0; j < KN; j++) A[i * KN + j] = (float)((j < i ? 0.0 : j == i ? d : -c * d) * pow(0.999, j));
    versus_reference("Kahan 60x60", KN, KN, 0.0, A);
    {
        static float S[KN], S0[KN], U[KN * KN], V[KN * KN];
        muon_svd_info iv, i0;
        int st = muon_svd(KN, KN, A, S, U, V, &iv), st0 = muon_svd(KN, KN, A, S0, NULL, NULL, &i0);
        /* the sweep counts tell which run each result came from */
        check(st == MUON_OK && st0 == MUON_OK && !memcmp(S, S0, sizeof S) && iv.sweeps == i0.sweeps &&
              iv.max_cos == i0.max_cos,
              "Kahan 60x60: values only takes the same cold rerun as with vectors (S bit for bit, %d and %d sweeps)",
              i0.sweeps, iv.sweeps);
    }
}

/* The warm start (linalg/svd.c warm_start): on well-conditioned matrices the
 * Gram matrix's eigenvectors leave the Jacobi 2-4 sweeps instead of 10-13,
 * and the result is the reference's (values, vectors, invariants). */
static void warm_start(void)
{
    static const int shapes[][2] = {{128, 128}, {70, 130}, {300, 100}, {33, 40}};
    int s;
    for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
        const int m = shapes[s][0], n = shapes[s][1], r = m < n ? m : n;
        float *A = malloc(sizeof(float) * m * n), *S = malloc(sizeof(float) * r);
        muon_svd_info info;
        char what[64];
        int st;
        if (!check(A && S, "warm start: test buffers allocated")) { free(A); free(S); return; }
        test_fill_random(A, (size_t)m * n, 41 + s);
        st = muon_svd(m, n, A, S, NULL, NULL, &info);
        check(st == MUON_OK && info.converged && info.sweeps <= 4,
              "random %dx%d: the warm start leaves %d sweeps (<= 4; 10-13 from R itself)", m, n, info.sweeps);
        snprintf(what, sizeof what, "warm start, random %dx%d", m, n);
        versus_reference(what, m, n, 0.0, A);
        free(A);
        free(S);
    }
}

void suite_svd(void)
{
    muon_safetensors f;
    size_t i;
    if (!golden_open("svd.safetensors", &f)) {
        for (i = 0; i < sizeof golden_cases / sizeof golden_cases[0]; i++) golden_case(&f, &golden_cases[i]);
        muon_safetensors_free(&f);
    }
    edge_shapes();
    versus_reference("random 70x70", 70, 70, 0.0, NULL);
    versus_reference("graded 200x67 (1e-5)", 200, 67, 5.0, NULL);
    versus_reference("graded 33x130 (1e-3)", 33, 130, 3.0, NULL);
    versus_reference("random 3x2", 3, 2, 0.0, NULL);
    kahan();
    warm_start();
    bigger();
    tall_threads();
    errors();
}
