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
 * (values only) and the QL iteration O(N^2) without vectors, O(N^3) with
 * all N; the top k alone (top_eigenvectors) add O(k N^2); against some 10
 * sweeps of 2 N^3 for Jacobi plus its QR.
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

/* the iteration cap; muon_svd_gram_test_max_iter lowers it for the tests of
 * the callers' fallbacks */
static int ql_max_iter = QL_MAX_ITER;

void muon_svd_gram_test_max_iter(int n) { ql_max_iter = n >= 0 ? n : QL_MAX_ITER; }

/* a(N,N) symmetric (lower triangle read) -> tridiagonal: d diagonal, e[i] the
 * sub-diagonal entry (i, i-1) (e[0] = 0). With vecs, a ends holding the
 * orthogonal Q of A = Q T Q^T; without, row i of a keeps, in columns
 * 0 .. i-1, the u of the reflector P_i = I - u u^T / h, h = hs[i] when hs(N)
 * is given (0: no reflector), Q = P_{N-1} ... P_1. w(2N) scratch.
 *
 * Step i's rank-2 update A -= u q^T + q u^T and step i-1's product A u'
 * take one pass over the rows together: row i-1 (the next u') is updated
 * first, then each row j < i-1 takes its update and, while in cache, its
 * share of A u'. Each entry sees the same operations in the same order as
 * with a pass for each, so the result is the same bit for bit, for half
 * the reads of the triangle. */
static void tridiagonalize(int N, double *a, double *d, double *e, int vecs, double *restrict w,
                           double *restrict hs)
{
    double *qprev = w, *pnext = w + N;    /* step i+1's q; step i's p, then q */
    const double *uprev = NULL;            /* step i+1's u (row i+1), NULL: no update pending */
    int i, j, k;
#define A_(r, c) a[(size_t)(r) * N + (c)]
    for (i = N - 1; i > 0; i--) {
        const int l = i - 1;
        const double *u = a + (size_t)i * N;   /* row i: scaled below, then u */
        double h = 0.0, scale = 0.0;
        int reflect = 0;
        if (uprev) {   /* row i's share of step i+1's update, before it gives u */
            double *restrict ai = a + (size_t)i * N;
            const double *restrict up = uprev, *restrict q = qprev;
            const double f = up[i], g = q[i];
MUON_SIMD(omp simd)
            for (k = 0; k <= i; k++) ai[k] -= f * q[k] + g * up[k];
        }
        if (l > 0) {
            for (k = 0; k <= l; k++) scale += fabs(A_(i, k));
            if (scale == 0.0) {
                e[i] = A_(i, l);
            } else {
                double f, g;
                /* scaled, so h = |x|^2 can neither overflow nor underflow */
                for (k = 0; k <= l; k++) { A_(i, k) /= scale; h += A_(i, k) * A_(i, k); }
                f = A_(i, l);
                g = f >= 0.0 ? -sqrt(h) : sqrt(h);
                e[i] = scale * g;
                h -= f * g;
                A_(i, l) = f - g;              /* row i, 0..l, is now u */
                reflect = 1;
            }
        } else {
            e[i] = A_(i, l);
        }
        if (reflect)
            for (j = 0; j <= l; j++) pnext[j] = 0.0;
        /* rows 0..l: step i+1's update, then p = A u (/ h below), A
         * symmetric from its lower triangle read row by row (each row j
         * gives p_j its dot and every p_k, k < j, an axpy term), so every
         * access is contiguous and vectorises */
        for (j = 0; j <= l; j++) {
            double *restrict aj = a + (size_t)j * N;
            if (uprev) {
                const double *restrict up = uprev, *restrict q = qprev;
                const double f = up[j], g = q[j];
MUON_SIMD(omp simd)
                for (k = 0; k <= j; k++) aj[k] -= f * q[k] + g * up[k];
            }
            if (reflect) {
                double *restrict p = pnext;
                const double *restrict ui = u;
                const double uj = ui[j];
                double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, g;
                int q;
                /* 8 fixed lanes, not a vector reduction: the compiler then
                 * neither peels for alignment nor leaves a scalar tail of
                 * up to a vector per row (most of the time, before) */
                for (k = 0; k + 8 <= j; k += 8) {
MUON_SIMD(omp simd)
                    for (q = 0; q < 8; q++) {
                        acc[q] += aj[k + q] * ui[k + q];
                        p[k + q] += aj[k + q] * uj;
                    }
                }
                g = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
                for (; k < j; k++) {
                    g += aj[k] * ui[k];
                    p[k] += aj[k] * uj;
                }
                p[j] += g + aj[j] * uj;
            }
        }
        if (reflect) {   /* q = p - hh u, p = A u / h, hh = u^T p / 2h */
            double f = 0.0, hh, *t;
            for (j = 0; j <= l; j++) {
                if (vecs) A_(j, i) = A_(i, j) / h;
                pnext[j] /= h;
                f += pnext[j] * A_(i, j);
            }
            hh = f / (h + h);
            for (j = 0; j <= l; j++) pnext[j] = pnext[j] - hh * A_(i, j);
            t = qprev; qprev = pnext; pnext = t;
            uprev = u;
        } else {
            uprev = NULL;
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
            if (hs) hs[i] = d[i];
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
    double thresh = 0.0;
    for (i = 1; i < N; i++) e[i - 1] = e[i];
    e[N - 1] = 0.0;
    /* An off-diagonal entry counts as zero below DBL_EPSILON times its two
     * neighbours, or below DBL_EPSILON ||T|| (absolute: tql2 tests against
     * the largest |d| + |e| seen, svd_values.c does the same). T carries
     * errors of that size from the reduction anyway, and where eigenvalues
     * span more than 1/DBL_EPSILON (a gradient's Gram matrix: sigma from
     * 1e-3 down to 1e-13) the relative test alone is never met under the
     * rounding noise, and QL ran out of iterations. */
    for (i = 0; i < N; i++) {
        double t = fabs(d[i]) + fabs(e[i]);
        if (t > thresh) thresh = t;
    }
    thresh *= DBL_EPSILON;
    for (l = 0; l < N; l++) {
        int iter = 0;
        for (;;) {
            double g, r, s, c, p;
            for (m = l; m < N - 1; m++) {
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(e[m]) <= thresh || fabs(e[m]) <= DBL_EPSILON * dd) break;
            }
            if (m == l) break;
            if (iter++ == ql_max_iter) return MUON_ERR_NUMERIC;   /* the caller says so, or falls back */
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
    tridiagonalize(N, a, d, e, zt != NULL, w, NULL);
    if (zt)   /* Zt = Q^T: rows are Q's columns */
        for (i = 0; i < N; i++)
            for (j = 0; j < N; j++) zt[(size_t)i * N + j] = a[(size_t)j * N + i];
    return tridiagonal_ql(N, d, e, zt);
}

/* The top-k vectors without the other N - k.
 *
 * Accumulating every QL rotation into Q costs O(N^3) (two thirds of the
 * path's time at N = 512) for N vectors, when the metrics read k = 5. Where
 * each wanted eigenvalue is separated from its neighbours, the vectors come
 * instead from the tridiagonal T itself by inverse iteration at the QL
 * eigenvalue (Wilkinson, "The Algebraic Eigenvalue Problem", 1965, ch. 9;
 * what LAPACK's dstein does), O(N) each, and are carried back to A's by the
 * kept Householder reflectors, O(N^2) each. The rest of the path -- G, the
 * reduction, the values -- is the same arithmetic, so S is bit for bit that
 * of k = 0.
 *
 * Why it is about as accurate as the rotations: the computed y has
 * residual r = ||T y - lam y|| and, by the Davis-Kahan sin-theta theorem,
 * an angle at most r / gap to the true eigenvector; a backward-stable solve
 * at an eigenvalue accurate to a few eps ||T|| gives r of that size, the
 * eps ||T|| / gap the accumulated rotations have up to their N-fold
 * accumulation. Each vector's r is computed, and where it exceeds
 * TOPK_RESIDUAL N eps ||T|| (||T|| bounded by its largest row sum), or
 * where a wanted eigenvalue is within TOPK_GAP max|lam| of a neighbour (a
 * cluster, such as one of an orthogonalised update's, where single vectors
 * are not defined and independent inverse iterations would not come out
 * orthogonal), the path takes all N vectors from the rotations as before:
 * it reduces G a second time (kept in Zt), simpler than rebuilding Q from
 * the kept reflectors, and rare. */
#define INVERSE_ITERATIONS 3
#define TOPK_GAP 1e-6
#define TOPK_RESIDUAL 2.0

/* y(N) <- the unit eigenvector of the tridiagonal T (diagonal td, T(i,i-1) =
 * te[i]) for its eigenvalue lam, ||T|| <= tnorm, by INVERSE_ITERATIONS
 * solves of (T - lam I) x = y from a fixed pseudo-random start: Gaussian
 * elimination with partial pivoting, zero pivots raised to eps tnorm.
 * f(4N), piv(N) scratch. Returns ||T y - lam y||_2, or -1 where a solve
 * overflowed. */
static double inverse_iteration(int N, const double *td, const double *te, double lam, double tnorm,
                                double *restrict y, double *restrict f, int *restrict piv, uint64_t seed)
{
    double *u0 = f, *u1 = f + N, *u2 = f + 2 * (size_t)N, *ml = f + 3 * (size_t)N;
    const double tiny = DBL_EPSILON * tnorm > 0.0 ? DBL_EPSILON * tnorm : DBL_MIN;
    double dcur = td[0] - lam, scur = N > 1 ? te[1] : 0.0, nrm, r2, unit;
    muon_rng rng;
    int i, it;
    /* T - lam I = P L U: row i of U is u0[i], u1[i], u2[i] at columns i, i+1,
     * i+2; step i swaps rows i, i+1 where piv[i], then takes ml[i] times row
     * i from row i + 1 */
    for (i = 0; i + 1 < N; i++) {
        const double b = te[i + 1], dn = td[i + 1] - lam, sn = i + 2 < N ? te[i + 2] : 0.0;
        if (fabs(dcur) >= fabs(b)) {
            if (dcur == 0.0) dcur = tiny;
            piv[i] = 0;
            ml[i] = b / dcur;
            u0[i] = dcur; u1[i] = scur; u2[i] = 0.0;
            dcur = dn - ml[i] * scur;
            scur = sn;
        } else {
            piv[i] = 1;
            ml[i] = dcur / b;
            u0[i] = b; u1[i] = dn; u2[i] = sn;
            dcur = scur - ml[i] * dn;
            scur = -ml[i] * sn;
        }
    }
    u0[N - 1] = dcur != 0.0 ? dcur : tiny;

    muon_rng_seed(&rng, seed);
    for (i = 0; i < N; i++) y[i] = 2.0 * muon_rng_uniform(&rng) - 1.0;
    for (it = 0; it < INVERSE_ITERATIONS; it++) {
        for (i = 0; i + 1 < N; i++) {
            if (piv[i]) { double t = y[i]; y[i] = y[i + 1]; y[i + 1] = t; }
            y[i + 1] -= ml[i] * y[i];
        }
        for (i = N - 1; i >= 0; i--) {
            double v = y[i];
            if (i + 1 < N) v -= u1[i] * y[i + 1];
            if (i + 2 < N) v -= u2[i] * y[i + 2];
            y[i] = v / u0[i];
        }
        /* scale by the largest entry first, so the square cannot overflow */
        for (nrm = 0.0, i = 0; i < N; i++) if (fabs(y[i]) > nrm) nrm = fabs(y[i]);
        if (!(nrm > 0.0 && nrm <= DBL_MAX)) return -1.0;
        for (i = 0; i < N; i++) y[i] /= nrm;
        for (r2 = 0.0, i = 0; i < N; i++) r2 += y[i] * y[i];
        r2 = sqrt(r2);
        for (i = 0; i < N; i++) y[i] /= r2;
    }
    /* the residual in units of tnorm, so its square cannot underflow */
    unit = tnorm > 0.0 ? tnorm : 1.0;
    for (r2 = 0.0, i = 0; i < N; i++) {
        double v = (td[i] - lam) * y[i];
        if (i > 0) v += te[i] * y[i - 1];
        if (i + 1 < N) v += te[i + 1] * y[i + 1];
        v /= unit;
        r2 += v * v;
    }
    return sqrt(r2) * unit;
}

/* the eigenvalues d(N) (from QL on a copy of T = td, te), ord their
 * descending order; Y(k,N) <- the eigenvectors of A for the top k, each
 * through inverse_iteration on T and the reflectors kept in a and hs (see
 * tridiagonalize). A row of a non-positive eigenvalue is left zero, as the
 * caller reads none. Returns 0, or -1 where the top k are not separated or
 * a residual is too large (Y then unusable). f(4N), piv(N) scratch. */
static int top_eigenvectors(int N, const double *a, const double *hs, const double *td,
                            const double *te, const double *d, const int *ord, int k,
                            double *Y, double *f, int *piv)
{
    double tnorm = 0.0, lmax = 0.0;
    int i, t;
    for (i = 0; i < N; i++) {
        double r = fabs(td[i]) + (i > 0 ? fabs(te[i]) : 0.0) + (i + 1 < N ? fabs(te[i + 1]) : 0.0);
        if (r > tnorm) tnorm = r;
    }
    for (i = 0; i < N; i++) if (fabs(d[i]) > lmax) lmax = fabs(d[i]);
    for (t = 0; t < k; t++) {
        const double l = d[ord[t]];
        double gap = DBL_MAX, res;
        double *y = Y + (size_t)t * N;
        if (!(l > 0.0)) {
            memset(y, 0, (size_t)N * sizeof *y);
            continue;
        }
        if (t > 0) gap = d[ord[t - 1]] - l;
        if (t + 1 < N && l - d[ord[t + 1]] < gap) gap = l - d[ord[t + 1]];
        if (!(gap > TOPK_GAP * lmax)) return -1;
        res = inverse_iteration(N, td, te, l, tnorm, y, f, piv, 0x746f706bu + (uint64_t)t);
        if (!(res >= 0.0 && res <= TOPK_RESIDUAL * N * DBL_EPSILON * tnorm)) return -1;
    }
    /* y <- Q y = P_{N-1} ... P_1 y, P_i = I - u u^T / h acting on 0 .. i-1 */
    for (i = 1; i < N; i++) {
        const double *u = a + (size_t)i * N;
        if (hs[i] == 0.0) continue;
        for (t = 0; t < k; t++) {
            double *restrict y = Y + (size_t)t * N;
            const double c = muon_dot_d(u, y, i) / hs[i];
            int j;
MUON_SIMD(omp simd)
            for (j = 0; j < i; j++) y[j] -= c * u[j];
        }
    }
    return 0;
}

/* G(N,N) += D^T D for D(M,N) row-major, lower triangle (all that
 * tridiagonalize reads), as rank-4 updates by four rows of D at a time: row
 * i of G gets four multiply-adds per load and store, every access
 * contiguous. G goes in blocks of rows (GRAM_BLOCK_BYTES) that stay in
 * cache while all of D streams past: D is read once per block and G once,
 * instead of G M / 4 times. The order of the M terms of each entry is
 * fixed (rows in order, four at a time), whatever the build, blocking or
 * thread count. */
#define GRAM_BLOCK_BYTES (128 * 1024)
static void gram_lower(int M, int N, const double *D, double *G)
{
    int rows = (int)(GRAM_BLOCK_BYTES / ((size_t)N * sizeof *G)), i0, i1, i, j, t;
    if (rows < 4) rows = 4;
    for (i0 = 0; i0 < N; i0 = i1) {
        i1 = N - i0 < rows ? N : i0 + rows;
        for (t = 0; t < M; t += 4) {
            const double *r0 = D + (size_t)t * N;
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
                    for (i = i0; i < i1; i++) {
                        double *restrict gi = G + (size_t)i * N;
                        const double *restrict x = rr[q];
                        const double xi = x[i];
MUON_SIMD(omp simd)
                        for (j = 0; j <= i; j++) gi[j] += xi * x[j];
                    }
                break;
            }
            for (i = i0; i < i1; i++) {
                double *restrict gi = G + (size_t)i * N;
                const double *restrict x0 = r0, *restrict x1 = r1, *restrict x2 = r2, *restrict x3 = r3;
                const double a0 = x0[i], a1 = x1[i], a2 = x2[i], a3 = x3[i];
MUON_SIMD(omp simd)
                for (j = 0; j <= i; j++) gi[j] += ((a0 * x0[j] + a1 * x1[j]) + (a2 * x2[j] + a3 * x3[j]));
            }
        }
    }
}

typedef struct { double *C, *G, *Zt, *d, *e, *w, *z; int *ord; double *hs, *td, *te, *Y, *f; int *piv; } gram_bufs;

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
    TAKE(b->w, (size_t)2 * N * sizeof(double));
    TAKE(b->ord, (size_t)N * sizeof(int));
    if (k > 0) {
        TAKE(b->z, (size_t)M * sizeof(double));
        TAKE(b->hs, (size_t)N * sizeof(double));
        TAKE(b->td, (size_t)N * sizeof(double));
        TAKE(b->te, (size_t)N * sizeof(double));
        TAKE(b->Y, (size_t)k * N * sizeof(double));
        TAKE(b->f, (size_t)4 * N * sizeof(double));
        TAKE(b->piv, (size_t)N * sizeof(int));
    }
#undef TAKE
    return used;
}

size_t muon_svd_gram_workspace_bytes(int m, int n, int k)
{
    gram_bufs b;
    if (m < 1 || n < 1) return 0;
    return gram_layout(NULL, m >= n ? m : n, m >= n ? n : m, k, &b);
}

int muon_svd_gram_path_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int k,
                          float *Uk, float *Vk, int full, int *from_t)
{
    const int tall = m >= n, M = tall ? m : n, N = tall ? n : m;
    gram_bufs b;
    int i, j, t, st;
    if (from_t) *from_t = 0;
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
    memset(b.G, 0, (size_t)N * N * sizeof *b.G);
    gram_lower(M, N, b.C, b.G);

    /* values: the reduction keeping its reflectors (where vectors are
     * wanted), QL on a copy of T; the top vectors from T where they are
     * separated (top_eigenvectors), else from all N by the rotations, on G
     * again (kept in Zt) */
    if (k > 0 && !full) memcpy(b.Zt, b.G, (size_t)N * N * sizeof *b.G);
    if (k > 0 && full) {
        st = muon_sym_eigen(N, b.G, b.d, b.e, b.Zt, b.w);
    } else {
        tridiagonalize(N, b.G, b.d, b.e, 0, b.w, k > 0 ? b.hs : NULL);
        if (k > 0) {
            memcpy(b.td, b.d, (size_t)N * sizeof *b.d);
            memcpy(b.te, b.e, (size_t)N * sizeof *b.e);
        }
        st = tridiagonal_ql(N, b.d, b.e, NULL);
    }
    if (st) return muon_error(MUON_ERR_NUMERIC, "svd gram: QL did not converge in %d iterations", ql_max_iter);

    /* descending, ties by index (insertion sort: deterministic) */
    for (i = 0; i < N; i++) {
        for (j = i; j > 0 && b.d[b.ord[j - 1]] < b.d[i]; j--) b.ord[j] = b.ord[j - 1];
        b.ord[j] = i;
    }
    for (i = 0; i < N; i++) {
        double l = b.d[b.ord[i]];
        S[i] = l > 0.0 ? (float)sqrt(l) : 0.0f;   /* rounding can make a zero slightly negative */
    }
    if (k > 0 && !full && top_eigenvectors(N, b.G, b.hs, b.td, b.te, b.d, b.ord, k, b.Y, b.f, b.piv)) {
        double *d2 = b.td;   /* the rotations' d: the same bits as b.d */
        memcpy(b.G, b.Zt, (size_t)N * N * sizeof *b.G);
        if (muon_sym_eigen(N, b.G, d2, b.e, b.Zt, b.w))
            return muon_error(MUON_ERR_NUMERIC, "svd gram: QL did not converge in %d iterations", ql_max_iter);
        full = 1;
    }
    if (from_t) *from_t = k > 0 && !full;
    /* vectors: y = eigenvector (N-long, B's V), z = B y / sigma (M-long, B's U);
     * for tall A, U = z and V = y; for wide A (B = A^T), U = y and V = z */
    for (t = 0; t < k; t++) {
        const double *y = full ? b.Zt + (size_t)b.ord[t] * N : b.Y + (size_t)t * N;
        double l = b.d[b.ord[t]], sig = l > 0.0 ? sqrt(l) : 0.0;
        float *Uy = tall ? Vk : Uk, *Uz = tall ? Uk : Vk;
        for (j = 0; j < N; j++) Uy[(size_t)j * k + t] = sig > 0.0 ? (float)y[j] : 0.0f;
        for (i = 0; i < M; i++) b.z[i] = muon_dot_d(b.C + (size_t)i * N, y, N);
        for (i = 0; i < M; i++) Uz[(size_t)i * k + t] = sig > 0.0 ? (float)(b.z[i] / sig) : 0.0f;
    }
    return MUON_OK;
}

int muon_svd_gram_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int k,
                     float *Uk, float *Vk)
{
    return muon_svd_gram_path_ws(ws, m, n, A, S, k, Uk, Vk, 0, NULL);
}
