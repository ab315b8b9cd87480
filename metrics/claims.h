/* The research's claims, measured on runs (metrics/claims.c): the numbers
 * behind `muon report`, separated from the Markdown that states them.
 * Definitions, chance level and the norm bound: docs/research.md. */
#ifndef MUON_METRICS_CLAIMS_H
#define MUON_METRICS_CLAIMS_H

#include "metrics/run_set.h"

#define MUON_CL_NK MUON_CSV_NKINDS
#define MUON_CL_MAXL 64
#define MUON_ALIGN_K 5   /* top-k subspaces of the alignment metric (SPEC: k = 5) */

/* One run's numbers; NaN where the log cannot give one. */
typedef struct {
    int L;                       /* layers */
    int have[MUON_CL_NK];        /* kind logged (sigma_max at the last step) */
    long first, last;            /* first and last tracked steps */
    long third_a, third_b;       /* first third [first, third_a], last third [third_b, last] */
    double growth_raw[2][MUON_CL_NK];  /* d(mean over layers of sigma_max) per 100k tokens; [0] first third, [1] last */
    double growth_norm[2][MUON_CL_NK]; /* the same per unit of sum lr_t*scale over the interval */
    double ratio_raw[MUON_CL_NK], ratio_norm[MUON_CL_NK]; /* last third / first third */
    double final_sigma[MUON_CL_NK][MUON_CL_MAXL];
    double slope[MUON_CL_NK], slope_se[MUON_CL_NK]; /* OLS of final sigma_max on layer index */
    double qv[MUON_CL_MAXL];     /* sigma_max(Q) / sigma_max(V), last step */
    double t90[MUON_CL_MAXL];    /* step at which V first reaches 90% of its final sigma_max (interpolated) */
    double rho_t90;              /* Spearman of (layer, t90) */
    double rho_sigma_entropy[MUON_CL_NK]; /* Spearman of (sigma_max, entropy) over (layer, step) */
    double align[MUON_CL_MAXL];  /* alignment_left of Q, mean over tracked steps > last/2 */
    double align_mean, align_slope, align_slope_se;
    double scale[MUON_CL_NK];    /* the optimizer's shape scale per kind (1 for AdamW) */
    double possible;             /* sum over steps first+1..last of lr_t (times scale[k] per kind) */
    double bound_frac[MUON_CL_NK][MUON_CL_MAXL]; /* (sigma_last - sigma_first) / (possible*scale) */
    double bound_frac_mean[MUON_CL_NK], bound_frac_max[MUON_CL_NK];
    double naive_frac_mean[MUON_CL_NK]; /* growth / (steps x peak lr): the write-ups' bound */
    double max_update_sv;        /* largest update_sv_max logged (sigma_max of O) */
    int bound_violations;        /* matrices above sigma_first + possible*scale*max(1, max_update_sv) */
    double val, val_se;          /* last val_loss (the whole split at the end) and its SE */
    double roughness;            /* RMS of successive train-loss differences, second half */
} muon_claims;

/* Computes the claims of run r. MUON_OK even when some are not testable
 * (NaN); MUON_ERR_NOMEM. */
int muon_claims_run(const muon_run *r, muon_claims *c);

/* A number over a group's seeds: mean, standard error sd/sqrt(n) (NaN for
 * one seed), 95% interval mean +- t(0.975, n-1) * se. */
typedef struct { double m, se, lo, hi; int n; } muon_est;

/* mean/se/interval of v(n) (NaN if any value is NaN). */
muon_est muon_est_of(const double *v, int n);
/* The slope over layers of a group: over seeds when n >= 2, else the one
 * run's OLS slope +- t(0.975, L-2) * its standard error. */
muon_est muon_est_slope(const double *slope, const double *slope_se, int n, int L);

/* Student t quantile (p in (0,1), df >= 1), by bisection on the CDF from the
 * regularised incomplete beta function. */
double muon_t_quantile(double p, double df);
/* Spearman rank correlation of x(n), y(n), ties given average ranks; NaN if
 * n < 2 or a variable is constant. */
double muon_spearman(const double *x, const double *y, int n);
/* Least-squares slope of y on x = 0..n-1 and its standard error (NaN if n < 3). */
void muon_ols_slope(const double *y, int n, double *slope, double *se);

/* Chance level of the alignment metric: the mean over trials of the mean
 * singular value of U1^T U2 for independent uniformly random k-dimensional
 * subspaces of R^m (Haar: orthonormalised Gaussian bases), with its Monte
 * Carlo standard error. Deterministic in seed. */
int muon_alignment_chance(int m, int k, int trials, uint64_t seed, double *mean, double *se);

#endif
