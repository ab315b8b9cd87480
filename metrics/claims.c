/* The numbers behind the research's claims, from one run's metrics.csv and
 * settings (docs/research.md gives each definition; tests/golden/gen_report.py
 * recomputes every one of them with NumPy/SciPy from the same files). */
#include "metrics/claims.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KQ = 0, KK, KV, KO, KUP, KDOWN, KGATE };

/* ---- statistics ------------------------------------------------------------ */

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h;
    int m;
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    h = d;
    for (m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2)), del;
        d = 1.0 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d; h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
        d = 1.0 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15) break;
    }
    return h;
}

/* Regularised incomplete beta I_x(a, b). */
static double betai(double a, double b, double x)
{
    double bt;
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1.0 - x));
    if (x < (a + 1.0) / (a + b + 2.0)) return bt * betacf(a, b, x) / a;
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

static double t_cdf(double t, double df)
{
    double p = 0.5 * betai(0.5 * df, 0.5, df / (df + t * t));
    return t >= 0 ? 1.0 - p : p;
}

double muon_t_quantile(double p, double df)
{
    double lo = -1e6, hi = 1e6;
    int i;
    if (!(p > 0 && p < 1) || !(df >= 1)) return NAN;
    for (i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_cdf(mid, df) < p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

muon_est muon_est_of(const double *v, int n)
{
    muon_est e;
    double s = 0, ss = 0;
    int i;
    e.n = n;
    e.m = e.se = e.lo = e.hi = NAN;
    if (n < 1) return e;
    for (i = 0; i < n; i++) {
        if (v[i] != v[i]) return e;
        s += v[i];
    }
    e.m = s / n;
    if (n < 2) return e;
    for (i = 0; i < n; i++) ss += (v[i] - e.m) * (v[i] - e.m);
    e.se = sqrt(ss / (n - 1) / n);
    e.lo = e.m - muon_t_quantile(0.975, n - 1) * e.se;
    e.hi = e.m + muon_t_quantile(0.975, n - 1) * e.se;
    return e;
}

muon_est muon_est_slope(const double *slope, const double *slope_se, int n, int L)
{
    muon_est e;
    if (n >= 2) return muon_est_of(slope, n);
    e = muon_est_of(slope, n);
    if (n == 1 && L >= 3 && slope_se[0] == slope_se[0]) {
        double t = muon_t_quantile(0.975, L - 2);
        e.se = slope_se[0];
        e.lo = e.m - t * e.se;
        e.hi = e.m + t * e.se;
    }
    return e;
}

static void ranks(const double *x, int n, double *r, int *idx)
{
    int i, j;
    for (i = 0; i < n; i++) idx[i] = i;
    /* insertion sort by value: n is at most layers x tracked steps */
    for (i = 1; i < n; i++) {
        int k = idx[i];
        for (j = i - 1; j >= 0 && x[idx[j]] > x[k]; j--) idx[j + 1] = idx[j];
        idx[j + 1] = k;
    }
    for (i = 0; i < n;) {
        int e = i;
        while (e + 1 < n && x[idx[e + 1]] == x[idx[i]]) e++;
        for (j = i; j <= e; j++) r[idx[j]] = 0.5 * (i + e) + 1.0;
        i = e + 1;
    }
}

static double pearson(const double *x, const double *y, int n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    int i;
    for (i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n; my /= n;
    for (i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

double muon_spearman(const double *x, const double *y, int n)
{
    double *rx, *ry, rho;
    int *idx;
    if (n < 2) return NAN;
    rx = malloc(sizeof *rx * (size_t)n);
    ry = malloc(sizeof *ry * (size_t)n);
    idx = malloc(sizeof *idx * (size_t)n);
    if (!rx || !ry || !idx) { free(rx); free(ry); free(idx); return NAN; }
    ranks(x, n, rx, idx);
    ranks(y, n, ry, idx);
    rho = pearson(rx, ry, n);
    free(rx); free(ry); free(idx);
    return rho;
}

void muon_ols_slope(const double *y, int n, double *slope, double *se)
{
    double mx = (n - 1) / 2.0, my = 0, sxy = 0, sxx = 0, ssr = 0, b, a;
    int i;
    *slope = *se = NAN;
    if (n < 2) return;
    for (i = 0; i < n; i++) { if (y[i] != y[i]) return; my += y[i]; }
    my /= n;
    for (i = 0; i < n; i++) { sxy += (i - mx) * (y[i] - my); sxx += (i - mx) * (i - mx); }
    b = sxy / sxx;
    a = my - b * mx;
    *slope = b;
    if (n < 3) return;
    for (i = 0; i < n; i++) ssr += (y[i] - a - b * i) * (y[i] - a - b * i);
    *se = sqrt(ssr / (n - 2) / sxx);
}

/* ---- alignment chance level -------------------------------------------------- */

/* Eigenvalues of the symmetric k x k matrix a (destroyed), cyclic Jacobi. */
static void sym_eig(double *a, int k, double *ev)
{
    int sweep, p, q, i;
    for (sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (p = 0; p < k; p++)
            for (q = p + 1; q < k; q++) off += a[p * k + q] * a[p * k + q];
        if (off < 1e-30) break;
        for (p = 0; p < k; p++)
            for (q = p + 1; q < k; q++) {
                double apq = a[p * k + q], th, t, cs, sn;
                if (fabs(apq) < 1e-300) continue;
                th = (a[q * k + q] - a[p * k + p]) / (2 * apq);
                t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                cs = 1 / sqrt(t * t + 1);
                sn = t * cs;
                for (i = 0; i < k; i++) { /* columns p, q */
                    double x = a[i * k + p], y = a[i * k + q];
                    a[i * k + p] = cs * x - sn * y;
                    a[i * k + q] = sn * x + cs * y;
                }
                for (i = 0; i < k; i++) { /* rows p, q */
                    double x = a[p * k + i], y = a[q * k + i];
                    a[p * k + i] = cs * x - sn * y;
                    a[q * k + i] = sn * x + cs * y;
                }
            }
    }
    for (i = 0; i < k; i++) ev[i] = a[i * k + i];
}

int muon_alignment_chance(int m, int k, int trials, uint64_t seed, double *mean, double *se)
{
    /* By rotation invariance one subspace can be the first k coordinates, so
     * U1^T U2 is the top k x k block of a random orthonormal m x k basis U2. */
    double *u, g[MUON_ALIGN_K * MUON_ALIGN_K], ev[MUON_ALIGN_K], s = 0, ss = 0;
    muon_rng r;
    int t, i, j, l;
    if (m < 1 || k < 1 || k > MUON_ALIGN_K || k > m || trials < 2)
        return muon_error(MUON_ERR_ARG, "alignment chance: bad shape m=%d k=%d or %d trials", m, k, trials);
    u = muon_alloc(sizeof *u * (size_t)m * (size_t)k);
    if (!u) return MUON_ERR_NOMEM;
    muon_rng_seed(&r, seed);
    for (t = 0; t < trials; t++) {
        double v = 0;
        for (i = 0; i < m * k; i++) u[i] = muon_rng_normal(&r); /* (m,k) column j at u[i*k+j] */
        for (j = 0; j < k; j++) { /* modified Gram-Schmidt, twice for orthogonality to rounding */
            int pass;
            for (pass = 0; pass < 2; pass++)
                for (l = 0; l < j; l++) {
                    double d = 0;
                    for (i = 0; i < m; i++) d += u[i * k + l] * u[i * k + j];
                    for (i = 0; i < m; i++) u[i * k + j] -= d * u[i * k + l];
                }
            {
                double nrm = 0;
                for (i = 0; i < m; i++) nrm += u[i * k + j] * u[i * k + j];
                nrm = sqrt(nrm);
                for (i = 0; i < m; i++) u[i * k + j] /= nrm;
            }
        }
        /* singular values of B = top k rows: sqrt of the eigenvalues of B^T B */
        for (i = 0; i < k; i++)
            for (j = 0; j < k; j++) {
                double d = 0;
                for (l = 0; l < k; l++) d += u[l * k + i] * u[l * k + j];
                g[i * k + j] = d;
            }
        sym_eig(g, k, ev);
        for (i = 0; i < k; i++) v += sqrt(ev[i] > 0 ? ev[i] : 0);
        v /= k;
        s += v;
        ss += v * v;
    }
    muon_free(u);
    *mean = s / trials;
    *se = sqrt((ss - trials * *mean * *mean) / (trials - 1) / trials);
    return MUON_OK;
}

/* ---- one run ----------------------------------------------------------------- */

static double mat(const muon_run *r, int metric, int kind, int layer, int ti)
{
    const float *m = r->t.mat[metric][kind];
    float v;
    if (!m || metric < 0 || layer >= r->t.n_layers) return NAN;
    v = m[(size_t)layer * (size_t)r->t.n_tracked + (size_t)ti];
    return isfinite(v) ? (double)v : NAN;
}

/* Mean over layers of sigma_max of a kind at tracked index ti. */
static double layer_mean(const muon_run *r, int metric, int kind, int ti)
{
    double s = 0;
    int l;
    for (l = 0; l < r->n_layers; l++) s += mat(r, metric, kind, l, ti);
    return s / r->n_layers;
}

/* Value of a model-wide series at a step, NaN if not logged. */
static double model_at(const muon_run *r, int which, long step)
{
    int lo = 0, hi = r->t.n_steps - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (r->t.steps[mid] == step) return r->t.model[(size_t)which * (size_t)r->t.n_steps + (size_t)mid];
        if (r->t.steps[mid] < step) lo = mid + 1; else hi = mid - 1;
    }
    return NAN;
}

/* sum of lr_s over steps a+1..b (the updates that moved the weights from
 * their state after step a to after step b). NaN if a step's lr is missing. */
static double lr_sum(const muon_run *r, long a, long b)
{
    double s = 0;
    long t;
    for (t = a + 1; t <= b; t++) {
        double v = model_at(r, MUON_MODEL_LR, t);
        if (!(v == v)) return NAN;
        s += v;
    }
    return s;
}

static long setting_long(const muon_run *r, const char *key, long dflt)
{
    const char *v = muon_run_setting(r, key);
    return v ? strtol(v, NULL, 10) : dflt;
}

static double setting_double(const muon_run *r, const char *key, double dflt)
{
    const char *v = muon_run_setting(r, key);
    return v ? strtod(v, NULL) : dflt;
}

static void kind_shape(const muon_run *r, int kind, int *rows, int *cols)
{
    int C = r->d_model, HS = C / r->n_heads, F = r->d_ff;
    if (r->merged_qkvo && kind <= KO) { *rows = (r->n_heads + 2 * r->n_kv_heads) * HS + C; *cols = C; return; }
    switch (kind) {
    case KQ: *rows = r->n_heads * HS; *cols = C; break;
    case KK: case KV: *rows = r->n_kv_heads * HS; *cols = C; break;
    case KO: *rows = C; *cols = r->n_heads * HS; break;
    case KUP: case KGATE: *rows = F; *cols = C; break;
    default: *rows = C; *cols = F; break;
    }
}

int muon_claims_run(const muon_run *r, muon_claims *c)
{
    int SIG = muon_metric_index("sigma_max"), ENT = muon_metric_index("spectral_entropy");
    int ALI = muon_metric_index("alignment_left"), USV = muon_metric_index("update_sv_max");
    int L = r->n_layers, n = r->t.n_tracked, k, l, i, ia, ib, last;
    long B = setting_long(r, "batch-size", 0), T = setting_long(r, "seq-len", 0);
    double *xs, *ys;
    size_t cap;
    memset(c, 0, sizeof *c);
    c->L = L;
    if (L > MUON_CL_MAXL) return muon_error(MUON_ERR_ARG, "report: %d layers, at most %d", L, MUON_CL_MAXL);
    /* everything NaN first: a number is only set where the log supports it */
    for (k = 0; k < MUON_CL_NK; k++) {
        c->growth_raw[0][k] = c->growth_raw[1][k] = c->growth_norm[0][k] = c->growth_norm[1][k] = NAN;
        c->ratio_raw[k] = c->ratio_norm[k] = c->slope[k] = c->slope_se[k] = NAN;
        c->rho_sigma_entropy[k] = c->bound_frac_mean[k] = c->bound_frac_max[k] = c->naive_frac_mean[k] = NAN;
        for (l = 0; l < MUON_CL_MAXL; l++) c->final_sigma[k][l] = c->bound_frac[k][l] = NAN;
    }
    for (l = 0; l < MUON_CL_MAXL; l++) c->qv[l] = c->t90[l] = c->align[l] = NAN;
    c->rho_t90 = c->align_mean = c->align_slope = c->align_slope_se = NAN;
    c->possible = c->max_update_sv = c->val = c->val_se = c->roughness = NAN;
    c->first = c->last = c->third_a = c->third_b = -1;
    if (n < 1) return MUON_OK;
    last = n - 1;
    c->first = r->t.tracked[0];
    c->last = r->t.tracked[last];
    for (k = 0; k < MUON_CL_NK; k++) c->have[k] = SIG >= 0 && r->t.mat[SIG][k] && mat(r, SIG, k, 0, last) == mat(r, SIG, k, 0, last);

    /* the optimizer's step scale per kind: Muon's shape factor, 1 for AdamW */
    for (k = 0; k < MUON_CL_NK; k++) {
        int rows, cols;
        kind_shape(r, k, &rows, &cols);
        c->scale[k] = r->adamw ? 1.0 : (double)muon_update_scale(r->moonlight_scale ? MUON_MSCALE_MOONLIGHT : MUON_MSCALE_DEFAULT, rows, cols);
    }

    /* growth slows: first third [first, a], last third [b, last] */
    ia = -1; ib = -1;
    for (i = 0; i < n; i++) if (3 * (r->t.tracked[i] - c->first) <= (c->last - c->first)) ia = i;
    for (i = n - 1; i >= 0; i--) if (3 * (r->t.tracked[i] - c->first) >= 2 * (c->last - c->first)) ib = i;
    if (ia > 0 && ib >= 0 && ib < last && B > 0 && T > 0) {
        double lra = lr_sum(r, c->first, r->t.tracked[ia]), lrb = lr_sum(r, r->t.tracked[ib], c->last);
        c->third_a = r->t.tracked[ia];
        c->third_b = r->t.tracked[ib];
        for (k = 0; k < MUON_CL_NK; k++) {
            double d0, d1;
            if (!c->have[k]) continue;
            d0 = layer_mean(r, SIG, k, ia) - layer_mean(r, SIG, k, 0);
            d1 = layer_mean(r, SIG, k, last) - layer_mean(r, SIG, k, ib);
            c->growth_raw[0][k] = d0 / ((double)(c->third_a - c->first) * B * T) * 1e5;
            c->growth_raw[1][k] = d1 / ((double)(c->last - c->third_b) * B * T) * 1e5;
            c->growth_norm[0][k] = d0 / (lra * c->scale[k]);
            c->growth_norm[1][k] = d1 / (lrb * c->scale[k]);
            c->ratio_raw[k] = c->growth_raw[1][k] / c->growth_raw[0][k];
            c->ratio_norm[k] = c->growth_norm[1][k] / c->growth_norm[0][k];
        }
    }

    /* final sigma_max over depth; Q over V; V's 90% step */
    for (k = 0; k < MUON_CL_NK; k++) {
        if (!c->have[k]) continue;
        for (l = 0; l < L; l++) c->final_sigma[k][l] = mat(r, SIG, k, l, last);
        muon_ols_slope(c->final_sigma[k], L, &c->slope[k], &c->slope_se[k]);
    }
    if (c->have[KQ] && c->have[KV]) {
        double lay[MUON_CL_MAXL];
        for (l = 0; l < MUON_CL_MAXL; l++) lay[l] = l;
        for (l = 0; l < L; l++) {
            double fin = c->final_sigma[KV][l], goal = 0.9 * fin, prev = mat(r, SIG, KV, l, 0);
            c->qv[l] = c->final_sigma[KQ][l] / fin;
            if (prev >= goal) { c->t90[l] = (double)r->t.tracked[0]; continue; }
            for (i = 1; i < n; i++) {
                double cur = mat(r, SIG, KV, l, i);
                if (cur >= goal) {
                    c->t90[l] = r->t.tracked[i - 1] + (goal - prev) / (cur - prev) * (double)(r->t.tracked[i] - r->t.tracked[i - 1]);
                    break;
                }
                prev = cur;
            }
        }
        c->rho_t90 = muon_spearman(lay, c->t90, L);
    }

    /* stretching vs entropy over (layer, step) */
    cap = (size_t)L * (size_t)n;
    xs = muon_alloc(sizeof *xs * (cap ? cap : 1));
    ys = muon_alloc(sizeof *ys * (cap ? cap : 1));
    if (!xs || !ys) { muon_free(xs); muon_free(ys); return MUON_ERR_NOMEM; }
    for (k = 0; k < MUON_CL_NK; k++) {
        int m = 0, ok = 1;
        if (!c->have[k] || ENT < 0 || !r->t.mat[ENT][k]) continue;
        for (l = 0; l < L; l++)
            for (i = 0; i < n; i++) {
                xs[m] = mat(r, SIG, k, l, i);
                ys[m] = mat(r, ENT, k, l, i);
                if (xs[m] != xs[m] || ys[m] != ys[m]) ok = 0;
                m++;
            }
        if (ok) c->rho_sigma_entropy[k] = muon_spearman(xs, ys, m);
    }
    muon_free(xs);
    muon_free(ys);

    /* lock-in: Q's left alignment over the second half, per layer */
    if (ALI >= 0 && r->t.mat[ALI][KQ]) {
        double s = 0;
        int ok = 1;
        for (l = 0; l < L; l++) {
            double a = 0;
            int cnt = 0;
            for (i = 0; i < n; i++)
                if (2 * (r->t.tracked[i] - c->first) > c->last - c->first) {
                    double v = mat(r, ALI, KQ, l, i);
                    if (v == v) { a += v; cnt++; }
                }
            c->align[l] = cnt ? a / cnt : NAN;
            if (!cnt) ok = 0;
            s += c->align[l];
        }
        if (ok) {
            c->align_mean = s / L;
            muon_ols_slope(c->align, L, &c->align_slope, &c->align_slope_se);
        }
    }

    /* the norm bound: growth against sum lr_t * scale since the first tracked step */
    c->possible = lr_sum(r, c->first, c->last);
    if (USV >= 0) {
        for (k = 0; k < MUON_CL_NK; k++)
            for (l = 0; l < L && r->t.mat[USV][k]; l++)
                for (i = 0; i < n; i++) {
                    double v = mat(r, USV, k, l, i);
                    if (v == v && !(v <= c->max_update_sv)) c->max_update_sv = v;
                }
    }
    if (!r->adamw && c->possible == c->possible && c->last > c->first) {
        double peak = setting_double(r, "lr", NAN), osv = c->max_update_sv == c->max_update_sv && c->max_update_sv > 1 ? c->max_update_sv : 1.0;
        for (k = 0; k < MUON_CL_NK; k++) {
            double s = 0, mx = -INFINITY, sn = 0;
            if (!c->have[k]) continue;
            for (l = 0; l < L; l++) {
                double s0 = mat(r, SIG, k, l, 0), s1 = c->final_sigma[k][l];
                c->bound_frac[k][l] = (s1 - s0) / (c->possible * c->scale[k]);
                s += c->bound_frac[k][l];
                if (c->bound_frac[k][l] > mx) mx = c->bound_frac[k][l];
                sn += (s1 - s0) / ((double)(c->last - c->first) * peak);
                if (s1 > s0 + c->possible * c->scale[k] * osv * (1 + 1e-6)) c->bound_violations++;
            }
            c->bound_frac_mean[k] = s / L;
            c->bound_frac_max[k] = mx;
            c->naive_frac_mean[k] = sn / L;
        }
    }

    /* validation loss at its last evaluation (the whole split at the end) */
    for (i = r->t.n_steps - 1; i >= 0; i--) {
        double v = r->t.model[(size_t)MUON_MODEL_VAL_LOSS * (size_t)r->t.n_steps + (size_t)i];
        if (v == v) {
            c->val = v;
            c->val_se = r->t.model[(size_t)MUON_MODEL_VAL_LOSS_SE * (size_t)r->t.n_steps + (size_t)i];
            break;
        }
    }
    /* stability: RMS of successive train-loss differences over the second half */
    {
        double s = 0, prev = NAN;
        long cnt = 0, half = r->t.n_steps ? r->t.steps[r->t.n_steps - 1] / 2 : 0;
        for (i = 0; i < r->t.n_steps; i++) {
            double v = r->t.model[(size_t)MUON_MODEL_LOSS * (size_t)r->t.n_steps + (size_t)i];
            if (r->t.steps[i] <= half || !(v == v)) { prev = r->t.steps[i] <= half ? NAN : prev; continue; }
            if (prev == prev) { s += (v - prev) * (v - prev); cnt++; }
            prev = v;
        }
        if (cnt > 0) c->roughness = sqrt(s / cnt);
    }
    return MUON_OK;
}
