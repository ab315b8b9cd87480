/* Suite orth: the orthogonalisers against a float64 NumPy run of the same
 * iteration and against the exact polar factor U V^T
 * (tests/golden/gen_linalg.py), plus their invariants.
 *
 * What float32 can honestly reach: the iteration runs 5 (or 10) steps of 3
 * float32 GEMMs each; rounding errors of ~1e-7 relative per step are then
 * amplified by the polynomial's slope, which is large for small singular
 * values (Polar Express's first step has p'(0) = 8.2, Keller's 3.4, so
 * 5 steps can scale a perturbation by up to ~10^3 in the worst direction).
 * The tolerances below are set from that budget and the measured errors
 * (printed by every check). */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int rows, cols;
} orth_input;

static const orth_input inputs[] = {
    {"g_24x40", 24, 40}, {"g_40x24", 40, 24}, {"g_32x32", 32, 32}, {"decay_32x48", 32, 48},
};

typedef struct {
    const char *key;          /* golden name suffix */
    muon_orth_kind kind;
    int steps;
    double atol;              /* elementwise, vs the float64 run; entries are ~0.2 */
} orth_method;

/* atol: measured max abs errors were 2.5e-6 (polar express), 1.7e-6 (keller),
 * 1.8e-7 / 1.5e-6 (newton-schulz 5 / 10 steps), 1.2e-7 (svd) when every GEMM
 * accumulates in float32 (worse than the naive double-accumulating reference),
 * so the bounds leave a factor ~3-4 for other summation orders. */
static const orth_method methods[] = {
    {"polar_express", MUON_ORTH_POLAR_EXPRESS, 0, 1e-5},
    {"keller", MUON_ORTH_KELLER, 0, 6e-6},
    {"newton_schulz", MUON_ORTH_NEWTON_SCHULZ, 0, 1e-6},
    {"newton_schulz10", MUON_ORTH_NEWTON_SCHULZ, 10, 6e-6},
    {"uvt", MUON_ORTH_SVD, 0, 5e-7},
};

/* ||X - Y||_F / ||Y||_F in double. */
static double rel_dist(const float *X, const float *Y, size_t n)
{
    double e = 0.0, y = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = (double)X[i] - Y[i];
        e += d * d;
        y += (double)Y[i] * Y[i];
    }
    return y > 0.0 ? sqrt(e / y) : sqrt(e);
}

static void golden_input(const muon_st_file *f, const orth_input *in)
{
    int rows = in->rows, cols = in->cols, r = rows < cols ? rows : cols;
    size_t n = (size_t)rows * cols, k;
    char key[96], what[160];
    const float *G, *uvt;
    float *O = malloc(sizeof(float) * n), *S = malloc(sizeof(float) * r);
    sprintf(key, "%s.G", in->name); G = golden_get(f, key, n);
    sprintf(key, "%s.uvt", in->name); uvt = golden_get(f, key, n);
    if (!G || !uvt || !O || !S) goto done;
    for (k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        const orth_method *m = &methods[k];
        const float *ref, *sv;
        double d_c, d_ref, smin, smax, rmin = 1e300, rmax = 0.0;
        int st, i;
        sprintf(key, "%s.%s", in->name, m->key); ref = golden_get(f, key, n);
        sprintf(key, "%s.%s.sv", in->name, m->key); sv = golden_get(f, key, (size_t)r);
        if (!ref || !sv) continue;
        st = muon_orthogonalize(m->kind, m->steps, rows, cols, G, O);
        if (!check(st == MUON_OK, "%s %s: returns ok%s%s", in->name, m->key, st ? ": " : "",
                   st ? muon_last_error() : "")) continue;
        sprintf(what, "%s %s vs float64 NumPy run", in->name, m->key);
        check_close(what, O, ref, n, 0.0, m->atol);
        /* distance to the exact polar factor: ours must match the float64
         * run's, which is what the method itself achieves */
        d_c = rel_dist(O, uvt, n);
        d_ref = rel_dist(ref, uvt, n);
        check(fabs(d_c - d_ref) <= 1e-5 + 1e-4 * d_ref,
              "%s %s: ||O - UV^T||/||UV^T|| = %.6f, float64 run %.6f (|diff| <= 1e-5 + 1e-4 * ref)",
              in->name, m->key, d_c, d_ref);
        /* spread of the output's singular values vs the float64 run's (measured
         * differences <= 3e-6 with float32-accumulating GEMMs) */
        st = muon_svd(rows, cols, O, S, NULL, NULL, NULL);
        for (i = 0; i < r; i++) {
            if (sv[i] < rmin) rmin = sv[i];
            if (sv[i] > rmax) rmax = sv[i];
        }
        smax = S[0];
        smin = S[r - 1];
        check(st == MUON_OK && fabs(smin - rmin) <= 1e-5 && fabs(smax - rmax) <= 1e-5,
              "%s %s: output sigma in [%.6f, %.6f], float64 run [%.6f, %.6f] (each within 1e-5)",
              in->name, m->key, smin, smax, rmin, rmax);
    }
done:
    free(O); free(S);
}

/* The scalar reference for a 1 x n input: its one singular value sigma goes
 * through the normalisation and the quintic p(x) = a x + b x^3 + c x^5 step by
 * step, in double; the output is the row over its norm times the final value.
 * The triples are this file's own copy of SPEC section 4. */
static double scalar_run(muon_orth_kind kind, double sigma)
{
    static const double pe[5][3] = {
        {8.156554524902461, -22.48329292557795, 15.878769915207462},
        {4.042929935166739, -2.808917465908714, 0.5000178451051316},
        {3.8916678022926607, -2.772484153217685, 0.5060648178503393},
        {3.285753657755655, -2.3681294933425376, 0.46449024233003106},
        {2.3465413258596377, -1.7097828382687081, 0.42323551169305323}};
    static const double ke[3] = {3.4445, -4.7750, 2.0315}, ns[3] = {1.875, -1.25, 0.375};
    double x = sigma / ((kind == MUON_ORTH_POLAR_EXPRESS ? 1.01 : 1.0) * sigma + 1e-7);
    int s;
    if (kind == MUON_ORTH_SVD) return 1.0;
    for (s = 0; s < 5; s++) {
        const double *t = kind == MUON_ORTH_POLAR_EXPRESS ? pe[s] : kind == MUON_ORTH_KELLER ? ke : ns;
        x = t[0] * x + t[1] * x * x * x + t[2] * x * x * x * x * x;
    }
    return x;
}

static int run(muon_orth_kind kind, int steps, int rows, int cols, const float *G, float *O)
{
    int st = muon_orthogonalize(kind, steps, rows, cols, G, O);
    if (st) check(0, "%s %dx%d: %s", muon_orth_name(kind), rows, cols, muon_last_error());
    return st;
}

static void properties(void)
{
    enum { R = 24, C = 40, N = R * C };
    static float G[N], Gt[N], O1[N], O2[N], Ot[N];
    int kind, i, j, t0 = muon_threads(), same, zero;
    test_fill_random(G, N, 31);
    muon_transpose(G, Gt, R, C);
    for (kind = 0; kind <= MUON_ORTH_SVD; kind++) {
        const char *name = muon_orth_name((muon_orth_kind)kind);
        if (run((muon_orth_kind)kind, 0, R, C, G, O1)) continue;
        /* tall input: iterated on its transpose, so exactly the transposed answer */
        if (run((muon_orth_kind)kind, 0, C, R, Gt, Ot)) continue;
        same = 1;
        for (i = 0; i < R; i++)
            for (j = 0; j < C; j++) if (O1[i * C + j] != Ot[j * R + i]) same = 0;
        check(same, "%s: orth(G^T) = orth(G)^T bit for bit (40x24 vs 24x40)", name);
        /* G and O may alias */
        memcpy(O2, G, sizeof G);
        if (!run((muon_orth_kind)kind, 0, R, C, O2, O2))
            check(!memcmp(O1, O2, sizeof O1), "%s: in place (O == G) gives the same bits", name);
        memcpy(O2, Gt, sizeof Gt);
        if (!run((muon_orth_kind)kind, 0, C, R, O2, O2))
            check(!memcmp(Ot, O2, sizeof Ot), "%s: in place on the tall 40x24 gives the same bits", name);
        /* thread count must not change a bit */
        muon_set_threads(1);
        run((muon_orth_kind)kind, 0, R, C, G, O1);
        muon_set_threads(2);
        run((muon_orth_kind)kind, 0, R, C, G, O2);
        muon_set_threads(t0);
        check(!memcmp(O1, O2, sizeof O1), "%s: identical with 1 and 2 threads", name);
        /* zero in, zero out (p(0) = 0; the oracle drops zero directions) */
        memset(O2, 0, sizeof O2);
        memset(O1, 0x7f, sizeof O1);
        if (!run((muon_orth_kind)kind, 0, R, C, O2, O1)) {
            zero = 1;
            for (i = 0; i < N; i++) if (O1[i] != 0.0f) zero = 0;
            check(zero, "%s: zero matrix gives zero", name);
        }
        /* 1 x n and n x 1: one singular value, so the scalar iteration */
        if (!run((muon_orth_kind)kind, 0, 1, C, G, O1) && !run((muon_orth_kind)kind, 0, C, 1, G, O2)) {
            double nrm = muon_norm2(G, C), want = scalar_run((muon_orth_kind)kind, nrm);
            double e = 0.0;
            for (j = 0; j < C; j++) {
                double d = O1[j] - want * G[j] / nrm;
                e += d * d;
            }
            e = sqrt(e);
            /* measured 3.8e-7 (7.5e-7 with float32-accumulating GEMMs) for polar
             * express, whose steep first steps amplify rounding most */
            check(e <= 2e-6 && !memcmp(O1, O2, sizeof(float) * C),
                  "%s 1x40 and 40x1: ||O - p(sigma) g/||g|| ||_F = %.2e (<= 2e-6), p(sigma) = %.6f", name, e, want);
        }
    }
    /* newton-schulz: steps 0 means 5 */
    run(MUON_ORTH_NEWTON_SCHULZ, 0, R, C, G, O1);
    run(MUON_ORTH_NEWTON_SCHULZ, 5, R, C, G, O2);
    check(!memcmp(O1, O2, sizeof O1), "newton-schulz: steps 0 is steps 5");
}

static void names_and_errors(void)
{
    static const char *names[] = {"polar-express", "keller", "newton-schulz", "svd"};
    float G[6] = {1, 2, 3, 4, 5, 6}, O[6];
    muon_orth_kind k;
    int i, st, nomem = 1;
    for (i = 0; i < 4; i++) {
        st = muon_orth_parse(names[i], &k);
        check(st == MUON_OK && (int)k == i && !strcmp(muon_orth_name(k), names[i]),
              "parse/name round trip: %s", names[i]);
    }
    st = muon_orth_parse("polar", &k);
    check(st == MUON_ERR_ARG && strstr(muon_last_error(), "'polar'") && strstr(muon_last_error(), "polar-express")
          && strstr(muon_last_error(), "keller") && strstr(muon_last_error(), "newton-schulz")
          && strstr(muon_last_error(), "svd"),
          "unknown name: MUON_ERR_ARG naming it and the valid ones (%s)", muon_last_error());
    check(muon_orthogonalize(MUON_ORTH_KELLER, 0, 0, 3, G, O) == MUON_ERR_ARG, "rows = 0: MUON_ERR_ARG (%s)", muon_last_error());
    check(muon_orthogonalize(MUON_ORTH_KELLER, 0, 2, -3, G, O) == MUON_ERR_ARG, "cols = -3: MUON_ERR_ARG");
    check(muon_orthogonalize(MUON_ORTH_NEWTON_SCHULZ, -1, 2, 3, G, O) == MUON_ERR_ARG, "steps = -1: MUON_ERR_ARG (%s)", muon_last_error());
    check(muon_orthogonalize(MUON_ORTH_KELLER, 0, 2, 3, NULL, O) == MUON_ERR_ARG, "G = NULL: MUON_ERR_ARG");
    check(muon_orthogonalize((muon_orth_kind)9, 0, 2, 3, G, O) == MUON_ERR_ARG, "unknown kind 9: MUON_ERR_ARG (%s)", muon_last_error());
    for (k = 0; k <= MUON_ORTH_SVD; k++) {
        for (i = 1; i <= 20; i++) {
            muon_alloc_fail_after(i);
            st = muon_orthogonalize(k, 0, 3, 2, G, O);
            muon_alloc_fail_after(0);
            if (st == MUON_OK) break;
            if (st != MUON_ERR_NOMEM) nomem = 0;
        }
        check(nomem && i > 1 && i <= 20, "%s: allocation failures 1..%d give MUON_ERR_NOMEM, then ok",
              muon_orth_name(k), i - 1);
    }
}

void suite_orth(void)
{
    muon_st_file f;
    size_t i;
    if (!golden_open("orth.safetensors", &f)) {
        for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) golden_input(&f, &inputs[i]);
        muon_st_free(&f);
    }
    properties();
    names_and_errors();
}
