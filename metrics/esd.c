/* The power-law exponent of a weight matrix's empirical spectral density
 * (ESD): the eigenvalues x of W^T W, fitted as p(x) ~ x^-alpha above a cut-off
 * xmin, following Clauset, Shalizi & Newman, "Power-law distributions in
 * empirical data", SIAM Review 51 (2009), section 3 -- the method
 * WeightWatcher's `alpha` uses (Martin & Mahoney 2021: well-trained layers
 * show alpha in roughly [2, 6], heavier tails, smaller alpha, as training
 * correlates the weights).
 *
 * For a candidate xmin with the n_t values x_i >= xmin, the continuous MLE is
 *   alpha = 1 + n_t / sum_i ln(x_i / xmin)                     (Clauset eq. 3.1)
 * and the fitted CDF P(x) = 1 - (x/xmin)^(1-alpha). The KS distance is
 *   D = max_i max(P(x_(i)) - i/n_t, (i+1)/n_t - P(x_(i)))      (x_(i) ascending)
 * exactly as scipy.stats.kstest computes it; xmin is the candidate of least
 * D. tests/golden/gen_esd.py checks all of this against SciPy (a numerical
 * likelihood maximisation and scipy.stats.kstest), see docs/experiments.md.
 * Everything is in double; the cost is O(n^2) for n eigenvalues, which is
 * below the SVD's O(n^3). */
#include "metrics/esd.h"
#include "linalg/svd_values.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int muon_esd_fit_values(const double *eig, int n, muon_esd_fit *out)
{
    double *x, *logx;
    int i, k, m = 0;
    if (!out || n < 0 || (n > 0 && !eig)) return muon_error(MUON_ERR_ARG, "esd: bad arguments");
    out->alpha = out->xmin = out->ks = NAN;
    out->n_tail = 0;
    out->n_eig = 0;
    x = muon_alloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    logx = muon_alloc((size_t)(n > 0 ? n : 1) * sizeof *logx);
    if (!x || !logx) {
        muon_free(x);
        muon_free(logx);
        return muon_error(MUON_ERR_NOMEM, "esd: out of memory for %d eigenvalues", n);
    }
    for (i = 0; i < n; i++)
        if (eig[i] > 0 && eig[i] <= DBL_MAX) x[m++] = eig[i];
    out->n_eig = m;
    qsort(x, (size_t)m, sizeof *x, cmp_double);
    for (i = 0; i < m; i++) logx[i] = log(x[i]);

    /* k: index of the candidate xmin = x[k], the first of its run of ties */
    for (k = 0; k + MUON_ESD_MIN_TAIL <= m; k++) {
        int nt = m - k;
        double s = 0.0, alpha, d = 0.0, lx0 = logx[k];
        if (k > 0 && x[k] == x[k - 1]) continue;
        /* sum of ln(x_i/xmin) from the back, so the small terms come first */
        for (i = m - 1; i >= k; i--) s += logx[i] - lx0;
        if (!(s > 0)) continue; /* all of the tail equal: no exponent */
        alpha = 1.0 + (double)nt / s;
        for (i = k; i < m; i++) {
            double p = 1.0 - exp((1.0 - alpha) * (logx[i] - lx0));
            double lo = p - (double)(i - k) / nt, hi = (double)(i - k + 1) / nt - p;
            if (lo > d) d = lo;
            if (hi > d) d = hi;
        }
        if (isnan(out->ks) || d < out->ks) {
            out->ks = d;
            out->alpha = alpha;
            out->xmin = x[k];
            out->n_tail = nt;
        }
    }
    muon_free(x);
    muon_free(logx);
    return MUON_OK;
}

int muon_esd_alpha_sigma(int rows, int cols, const float *s, muon_esd_fit *out)
{
    int r = rows < cols ? rows : cols, i, m = 0, st;
    double *e, tau;
    if (!out || !s || rows < 1 || cols < 1) return muon_error(MUON_ERR_ARG, "esd: bad matrix (%d,%d)", rows, cols);
    e = muon_alloc((size_t)r * sizeof *e);
    if (!e) return muon_error(MUON_ERR_NOMEM, "esd: out of memory for %d eigenvalues", r);
    tau = (double)(rows > cols ? rows : cols) * (double)FLT_EPSILON * (double)s[0];
    for (i = 0; i < r; i++)
        if ((double)s[i] > tau) e[m++] = (double)s[i] * (double)s[i];
    st = muon_esd_fit_values(e, m, out);
    muon_free(e);
    return st;
}

int muon_esd_alpha(int rows, int cols, const float *W, muon_esd_fit *out)
{
    int r, st;
    float *s;
    if (!out || !W || rows < 1 || cols < 1) return muon_error(MUON_ERR_ARG, "esd: bad matrix (%d,%d)", rows, cols);
    r = rows < cols ? rows : cols;
    if (!muon_all_finite(W, (size_t)rows * (size_t)cols)) {
        out->alpha = out->xmin = out->ks = NAN;
        out->n_tail = out->n_eig = 0;
        return MUON_OK;
    }
    s = muon_alloc((size_t)r * sizeof *s);
    if (!s) return muon_error(MUON_ERR_NOMEM, "esd: out of memory for %d singular values", r);
    {
        /* values only, to DBL_EPSILON sigma_1: far below the zero rule's cut */
        muon_workspace ws = {0, 0};
        st = muon_svd_values_ws(&ws, rows, cols, W, s, NULL);
        muon_workspace_free(&ws);
    }
    if (!st) st = muon_esd_alpha_sigma(rows, cols, s, out);
    muon_free(s);
    return st;
}
