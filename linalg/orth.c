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

/* Symmetric products by block rows: only the blocks on and right of the
 * diagonal go through the GEMM (with 64-row blocks, 56% of the flops for
 * r = 512), and the lower triangle is mirrored, so the result is also exactly
 * symmetric, which a full GEMM need not be. */
#define ORTH_SYM_BLOCK 64

static void mirror_upper(int r, float *A)
{
    int i, j;
    for (i = 1; i < r; i++)
        for (j = 0; j < i; j++) A[(size_t)i * r + j] = A[(size_t)j * r + i];
}

/* A(r,r) = X X^T for X(r,c). */
static int gram(int r, int c, const float *X, float *A)
{
    int i0, st;
    for (i0 = 0; i0 < r; i0 += ORTH_SYM_BLOCK) {
        int ib = r - i0 < ORTH_SYM_BLOCK ? r - i0 : ORTH_SYM_BLOCK;
        st = muon_gemm(MUON_NOTRANS, MUON_TRANS, ib, r - i0, c, 1.0f, X + (size_t)i0 * c, c,
                       X + (size_t)i0 * c, c, 0.0f, A + (size_t)i0 * r + i0, r);
        if (st) return st;
    }
    mirror_upper(r, A);
    return MUON_OK;
}

/* B(r,r) = b A + c A A for symmetric A(r,r) (A A is symmetric too). */
static int poly_sym(int r, float b, float c, const float *A, float *B)
{
    int i0, i, j, st;
    for (i0 = 0; i0 < r; i0 += ORTH_SYM_BLOCK) {
        int ib = r - i0 < ORTH_SYM_BLOCK ? r - i0 : ORTH_SYM_BLOCK;
        st = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, ib, r - i0, r, c, A + (size_t)i0 * r, r,
                       A + i0, r, 0.0f, B + (size_t)i0 * r + i0, r);
        if (st) return st;
    }
    for (i = 0; i < r; i++)
        for (j = i; j < r; j++) B[(size_t)i * r + j] += b * A[(size_t)i * r + j];
    mirror_upper(r, B);
    return MUON_OK;
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
        /* A = X X^T, B = b A + c A A, Y = a X + B X */
        if ((st = gram(r, c, X, A))) return st;
        if ((st = poly_sym(r, b, cc, A, B))) return st;
        memcpy(Y, X, n * sizeof *Y);
        if ((st = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, r, c, r, 1.0f, B, r, X, c, a, Y, c))) return st;
        tmp = X; X = Y; Y = tmp;
    }
    /* after an odd number of swaps the result sits in the caller's Y: move it
     * back so the caller always finds it in its X */
    if (steps % 2) memcpy(Y, X, n * sizeof *X);
    return MUON_OK;
}

/* The same iteration as a bfloat16 PyTorch backend computes it, written as
 * modded-nanogpt's Python reads:
 *     X = G.bfloat16(); X = X / (X.norm() * safety + 1e-7)
 *     A = X @ X.mT; B = b * A + c * A @ A; X = a * X + B @ X
 * (where Python's left-to-right rule makes c * A @ A mean (c * A) @ A).
 * Every tensor op rounds its float32 result to bf16 (PyTorch's CPU and CUDA
 * bf16 kernels compute in float32 and round once per op). The Python scalars
 * (a, b, c, safety, 1e-7) enter as float32 (PyTorch 2's kernels), or, with
 * torch1, are first rounded to bf16 (PyTorch 1.13 on CPU converts a scalar
 * to the tensor's dtype: 3.4445 * X computes 3.4375 * X), and then the norm
 * also rounds its sum of squares to bf16 before the square root, as 1.13's
 * norm(dim=(-2,-1)) does (measured: 997.13 -> 996 -> 31.5, not 31.625).
 * The matmuls see bf16 inputs, whose products are exact in float32; they use
 * the reference GEMM, whose double sum rounded once to float32 is the
 * correctly rounded sum that an accurate float32 accumulation nearly always
 * gives, and which, unlike the blocked GEMM, depends on no summation order.
 * A backend's own order can still move a sum across a bf16 rounding boundary
 * now and then. Slow (naive GEMM): this mode checks backends, it does not
 * train. */
typedef int (*gemm_fn)(muon_op, muon_op, int, int, int, float, const float *, int,
                       const float *, int, float, float *, int);

static int orth_iterate_bf16(int r, int c, float *X, float *Y, float *A, float *B,
                             const orth_triple *t, int steps, double safety, int torch1, int blocked)
{
    gemm_fn gemm = blocked ? muon_gemm : muon_gemm_naive;
    size_t n = (size_t)r * c, rr = (size_t)r * r, i;
    float *T = B + rr;                                      /* B has room for two */
    float den, sf = (float)safety, eps = 1e-7f;
    int s, st;
    if (torch1) { sf = muon_bf16_round(sf); eps = muon_bf16_round(eps); }
    muon_bf16_round_array(X, n);
    if (torch1)   /* PyTorch 1.13's bf16 norm(dim=(-2,-1)) rounds the sum of squares too */
        den = muon_bf16_round(sqrtf(muon_bf16_round((float)muon_dot(X, X, n))));
    else          /* a correctly rounded norm */
        den = muon_bf16_round((float)muon_norm2(X, n));
    if (safety != 1.0) den = muon_bf16_round(den * sf);
    den = muon_bf16_round(den + eps);
    for (i = 0; i < n; i++) X[i] = muon_bf16_round(X[i] / den);
    for (s = 0; s < steps; s++) {
        float a = (float)t[s].a, b = (float)t[s].b, cc = (float)t[s].c;
        float *tmp;
        if (torch1) { a = muon_bf16_round(a); b = muon_bf16_round(b); cc = muon_bf16_round(cc); }
        if ((st = gemm(MUON_NOTRANS, MUON_TRANS, r, r, c, 1.0f, X, c, X, c, 0.0f, A, r))) return st;
        muon_bf16_round_array(A, rr);
        /* Python reads c * A @ A as (c * A) @ A: the scaled copy is rounded first */
        for (i = 0; i < rr; i++) T[i] = muon_bf16_round(cc * A[i]);
        if ((st = gemm(MUON_NOTRANS, MUON_NOTRANS, r, r, r, 1.0f, T, r, A, r, 0.0f, B, r))) return st;
        for (i = 0; i < rr; i++)
            B[i] = muon_bf16_round(muon_bf16_round(b * A[i]) + muon_bf16_round(B[i]));
        if ((st = gemm(MUON_NOTRANS, MUON_NOTRANS, r, c, r, 1.0f, B, r, X, c, 0.0f, Y, c))) return st;
        for (i = 0; i < n; i++)
            Y[i] = muon_bf16_round(muon_bf16_round(a * X[i]) + muon_bf16_round(Y[i]));
        tmp = X; X = Y; Y = tmp;
    }
    if (steps % 2) memcpy(Y, X, n * sizeof *X);
    return MUON_OK;
}

int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols,
                       const float *G, float *O)
{
    return muon_orthogonalize_ex(kind, steps, rows, cols, G, O, 0u);
}

int muon_orthogonalize_ex(muon_orth_kind kind, int steps, int rows, int cols,
                          const float *G, float *O, unsigned flags)
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
    if (!muon_all_finite(G, (size_t)rows * cols))
        return muon_error(MUON_ERR_NUMERIC, "orthogonalize: the %dx%d matrix contains NaN or Inf", rows, cols);
    if (flags & ~(MUON_ORTH_BF16 | MUON_ORTH_BF16_TORCH1 | MUON_ORTH_BF16_BLOCKED))
        return muon_error(MUON_ERR_ARG, "orthogonalize: unknown flags 0x%x", flags);
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
    B = muon_alloc((size_t)2 * r * r * sizeof *B);         /* the bf16 path uses a second r x r */
    if (!X || !Y || !A || !B) {
        st = muon_error(MUON_ERR_NOMEM, "orthogonalize: out of memory for a %dx%d matrix", rows, cols);
        goto done;
    }
    /* copy first: G and O may alias */
    if (rows <= cols) memcpy(X, G, (size_t)r * c * sizeof *X);
    else muon_transpose(G, X, rows, cols);
    if (flags & (MUON_ORTH_BF16 | MUON_ORTH_BF16_TORCH1))
        st = orth_iterate_bf16(r, c, X, Y, A, B, t, n_steps, safety, (flags & MUON_ORTH_BF16_TORCH1) != 0,
                               (flags & MUON_ORTH_BF16_BLOCKED) != 0);
    else
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
