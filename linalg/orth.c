/* Muon's orthogonalisers: approximations of the polar factor U V^T of G.
 *
 * The polynomial methods iterate X <- a X + (b A + c A^2) X with A = X X^T,
 * an odd quintic p(x) = a x + b x^3 + c x^5 applied to every singular value
 * of X at once (the singular vectors are untouched). They differ only in the
 * table of (a, b, c) triples and the initial scaling, so one loop serves all:
 *   - polar-express (Amsel, Chen, Goldstein, Dvorak, Lipschutz 2025, as used in
 *     modded-nanogpt): five per-step minimax triples with a safety factor,
 *     scaling 1/(1.01 ||X||_F + 1e-7) so every sigma starts at or below 1/1.01;
 *   - keller (Keller Jordan's Muon): one aggressive triple, 5 steps; it pushes
 *     sigma into roughly [0.7, 1.2] rather than onto 1, which Muon tolerates;
 *   - newton-schulz: the classical quintic (15x - 10x^3 + 3x^5)/8, whose
 *     p(1) = 1, p'(1) = p''(1) = 0 make sigma converge to exactly 1, fast near
 *     1 but only by a factor 1.875 per step for small sigma;
 *   - svd: the exact U V^T from muon_svd, the oracle the others approximate.
 * The Frobenius norm bounds sigma_1, so after scaling sigma_1 <= 1 and all the
 * polynomials act on [0, 1] where they were designed.
 *
 * Always iterating on the wide orientation (rows <= cols) makes A = X X^T the
 * small (rows x rows) Gram matrix: 2 r^2 c + 2 r^3 + 2 r^2 c flops per step.
 *
 * Workspace (two copies of X and two r x r matrices) is allocated per call
 * with muon_alloc: the Muon step calls this once per matrix per step, and an
 * allocation is negligible beside 3 GEMMs. Precision is float32 like the
 * GEMMs; the norm is accumulated in double. */
#include "muon.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct { double a, b, c; } orth_triple;

/* SPEC section 4: modded-nanogpt's Polar Express coefficients, safety factor
 * folded in. Digits copied exactly. */
static const orth_triple polar_express[] = {
    {8.156554524902461, -22.48329292557795, 15.878769915207462},
    {4.042929935166739, -2.808917465908714, 0.5000178451051316},
    {3.8916678022926607, -2.772484153217685, 0.5060648178503393},
    {3.285753657755655, -2.3681294933425376, 0.46449024233003106},
    {2.3465413258596377, -1.7097828382687081, 0.42323551169305323},
};
static const orth_triple keller = {3.4445, -4.7750, 2.0315};
static const orth_triple newton_schulz = {1.875, -1.25, 0.375};

static const char *const orth_names[] = {"polar-express", "keller", "newton-schulz", "svd"};

const char *muon_orth_name(muon_orth_kind k)
{
    if ((int)k < 0 || (int)k > MUON_ORTH_SVD) return "unknown";
    return orth_names[k];
}

int muon_orth_parse(const char *name, muon_orth_kind *k)
{
    int i;
    for (i = 0; i <= MUON_ORTH_SVD; i++)
        if (name && !strcmp(name, orth_names[i])) { *k = (muon_orth_kind)i; return MUON_OK; }
    return muon_error(MUON_ERR_ARG, "unknown orthogonaliser '%s' (valid: polar-express, keller, newton-schulz, svd)",
                      name ? name : "(null)");
}

/* O(rows,cols) = U V^T over the numerically nonzero singular values:
 * sigma_k > sigma_1 * max(rows,cols) * FLT_EPSILON (numpy.linalg.matrix_rank's
 * rule). Zero directions map to zero, as p(0) = 0 does for every polynomial
 * method, instead of to an arbitrary completion; G = 0 gives O = 0. */
static int orth_svd(int rows, int cols, const float *G, float *O)
{
    int r = rows < cols ? rows : cols, k, rank, i, st;
    float *S = muon_alloc((size_t)r * sizeof *S);
    float *U = muon_alloc((size_t)rows * r * sizeof *U);
    float *V = muon_alloc((size_t)cols * r * sizeof *V);
    double cut;
    if (!S || !U || !V) { st = MUON_ERR_NOMEM; goto done; }
    st = muon_svd(rows, cols, G, S, U, V, NULL);
    if (st) goto done;
    cut = (double)S[0] * (rows > cols ? rows : cols) * FLT_EPSILON;
    for (rank = 0; rank < r && S[rank] > cut; rank++) {}
    if (rank < r) /* drop the zero directions from U */
        for (i = 0; i < rows; i++)
            for (k = rank; k < r; k++) U[(size_t)i * r + k] = 0.0f;
    st = muon_gemm(MUON_NOTRANS, MUON_TRANS, rows, cols, r, 1.0f, U, r, V, r, 0.0f, O, cols);
done:
    muon_free(S); muon_free(U); muon_free(V);
    if (st == MUON_ERR_NOMEM)
        return muon_error(MUON_ERR_NOMEM, "orthogonalize: out of memory for a %dx%d matrix", rows, cols);
    return st;
}

/* The polynomial iteration on X(r,c), r <= c, in place (Y, A, B workspace). */
static int orth_iterate(int r, int c, float *X, float *Y, float *A, float *B,
                        const orth_triple *t, int steps, double safety)
{
    size_t n = (size_t)r * c;
    double nrm = muon_norm2(X, n);
    int s, st;
    muon_scale((float)(1.0 / (safety * nrm + 1e-7)), X, n);
    for (s = 0; s < steps; s++) {
        float a = (float)t[s].a, b = (float)t[s].b, cc = (float)t[s].c;
        float *tmp;
        size_t i;
        /* A = X X^T, B = b A + c A A, Y = a X + B X */
        if ((st = muon_gemm(MUON_NOTRANS, MUON_TRANS, r, r, c, 1.0f, X, c, X, c, 0.0f, A, r))) return st;
        if ((st = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, r, r, r, cc, A, r, A, r, 0.0f, B, r))) return st;
#pragma omp simd
        for (i = 0; i < (size_t)r * r; i++) B[i] += b * A[i];
        memcpy(Y, X, n * sizeof *Y);
        if ((st = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, r, c, r, 1.0f, B, r, X, c, a, Y, c))) return st;
        tmp = X; X = Y; Y = tmp;
    }
    /* after an odd number of swaps the result sits in the caller's Y: move it
     * back so the caller always finds it in its X */
    if (steps % 2) memcpy(Y, X, n * sizeof *X);
    return MUON_OK;
}

int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols,
                       const float *G, float *O)
{
    orth_triple table[64];
    const orth_triple *t;
    double safety = 1.0;
    int r, c, n_steps, i, st;
    float *X = NULL, *Y = NULL, *A = NULL, *B = NULL;

    if (rows < 1 || cols < 1)
        return muon_error(MUON_ERR_ARG, "orthogonalize: matrix must be at least 1x1, got %dx%d", rows, cols);
    if (!G || !O)
        return muon_error(MUON_ERR_ARG, "orthogonalize: G and O must not be NULL");
    if (steps < 0 || steps > 64)
        return muon_error(MUON_ERR_ARG, "orthogonalize: steps must be 0 (default 5) to 64, got %d", steps);
    switch (kind) {
    case MUON_ORTH_POLAR_EXPRESS:
        t = polar_express; n_steps = 5; safety = 1.01; break;
    case MUON_ORTH_KELLER:
        for (i = 0; i < 5; i++) table[i] = keller;
        t = table; n_steps = 5; break;
    case MUON_ORTH_NEWTON_SCHULZ:
        n_steps = steps ? steps : 5;
        for (i = 0; i < n_steps; i++) table[i] = newton_schulz;
        t = table; break;
    case MUON_ORTH_SVD:
        return orth_svd(rows, cols, G, O);
    default:
        return muon_error(MUON_ERR_ARG, "orthogonalize: unknown method %d", (int)kind);
    }

    r = rows <= cols ? rows : cols;
    c = rows <= cols ? cols : rows;
    X = muon_alloc((size_t)r * c * sizeof *X);
    Y = muon_alloc((size_t)r * c * sizeof *Y);
    A = muon_alloc((size_t)r * r * sizeof *A);
    B = muon_alloc((size_t)r * r * sizeof *B);
    if (!X || !Y || !A || !B) {
        st = muon_error(MUON_ERR_NOMEM, "orthogonalize: out of memory for a %dx%d matrix", rows, cols);
        goto done;
    }
    /* copy first: G and O may alias */
    if (rows <= cols) memcpy(X, G, (size_t)r * c * sizeof *X);
    else muon_transpose(G, X, rows, cols);
    st = orth_iterate(r, c, X, Y, A, B, t, n_steps, safety);
    if (st) goto done;
    {
        if (rows <= cols) memcpy(O, X, (size_t)r * c * sizeof *O);
        else muon_transpose(X, O, r, c);
    }
done:
    muon_free(X); muon_free(Y); muon_free(A); muon_free(B);
    return st;
}
