/* Singular values from the Gram matrix: sigma_i^2 are the eigenvalues of
 * G = B^T B, B(M,N) = A or A^T so that N = min(m,n) is the small side.
 *
 * Why this is enough for the metrics (docs/metrics.md) although it squares
 * the condition number: G is formed in double from float32 data, so each
 * eigenvalue is off by about DBL_EPSILON ||G|| = DBL_EPSILON sigma_1^2 and
 * sigma_i by DBL_EPSILON sigma_1^2 / (2 sigma_i): 1e-8 relative at
 * sigma_i = 1e-4 sigma_1, 2e-7 (float32's own rounding) at the metrics'
 * "numerically zero" bound max(m,n) 2^-23 sigma_1 for every shape the models
 * have, and values under sqrt(DBL_EPSILON) sigma_1 come out as noise of that
 * size, which is below the bound, so no metric can tell. The top-k vectors
 * (alignments) are eigenvectors of well separated eigenvalues at the top of
 * the spectrum, accurate to DBL_EPSILON sigma_1^2 / gap; the other side's
 * vectors follow as B v / sigma in double. The one-sided Jacobi (linalg/svd.c)
 * stays the reference: it has no such squaring and gives small singular
 * values to high relative accuracy; the test compares the two.
 *
 * Cost: forming G is M N^2 multiply-adds, the tridiagonal reduction 2/3 N^3
 * (values only) and the QL iteration O(N^2) without vectors, O(N^3) with;
 * against some 10 sweeps of 2 N^3 for Jacobi plus its QR.
 *
 * The eigensolver is the classical pair of the Handbook for Automatic
 * Computation (Martin, Reinsch & Wilkinson 1968, "Householder's
 * tridiagonalization of a symmetric matrix", and Bowdler, Martin, Reinsch &
 * Wilkinson 1968, "The QR and QL algorithms for symmetric matrices"; EISPACK's
 * tred2 and tql2), written here 0-indexed from those descriptions: Householder
 * reduction to tridiagonal form working from the last row up, then the
 * implicit QL iteration with Wilkinson's shift, plane rotations accumulated
 * into the eigenvector matrix when vectors are wanted. */
#include "linalg/svd_gram.h"
#include "linalg/omp.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define QL_MAX_ITER 60

/* a(N,N) symmetric (lower triangle read) -> tridiagonal: d diagonal, e[i] the
 * sub-diagonal entry (i, i-1) (e[0] = 0). With vecs, a ends holding the
 * orthogonal Q of A = Q T Q^T (w(N) scratch); without, a is scratch (w unused). */
static void tridiagonalize(int N, double *a, double *d, double *e, int vecs, double *restrict w)
{
    int i, j, k;
#define A_(r, c) a[(size_t)(r) * N + (c)]
    for (i = N - 1; i > 0; i--) {
        int l = i - 1;
        double h = 0.0, scale = 0.0;
        if (l > 0) {
            for (k = 0; k <= l; k++) scale += fabs(A_(i, k));
            if (scale == 0.0) {
                e[i] = A_(i, l);
            } else {
                double f, g, hh;
                /* scaled, so h = |x|^2 can neither overflow nor underflow */
                for (k = 0; k <= l; k++) { A_(i, k) /= scale; h += A_(i, k) * A_(i, k); }
                f = A_(i, l);
                g = f >= 0.0 ? -sqrt(h) : sqrt(h);
                e[i] = scale * g;
                h -= f * g;
                A_(i, l) = f - g;              /* row i, 0..l, is now u */
                f = 0.0;
                /* p = A u / h into e[0..l], A symmetric from its lower
                 * triangle read row by row (each row j gives p_j its dot and
                 * every p_k, k < j, an axpy term), so every access is
                 * contiguous and vectorises */
                for (j = 0; j <= l; j++) e[j] = 0.0;
                for (j = 0; j <= l; j++) {
                    const double *restrict aj = a + (size_t)j * N, *restrict u = a + (size_t)i * N;
                    double *restrict p = e;
                    const double uj = u[j];
                    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    int q;
                    /* 8 fixed lanes, not a vector reduction: the compiler then
                     * neither peels for alignment nor leaves a scalar tail of
                     * up to a vector per row (most of the time, before) */
                    for (k = 0; k + 8 <= j; k += 8) {
MUON_SIMD(omp simd)
                        for (q = 0; q < 8; q++) {
                            acc[q] += aj[k + q] * u[k + q];
                            p[k + q] += aj[k + q] * uj;
                        }
                    }
                    g = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
                    for (; k < j; k++) {
                        g += aj[k] * u[k];
                        p[k] += aj[k] * uj;
                    }
                    e[j] += g + aj[j] * uj;
                }
                for (j = 0; j <= l; j++) {
                    if (vecs) A_(j, i) = A_(i, j) / h;
                    e[j] /= h;
                    f += e[j] * A_(i, j);
                }
                hh = f / (h + h);
                for (j = 0; j <= l; j++) {     /* A -= u q^T + q u^T, q = p - hh u */
                    f = A_(i, j);
                    e[j] = g = e[j] - hh * f;
                    {
                        double *restrict aj = a + (size_t)j * N;
                        const double *restrict u = a + (size_t)i * N, *restrict q = e;
MUON_SIMD(omp simd)
                        for (k = 0; k <= j; k++) aj[k] -= f * q[k] + g * u[k];
                    }
                }
            }
        } else {
            e[i] = A_(i, l);
        }
        d[i] = h;                              /* 0: no reflector at row i */
    }
    d[0] = 0.0;
    e[0] = 0.0;
    for (i = 0; i < N; i++) {
        int l = i - 1;
        if (vecs) {
            if (d[i] != 0.0) {                 /* apply reflector i to the Q built so far */
                /* Q(0..l, 0..l) -= (u/h) (u^T Q): w = u^T Q accumulated row by
                 * row of Q, then a rank-1 update by rows, all contiguous */
                const double *restrict u = a + (size_t)i * N;
                for (j = 0; j <= l; j++) w[j] = 0.0;
                for (k = 0; k <= l; k++) {
                    const double *restrict qk = a + (size_t)k * N;
                    const double uk = u[k];
MUON_SIMD(omp simd)
                    for (j = 0; j <= l; j++) w[j] += uk * qk[j];
                }
                for (k = 0; k <= l; k++) {
                    double *restrict qk = a + (size_t)k * N;
                    const double vk = A_(k, i);
MUON_SIMD(omp simd)
                    for (j = 0; j <= l; j++) qk[j] -= vk * w[j];
                }
            }
            d[i] = A_(i, i);
            A_(i, i) = 1.0;
            for (j = 0; j <= l; j++) A_(j, i) = A_(i, j) = 0.0;
        } else {
            d[i] = A_(i, i);
        }
    }
#undef A_
}

/* Implicit QL on the tridiagonal (d, e from tridiagonalize): d becomes the
 * eigenvalues (unsorted). With zt (N,N) (rows = columns of Q, so each plane
 * rotation touches two contiguous rows), row i of zt becomes the eigenvector
 * of d[i]. Returns MUON_OK or MUON_ERR_NUMERIC (no convergence). */
static int tridiagonal_ql(int N, double *d, double *e, double *zt)
{
    int i, k, l, m;
    for (i = 1; i < N; i++) e[i - 1] = e[i];
    e[N - 1] = 0.0;
    for (l = 0; l < N; l++) {
        int iter = 0;
        for (;;) {
            double g, r, s, c, p;
            for (m = l; m < N - 1; m++) {
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(e[m]) <= DBL_EPSILON * dd) break;
            }
            if (m == l) break;
            if (iter++ == QL_MAX_ITER) return MUON_ERR_NUMERIC;   /* the caller says so, or falls back */
            g = (d[l + 1] - d[l]) / (2.0 * e[l]);          /* Wilkinson's shift */
            r = hypot(g, 1.0);
            g = d[m] - d[l] + e[l] / (g + copysign(r, g));
            s = c = 1.0;
            p = 0.0;
            for (i = m - 1; i >= l; i--) {
                double f = s * e[i], b = c * e[i];
                /* not hypot (a tenth of the run): f, g are entries of a Gram
                 * matrix of float32 data, |.| < 1e80, so no square overflows,
                 * and one that underflows is handled by the split below */
                e[i + 1] = r = sqrt(f * f + g * g);
                if (r == 0.0) {                            /* underflow: split here */
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                if (zt) {
                    double *restrict z0 = zt + (size_t)i * N, *restrict z1 = z0 + N;
MUON_SIMD(omp simd)
                    for (k = 0; k < N; k++) {
                        double x1 = z1[k], x0 = z0[k];
                        z1[k] = MUON_DMADD(s, x0, c * x1);
                        z0[k] = MUON_DMADD(c, x0, -s * x1);
                    }
                }
            }
            if (r == 0.0 && i >= l) continue;
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    return MUON_OK;
}

int muon_sym_eigen(int N, double *a, double *d, double *e, double *zt, double *w)
{
    int i, j;
    tridiagonalize(N, a, d, e, zt != NULL, w);
    if (zt)   /* Zt = Q^T: rows are Q's columns */
        for (i = 0; i < N; i++)
            for (j = 0; j < N; j++) zt[(size_t)i * N + j] = a[(size_t)j * N + i];
    return tridiagonal_ql(N, d, e, zt);
}

typedef struct { double *C, *G, *Zt, *d, *e, *z; int *ord; } gram_bufs;

static size_t gram_layout(muon_workspace *ws, int M, int N, int k, gram_bufs *b)
{
    size_t used = 0;
    memset(b, 0, sizeof *b);
#define TAKE(p, bytes) (p = muon_workspace_take(ws, &used, (bytes)))
    TAKE(b->C, (size_t)N * M * sizeof(double));
    TAKE(b->G, (size_t)N * N * sizeof(double));
    if (k > 0) TAKE(b->Zt, (size_t)N * N * sizeof(double));
    TAKE(b->d, (size_t)N * sizeof(double));
    TAKE(b->e, (size_t)N * sizeof(double));
    TAKE(b->ord, (size_t)N * sizeof(int));
    if (k > 0) TAKE(b->z, (size_t)M * sizeof(double));
#undef TAKE
    return used;
}

size_t muon_svd_gram_workspace_bytes(int m, int n, int k)
{
    gram_bufs b;
    if (m < 1 || n < 1) return 0;
    return gram_layout(NULL, m >= n ? m : n, m >= n ? n : m, k, &b);
}

int muon_svd_gram_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int k,
                     float *Uk, float *Vk)
{
    const int tall = m >= n, M = tall ? m : n, N = tall ? n : m;
    gram_bufs b;
    int i, j, t, st;
    if (m < 1 || n < 1 || !A || !S || k < 0 || k > N || (k > 0 && (!Uk || !Vk)))
        return muon_error(MUON_ERR_ARG, "svd gram: bad arguments (%dx%d, k %d)", m, n, k);
    if (!muon_all_finite(A, (size_t)m * n))
        return muon_error(MUON_ERR_NUMERIC, "svd gram: the %dx%d matrix contains NaN or Inf", m, n);
    if ((st = muon_workspace_reserve(ws, gram_layout(NULL, M, N, k, &b))))
        return muon_error(MUON_ERR_NOMEM, "svd gram: out of memory for a %dx%d matrix", m, n);
    gram_layout(ws, M, N, k, &b);

    /* D(M,N) = B in double, row-major: for tall A a copy, for wide A its
     * transpose, in 32 x 32 tiles so both sides stay in cache */
    if (tall) {
        size_t q, mn = (size_t)m * n;
        for (q = 0; q < mn; q++) b.C[q] = A[q];
    } else {
        int i0, j0;
        for (i0 = 0; i0 < m; i0 += 32)
            for (j0 = 0; j0 < n; j0 += 32)
                for (i = i0; i < m && i < i0 + 32; i++)
                    for (j = j0; j < n && j < j0 + 32; j++)
                        b.C[(size_t)j * N + i] = A[(size_t)i * n + j];
    }
    /* G = D^T D, lower triangle (all that tridiagonalize reads), as rank-4
     * updates by four rows of D at a time: row i of G gets four multiply-adds
     * per load and store, every access contiguous. The order of the M terms
     * of each entry is fixed (rows in order, four at a time), whatever the
     * build or thread count. */
    memset(b.G, 0, (size_t)N * N * sizeof *b.G);
    for (t = 0; t < M; t += 4) {
        const double *r0 = b.C + (size_t)t * N;
        const double *r1 = t + 1 < M ? r0 + N : NULL, *r2 = t + 2 < M ? r0 + 2 * N : NULL;
        const double *r3 = t + 3 < M ? r0 + 3 * N : NULL;
        if (!r3) {
            /* the last 1-3 rows one at a time */
            const double *rr[3];
            int q, nq = 0;
            rr[nq++] = r0;
            if (r1) rr[nq++] = r1;
            if (r2) rr[nq++] = r2;
            for (q = 0; q < nq; q++)
                for (i = 0; i < N; i++) {
                    double *restrict gi = b.G + (size_t)i * N;
                    const double *restrict x = rr[q];
                    const double xi = x[i];
MUON_SIMD(omp simd)
                    for (j = 0; j <= i; j++) gi[j] += xi * x[j];
                }
            break;
        }
        for (i = 0; i < N; i++) {
            double *restrict gi = b.G + (size_t)i * N;
            const double *restrict x0 = r0, *restrict x1 = r1, *restrict x2 = r2, *restrict x3 = r3;
            const double a0 = x0[i], a1 = x1[i], a2 = x2[i], a3 = x3[i];
MUON_SIMD(omp simd)
            for (j = 0; j <= i; j++) gi[j] += ((a0 * x0[j] + a1 * x1[j]) + (a2 * x2[j] + a3 * x3[j]));
        }
    }

    if (muon_sym_eigen(N, b.G, b.d, b.e, k > 0 ? b.Zt : NULL, b.z))
        return muon_error(MUON_ERR_NUMERIC, "svd gram: QL did not converge in %d iterations", QL_MAX_ITER);

    /* descending, ties by index (insertion sort: deterministic) */
    for (i = 0; i < N; i++) {
        for (j = i; j > 0 && b.d[b.ord[j - 1]] < b.d[i]; j--) b.ord[j] = b.ord[j - 1];
        b.ord[j] = i;
    }
    for (i = 0; i < N; i++) {
        double l = b.d[b.ord[i]];
        S[i] = l > 0.0 ? (float)sqrt(l) : 0.0f;   /* rounding can make a zero slightly negative */
    }
    /* vectors: y = eigenvector (N-long, B's V), z = B y / sigma (M-long, B's U);
     * for tall A, U = z and V = y; for wide A (B = A^T), U = y and V = z */
    for (t = 0; t < k; t++) {
        const double *y = b.Zt + (size_t)b.ord[t] * N;
        double l = b.d[b.ord[t]], sig = l > 0.0 ? sqrt(l) : 0.0;
        float *Uy = tall ? Vk : Uk, *Uz = tall ? Uk : Vk;
        for (j = 0; j < N; j++) Uy[(size_t)j * k + t] = sig > 0.0 ? (float)y[j] : 0.0f;
        for (i = 0; i < M; i++) b.z[i] = muon_dot_d(b.C + (size_t)i * N, y, N);
        for (i = 0; i < M; i++) Uz[(size_t)i * k + t] = sig > 0.0 ? (float)(b.z[i] / sig) : 0.0f;
    }
    return MUON_OK;
}
