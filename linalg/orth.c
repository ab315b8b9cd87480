/* Muon's orthogonalisers: approximations of the polar factor U V^T of G.
 *
 * The polynomial methods iterate X <- a X + (b A + c A^2) X with A = X X^T,
 * an odd quintic p(x) = a x + b x^3 + c x^5 applied to every singular value
 * of X at once (the singular vectors are untouched). They differ only in the
 * table of (a, b, c) triples and the initial scaling, so one loop serves all:
 *   - polar-express (Amsel, Persson, Musco, Gower 2025, arXiv 2505.16932):
 *     modded-nanogpt's five per-step minimax triples (safety factor folded
 *     in) with the research code's scaling 1/(1.01 ||X||_F + 1e-7), so every
 *     sigma starts at or below 1/1.01; polar-express-nanogpt is the same
 *     table with modded-nanogpt's own scaling 1/(1.02 ||X||_F + 1e-6)
 *     (both sources pinned below);
 *   - keller (Keller Jordan's Muon): one aggressive triple, 5 steps; it pushes
 *     sigma into roughly [0.7, 1.2] rather than onto 1, which Muon tolerates;
 *   - newton-schulz: the classical quintic (15x - 10x^3 + 3x^5)/8, whose
 *     p(1) = 1, p'(1) = p''(1) = 0 make sigma converge to exactly 1, fast near
 *     1 but only by a factor 1.875 per step for small sigma;
 *   - svd: the exact U V^T from muon_svd, the oracle the others approximate.
 * The Frobenius norm bounds sigma_1, so after scaling sigma_1 <= 1 and all the
 * polynomials act on [0, 1] where they were designed.
 *
 * Always iterating on the wide orientation (r = min(rows, cols) rows, c
 * columns) makes A = X X^T the small (r x r) Gram matrix: 2 r^2 c + 2 r^3 +
 * 2 r^2 c flops per step. A tall G is not transposed for it: the GEMMs read
 * it as X^T through their op flags (orth_iterate).
 *
 * Workspace (two copies of X and three r x r matrices) comes from a
 * muon_workspace: the Muon step reserves one per thread at start-up, so the
 * step allocates nothing; muon_orthogonalize makes a temporary one. Precision
 * is float32 like the GEMMs; the norm is accumulated in double.
 * docs/orthogonalizers.md derives each method. */
#include "linalg/linalg.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct { double a, b, c; } orth_triple;

/* docs/orthogonalizers.md#polar-express: modded-nanogpt's Polar Express coefficients, safety factor
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

static const char *const orth_names[] = {"polar-express", "keller", "newton-schulz", "svd",
                                         "polar-express-nanogpt"};

/* Two normalisations of the same Polar Express table, X <- X/(safety ||X||_F + eps):
 *   polar-express: the research code's (vukrosic/muon-llm-research @ 8bcc1aef07d8,
 *     optimizers/muon.py: "X.norm(...) * 1.01 + 1e-7"), safety 1.01, eps 1e-7;
 *   polar-express-nanogpt: modded-nanogpt's own (KellerJordan/modded-nanogpt
 *     @ f411b3d346aa, train_gpt.py polar_express, since 9350f4d30d54:
 *     "X.norm(...) * (1 + 2e-2) + 1e-6"), safety 1.02, eps 1e-6, the safety
 *     factor its coefficients were computed for ("safety_factor=2e-2").
 * docs/orthogonalizers.md#polar-express-modded-nanogpt. */
#define ORTH_NANOGPT_SAFETY 1.02
#define ORTH_NANOGPT_EPS 1e-6

const char *muon_orth_name(muon_orth_kind k) { return muon_name_of(orth_names, 5, (int)k); }

int muon_orth_parse(const char *name, muon_orth_kind *k)
{
    int v, st = muon_name_parse("orthogonaliser", orth_names, 5, name, &v);
    if (!st) *k = (muon_orth_kind)v;
    return st;
}

/* O(rows,cols) = U V^T over the numerically nonzero singular values:
 * sigma_k > sigma_1 * max(rows,cols) * FLT_EPSILON (numpy.linalg.matrix_rank's
 * rule). Zero directions map to zero, as p(0) = 0 does for every polynomial
 * method, instead of to an arbitrary completion; G = 0 gives O = 0. */
static size_t orth_svd_bytes(int rows, int cols)
{
    size_t r = (size_t)(rows < cols ? rows : cols);
    return muon_workspace_round(r * sizeof(float)) + muon_workspace_round((size_t)rows * r * sizeof(float)) +
           muon_workspace_round((size_t)cols * r * sizeof(float)) +
           muon_svd_workspace_bytes(rows, cols, 1, 1);
}

static int orth_svd(muon_workspace *ws, int rows, int cols, const float *G, float *O)
{
    int r = rows < cols ? rows : cols, k, rank, i, st;
    size_t used = 0;
    float *S, *U, *V;
    muon_workspace rest;
    double cut;
    if ((st = muon_workspace_reserve(ws, orth_svd_bytes(rows, cols)))) goto done;
    S = muon_workspace_take(ws, &used, (size_t)r * sizeof *S);
    U = muon_workspace_take(ws, &used, (size_t)rows * r * sizeof *U);
    V = muon_workspace_take(ws, &used, (size_t)cols * r * sizeof *V);
    /* the SVD's scratch is the rest of the block, already large enough */
    rest.buf = (char *)ws->buf + used;
    rest.cap = ws->cap - used;
    st = muon_svd_ws(&rest, rows, cols, G, S, U, V, NULL);
    if (st) goto done;
    cut = (double)S[0] * (rows > cols ? rows : cols) * FLT_EPSILON;
    for (rank = 0; rank < r && S[rank] > cut; rank++) {}
    if (rank < r) /* drop the zero directions from U */
        for (i = 0; i < rows; i++)
            for (k = rank; k < r; k++) U[(size_t)i * r + k] = 0.0f;
    st = muon_gemm(MUON_NOTRANS, MUON_TRANS, rows, cols, r, 1.0f, U, r, V, r, 0.0f, O, cols);
done:
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

/* A(r,r) = X X^T for X(r,c), stored as it is (tall 0) or as X^T, (c,r)
 * (tall 1). */
static int gram(int r, int c, const float *X, int tall, float *A)
{
    int i0, st;
    for (i0 = 0; i0 < r; i0 += ORTH_SYM_BLOCK) {
        int ib = r - i0 < ORTH_SYM_BLOCK ? r - i0 : ORTH_SYM_BLOCK;
        if (tall)
            st = muon_gemm(MUON_TRANS, MUON_NOTRANS, ib, r - i0, c, 1.0f, X + i0, r,
                           X + i0, r, 0.0f, A + (size_t)i0 * r + i0, r);
        else
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

/* ||X||_F summed as muon_norm2 sums X stored (r,c) row by row, for X stored
 * tall as X^T (c,r): column by column, so both orientations give one value. */
static double norm2_by_columns(const float *Xt, int c, int r)
{
    double s = 0.0;
    int i, j;
    for (i = 0; i < r; i++)
        for (j = 0; j < c; j++) s += (double)Xt[(size_t)j * r + i] * Xt[(size_t)j * r + i];
    return sqrt(s);
}

/* The polynomial iteration on X(r,c), r <= c, in place (Y, A, B workspace),
 * X stored (r,c), or with tall as X^T (c,r): the GEMMs read either layout
 * through their op flags and sum each element in the same order (the
 * determinism note of linalg/gemm.c), so the tall layout saves G's
 * transposes in and out and changes no bit. */
static int orth_iterate(int r, int c, float *X, float *Y, float *A, float *B, int tall,
                        const orth_triple *t, int steps, double safety, double eps)
{
    size_t n = (size_t)r * c;
    double nrm = tall ? norm2_by_columns(X, c, r) : muon_norm2(X, n);
    int s, st;
    muon_scale((float)(1.0 / (safety * nrm + eps)), X, n);
    for (s = 0; s < steps; s++) {
        float a = (float)t[s].a, b = (float)t[s].b, cc = (float)t[s].c;
        float *tmp;
        /* A = X X^T, B = b A + c A A, Y = a X + B X (tall: Y^T = a X^T + X^T B^T) */
        if ((st = gram(r, c, X, tall, A))) return st;
        if ((st = poly_sym(r, b, cc, A, B))) return st;
        memcpy(Y, X, n * sizeof *Y);
        if (tall)
            st = muon_gemm(MUON_NOTRANS, MUON_TRANS, c, r, r, 1.0f, X, r, B, r, a, Y, r);
        else
            st = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, r, c, r, 1.0f, B, r, X, c, a, Y, c);
        if (st) return st;
        tmp = X; X = Y; Y = tmp;
    }
    /* after an odd number of swaps the result sits in the caller's Y: move it
     * back so the caller always finds it in its X */
    if (steps % 2) memcpy(Y, X, n * sizeof *X);
    return MUON_OK;
}

/* The same iteration as a bfloat16 PyTorch backend computes it, written as
 * modded-nanogpt's Python reads:
 *     X = G.bfloat16(); X = X / (X.norm() * safety + eps)
 *     A = X @ X.mT; B = b * A + c * A @ A; X = a * X + B @ X
 * (where Python's left-to-right rule makes c * A @ A mean (c * A) @ A).
 * Every tensor op rounds its float32 result to bf16 (PyTorch's CPU and CUDA
 * bf16 kernels compute in float32 and round once per op). The Python scalars
 * (a, b, c, safety, eps) enter as float32 (PyTorch 2's kernels), or, with
 * torch1, are first rounded to bf16 (PyTorch 1.13 on CPU converts a scalar
 * to the tensor's dtype: 3.4445 * X computes 3.4375 * X), and then the norm
 * also rounds its sum of squares to bf16 before the square root, as 1.13's
 * norm(dim=(-2,-1)) does (measured: 997.13 -> 996 -> 31.5, not 31.625).
 * The matmuls see bf16 inputs, whose products are exact in float32; they use
 * the reference GEMM, whose double sum rounded once to float32 is the
 * correctly rounded sum that an accurate float32 accumulation nearly always
 * gives, and which, unlike the blocked GEMM, depends on no summation order.
 * A backend's own order can still move a sum across a bf16 rounding boundary
 * now and then. Slow on the naive GEMM (the mode that checks backends);
 * MUON_ORTH_BF16_BLOCKED puts it on the blocked one, for --precision bf16. */
typedef int (*gemm_fn)(muon_op, muon_op, int, int, int, float, const float *, int,
                       const float *, int, float, float *, int);

static int orth_iterate_bf16(int r, int c, float *X, float *Y, float *A, float *B,
                             const orth_triple *t, int steps, double safety, double eps_d, int torch1, int blocked)
{
    gemm_fn gemm = blocked ? muon_gemm : muon_gemm_naive;
    size_t n = (size_t)r * c, rr = (size_t)r * r, i;
    float *T = B + rr;                                      /* B has room for two */
    float den, sf = (float)safety, eps = (float)eps_d;
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

static size_t orth_poly_bytes(int rows, int cols)
{
    size_t r = (size_t)(rows <= cols ? rows : cols), c = (size_t)(rows <= cols ? cols : rows);
    return 2 * muon_workspace_round(r * c * sizeof(float)) + muon_workspace_round(r * r * sizeof(float)) +
           muon_workspace_round(2 * r * r * sizeof(float));
}

size_t muon_orth_workspace_bytes(muon_orth_kind kind, int rows, int cols)
{
    if (rows < 1 || cols < 1) return 0;
    return kind == MUON_ORTH_SVD ? orth_svd_bytes(rows, cols) : orth_poly_bytes(rows, cols);
}

int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols,
                       const float *G, float *O)
{
    return muon_orthogonalize_flags(kind, steps, rows, cols, G, O, 0u);
}

int muon_orthogonalize_flags(muon_orth_kind kind, int steps, int rows, int cols,
                          const float *G, float *O, unsigned flags)
{
    muon_workspace ws = {0};
    int st = muon_orthogonalize_ws(&ws, kind, steps, rows, cols, G, O, flags);
    muon_workspace_free(&ws);
    return st;
}

int muon_orthogonalize_ws(muon_workspace *ws, muon_orth_kind kind, int steps, int rows,
                          int cols, const float *G, float *O, unsigned flags)
{
    orth_triple table[64];
    const orth_triple *t;
    double safety = 1.0, eps = 1e-7;
    int r, c, n_steps, i, st, bf16, tall;
    float *X, *Y, *A, *B;
    size_t used = 0;

    if (rows < 1 || cols < 1)
        return muon_error(MUON_ERR_ARG, "orthogonalize: matrix must be at least 1x1, got %dx%d", rows, cols);
    if (!G || !O)
        return muon_error(MUON_ERR_ARG, "orthogonalize: G and O must not be NULL");
    if (!muon_all_finite(G, (size_t)rows * cols))
        return muon_error(MUON_ERR_NUMERIC, "orthogonalize: the %dx%d matrix contains NaN or Inf", rows, cols);
    if (flags & ~(MUON_ORTH_BF16 | MUON_ORTH_BF16_TORCH1 | MUON_ORTH_PARTIAL | MUON_ORTH_BF16_BLOCKED))
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
    case MUON_ORTH_POLAR_EXPRESS_NANOGPT:
        t = polar_express; n_steps = 5; safety = ORTH_NANOGPT_SAFETY; eps = ORTH_NANOGPT_EPS; break;
    case MUON_ORTH_SVD:
        return orth_svd(ws, rows, cols, G, O);
    default:
        return muon_error(MUON_ERR_ARG, "orthogonalize: unknown method %d", (int)kind);
    }
    if (flags & MUON_ORTH_PARTIAL) { /* the iterate after `steps` steps (0: normalised input) */
        if (steps > n_steps && kind != MUON_ORTH_NEWTON_SCHULZ)
            return muon_error(MUON_ERR_ARG, "orthogonalize: %s has %d steps, asked for %d",
                              muon_orth_name(kind), n_steps, steps);
        n_steps = steps;
    }

    r = rows <= cols ? rows : cols;
    c = rows <= cols ? cols : rows;
    if (muon_workspace_reserve(ws, orth_poly_bytes(rows, cols)))
        return muon_error(MUON_ERR_NOMEM, "orthogonalize: out of memory for a %dx%d matrix", rows, cols);
    X = muon_workspace_take(ws, &used, (size_t)r * c * sizeof *X);
    Y = muon_workspace_take(ws, &used, (size_t)r * c * sizeof *Y);
    A = muon_workspace_take(ws, &used, (size_t)r * r * sizeof *A);
    B = muon_workspace_take(ws, &used, (size_t)2 * r * r * sizeof *B); /* the bf16 path uses a second r x r */
    /* The float32 iteration runs a tall G as it is stored, except where a
     * GEMM would have one row or column (r == 1, or a last symmetric block
     * of one row): those take GEMM's matrix-vector path, whose summation
     * order does depend on the op. The bf16 one always transposes. */
    bf16 = (flags & (MUON_ORTH_BF16 | MUON_ORTH_BF16_TORCH1)) != 0;
    tall = rows > cols && !bf16 && r % ORTH_SYM_BLOCK != 1;
    /* copy first: G and O may alias */
    if (rows <= cols || tall) memcpy(X, G, (size_t)r * c * sizeof *X);
    else muon_transpose(G, X, rows, cols);
    if (bf16)
        st = orth_iterate_bf16(r, c, X, Y, A, B, t, n_steps, safety, eps, (flags & MUON_ORTH_BF16_TORCH1) != 0,
                               (flags & MUON_ORTH_BF16_BLOCKED) != 0);
    else
        st = orth_iterate(r, c, X, Y, A, B, tall, t, n_steps, safety, eps);
    if (st) return st;
    if (rows <= cols || tall) memcpy(O, X, (size_t)r * c * sizeof *O);
    else muon_transpose(X, O, r, c);
    return MUON_OK;
}
