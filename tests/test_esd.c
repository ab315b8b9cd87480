/* esd_alpha (metrics/esd.c) against tests/golden/gen_esd.py: SciPy's
 * numerical maximum likelihood and scipy.stats.kstest on synthetic power-law
 * spectra with known exponents, a matrix with a known spectrum, and the
 * matrices of a real checkpoint; then the edge cases and the tracking rows. */
#include "test.h"
#include "metrics/esd.h"
#include "metrics/spectral.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference alpha/xmin/ks were computed in float64 and stored as float32:
 * 3e-7 relative is that storage rounding (SciPy's optimiser is at 1e-12). */
#define STORE_RTOL 3e-7

static void value_case(const muon_safetensors *f, const char *name)
{
    char key[96];
    const muon_tensor *e;
    const float *want, *truth;
    double *eig;
    muon_esd_fit fit;
    size_t i;
    snprintf(key, sizeof key, "%s.eig", name);
    e = muon_safetensors_find(f, key);
    snprintf(key, sizeof key, "%s.want", name);
    want = golden_get(f, key, 4);
    snprintf(key, sizeof key, "%s.true_alpha", name);
    truth = golden_get(f, key, 1);
    if (!e || !want || !truth) { check(0, "esd golden case %s missing", name); return; }
    eig = malloc(e->numel * sizeof *eig);
    if (!eig) { check(0, "out of memory"); return; }
    for (i = 0; i < e->numel; i++) eig[i] = e->data[i];
    check(muon_esd_fit_values(eig, (int)e->numel, &fit) == MUON_OK, "%s: fit runs", name);
    check_near("esd alpha vs SciPy MLE", fit.alpha, want[0], STORE_RTOL, 0);
    check(fit.xmin == (double)want[1], "%s: xmin %.9g is SciPy's %.9g (the same eigenvalue)", name, fit.xmin, (double)want[1]);
    check_near("esd KS distance vs scipy.stats.kstest", fit.ks, want[2], STORE_RTOL, 1e-9);
    check(fit.n_tail == (int)want[3], "%s: tail of %d values (SciPy %d)", name, fit.n_tail, (int)want[3]);
    if (!isnan(truth[0])) {
        /* MLE standard error (alpha-1)/sqrt(n) (Clauset eq. 3.2); 4 of them */
        double se = (fit.alpha - 1.0) / sqrt((double)fit.n_tail);
        check(fabs(fit.alpha - truth[0]) <= 4 * se, "%s: alpha %.3f within 4 standard errors (%.3f) of the true %.2f",
              name, fit.alpha, se, (double)truth[0]);
    }
    /* order does not matter: reversed input, same fit */
    {
        muon_esd_fit rev;
        size_t n = e->numel;
        for (i = 0; i < n / 2; i++) { double t = eig[i]; eig[i] = eig[n - 1 - i]; eig[n - 1 - i] = t; }
        muon_esd_fit_values(eig, (int)n, &rev);
        check(rev.alpha == fit.alpha && rev.xmin == fit.xmin, "%s: reversed input gives the same fit", name);
    }
    free(eig);
}

/* A matrix: our SVD (double inside, float32 values) feeds the fit. Its
 * singular values differ from float64 LAPACK's by ~1e-7 relative; that moves
 * alpha by about as much, so 1e-5. */
static void matrix_case(const muon_safetensors *f, const char *name, int rows, int cols, double *worst)
{
    char key[128];
    const float *W, *want;
    muon_esd_fit fit;
    snprintf(key, sizeof key, "%s.W", name);
    W = muon_safetensors_find(f, key) ? muon_safetensors_find(f, key)->data : NULL;
    if (!W) { snprintf(key, sizeof key, "%s", name); W = muon_safetensors_find(f, key) ? muon_safetensors_find(f, key)->data : NULL; }
    snprintf(key, sizeof key, "%s.want", name);
    want = golden_get(f, key, 4);
    if (!W || !want) { check(0, "esd golden matrix %s missing", name); return; }
    check(muon_esd_alpha(rows, cols, W, &fit) == MUON_OK, "%s: esd_alpha runs", name);
    check(fit.xmin > 0 && fabs(fit.xmin - want[1]) <= 1e-5 * want[1] && fit.n_tail == (int)want[3],
          "%s: same xmin (%.6g vs %.6g) and tail (%d vs %d) as NumPy/SciPy", name, fit.xmin, (double)want[1],
          fit.n_tail, (int)want[3]);
    check_near(name, fit.alpha, want[0], 1e-5, 0);
    if (worst && fabs(fit.alpha - want[0]) / want[0] > *worst) *worst = fabs(fit.alpha - want[0]) / want[0];
    {
        /* the tracking pass fits the singular values of the metrics' own
         * (Gram-path) SVD: float32-exact down to 1e-4 sigma_1
         * (linalg/svd_gram.h), so the same tolerances as the Jacobi's */
        muon_workspace ws[2] = {{0, 0}, {0, 0}};
        muon_metrics mt;
        muon_esd_fit tf;
        int st = muon_metrics_compute_ws(ws, rows, cols, W, NULL, NULL, NULL, &mt, &tf);
        muon_workspace_free(&ws[0]);
        muon_workspace_free(&ws[1]);
        check(st == MUON_OK && fabs(tf.xmin - want[1]) <= 1e-5 * want[1] && tf.n_tail == (int)want[3],
              "%s, tracking pass's fit: same xmin (%.6g vs %.6g) and tail (%d vs %d) as NumPy/SciPy", name, tf.xmin,
              (double)want[1], tf.n_tail, (int)want[3]);
        check_near("esd alpha of the tracking pass vs SciPy", tf.alpha, want[0], 1e-5, 0);
    }
}

static void test_golden(void)
{
    muon_safetensors f;
    const char *real;
    double worst = 0;
    int n = 0;
    if (golden_open("esd.safetensors", &f)) return;
    value_case(&f, "pareto2");
    value_case(&f, "pareto3");
    value_case(&f, "pareto45");
    value_case(&f, "body_tail");
    value_case(&f, "marchenko_pastur");
    matrix_case(&f, "matrix_pareto", 128, 192, NULL);
    {
        const muon_tensor *t = muon_safetensors_find(&f, "matrix_pareto.true_alpha"), *w = muon_safetensors_find(&f, "matrix_pareto.want");
        if (t && w) {
            double se = (w->data[0] - 1.0) / sqrt((double)w->data[3]);
            check(fabs(w->data[0] - t->data[0]) <= 4 * se, "matrix with a Pareto(2.5) spectrum: alpha %.3f within 4 s.e. (%.3f)",
                  (double)w->data[0], se);
        }
    }
    real = muon_safetensors_meta(&f, "real");
    if (real && *real) {
        char buf[1024], *tok;
        strncpy(buf, real, sizeof buf - 1);
        buf[sizeof buf - 1] = 0;
        for (tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            char key[160];
            const muon_tensor *t;
            snprintf(key, sizeof key, "real.%s", tok);
            t = muon_safetensors_find(&f, key);
            if (!t || t->ndim != 2) { check(0, "real matrix %s missing", key); continue; }
            matrix_case(&f, key, (int)t->shape[0], (int)t->shape[1], &worst);
            n++;
        }
        check(n >= 8, "real checkpoint: %d matrices fitted, worst alpha rel error %.2e", n, worst);
    } else {
        check(0, "esd golden: no real-checkpoint matrices listed");
    }
    muon_safetensors_free(&f);
}

static void test_edges(void)
{
    double few[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, flat[12], mixed[14];
    float Z[12 * 12], N[4 * 4];
    muon_esd_fit fit;
    int i;
    check(muon_esd_fit_values(few, 9, &fit) == MUON_OK && isnan(fit.alpha) && fit.n_eig == 9,
          "9 values (< MUON_ESD_MIN_TAIL): alpha NaN");
    for (i = 0; i < 12; i++) flat[i] = 2.5;
    check(muon_esd_fit_values(flat, 12, &fit) == MUON_OK && isnan(fit.alpha), "all eigenvalues equal: no exponent (NaN)");
    for (i = 0; i < 10; i++) mixed[i] = pow(1.5, i);
    mixed[10] = 0; mixed[11] = -3; mixed[12] = NAN; mixed[13] = INFINITY;
    i = muon_esd_fit_values(mixed, 14, &fit);
    check(i == MUON_OK && fit.n_eig == 10 && fit.n_tail == 10 && fit.xmin == 1.0,
          "zero, negative, NaN and Inf values are dropped (%d of 14 kept, tail %d)", fit.n_eig, fit.n_tail);
    {
        /* geometric values x_i = 1.5^i, i = 0..9: sum ln(x/xmin) = 45 ln 1.5 */
        double want = 1.0 + 10.0 / (45.0 * log(1.5));
        check_near("closed-form MLE on 1.5^i", fit.alpha, want, 1e-14, 0);
    }
    memset(Z, 0, sizeof Z);
    check(muon_esd_alpha(12, 12, Z, &fit) == MUON_OK && isnan(fit.alpha) && fit.n_eig == 0, "zero matrix: alpha NaN");
    memset(N, 0, sizeof N);
    N[5] = NAN;
    check(muon_esd_alpha(4, 4, N, &fit) == MUON_OK && isnan(fit.alpha), "NaN matrix: alpha NaN");
    check(muon_esd_fit_values(NULL, 3, &fit) == MUON_ERR_ARG, "NULL values refused");
    check(muon_esd_alpha(0, 3, Z, &fit) == MUON_ERR_ARG, "0-row matrix refused");
    muon_alloc_fail_after(1);
    check(muon_esd_fit_values(few, 9, &fit) == MUON_ERR_NOMEM, "out of memory reported");
    muon_alloc_fail_after(0);
}

void suite_esd(void)
{
    test_golden();
    test_edges();
}
