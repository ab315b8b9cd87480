/* metrics/esd.h -- the empirical spectral density's power-law exponent
 * (metrics/esd.c) and its tracking during training. See docs/experiments.md. */
#ifndef MUON_METRICS_ESD_H
#define MUON_METRICS_ESD_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

/* Tails shorter than this are not fitted: below ~10 points the KS distance of
 * almost any exponent is small, so x_min would drift to the top eigenvalues
 * (Clauset et al. 2009, section 3.3, warn of exactly this). */
#define MUON_ESD_MIN_TAIL 10

typedef struct {
    double alpha;   /* power-law exponent of p(x) ~ x^-alpha for x >= xmin; NaN if not fitted */
    double xmin;    /* the chosen lower cut-off (an eigenvalue) */
    double ks;      /* Kolmogorov-Smirnov distance of the tail to the fitted law */
    int n_tail;     /* eigenvalues >= xmin */
    int n_eig;      /* positive eigenvalues considered */
} muon_esd_fit;

/* Fits eig(n) (any order; copied, not modified) by continuous maximum
 * likelihood, alpha = 1 + n_tail / sum ln(x/xmin), choosing xmin among the
 * distinct positive values with at least MUON_ESD_MIN_TAIL values at or above
 * it as the one minimising the KS distance (the first, i.e. smallest, on a
 * tie). Values <= 0 are dropped. Fewer than MUON_ESD_MIN_TAIL positive values:
 * alpha = NaN, MUON_OK. MUON_ERR_ARG (n < 0, NULL), MUON_ERR_NOMEM. */
int muon_esd_fit_values(const double *eig, int n, muon_esd_fit *out);

/* The fit of the eigenvalues of W^T W (squared singular values of W(rows,cols)),
 * numerically zero ones (sigma <= max(rows,cols) * 2^-23 * sigma_1, the rule of
 * metrics/spectral.c) dropped. W with NaN/Inf gives alpha NaN. */
int muon_esd_alpha(int rows, int cols, const float *W, muon_esd_fit *out);
/* The same fit from W's singular values s(min(rows,cols)), descending, as
 * the tracking pass has them already (metrics/spectral.c): no second SVD. */
int muon_esd_alpha_sigma(int rows, int cols, const float *s, muon_esd_fit *out);

#endif
