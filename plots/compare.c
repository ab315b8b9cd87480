/* Comparison figures of several runs (`muon compare`): what a researcher
 * would otherwise do in pandas. One colour per group of runs (runs differing
 * only in seed are one group: mean line, min-max band over the seeds), one
 * line style per compared layer (first solid, middle dashed, last dotted),
 * the same colours in every figure. Drawn from metrics.csv alone. */
#include "plots/compare.h"
#include "plots/panel.h"
#include "io/atomic_file.h"
#include "metrics/claims.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Okabe & Ito (2008), as the research plots, one per group */
static const muon_rgb group_cols[8] = {
    { 0x00, 0x72, 0xB2 }, { 0xD5, 0x5E, 0x00 }, { 0x00, 0x9E, 0x73 }, { 0xCC, 0x79, 0xA7 },
    { 0xE6, 0x9F, 0x00 }, { 0x56, 0xB4, 0xE9 }, { 0x00, 0x00, 0x00 }, { 0xF0, 0xE4, 0x42 }
};
static const double layer_dash[3] = { 0, 10, 3 };
static const char *const role_name[3] = { "first", "middle", "last" };

enum { W = 1200, H = 750 };

const char *const muon_compare_files[MUON_COMPARE_NFIG] = {
    "compare_loss.png", "compare_sigma_max_q.png", "compare_sigma_max_v.png",
    "compare_stable_rank.png", "compare_entropy.png", "compare_alignment.png",
    "compare_update_rank.png", "compare_subspace_efficiency.png", "compare_spectral_gap.png",
    "compare_ortho_error.png", "compare_depth.png"
};

/* A group's curve: mean, min and max over its seeds at the steps all of
 * them logged. */
typedef struct {
    int n;
    double x[4096], m[4096], lo[4096], hi[4096];
} curve;

/* value of run r's (metric, kind, layer) at tracked index i; model series
 * when metric < 0 (-1 - which). */
static double value_at(const muon_run *r, int metric, int kind, int layer, int i)
{
    if (metric < 0) return r->t.model[(size_t)(-1 - metric) * (size_t)r->t.n_steps + (size_t)i];
    {
        const float *m = r->t.mat[metric][kind];
        float v;
        if (!m) return NAN;
        v = m[(size_t)layer * (size_t)r->t.n_tracked + (size_t)i];
        return isfinite(v) ? (double)v : NAN;
    }
}

static int find_step(const long *steps, int n, long s)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (steps[mid] == s) return mid;
        if (steps[mid] < s) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

static void group_curve(const muon_run_set *s, int g, int metric, int kind, int layer, curve *c)
{
    const muon_run *r0 = &s->runs[s->members[g][0]];
    int n0 = metric < 0 ? r0->t.n_steps : r0->t.n_tracked, i, j;
    const long *st0 = metric < 0 ? r0->t.steps : r0->t.tracked;
    int stride = (n0 + 4095) / 4096; /* long logs: every stride-th step */
    c->n = 0;
    for (i = 0; i < n0 && c->n < 4096; i += stride > 0 ? stride : 1) {
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        int ok = 1;
        for (j = 0; j < s->group_size[g] && ok; j++) {
            const muon_run *r = &s->runs[s->members[g][j]];
            int k = find_step(metric < 0 ? r->t.steps : r->t.tracked, metric < 0 ? r->t.n_steps : r->t.n_tracked, st0[i]);
            double v = k < 0 ? NAN : value_at(r, metric, kind, layer, k);
            if (!(v == v) || !isfinite(v)) { ok = 0; break; }
            sum += v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (!ok) continue;
        c->x[c->n] = (double)st0[i];
        c->m[c->n] = sum / s->group_size[g];
        c->lo[c->n] = lo;
        c->hi[c->n] = hi;
        c->n++;
    }
}

/* Frame, grid, ticks and labels for data range [xlo,xhi] x [ylo,yhi] in the
 * pixel box; returns the axes. */
static muon_axes frame(muon_canvas *c, int bx0, int by0, int bx1, int by1, double xlo, double xhi,
                       double ylo, double yhi, const char *title, int title_scale, const char *xlabel,
                       const char *ylabel, int xint, double tokens_per_step)
{
    muon_axes ax;
    double xt[64], yt[64];
    int nxt, nyt, i, wmax = 0;
    char buf[64];
    memset(&ax, 0, sizeof ax);
    if (!(yhi > ylo)) { ylo = ylo == ylo ? ylo - 0.5 : 0; yhi = ylo + 1; }
    ax.xmin = xlo; ax.xmax = xhi; ax.ymin = ylo; ax.ymax = yhi;
    nyt = muon_plot_inside_ticks(ylo, yhi, 6, yt, 64);
    nxt = muon_plot_inside_ticks(xlo, xhi, 7, xt, 64);
    if (xint) {
        int m = 0;
        for (i = 0; i < nxt; i++)
            if (fabs(xt[i] - floor(xt[i] + 0.5)) < 1e-9) xt[m++] = xt[i];
        nxt = m;
    }
    for (i = 0; i < nyt; i++) {
        int tw;
        muon_format_tick(yt[i], nyt > 1 ? fabs(yt[1] - yt[0]) : 0, buf, sizeof buf);
        tw = muon_text_width(buf, 2);
        if (tw > wmax) wmax = tw;
    }
    ax.x0 = bx0 + 40 + wmax + 12;
    ax.x1 = bx1 - 30;
    ax.y0 = by0 + (title ? (title_scale >= 3 ? 48 : 34) : 10) + (tokens_per_step > 0 ? 50 : 0);
    ax.y1 = by1 - (xlabel ? 58 : 12);
    muon_axes_draw(c, &ax, xt, nxt, yt, nyt, xlabel != NULL);
    if (tokens_per_step > 0) {
        /* tokens seen on top, as the research plots: step x batch x seq */
        double tt[64];
        int nt = muon_plot_inside_ticks(xlo * tokens_per_step, xhi * tokens_per_step, 6, tt, 64);
        for (i = 0; i < nt; i++) {
            int ip = (int)floor(muon_axes_px(&ax, tt[i] / tokens_per_step) + 0.5);
            muon_canvas_fill_rect(c, ip, ax.y0 - 6, ip + 1, ax.y0 - 1, ink, 1.0);
            muon_format_si(tt[i], buf, sizeof buf);
            muon_canvas_text(c, ip, ax.y0 - 11, buf, 2, ink, 0, 1, 0);
        }
        muon_canvas_text(c, (ax.x0 + ax.x1) / 2, ax.y0 - 36, "tokens seen", 2, ink, 0, 1, 0);
    }
    if (title) muon_canvas_text(c, (ax.x0 + ax.x1) / 2, by0 + (title_scale >= 3 ? 10 : 8), title, title_scale, ink, 0, -1, 0);
    if (ylabel) muon_canvas_text(c, bx0 + 12, (ax.y0 + ax.y1) / 2, ylabel, 2, ink, 0, -1, 1);
    if (xlabel) muon_canvas_text(c, (ax.x0 + ax.x1) / 2, ax.y1 + 38, xlabel, 2, ink, 0, -1, 0);
    return ax;
}

/* The min-max band of a curve: one pixel column at a time between the
 * linearly interpolated bounds. */
static void band(muon_canvas *c, const muon_axes *ax, const curve *cv, muon_rgb col)
{
    int i, x;
    for (i = 0; i + 1 < cv->n; i++) {
        double xa = muon_axes_px(ax, cv->x[i]), xb = muon_axes_px(ax, cv->x[i + 1]);
        for (x = (int)ceil(xa); x < (int)ceil(xb); x++) {
            double f = xb > xa ? (x + 0.5 - xa) / (xb - xa) : 0, lo, hi, ya, yb;
            if (x < ax->x0 || x > ax->x1) continue;
            lo = cv->lo[i] + f * (cv->lo[i + 1] - cv->lo[i]);
            hi = cv->hi[i] + f * (cv->hi[i + 1] - cv->hi[i]);
            ya = muon_axes_py(ax, hi);
            yb = muon_axes_py(ax, lo);
            if (ya < ax->y0) ya = ax->y0;
            if (yb > ax->y1) yb = ax->y1;
            muon_canvas_fill_rect(c, x, (int)floor(ya), x + 1, (int)ceil(yb) + 1, col, 0.18);
        }
    }
}

typedef struct {
    int metric, kind;   /* metric < 0: model series -1-which */
    const char *title, *ylabel;
    double hline;       /* a reference level drawn grey and dashed (NaN: none) */
    const char *hlabel;
} ts_fig;

static void range_of(const curve *cv, int n, double *lo, double *hi)
{
    int i, j;
    *lo = INFINITY; *hi = -INFINITY;
    for (i = 0; i < n; i++)
        for (j = 0; j < cv[i].n; j++) {
            if (cv[i].lo[j] < *lo) *lo = cv[i].lo[j];
            if (cv[i].hi[j] > *hi) *hi = cv[i].hi[j];
        }
    if (*lo <= *hi) {
        double pad = (*hi - *lo) * 0.06;
        if (pad <= 0) pad = *lo != 0 ? fabs(*lo) * 0.1 : 0.5;
        if (*lo >= 0 && *lo - pad < 0) *lo = 0; else *lo -= pad;
        *hi += pad;
    }
}

static void step_range(const muon_run_set *s, int model, double *lo, double *hi)
{
    int i;
    *lo = INFINITY; *hi = -INFINITY;
    for (i = 0; i < s->n; i++) {
        const muon_run *r = &s->runs[i];
        int n = model ? r->t.n_steps : r->t.n_tracked;
        const long *st = model ? r->t.steps : r->t.tracked;
        if (n < 1) continue;
        if (st[0] < *lo) *lo = (double)st[0];
        if (st[n - 1] > *hi) *hi = (double)st[n - 1];
    }
    if (!(*lo < *hi)) { *lo = 0; *hi = 1; }
}

/* Tokens per step shared by every run (batch-size x seq-len), 0 if they differ:
 * then steps are not comparable as tokens and the top axis is left out. */
static double tokens_per_step(const muon_run_set *s)
{
    double t0 = -1;
    int i;
    for (i = 0; i < s->n; i++) {
        const char *b = muon_run_setting(&s->runs[i], "batch-size"), *q = muon_run_setting(&s->runs[i], "seq-len");
        double t = b && q ? atof(b) * atof(q) : 0;
        if (t <= 0 || (t0 >= 0 && t != t0)) return 0;
        t0 = t;
    }
    return t0 > 0 ? t0 : 0;
}

static int layers_compared(const muon_run_set *s, int *lay)
{
    int L = s->runs[0].n_layers, n = 0, cand[3], i;
    cand[0] = 0; cand[1] = (L - 1) / 2; cand[2] = L - 1;
    for (i = 0; i < 3; i++)
        if (n == 0 || lay[n - 1] != cand[i]) lay[n++] = cand[i];
    return n;
}

/* A time-series figure: every group x compared layer. */
static int fig_timeseries(muon_canvas *c, const muon_run_set *s, const ts_fig *f, curve *cv)
{
    int lay[3], nl = layers_compared(s, lay), g, l, nc = 0, ne = 0, st, roles[3] = { 0, 1, 2 };
    double xlo, xhi, ylo, yhi;
    muon_axes ax;
    muon_legend_entry e[MUON_RUNS_MAX + 4];
    char lab[3][64];
    /* the loss figure: training loss (solid) and validation loss (dashed) per group */
    int loss = f->metric < 0, nser = loss ? 2 : nl;
    if (nl == 2) roles[1] = 2;
    if (loss) { roles[0] = 0; roles[1] = 1; }
    for (g = 0; g < s->n_groups; g++)
        for (l = 0; l < nser; l++)
            group_curve(s, g, loss && l == 1 ? -1 - MUON_MODEL_VAL_LOSS : f->metric, f->kind, lay[l < nl ? l : 0], &cv[nc++]);
    step_range(s, f->metric < 0, &xlo, &xhi);
    range_of(cv, nc, &ylo, &yhi);
    if (f->hline == f->hline && ylo <= yhi) {
        if (f->hline < ylo) ylo = f->hline - 0.05 * (yhi - ylo);
        if (f->hline > yhi) yhi = f->hline + 0.05 * (yhi - ylo);
    }
    ax = frame(c, 0, 0, W, H, xlo, xhi, ylo, yhi, f->title, 3, "step", f->ylabel, 1, tokens_per_step(s));
    for (nc = 0, g = 0; g < s->n_groups; g++)
        for (l = 0; l < nser; l++, nc++) {
            muon_rgb col = group_cols[g % 8];
            int j;
            if (s->group_size[g] > 1) band(c, &ax, &cv[nc], col);
            st = muon_axes_series(c, &ax, cv[nc].x, cv[nc].m, cv[nc].n, 2.2, layer_dash[roles[l]], col, 1.0);
            if (st) return st;
            if (loss && l == 1)
                for (j = 0; j < cv[nc].n; j++)
                    muon_canvas_marker(c, muon_axes_px(&ax, cv[nc].x[j]), muon_axes_py(&ax, cv[nc].m[j]), 4.0,
                                       MUON_MARK_CIRCLE, col, 1.0);
        }
    if (f->hline == f->hline) {
        double hx[2], hy[2];
        hx[0] = xlo; hx[1] = xhi; hy[0] = hy[1] = f->hline;
        st = muon_axes_series(c, &ax, hx, hy, 2, 1.6, 6, grey, 1.0);
        if (st) return st;
    }
    if (nc == 0 || ylo > yhi)
        muon_canvas_text(c, (ax.x0 + ax.x1) / 2, (ax.y0 + ax.y1) / 2, "no data", 3, grey, 0, 0, 0);
    for (g = 0; g < s->n_groups && ne < MUON_RUNS_MAX; g++) {
        e[ne].label = s->label[g];
        e[ne].col = group_cols[g % 8];
        e[ne].width = 6; e[ne].dash = 0; e[ne].marker = -1; e[ne].bar = 0;
        ne++;
    }
    for (l = 0; l < nser; l++) {
            if (loss) snprintf(lab[l], sizeof lab[l], "%s", l ? "validation loss" : "training loss");
            else snprintf(lab[l], sizeof lab[l], "layer %d (%s)", lay[l], role_name[roles[l]]);
            e[ne].label = lab[l];
            e[ne].col = ink;
            e[ne].width = 2.2; e[ne].dash = layer_dash[roles[l]]; e[ne].marker = -1; e[ne].bar = 0;
            ne++;
        }
    if (f->hline == f->hline) {
        e[ne].label = f->hlabel;
        e[ne].col = grey;
        e[ne].width = 1.6; e[ne].dash = 6; e[ne].marker = -1; e[ne].bar = 0;
        ne++;
    }
    {
        int lw, lh;
        muon_legend_size(e, ne, &lw, &lh);
        muon_legend_draw(c, ax.x1 - 10 - lw, ax.y0 + 10, e, ne);
    }
    return MUON_OK;
}

/* Final sigma_max and entropy over depth, Q solid and V dashed, one colour
 * per group, min-max error bars over seeds. */
static int fig_depth(muon_canvas *c, const muon_run_set *s)
{
    int SIG = muon_metric_index("sigma_max"), ENT = muon_metric_index("spectral_entropy");
    int L = s->runs[0].n_layers, pass, g, kk, l, j, ne = 0;
    muon_legend_entry e[MUON_RUNS_MAX + 2];
    for (pass = 0; pass < 2; pass++) {
        int metric = pass ? ENT : SIG, y0 = pass ? H / 2 - 4 : 0, y1 = pass ? H : H / 2 + 4;
        double lo = INFINITY, hi = -INFINITY, m[64], mn[64], mx[64], xs[64];
        muon_axes ax;
        for (g = 0; g < s->n_groups; g++)
            for (kk = 0; kk < 2; kk++)
                for (l = 0; l < L; l++)
                    for (j = 0; j < s->group_size[g]; j++) {
                        const muon_run *r = &s->runs[s->members[g][j]];
                        double v = r->t.n_tracked ? value_at(r, metric, kk ? 2 : 0, l, r->t.n_tracked - 1) : NAN;
                        if (v == v) { if (v < lo) lo = v; if (v > hi) hi = v; }
                    }
        if (lo <= hi) { double pad = (hi - lo) * 0.08 + 1e-9; lo -= pad; hi += pad; }
        ax = frame(c, 0, y0, W, y1, -0.5, L - 0.5, lo, hi,
                   pass ? "final spectral entropy vs depth" : "Final state: σ_max vs depth (Q solid, V dashed)",
                   pass ? 2 : 3, pass ? "layer" : NULL, pass ? "spectral entropy" : "σ_max", 1, 0);
        for (g = 0; g < s->n_groups; g++)
            for (kk = 0; kk < 2; kk++) {
                int n = 0, st;
                for (l = 0; l < L && l < 64; l++) {
                    double sum = 0, a = INFINITY, b = -INFINITY;
                    int ok = 1;
                    for (j = 0; j < s->group_size[g]; j++) {
                        const muon_run *r = &s->runs[s->members[g][j]];
                        double v = r->t.n_tracked ? value_at(r, metric, kk ? 2 : 0, l, r->t.n_tracked - 1) : NAN;
                        if (!(v == v)) ok = 0;
                        sum += v;
                        if (v < a) a = v;
                        if (v > b) b = v;
                    }
                    if (!ok) continue;
                    xs[n] = l; m[n] = sum / s->group_size[g]; mn[n] = a; mx[n] = b; n++;
                }
                st = muon_axes_series(c, &ax, xs, m, n, 2.2, kk ? 10 : 0, group_cols[g % 8], 1.0);
                if (st) return st;
                for (l = 0; l < n; l++) {
                    double px = muon_axes_px(&ax, xs[l]);
                    muon_canvas_marker(c, px, muon_axes_py(&ax, m[l]), 4.0, kk ? MUON_MARK_SQUARE : MUON_MARK_CIRCLE, group_cols[g % 8], 1.0);
                    if (s->group_size[g] > 1)
                        muon_canvas_line(c, px, muon_axes_py(&ax, mn[l]), px, muon_axes_py(&ax, mx[l]), 1.5, group_cols[g % 8], 0.8);
                }
            }
        if (!(lo <= hi)) muon_canvas_text(c, (ax.x0 + ax.x1) / 2, (ax.y0 + ax.y1) / 2, "no data", 3, grey, 0, 0, 0);
        if (pass == 0) {
            int lw, lh;
            for (g = 0; g < s->n_groups && ne < MUON_RUNS_MAX; g++) {
                e[ne].label = s->label[g];
                e[ne].col = group_cols[g % 8];
                e[ne].width = 6; e[ne].dash = 0; e[ne].marker = -1; e[ne].bar = 0;
                ne++;
            }
            muon_legend_size(e, ne, &lw, &lh);
            muon_legend_draw(c, ax.x0 + 10, ax.y0 + 10, e, ne);
        }
    }
    return MUON_OK;
}

int muon_compare_make_dir(const char *out_dir)
{
    return muon_mkdir_p(out_dir);
}

int muon_compare_plots(const muon_run_set *s, const char *out_dir)
{
    static const char *const names[10][2] = {
        { "Loss: training and validation (mean over seeds, min–max band)", "cross-entropy (nats/byte)" },
        { "σ_max of Q", "σ_max" }, { "σ_max of V", "σ_max" },
        { "Stable rank of Q", "‖W‖²_F / σ²_max" }, { "Spectral entropy of Q", "spectral entropy" },
        { "Update–weight alignment of Q (top-5 left singular vectors)", "alignment" },
        { "Momentum effective rank of Q", "effective rank" },
        { "Subspace efficiency of Q", "alignment / rank" },
        { "Spectral gap of Q", "σ₁/σ₂" },
        { "Orthogonaliser error of Q's update", "‖ÔᵀÔ − I‖_F/√r,  Ô = O/σ₁(O)" },
    };
    const char *metric_names[10] = { NULL, "sigma_max", "sigma_max", "stable_rank", "spectral_entropy",
                                     "alignment_left", "update_rank", "subspace_efficiency", "spectral_gap",
                                     "ortho_error_update" };
    static const int kinds[10] = { 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 };
    muon_canvas c;
    curve *cv;
    char path[700];
    int i, st;
    if (s->n_groups < 1) return muon_error(MUON_ERR_ARG, "compare: no runs");
    cv = muon_alloc(sizeof *cv * (size_t)(s->n_groups * 3 + 1));
    if (!cv) return MUON_ERR_NOMEM;
    st = muon_canvas_create(&c, W, H, white);
    if (st) { muon_free(cv); return st; }
    st = muon_compare_make_dir(out_dir);
    for (i = 0; !st && i < MUON_COMPARE_NFIG; i++) {
        muon_canvas_fill_rect(&c, 0, 0, W, H, white, 1.0);
        if (i < 10) {
            ts_fig f;
            f.metric = i == 0 ? -1 - MUON_MODEL_LOSS : muon_metric_index(metric_names[i]);
            f.kind = kinds[i];
            f.title = names[i][0];
            f.ylabel = names[i][1];
            f.hline = NAN;
            f.hlabel = NULL;
            if (i == 5) {
                /* Q's left singular vectors live in R^(n_heads x head_dim) = R^d_model */
                double se;
                int m = s->runs[0].d_model;
                st = muon_alignment_chance(m, MUON_ALIGN_K < m ? MUON_ALIGN_K : m, 4000, 20240901u, &f.hline, &se);
                if (st) break;
                f.hlabel = "chance: random subspaces";
            }
            st = fig_timeseries(&c, s, &f, cv);
        } else {
            st = fig_depth(&c, s);
        }
        if (st) break;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", out_dir, muon_compare_files[i]) >= sizeof path) {
            st = muon_error(MUON_ERR_ARG, "%s: path too long", out_dir);
            break;
        }
        st = muon_png_write(path, &c);
    }
    muon_canvas_free(&c);
    muon_free(cv);
    return st;
}
