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
#include "linalg/gemm_internal.h"

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

static void golden_input(const muon_safetensors *f, const orth_input *in)
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

/* Polar Express's five (a, b, c) triples: this file's own copy of the table in
 * docs/orthogonalizers.md, so the tests do not trust the table they are testing. */
static const double polar_express[5][3] = {
    {8.156554524902461, -22.48329292557795, 15.878769915207462},
    {4.042929935166739, -2.808917465908714, 0.5000178451051316},
    {3.8916678022926607, -2.772484153217685, 0.5060648178503393},
    {3.285753657755655, -2.3681294933425376, 0.46449024233003106},
    {2.3465413258596377, -1.7097828382687081, 0.42323551169305323}};

/* The scalar reference for a 1 x n input: its one singular value sigma goes
 * through the normalisation and the quintic p(x) = a x + b x^3 + c x^5 step by
 * step, in double; the output is the row over its norm times the final value.
 * The triples are the copy above (docs/orthogonalizers.md). */
static double scalar_run(muon_orth_kind kind, double sigma)
{
    static const double ke[3] = {3.4445, -4.7750, 2.0315}, ns[3] = {1.875, -1.25, 0.375};
    double x = sigma / ((kind == MUON_ORTH_POLAR_EXPRESS ? 1.01 : 1.0) * sigma + 1e-7);
    int s;
    if (kind == MUON_ORTH_SVD) return 1.0;
    for (s = 0; s < 5; s++) {
        const double *t = kind == MUON_ORTH_POLAR_EXPRESS ? polar_express[s] : kind == MUON_ORTH_KELLER ? ke : ns;
        x = t[0] * x + t[1] * x * x * x + t[2] * x * x * x * x * x;
    }
    return x;
}

/* bf16 rounding: expected values from PyTorch 1.13, x.float().bfloat16() */
static void bf16_round(void)
{
    static const struct { float x, want; } cases[] = {
        {1.0f, 1.0f},
        {1.00390625f, 1.0f},            /* a tie: to the even neighbour, down */
        {1.01171875f, 1.015625f},       /* a tie: to the even neighbour, up */
        {3.4445f, 3.4375f}, {-3.4445f, -3.4375f}, {1.01f, 1.0078125f},
        {3.4028234e38f, INFINITY},      /* FLT_MAX rounds up into Inf */
        {1e-7f, 1.0011717677116394e-07f},
    };
    size_t i;
    int ok = 1;
    float y;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (muon_bf16_round(cases[i].x) != cases[i].want) {
            ok = 0;
            check(0, "bf16 round %.9g: got %.9g want %.9g", cases[i].x, muon_bf16_round(cases[i].x), cases[i].want);
        }
    check(ok, "bf16 rounding of %d values matches PyTorch (ties to even, overflow to Inf)", (int)i);
    y = muon_bf16_round(NAN);
    check(y != y && muon_bf16_round(INFINITY) == INFINITY && muon_bf16_round(-0.0f) == 0.0f,
          "bf16 rounding keeps NaN, Inf and zero");
}

/* The bf16 emulation against PyTorch 1.13's own bfloat16 run on CPU. */
static void golden_bf16(const muon_safetensors *f, const orth_input *in)
{
    static const struct { const char *key; muon_orth_kind kind; } ms[] = {
        {"polar_express", MUON_ORTH_POLAR_EXPRESS}, {"keller", MUON_ORTH_KELLER},
        {"newton_schulz", MUON_ORTH_NEWTON_SCHULZ}};
    size_t n = (size_t)in->rows * in->cols, i, k, same;
    char key[96];
    const float *G, *ref, *ref64;
    float *O = malloc(sizeof(float) * n);
    sprintf(key, "%s.G", in->name); G = golden_get(f, key, n);
    if (!G || !O) { free(O); return; }
    for (k = 0; k < 3; k++) {
        double md = 0.0;
        int st, repr = 1;
        sprintf(key, "%s.%s.bf16", in->name, ms[k].key); ref = golden_get(f, key, n);
        sprintf(key, "%s.%s", in->name, ms[k].key); ref64 = golden_get(f, key, n);
        if (!ref || !ref64) continue;
        /* PyTorch 1.13 semantics: every value must agree to the bit (the
         * matmul sums are correctly rounded, so only a rounding tie decided
         * differently by another summation order could move one) */
        st = muon_orthogonalize_flags(ms[k].kind, 0, in->rows, in->cols, G, O, MUON_ORTH_BF16_TORCH1);
        for (i = 0, same = 0; i < n; i++) same += O[i] == ref[i];
        check(st == MUON_OK && same == n, "%s %s bf16 (torch 1.13 mode) vs PyTorch bf16: %lu of %lu bit-identical",
              in->name, ms[k].key, (unsigned long)same, (unsigned long)n);
        /* PyTorch 2 semantics (float32 scalars): no PyTorch 2 here to compare
         * with, so: every value a bf16 number, and as close to the float64 run
         * as the torch 1.13 bf16 run is (bf16's 8 bits: ~0.4% per op) */
        st = muon_orthogonalize_flags(ms[k].kind, 0, in->rows, in->cols, G, O, MUON_ORTH_BF16);
        for (i = 0; i < n; i++) {
            double d = fabs((double)O[i] - ref64[i]);
            if (d > md) md = d;
            if (muon_bf16_round(O[i]) != O[i]) repr = 0;
        }
        {
            double mt = 0.0;
            for (i = 0; i < n; i++) if (fabs((double)ref[i] - ref64[i]) > mt) mt = fabs((double)ref[i] - ref64[i]);
            check(st == MUON_OK && repr && md <= 1.5 * mt + 4e-3,
                  "%s %s bf16 (torch 2 mode): all bf16 values, max |O - float64 run| %.4f (torch 1.13 bf16: %.4f; <= 1.5x + 4e-3)",
                  in->name, ms[k].key, md, mt);
        }
    }
    free(O);
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
    int kind, i, j, same, zero;
    test_fill_random(G, N, 31);
    muon_transpose(G, Gt, R, C);
    for (kind = 0; kind <= MUON_ORTH_SVD; kind++) {
        const char *name = muon_orth_name((muon_orth_kind)kind);
        if (run((muon_orth_kind)kind, 0, R, C, G, O1)) continue;
        /* tall input: the GEMMs read it as its transpose, so exactly the transposed answer */
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
        if (threads_begin(name)) {
            muon_set_threads(1);
            run((muon_orth_kind)kind, 0, R, C, G, O1);
            muon_set_threads(2);
            run((muon_orth_kind)kind, 0, R, C, G, O2);
            threads_end();
            check(!memcmp(O1, O2, sizeof O1), "%s: identical with 1 and 2 threads", name);
        }
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

/* orth(G^T) = orth(G)^T bit for bit where the tall layout meets several
 * symmetric 64-row blocks and more than one GEMM k block (130 x 300), and
 * where it falls back to a transpose (65: a one-row last block). */
static void tall_layouts(void)
{
    static const int shapes[][2] = {{130, 300}, {65, 100}, {128, 512}};
    int s, i, j, same;
    for (s = 0; s < 3; s++) {
        const int R = shapes[s][0], C = shapes[s][1];
        const size_t n = (size_t)R * C;
        float *G = malloc(sizeof(float) * n), *Gt = malloc(sizeof(float) * n);
        float *O = malloc(sizeof(float) * n), *Ot = malloc(sizeof(float) * n);
        if (!G || !Gt || !O || !Ot) { check(0, "tall layouts: test allocation"); goto next; }
        test_fill_random(G, n, 77 + s);
        muon_transpose(G, Gt, R, C);
        if (run(MUON_ORTH_POLAR_EXPRESS, 0, R, C, G, O) || run(MUON_ORTH_POLAR_EXPRESS, 0, C, R, Gt, Ot)) goto next;
        same = 1;
        for (i = 0; i < R; i++)
            for (j = 0; j < C; j++) if (O[(size_t)i * C + j] != Ot[(size_t)j * R + i]) same = 0;
        check(same, "polar-express: orth(G^T) = orth(G)^T bit for bit (%dx%d vs %dx%d)", C, R, R, C);
    next:
        free(G); free(Gt); free(O); free(Ot);
    }
}

/* The slow, obvious version of the polynomial iteration (full naive GEMMs,
 * no symmetry, no transposition trick), for shapes with several 64-row
 * blocks, where the symmetric block path of linalg/orth.c does real work. */
static void reference_iterate(int rows, int cols, const float *G, float *O,
                              const double (*t)[3], int steps, double safety)
{
    int tall = rows > cols, r = tall ? cols : rows, c = tall ? rows : cols, s;
    size_t n = (size_t)r * c, i;
    float *X = malloc(sizeof(float) * n), *Y = malloc(sizeof(float) * n);
    float *A = malloc(sizeof(float) * r * r), *AA = malloc(sizeof(float) * r * r);
    double nrm;
    if (!X || !Y || !A || !AA) { check(0, "reference: test allocation"); goto done; }
    if (tall) muon_transpose(G, X, rows, cols); else memcpy(X, G, sizeof(float) * n);
    nrm = muon_norm2(X, n);
    for (i = 0; i < n; i++) X[i] = (float)(X[i] / (safety * nrm + 1e-7));
    for (s = 0; s < steps; s++) {
        muon_gemm_naive(MUON_NOTRANS, MUON_TRANS, r, r, c, 1.0f, X, c, X, c, 0.0f, A, r);
        muon_gemm_naive(MUON_NOTRANS, MUON_NOTRANS, r, r, r, 1.0f, A, r, A, r, 0.0f, AA, r);
        for (i = 0; i < (size_t)r * r; i++) AA[i] = (float)(t[s][1] * A[i] + t[s][2] * AA[i]);
        muon_gemm_naive(MUON_NOTRANS, MUON_NOTRANS, r, c, r, 1.0f, AA, r, X, c, 0.0f, Y, c);
        for (i = 0; i < n; i++) X[i] = (float)(t[s][0] * X[i] + Y[i]);
    }
    if (tall) muon_transpose(X, O, r, c); else memcpy(O, X, sizeof(float) * n);
done:
    free(X); free(Y); free(A); free(AA);
}

static void vs_reference(void)
{
    static const double ke[5][3] = {{3.4445, -4.7750, 2.0315}, {3.4445, -4.7750, 2.0315},
        {3.4445, -4.7750, 2.0315}, {3.4445, -4.7750, 2.0315}, {3.4445, -4.7750, 2.0315}};
    enum { R = 150, C = 200, N = R * C };
    float *G = malloc(sizeof(float) * N), *O = malloc(sizeof(float) * N), *W = malloc(sizeof(float) * N);
    if (!G || !O || !W) { check(0, "vs_reference: test allocation"); goto done; }
    test_fill_random(G, N, 41);
    /* same float32 math in another order: the difference is rounding,
     * amplified like the float64 comparison above (measured 6e-7 and 1.5e-7;
     * the bounds leave room for a float32-accumulating GEMM, ~3x worse) */
    reference_iterate(R, C, G, W, polar_express, 5, 1.01);
    if (!run(MUON_ORTH_POLAR_EXPRESS, 0, R, C, G, O))
        check_close("polar-express 150x200 vs the naive reference iteration", O, W, N, 0.0, 5e-6);
    if (threads_begin("polar-express 150x200")) {
        muon_set_threads(1);
        run(MUON_ORTH_POLAR_EXPRESS, 0, R, C, G, W);
        muon_set_threads(2);
        run(MUON_ORTH_POLAR_EXPRESS, 0, R, C, G, O);
        threads_end();
        check(!memcmp(O, W, sizeof(float) * N), "polar-express 150x200: identical with 1 and 2 threads");
    }
    reference_iterate(C, R, G, W, ke, 5, 1.0);
    if (!run(MUON_ORTH_KELLER, 0, C, R, G, O))
        check_close("keller 200x150 vs the naive reference iteration", O, W, N, 0.0, 2e-6);
done:
    free(G); free(O); free(W);
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
    check(muon_orthogonalize_flags(MUON_ORTH_KELLER, 0, 2, 3, G, O, 16u) == MUON_ERR_ARG, "unknown flag 16: MUON_ERR_ARG (%s)", muon_last_error());
    G[4] = NAN;
    for (k = 0; k <= MUON_ORTH_SVD; k++)
        check(muon_orthogonalize(k, 0, 2, 3, G, O) == MUON_ERR_NUMERIC, "%s: NaN in G gives MUON_ERR_NUMERIC (%s)",
              muon_orth_name(k), muon_last_error());
    G[4] = 5;
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
    muon_safetensors f;
    size_t i;
    if (!golden_open("orth.safetensors", &f)) {
        for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) golden_input(&f, &inputs[i]);
        for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) golden_bf16(&f, &inputs[i]);
        muon_safetensors_free(&f);
    }
    bf16_round();
    properties();
    tall_layouts();
    vs_reference();
    names_and_errors();
}
