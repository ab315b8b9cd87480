/* Singular values only, the way LAPACK's dgesdd gets them without vectors:
 * Householder bidiagonalisation, then the implicit-shift QR iteration on the
 * bidiagonal (Golub & Kahan 1965, "Calculating the singular values and
 * pseudo-inverse of a matrix", SIAM J. Numer. Anal. B 2; the step as in Golub
 * & Van Loan, "Matrix Computations", 4th ed., section 8.6.2), written here
 * from those descriptions. muon_svd's one-sided Jacobi (linalg/svd.c) stays
 * the algorithm of record and checks this path in tests/test_svd_values.c.
 *
 * Pipeline, for B = A (m >= n) or B = A^T (m < n), so B(M,N) is tall, in
 * double from the float32 input on:
 *   1. for M >= 2N, B = Q0 R0 first (muon_qr_r, the Jacobi's own blocked QR),
 *      then B := R0: the rest costs N^3, not M N^2 (dgesdd does the same);
 *   2. Q^T B P = bidiagonal (d, e) by alternating left and right Householder
 *      reflectors (bidiagonalize);
 *   3. the bidiagonal's values by QR sweeps that chase a bulge down it, with
 *      Wilkinson's shift, deflating where an off-diagonal entry becomes
 *      negligible (bidiagonal_values).
 *
 * Accuracy: every step is an orthogonal transformation in double, so each
 * sigma_i is off by a small multiple of DBL_EPSILON sigma_1 (absolute), as
 * dgesdd's values are. That is float32-exact for every sigma_i above about
 * 1e-8 sigma_1 and, unlike the Gram path (linalg/svd_gram.c), no square of the
 * condition number. What it does not have is the Jacobi's high *relative*
 * accuracy for the tiny values of strongly graded matrices; where that
 * matters, muon_svd is the one to call.
 *
 * Cost: 2.  4 M N^2 - 4/3 N^3 flops (8/3 N^3 after the QR of step 1, which
 * takes 2 M N^2 - 2/3 N^3 in products), in one pass over the trailing matrix
 * per reflector pair (below); 3. O(N^2). Against the Jacobi's 2-3 sweeps of
 * about 2.5 N^3 multiply-adds after its warm start (10-13 without), plus the
 * warm start's eigendecomposition.
 *
 * Steps 2 and 3 run on one thread (the QR of step 1 splits independent rows,
 * as in muon_svd); nothing depends on the thread count. */
#include "linalg/svd_values.h"
#include "linalg/omp.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* QR sweeps allowed per singular value before giving up to the Jacobi; two
 * or three are typical (the shift makes the bottom entry converge cubically). */
#define BIDIAG_SWEEPS_PER_VALUE 30

/* The Householder reflector of x(len): H = I - tau u u^T with H x = beta e_0,
 * u = x except u[0] = x[0] - beta, written into x. tau = 0 (H = I, beta =
 * x[0]) when x is already a multiple of e_0. beta's sign is opposite x[0]'s,
 * so u[0] = x[0] - beta never cancels. */
static double reflector(double *x, int len, double *beta)
{
    const double alpha = x[0], tail = len > 1 ? muon_dot_d(x + 1, x + 1, len - 1) : 0.0;
    double nrm;
    if (tail == 0.0) { *beta = alpha; return 0.0; }
    nrm = sqrt(alpha * alpha + tail);
    *beta = alpha >= 0.0 ? -nrm : nrm;
    x[0] = alpha - *beta;
    /* tau = 2 / (u^T u), and u^T u = 2 nrm (nrm + |alpha|) */
    return 1.0 / (nrm * (nrm + fabs(alpha)));
}

/* B(M,N), M >= N, column-major (column j at B + j ld, M long), reduced to the
 * upper bidiagonal d(N), e(N-1) = Q^T B P; B is destroyed. Scratch: u, w, y
 * (M each), v (N).
 *
 * Step k takes the left reflector H_k of column k (rows k..), which zeroes it
 * below the diagonal, and then the right reflector G_k of row k (columns
 * k+1..), which zeroes it right of the superdiagonal. Done one after the
 * other, that is four passes over the trailing matrix per step (u^T B, the
 * rank-1 update, B v, the rank-1 update). Here each column is visited once
 * per step, and while it is in L1 it takes
 *   - G_{k-1}'s update, c -= (tau_R v_j) w, with w = B v from the last step,
 *   - H_k's update, c -= (tau_L u^T c) u,
 *   - its contribution x_j c to y = B x, x = row k after H_k, which gives
 *     G_k's w at the end of the pass: v = x - beta e_0, so w = B v =
 *     y - beta (column k+1).
 * Column k itself is finished first, since H_k comes from it. The same
 * arithmetic as the four passes, in a different order of the sums. */
static void bidiagonalize(int M, int N, double *B, int ld, double *d, double *e, double *restrict u,
                          double *restrict w, double *restrict y, double *restrict v)
{
    double tau_r = 0.0;    /* G_{k-1}: v[k..N), w(M - k) over rows k.. */
    int k, i, j;
    memset(w, 0, (size_t)M * sizeof *w);     /* no G_{-1}: the first pass adds 0 w */
    memset(v, 0, (size_t)N * sizeof *v);
    for (k = 0; k < N; k++) {
        const int L = M - k;                      /* rows k..M-1 */
        double *ck = B + (size_t)k * ld + k, tau_l;
        if (tau_r != 0.0) {
            const double a = tau_r * v[k];
            for (i = 0; i < L; i++) ck[i] = MUON_DMADD(-a, w[i], ck[i]);
        }
        tau_l = reflector(ck, L, &d[k]);
        if (k == N - 1) break;
        memcpy(u, ck, (size_t)L * sizeof *u);
        memset(y, 0, (size_t)(L - 1) * sizeof *y);
        for (j = k + 1; j < N; j++) {
            double *restrict c = B + (size_t)j * ld + k;
            const double a = tau_r * v[j];
            double acc[MUON_DOT_LANES], s, b, x;
            int l;
            /* G_{k-1}'s update and u^T c in one loop, the sum in muon_dot_d's
             * fixed lanes (the same order for every vector width) */
            for (l = 0; l < MUON_DOT_LANES; l++) acc[l] = 0.0;
            for (i = 0; i + MUON_DOT_LANES <= L; i += MUON_DOT_LANES) {
MUON_SIMD(omp simd)
                for (l = 0; l < MUON_DOT_LANES; l++) {
                    const double t = MUON_DMADD(-a, w[i + l], c[i + l]);
                    c[i + l] = t;
                    acc[l] = MUON_DMADD(u[i + l], t, acc[l]);
                }
            }
            s = muon_lanes_sum(acc);
            for (; i < L; i++) {
                c[i] = MUON_DMADD(-a, w[i], c[i]);
                s = MUON_DMADD(u[i], c[i], s);
            }
            /* H_k's update, and row k's entry x, then y += x c below row k */
            b = tau_l * s;
            x = c[0] = MUON_DMADD(-b, u[0], c[0]);
            v[j] = x;
            for (i = 1; i < L; i++) {
                const double t = MUON_DMADD(-b, u[i], c[i]);
                c[i] = t;
                y[i - 1] = MUON_DMADD(x, t, y[i - 1]);
            }
        }
        /* G_k from x = v[k+1..N) (row k, right of the diagonal) */
        tau_r = reflector(v + k + 1, N - k - 1, &e[k]);
        if (tau_r != 0.0) {
            const double *ck1 = B + (size_t)(k + 1) * ld + k + 1;
            for (i = 0; i < L - 1; i++) w[i] = MUON_DMADD(-e[k], ck1[i], y[i]);
        } else {
            memset(w, 0, (size_t)(L - 1) * sizeof *w);   /* the next pass multiplies it by 0 */
        }
    }
}

/* r = sqrt(f^2 + g^2), c = f / r, s = g / r, so that (c, s) . (f, g) = r and
 * (-s, c) . (f, g) = 0; f = g = 0 gives the identity. No scaling is needed:
 * the entries come from float32 data (|x| <= 1e42 for any matrix that fits in
 * memory), and entries below DBL_EPSILON times the largest are set to zero
 * (bidiagonal_values), so even the shift's fourth powers stay inside double's
 * range. */
static void givens(double f, double g, double *c, double *s, double *r)
{
    const double h = sqrt(f * f + g * g);
    if (h == 0.0) { *c = 1.0; *s = 0.0; *r = 0.0; return; }
    *c = f / h;
    *s = g / h;
    *r = h;
}

/* One implicit-shift QR sweep on the unreduced block lo..hi (hi > lo) of the
 * bidiagonal: B <- P^T B Q with the first rotation chosen from (B^T B - mu I)
 * e_lo, mu the eigenvalue of B^T B's trailing 2x2 nearer its last entry
 * (Wilkinson's shift); then alternate right and left rotations chase the bulge
 * this creates down to the bottom (Golub & Van Loan, algorithm 8.6.1). */
static void qr_sweep(int lo, int hi, double *d, double *e)
{
    const double dm = d[hi - 1], em = hi - 1 > lo ? e[hi - 2] : 0.0, dn = d[hi], en = e[hi - 1];
    const double t11 = dm * dm + em * em, t12 = dm * en, t22 = dn * dn + en * en;
    const double delta = 0.5 * (t11 - t22), root = sqrt(delta * delta + t12 * t12);
    const double den = delta >= 0.0 ? delta + root : delta - root;
    const double mu = den != 0.0 ? t22 - t12 * t12 / den : t22;
    double f = d[lo] * d[lo] - mu, g = d[lo] * e[lo], c, s, r;
    int k;
    for (k = lo; k < hi; k++) {
        double dk, bulge;
        /* columns k, k+1: zero g (row k-1's bulge, or the shift's start) against f */
        givens(f, g, &c, &s, &r);
        if (k > lo) e[k - 1] = r;
        dk = c * d[k] + s * e[k];
        e[k] = c * e[k] - s * d[k];
        bulge = s * d[k + 1];               /* at (k+1, k) */
        d[k + 1] = c * d[k + 1];
        /* rows k, k+1: zero the bulge below the diagonal */
        givens(dk, bulge, &c, &s, &r);
        d[k] = r;
        f = c * e[k] + s * d[k + 1];
        d[k + 1] = c * d[k + 1] - s * e[k];
        e[k] = f;
        if (k + 1 < hi) {
            g = s * e[k + 1];               /* the new bulge, at (k, k+2) */
            e[k + 1] = c * e[k + 1];
        }
    }
}

/* d[i] == 0 inside the block (i < hi): row i's e[i] is rotated into the rows
 * below (left rotations of rows i and j), which leaves row i all zero, so the
 * block splits there. */
static void chase_row(int i, int hi, double *d, double *e)
{
    double f = e[i], c, s, r;
    int j;
    e[i] = 0.0;
    for (j = i + 1; j <= hi && f != 0.0; j++) {
        givens(d[j], f, &c, &s, &r);
        d[j] = r;
        if (j < hi) {
            f = -s * e[j];
            e[j] = c * e[j];
        }
    }
}

/* d[hi] == 0: column hi's e[hi-1] is rotated into the columns to its left
 * (right rotations of columns j and hi), which leaves column hi all zero. */
static void chase_column(int lo, int hi, double *d, double *e)
{
    double f = e[hi - 1], c, s, r;
    int j;
    e[hi - 1] = 0.0;
    for (j = hi - 1; j >= lo && f != 0.0; j--) {
        givens(d[j], f, &c, &s, &r);
        d[j] = r;
        if (j > lo) {
            f = -s * e[j - 1];
            e[j - 1] = c * e[j - 1];
        }
    }
}

/* Singular values of the upper bidiagonal d(n), e(n-1), left in d as |d_i|,
 * unsorted; e is destroyed. Returns the QR sweeps done, or -1 if they did not
 * converge.
 * Entries below DBL_EPSILON times the largest are set to zero (an absolute
 * error of that size, which the bidiagonalisation has anyway), and an
 * off-diagonal entry also counts as zero below DBL_EPSILON times its two
 * diagonal neighbours (the classical test, which keeps small values of
 * graded blocks better). */
static int bidiagonal_values(int n, double *d, double *e)
{
    double big = 0.0, thresh;
    long sweeps = 0, max_sweeps = (long)BIDIAG_SWEEPS_PER_VALUE * n;
    int i, lo, hi = n - 1;
    for (i = 0; i < n; i++) {
        if (fabs(d[i]) > big) big = fabs(d[i]);
        if (i + 1 < n && fabs(e[i]) > big) big = fabs(e[i]);
    }
    thresh = DBL_EPSILON * big;
    for (i = 0; i < n; i++)
        if (fabs(d[i]) <= thresh) d[i] = 0.0;
#define NEGLIGIBLE(k) (fabs(e[k]) <= thresh || fabs(e[k]) <= DBL_EPSILON * (fabs(d[k]) + fabs(d[(k) + 1])))
    while (hi > 0) {
        if (NEGLIGIBLE(hi - 1)) { e[hi - 1] = 0.0; hi--; continue; }
        for (lo = hi - 1; lo > 0 && !NEGLIGIBLE(lo - 1); lo--) {}
        if (lo > 0) e[lo - 1] = 0.0;
        for (i = lo; i <= hi && d[i] != 0.0; i++) {}
        if (i < hi) { chase_row(i, hi, d, e); continue; }
        if (i == hi) { chase_column(lo, hi, d, e); continue; }
        if (++sweeps > max_sweeps) return -1;
        qr_sweep(lo, hi, d, e);
        /* a sweep can leave a tiny diagonal entry: zero it, as above */
        for (i = lo; i <= hi; i++)
            if (fabs(d[i]) <= thresh) d[i] = 0.0;
    }
#undef NEGLIGIBLE
    for (i = 0; i < n; i++) d[i] = fabs(d[i]);
    return (int)sweeps;
}

static int descending(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The buffers of one call, in a workspace; ws == NULL only sizes them. */
typedef struct { double *C, *R, *d, *e, *u, *w, *y, *v; void *qr; } values_bufs;

static size_t values_layout(muon_workspace *ws, int M, int N, values_bufs *b)
{
    size_t used = 0;
    memset(b, 0, sizeof *b);
    b->C = muon_workspace_take(ws, &used, (size_t)M * N * sizeof(double));
    if (M >= 2 * N) {
        b->R = muon_workspace_take(ws, &used, (size_t)N * N * sizeof(double));
        b->qr = muon_workspace_take(ws, &used, muon_qr_r_scratch_bytes(M, N));
    }
    b->d = muon_workspace_take(ws, &used, (size_t)N * sizeof(double));
    b->e = muon_workspace_take(ws, &used, (size_t)N * sizeof(double));
    b->v = muon_workspace_take(ws, &used, (size_t)N * sizeof(double));
    b->u = muon_workspace_take(ws, &used, (size_t)M * sizeof(double));
    b->w = muon_workspace_take(ws, &used, (size_t)M * sizeof(double));
    b->y = muon_workspace_take(ws, &used, (size_t)M * sizeof(double));
    return used;
}

int muon_svd_values_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int *sweeps)
{
    const int tall = m >= n, M = tall ? m : n, N = tall ? n : m;   /* B(M,N) = A or A^T */
    values_bufs b;
    double *Bm;
    int i, ld, done = 0;
    if (sweeps) *sweeps = 0;
    if (m < 1 || n < 1)
        return muon_error(MUON_ERR_ARG, "svd values: matrix must be at least 1x1, got %dx%d", m, n);
    if (!A || !S || !ws) return muon_error(MUON_ERR_ARG, "svd values: A, S and ws must not be NULL");
    if (!muon_all_finite(A, (size_t)m * n)) {
        for (i = 0; i < N; i++) S[i] = NAN;
        return muon_error(MUON_ERR_NUMERIC, "svd values: the %dx%d matrix contains NaN or Inf", m, n);
    }
    if (muon_workspace_reserve(ws, values_layout(NULL, M, N, &b)))
        return muon_error(MUON_ERR_NOMEM, "svd values: out of memory for a %dx%d matrix", m, n);
    values_layout(ws, M, N, &b);
    muon_svd_columns(m, n, A, b.C);                /* B column-major */
    Bm = b.C;
    ld = M;
    if (b.R) {
        muon_qr_r(M, N, b.C, b.R, b.qr);
        Bm = b.R;
        ld = N;
    }
    bidiagonalize(b.R ? N : M, N, Bm, ld, b.d, b.e, b.u, b.w, b.y, b.v);
    if (N > 1 && (done = bidiagonal_values(N, b.d, b.e)) < 0) {
        /* not seen in tests; the Jacobi's values instead */
        if (sweeps) *sweeps = -1;
        return muon_svd_ws(ws, m, n, A, S, NULL, NULL, NULL);
    }
    if (sweeps) *sweeps = done;
    b.d[0] = fabs(b.d[0]);
    qsort(b.d, (size_t)N, sizeof *b.d, descending);
    for (i = 0; i < N; i++) S[i] = (float)b.d[i];
    return MUON_OK;
}
