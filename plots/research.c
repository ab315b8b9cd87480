/* The research plots (README "What the plots show"), drawn from metrics.csv alone.
 *
 * Conventions shared by every figure, so they can be read side by side:
 * a compared layer keeps its colour everywhere (first blue, middle green,
 * last vermillion: the Okabe-Ito colour-blind-safe set); a matrix kind keeps
 * its colour where kinds are compared; Q is drawn solid and V dashed; steps
 * run along x, with tokens seen on a second axis on top of time series.
 * Whatever is not in the log is drawn as an empty frame saying "no data", so
 * a young run or a run without SwiGLU still gets every file. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* mkdir */
#endif
#include "plots/panel.h"
#include "metrics/events.h"
#include "io/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the figures ---------------------------------------------------------- */

static void clear(ctx *g) { muon_canvas_fill_rect(&g->c, 0, 0, g->c.w, g->c.h, white, 1.0); }

static panel time_panel(ctx *g, const char *title, const char *ylabel)
{
    panel p;
    memset(&p, 0, sizeof p);
    p.title = title;
    p.title_scale = 3;
    p.ylabel = ylabel;
    p.ylog = 0;
    p.top_tokens = 1;
    p.xlabels = 1;
    p.xlo = g->xmin;
    p.xhi = g->xmax;
    p.xlabel = "step";
    p.legend = 1;
    p.xint = 1;
    return p;
}

/* One series per compared layer of metric/kind, in the layer colours. */
static int layer_series(ctx *g, series *s, int metric, int kind, double dash, const char *suffix)
{
    int i, st;
    for (i = 0; i < g->nl; i++) {
        st = muon_plot_matrix_series(g, &s[i], metric, kind, g->layers[i]);
        if (st) { muon_plot_series_free(s, i); return st; }
        s[i].col = layer_cols[i % 8];
        s[i].dash = dash;
        s[i].marker = dash > 0 ? MUON_MARK_SQUARE : MUON_MARK_CIRCLE;
        snprintf(s[i].label, sizeof s[i].label, "%s%s", g->role[i], suffix ? suffix : "");
    }
    return MUON_OK;
}

/* Phase-transition events (events.csv) of metric/kind in the compared
 * layers: an open triangle on the point, in the layer's colour. */
static void mark_events(ctx *g, const muon_axes *ax, int metric, int kind)
{
    int i, j;
    muon_canvas_clip(&g->c, ax->x0, ax->y0, ax->x1 + 1, ax->y1 + 1);
    for (i = 0; i < g->n_ev; i++) {
        const muon_event *e = &g->ev[i];
        if (e->metric != metric || e->kind != kind) continue;
        for (j = 0; j < g->nl; j++) {
            double x, y;
            if (g->layers[j] != e->layer) continue;
            x = muon_axes_px(ax, (double)e->step);
            y = muon_axes_py(ax, e->value);
            muon_canvas_marker(&g->c, x, y - 12, 7.0, MUON_MARK_TRIANGLE, ink, 0.9);
            muon_canvas_marker(&g->c, x, y - 12, 4.5, MUON_MARK_TRIANGLE, layer_cols[j % 8], 1.0);
        }
    }
    muon_canvas_clip(&g->c, 0, 0, g->c.w, g->c.h);
}

static int fig_single(ctx *g, int metric, int kind, const char *title, const char *ylabel, int ylog)
{
    series s[8];
    panel p = time_panel(g, title, ylabel);
    muon_axes ax;
    int st;
    p.ylog = ylog;
    st = layer_series(g, s, metric, kind, 0, NULL);
    if (st) return st;
    st = muon_panel_draw(g, 0, 0, g->W, g->H, &p, s, g->nl, &ax);
    if (!st) mark_events(g, &ax, metric, kind);
    muon_plot_series_free(s, g->nl);
    return st;
}

/* Two stacked time-series panels sharing the step axis. */
static int fig_two(ctx *g, int m1, int m2, int kind, const char *title,
                   const char *y1, const char *sub2, const char *y2, int ylog)
{
    series s[8];
    panel p = time_panel(g, title, y1);
    muon_axes ax;
    int st, split = g->H * 53 / 100;
    p.ylog = ylog;
    p.xlabels = 0;
    st = layer_series(g, s, m1, kind, 0, NULL);
    if (st) return st;
    st = muon_panel_draw(g, 0, 0, g->W, split, &p, s, g->nl, &ax);
    if (!st) mark_events(g, &ax, m1, kind);
    muon_plot_series_free(s, g->nl);
    if (st) return st;
    p = time_panel(g, sub2, y2);
    p.title_scale = 2;
    p.top_tokens = 0;
    p.ylog = ylog;
    p.legend = 0; /* same series, same colours as above */
    st = layer_series(g, s, m2, kind, 0, NULL);
    if (st) return st;
    st = muon_panel_draw(g, 0, split - 6, g->W, g->H, &p, s, g->nl, &ax);
    if (!st) mark_events(g, &ax, m2, kind);
    muon_plot_series_free(s, g->nl);
    return st;
}

static int fig_loss(ctx *g)
{
    series s[2];
    panel p = time_panel(g, "Training and validation loss", "cross-entropy loss (nats)");
    int st;
    st = muon_plot_model_series(g, &s[0], MUON_MODEL_LOSS);
    if (st) return st;
    st = muon_plot_model_series(g, &s[1], MUON_MODEL_VAL_LOSS);
    if (st) { muon_plot_series_free(s, 1); return st; }
    s[0].col = layer_cols[0];
    s[0].width = 1.6;
    snprintf(s[0].label, sizeof s[0].label, "train loss");
    s[1].col = layer_cols[2];
    s[1].width = 2.4;
    s[1].marker = MUON_MARK_CIRCLE;
    snprintf(s[1].label, sizeof s[1].label, s[1].n ? "validation loss" : "validation loss: not logged yet");
    s[1].listed = 1;
    st = muon_panel_draw(g, 0, 0, g->W, g->H, &p, s, 2, NULL);
    muon_plot_series_free(s, 2);
    return st;
}

/* Q (solid) and V (dashed) of the first and last compared layers: sigma_max
 * on top, stable rank below. */
static int fig_stretching(ctx *g)
{
    series s[16];
    int ns = 0, i, k, st = MUON_OK, pass, split = g->H * 53 / 100;
    int idx[2], nidx = 0;
    idx[nidx++] = 0;
    if (g->nl > 1) idx[nidx++] = g->nl - 1;
    for (pass = 0; pass < 2 && !st; pass++) {
        int metric = muon_metric_index(pass == 0 ? "sigma_max" : "stable_rank");
        panel p;
        ns = 0;
        for (i = 0; i < nidx && !st; i++)
            for (k = 0; k < 2 && !st; k++) {
                int kind = k == 0 ? KQ : KV;
                st = muon_plot_matrix_series(g, &s[ns], metric, kind, g->layers[idx[i]]);
                if (st) break;
                s[ns].col = layer_cols[idx[i] % 8];
                s[ns].dash = k ? 7 : 0;
                snprintf(s[ns].label, sizeof s[ns].label, "%s %s", kind == KQ ? "Q" : "V", g->role[idx[i]]);
                ns++;
            }
        if (st) break;
        if (pass == 0) {
            p = time_panel(g, "Spectral stretching: σ_max of Q and V", "σ_max");
            p.xlabels = 0;
            p.ylog = -1;
            st = muon_panel_draw(g, 0, 0, g->W, split, &p, s, ns, NULL);
        } else {
            p = time_panel(g, "stable rank  ‖W‖²_F / σ²_max", "stable rank");
            p.title_scale = 2;
            p.top_tokens = 0;
            p.ylog = -1;
            p.legend = 0;
            st = muon_panel_draw(g, 0, split - 6, g->W, g->H, &p, s, ns, NULL);
        }
        muon_plot_series_free(s, ns);
        ns = 0;
    }
    muon_plot_series_free(s, ns);
    return st;
}

/* Per-(kind, layer) last logged finite value of metric; NaN when none. */
static double final_value(const ctx *g, int metric, int kind, int layer, long *at_step)
{
    int i;
    for (i = g->t->n_tracked - 1; i >= 0; i--) {
        float v = muon_plot_matval(g, metric, kind, layer, i);
        if (isfinite(v)) {
            if (at_step) *at_step = g->t->tracked[i];
            return v;
        }
    }
    return NAN;
}

static int fig_entropy_mri(ctx *g)
{
    int ent = muon_metric_index("spectral_entropy");
    int L = g->t->n_layers, i, k, st, x, y;
    series s[2];
    panel p;
    muon_axes top;
    int top_h = g->H * 40 / 100;
    double yt[64], xt[64];
    int nyt, nxt;
    /* top: final entropy vs layer, Q and V */
    for (k = 0; k < 2; k++) {
        int kind = k ? KV : KQ;
        st = muon_plot_series_alloc(&s[k], L);
        if (st) { muon_plot_series_free(s, k); return st; }
        for (i = 0; i < L; i++) {
            double v = final_value(g, ent, kind, i, NULL);
            if (v != v) continue;
            s[k].x[s[k].n] = i;
            s[k].y[s[k].n] = v;
            s[k].n++;
        }
        s[k].col = kind_cols[kind];
        s[k].dash = k ? 7 : 0;
        s[k].marker = kind_marks[kind];
        snprintf(s[k].label, sizeof s[k].label, "%s, final step", k ? "V" : "Q");
    }
    memset(&p, 0, sizeof p);
    p.title = "Spectral entropy MRI: Q and V across depth";
    p.title_scale = 3;
    p.ylabel = "entropy";
    p.xlabels = 1;
    p.xlabel = "layer";
    p.xint = 1;
    p.xlo = -0.5;
    p.xhi = L > 1 ? L - 0.5 : 0.5;
    p.legend = 1;
    st = muon_panel_draw(g, 0, 0, g->W, top_h, &p, s, 2, &top);
    muon_plot_series_free(s, 2);
    if (st) return st;
    /* bottom: entropy over layer (y) x step (x), Q left and V right, on the
     * fixed scale [0,1] shared by one colour bar */
    {
        int by0 = top_h + 40, by1 = g->H - 58, cbw = 22;
        int left = top.x0, right = g->W - 150;
        int gap = 70, pw = (right - left - gap) / 2;
        int nt = g->t->n_tracked;
        for (k = 0; k < 2; k++) {
            int kind = k ? KV : KQ;
            muon_axes ax;
            char title[64];
            memset(&ax, 0, sizeof ax);
            ax.x0 = left + k * (pw + gap);
            ax.x1 = ax.x0 + pw;
            ax.y0 = by0;
            ax.y1 = by1;
            if (nt > 1) {
                /* cells centred on their steps */
                ax.xmin = g->t->tracked[0] - 0.5 * (g->t->tracked[1] - g->t->tracked[0]);
                ax.xmax = g->t->tracked[nt - 1] + 0.5 * (g->t->tracked[nt - 1] - g->t->tracked[nt - 2]);
            } else if (nt == 1) {
                ax.xmin = g->t->tracked[0] - 0.5;
                ax.xmax = g->t->tracked[0] + 0.5;
            } else { ax.xmin = 0; ax.xmax = 1; }
            ax.ymin = -0.5;
            ax.ymax = L > 0 ? L - 0.5 : 0.5;
            snprintf(title, sizeof title, "%s: entropy by layer and step", k ? "V" : "Q");
            muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, by0 - 26, title, 2, ink, 0, -1, 0);
            if (nt > 0 && L > 0 && g->t->mat[ent][kind]) {
                for (x = ax.x0; x < ax.x1; x++) {
                    double sx = ax.xmin + (x + 0.5 - ax.x0) / (ax.x1 - ax.x0) * (ax.xmax - ax.xmin);
                    /* nearest tracked step */
                    int lo = 0, hi = nt - 1, ti;
                    while (hi - lo > 1) {
                        int mid = (lo + hi) / 2;
                        if (g->t->tracked[mid] <= sx) lo = mid; else hi = mid;
                    }
                    ti = fabs(g->t->tracked[hi] - sx) < fabs(sx - g->t->tracked[lo]) ? hi : lo;
                    for (y = ax.y0; y < ax.y1; y++) {
                        int layer = (int)floor((ax.y1 - (y + 0.5)) / (ax.y1 - ax.y0) * L);
                        float v;
                        if (layer < 0) layer = 0;
                        if (layer >= L) layer = L - 1;
                        v = muon_plot_matval(g, ent, kind, layer, ti);
                        muon_canvas_fill_rect(&g->c, x, y, x + 1, y + 1,
                                              muon_colormap(isfinite(v) ? (double)v : NAN), 1.0);
                    }
                }
            }
            nxt = muon_plot_inside_ticks(ax.xmin, ax.xmax, 5, xt, 64);
            {
                int m = 0;
                for (i = 0; i < nxt; i++)
                    if (fabs(xt[i] - floor(xt[i] + 0.5)) < 1e-9) xt[m++] = xt[i];
                nxt = m;
            }
            nyt = muon_plot_layer_ticks(L > 0 ? L : 1, yt, 64);
            muon_axes_draw(&g->c, &ax, xt, nxt, yt, nyt, 1);
            muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ax.y1 + 38, "step", 2, ink, 0, -1, 0);
            if (k == 0) muon_canvas_text(&g->c, 12, (ax.y0 + ax.y1) / 2, "layer", 2, ink, 0, -1, 1);
            if (!(nt > 0 && L > 0 && g->t->mat[ent][kind])) muon_plot_no_data(g, &ax, NULL);
        }
        muon_colorbar(&g->c, right + 30, by0, right + 30 + cbw, by1, 0.0, 1.0, "spectral entropy (fixed scale 0 to 1)");
    }
    return MUON_OK;
}

/* Least-squares line y = a + b*x through (x(n), y(n)). */
static int fit_line(const double *x, const double *y, int n, double *a, double *b)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, d;
    int i;
    if (n < 2) return 0;
    for (i = 0; i < n; i++) { sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i]; }
    d = n * sxx - sx * sx;
    if (!(fabs(d) > 0)) return 0;
    *b = (n * sxy - sx * sy) / d;
    *a = (sy - *b * sx) / n;
    return 1;
}

/* Final value of metric per layer for each kind, with a least-squares trend
 * (sigma_max; also esd_alpha, metrics/esd.c). */
static int fig_depth(ctx *g, int sig, const char *title, const char *ylabel)
{
    int L = g->t->n_layers, nt = g->t->n_tracked, k, i, e, st, ns = 0, have = 0;
    series s[MUON_CSV_NKINDS * 4];
    muon_legend_entry le[MUON_CSV_NKINDS + 1];
    int nle = 0, earlier[3], ne = 0;
    panel p;
    muon_axes ax;
    char faded[96];
    /* up to three earlier tracked steps, at 1/4, 1/2 and 3/4 of the run */
    for (e = 1; e <= 3 && nt > 1; e++) {
        int ti = (nt - 1) * e / 4;
        if (ti < nt - 1 && (ne == 0 || earlier[ne - 1] != ti)) earlier[ne++] = ti;
    }
    for (k = 0; k < MUON_CSV_NKINDS; k++) {
        if (!g->t->mat[sig][k]) continue;
        for (e = 0; e <= ne; e++) {
            series *q = &s[ns];
            st = muon_plot_series_alloc(q, L);
            if (st) { muon_plot_series_free(s, ns); return st; }
            for (i = 0; i < L; i++) {
                double v = e < ne ? (double)muon_plot_matval(g, sig, k, i, earlier[e]) : final_value(g, sig, k, i, NULL);
                if (!isfinite(v)) continue;
                q->x[q->n] = i;
                q->y[q->n] = v;
                q->n++;
            }
            q->col = kind_cols[k];
            q->width = 0; /* points only: the trend line is drawn apart */
            q->marker = kind_marks[k];
            /* older steps fainter: 0.12, 0.2, 0.28 of full opacity */
            q->alpha = e < ne ? 0.12 + 0.08 * e : 1.0;
            if (e == ne) {
                snprintf(q->label, sizeof q->label, "%s", muon_matrix_name(k));
                if (q->n) have = 1;
            }
            ns++;
        }
    }
    memset(&p, 0, sizeof p);
    p.title = title;
    p.title_scale = 3;
    p.ylabel = ylabel;
    p.ylog = 0;
    p.xlabels = 1;
    p.xlabel = "layer";
    p.xint = 1;
    p.xlo = -0.5;
    p.xhi = L > 1 ? L - 0.5 : 0.5;
    p.legend = 0;
    st = muon_panel_draw(g, 0, 0, g->W, g->H, &p, s, ns, &ax);
    if (st) { muon_plot_series_free(s, ns); return st; }
    /* trend lines of the final points */
    muon_canvas_clip(&g->c, ax.x0, ax.y0, ax.x1 + 1, ax.y1 + 1);
    for (i = 0; i < ns; i++) {
        double a, b;
        if (s[i].alpha < 1 || !fit_line(s[i].x, s[i].y, s[i].n, &a, &b)) continue;
        muon_canvas_line(&g->c, muon_axes_px(&ax, 0), muon_axes_py(&ax, a),
                         muon_axes_px(&ax, L - 1), muon_axes_py(&ax, a + b * (L - 1)), 2.0, s[i].col, 0.85);
    }
    muon_canvas_clip(&g->c, 0, 0, g->c.w, g->c.h);
    for (i = 0; i < ns && nle < MUON_CSV_NKINDS; i++) {
        if (s[i].alpha < 1 || !s[i].n) continue;
        le[nle].label = s[i].label;
        le[nle].col = s[i].col;
        le[nle].width = 2.0;
        le[nle].dash = 0;
        le[nle].marker = s[i].marker;
        le[nle].bar = 0;
        nle++;
    }
    if (ne > 0 && have) {
        char buf[32];
        int j, len = 0;
        len += snprintf(faded + len, sizeof faded - (size_t)len, "faded: steps ");
        for (j = 0; j < ne && len < (int)sizeof faded - 16; j++) {
            snprintf(buf, sizeof buf, "%s%ld", j ? ", " : "", g->t->tracked[earlier[j]]);
            len += snprintf(faded + len, sizeof faded - (size_t)len, "%s", buf);
        }
        le[nle].label = faded;
        le[nle].col = grey;
        le[nle].width = 0;
        le[nle].dash = 0;
        le[nle].marker = MUON_MARK_CIRCLE;
        le[nle].bar = 0;
        nle++;
    }
    if (have) muon_plot_place_legend(g, &ax, s, ns, le, nle);
    muon_plot_series_free(s, ns);
    return MUON_OK;
}

static int fig_norm_depth(ctx *g)
{
    return fig_depth(g, muon_metric_index("sigma_max"), "Spectral norm vs depth (final step, least-squares trend)",
                     "σ_max");
}

/* Top-10 singular values over sigma_1, first vs last compared layer's Q. */
static int fig_spectrum(ctx *g)
{
    int k, i, nb = 0, idx[2], have = 0;
    double v[2][10];
    long at[2];
    muon_axes ax;
    double xt[10], yt[16];
    int nyt;
    muon_legend_entry le[2];
    char lab[2][80];
    idx[nb++] = 0;
    if (g->nl > 1) idx[nb++] = g->nl - 1;
    for (k = 0; k < nb; k++) {
        int layer = g->layers[idx[k]], ti, t1 = muon_metric_index("top_sv_1");
        /* the last tracked step where this layer's sigma_1 was logged */
        at[k] = -1;
        for (i = 0; i < 10; i++) v[k][i] = NAN;
        for (ti = g->t->n_tracked - 1; ti >= 0; ti--) {
            float s1 = muon_plot_matval(g, t1, KQ, layer, ti);
            if (isfinite(s1) && s1 > 0) {
                at[k] = g->t->tracked[ti];
                for (i = 0; i < 10; i++) {
                    float si = muon_plot_matval(g, t1 + i, KQ, layer, ti);
                    v[k][i] = isfinite(si) ? si / s1 : NAN;
                }
                have = 1;
                break;
            }
        }
    }
    memset(&ax, 0, sizeof ax);
    ax.xmin = 0.4; ax.xmax = 10.6; ax.ymin = 0; ax.ymax = 1.08;
    nyt = muon_plot_inside_ticks(0, 1.08, 6, yt, 16);
    ax.x0 = 40 + muon_plot_max_label_width(yt, nyt, 0) + 12;
    ax.x1 = g->W - 36;
    ax.y0 = 58;
    ax.y1 = g->H - 58;
    for (i = 0; i < 10; i++) xt[i] = i + 1;
    muon_axes_draw(&g->c, &ax, xt, 10, yt, nyt, 1);
    muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, 10, "Singular spectrum of Q: top 10, normalised to σ₁ = 1",
                     3, ink, 0, -1, 0);
    muon_canvas_text(&g->c, 12, (ax.y0 + ax.y1) / 2, "σ_i / σ₁", 2, ink, 0, -1, 1);
    muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ax.y1 + 38, "singular value index i", 2, ink, 0, -1, 0);
    if (!have) { muon_plot_no_data(g, &ax, NULL); return MUON_OK; }
    for (k = 0; k < nb; k++) {
        muon_rgb col = layer_cols[idx[k] % 8];
        for (i = 0; i < 10; i++) {
            double c0 = i + 1 - 0.4 + 0.8 * k / nb, c1 = c0 + 0.8 / nb;
            int xa, xb, ya, yb;
            if (!isfinite(v[k][i])) continue;
            xa = (int)floor(muon_axes_px(&ax, c0) + 1.5);
            xb = (int)floor(muon_axes_px(&ax, c1) - 0.5);
            ya = (int)floor(muon_axes_py(&ax, v[k][i]) + 0.5);
            yb = ax.y1;
            muon_canvas_fill_rect(&g->c, xa, ya, xb, yb, col, 1.0);
        }
        if (at[k] >= 0) snprintf(lab[k], sizeof lab[k], "Q %s, step %ld", g->role[idx[k]], at[k]);
        else snprintf(lab[k], sizeof lab[k], "Q %s: no data", g->role[idx[k]]);
        le[k].label = lab[k];
        le[k].col = col;
        le[k].width = 0;
        le[k].dash = 0;
        le[k].marker = -1;
        le[k].bar = 1;
    }
    {
        int w, h;
        muon_legend_size(le, nb, &w, &h);
        muon_legend_draw(&g->c, ax.x1 - 10 - w, ax.y0 + 10, le, nb);
    }
    return MUON_OK;
}

/* Final value of metric as a (kind x layer) grid, values printed in cells. */
static int fig_kind_heatmap(ctx *g, const char *metric_name, const char *title,
                            const char *cblabel, int fixed01, const char *fmt)
{
    int metric = muon_metric_index(metric_name), L = g->t->n_layers;
    int kinds[MUON_CSV_NKINDS], nk = 0, k, i, every, lw;
    double *v, lo = INFINITY, hi = -INFINITY;
    long last = -1;
    char buf[160];
    muon_axes ax;
    for (k = 0; k < MUON_CSV_NKINDS; k++)
        if (g->t->mat[metric][k]) kinds[nk++] = k;
    memset(&ax, 0, sizeof ax);
    ax.x0 = 100;
    ax.x1 = g->W - 175;
    ax.y0 = 70;
    ax.y1 = g->H - 70;
    if (nk == 0 || L == 0) {
        muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, 10, title, 3, ink, 0, -1, 0);
        ax.xmin = 0; ax.xmax = 1; ax.ymin = 0; ax.ymax = 1;
        muon_axes_draw(&g->c, &ax, NULL, 0, NULL, 0, 0);
        muon_plot_no_data(g, &ax, NULL);
        return MUON_OK;
    }
    v = muon_alloc(sizeof(double) * (size_t)nk * (size_t)L);
    if (!v) return MUON_ERR_NOMEM;
    for (k = 0; k < nk; k++)
        for (i = 0; i < L; i++) {
            long at = -1;
            double x = final_value(g, metric, kinds[k], i, &at);
            v[(size_t)k * (size_t)L + (size_t)i] = x;
            if (isfinite(x)) {
                if (x < lo) lo = x;
                if (x > hi) hi = x;
            }
            if (at > last) last = at;
        }
    if (fixed01) { lo = 0; hi = 1; }
    else if (!(lo <= hi)) { lo = 0; hi = 1; }
    else if (lo == hi) { lo -= 0.5; hi += 0.5; }
    /* cells no taller than wide-ish: a few kinds should not make bands */
    if ((ax.y1 - ax.y0) / nk > 90) {
        int hh = 90 * nk, mid = (ax.y0 + ax.y1) / 2;
        ax.y0 = mid - hh / 2;
        ax.y1 = ax.y0 + hh;
    }
    muon_heatmap(&g->c, ax.x0, ax.y0, ax.x1, ax.y1, v, nk, L, lo, hi, fmt);
    muon_free(v);
    /* frame, row and column labels */
    muon_canvas_fill_rect(&g->c, ax.x0 - 1, ax.y0 - 1, ax.x1 + 1, ax.y0, grey, 1.0);
    muon_canvas_fill_rect(&g->c, ax.x0 - 1, ax.y1, ax.x1 + 1, ax.y1 + 1, grey, 1.0);
    muon_canvas_fill_rect(&g->c, ax.x0 - 1, ax.y0, ax.x0, ax.y1, grey, 1.0);
    muon_canvas_fill_rect(&g->c, ax.x1, ax.y0, ax.x1 + 1, ax.y1, grey, 1.0);
    for (k = 0; k < nk; k++) {
        int yc = ax.y0 + (int)(((long)k * (ax.y1 - ax.y0) + (long)(ax.y1 - ax.y0) / 2) / nk);
        muon_canvas_text(&g->c, ax.x0 - 12, yc, muon_matrix_name(kinds[k]), 2, ink, 1, 0, 0);
    }
    snprintf(buf, sizeof buf, "%d", L - 1);
    lw = muon_text_width(buf, 2) + 8;
    every = 1;
    while (every < L && (double)(ax.x1 - ax.x0) * every / L < lw) every++;
    for (i = 0; i < L; i += every) {
        int xc = ax.x0 + (int)(((2L * i + 1) * (ax.x1 - ax.x0)) / (2L * L));
        snprintf(buf, sizeof buf, "%d", i);
        muon_canvas_text(&g->c, xc, ax.y1 + 10, buf, 2, ink, 0, -1, 0);
    }
    muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ax.y1 + 36, "layer", 2, ink, 0, -1, 0);
    muon_canvas_text(&g->c, 24, (ax.y0 + ax.y1) / 2, "matrix", 2, ink, 0, -1, 1);
    if (last >= 0) snprintf(buf, sizeof buf, "%s (step %ld)", title, last);
    else snprintf(buf, sizeof buf, "%s", title);
    muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, 10, buf, 3, ink, 0, -1, 0);
    muon_colorbar(&g->c, ax.x1 + 30, ax.y0, ax.x1 + 54, ax.y1, lo, hi, cblabel);
    return MUON_OK;
}

/* ---- the entry point -------------------------------------------------------- */

static int join(char *out, size_t n, const char *a, const char *b)
{
    size_t la = strlen(a);
    const char *sep = la > 0 && (a[la - 1] == '/' || a[la - 1] == '\\') ? "" : "/";
    if ((size_t)snprintf(out, n, "%s%s%s", a, sep, b) >= n)
        return muon_error(MUON_ERR_ARG, "%s: path too long", a);
    return MUON_OK;
}

static int draw_figure(ctx *g, int which)
{
    int ALIGN_L = muon_metric_index("alignment_left"), ALIGN_R = muon_metric_index("alignment_right");
    switch (which) {
    case 0:
        return fig_two(g, ALIGN_L, ALIGN_R, KQ, "Update–weight alignment, Q: top-5 left singular vectors",
                       "alignment (left)", "the same for the top-5 right singular vectors", "alignment (right)", 0);
    case 1:
        return fig_single(g, muon_metric_index("update_rank"), KQ,
                          "Momentum effective rank, Q", "effective rank (Roy–Vetterli)", 0);
    case 2:
        return fig_single(g, muon_metric_index("subspace_efficiency"), KQ,
                          "Subspace efficiency, Q: alignment / update rank", "alignment / rank", -1);
    case 3: return fig_entropy_mri(g);
    case 4: return fig_norm_depth(g);
    case 5: return fig_spectrum(g);
    case 6:
        return fig_single(g, muon_metric_index("spectral_gap"), KQ,
                          "Spectral gap σ₁/σ₂, Q", "σ₁/σ₂", -1);
    case 7: return fig_stretching(g);
    case 8:
        return fig_two(g, muon_metric_index("ortho_error_update"), muon_metric_index("ortho_error_weight"), KQ,
                       "Orthogonality error of Muon's update, Q", "‖ÔᵀÔ − I‖_F/√r,  Ô = O/σ₁(O)",
                       "the weight's departure from a flat spectrum: ‖ŴᵀŴ − I‖_F/√r,  Ŵ = W/σ₁(W)", "‖ŴᵀŴ − I‖_F/√r", -1);
    case 9: return fig_loss(g);
    case 12:
        return fig_depth(g, muon_metric_index("esd_alpha"), "ESD power-law exponent α vs depth (final step, trend)",
                         "α (eigenvalues of WᵀW)");
    case 13:
        return fig_single(g, muon_metric_index("esd_alpha"), KQ, "ESD power-law exponent α, Q",
                          "α (Clauset MLE, KS x_min)", 0);
    case 10:
        return fig_kind_heatmap(g, "sigma_max", "Final σ_max by matrix and layer",
                                "σ_max (fitted range)", 0, "%.3g");
    default:
        return fig_kind_heatmap(g, "spectral_entropy", "Final spectral entropy by matrix and layer",
                                "spectral entropy (fixed scale 0 to 1)", 1, "%.2f");
    }
}

#define N_FIGS 14
static const char *const fig_files[N_FIGS] = {
    "update_alignment.png", "update_rank_evolution.png", "subspace_efficiency.png",
    "entropy_mri.png", "spectral_norm_vs_depth.png", "singular_spectrum.png",
    "spectral_gap.png", "spectral_stretching_evolution.png", "orthogonality_error.png",
    "loss.png", "norm_heatmap.png", "entropy_heatmap.png",
    "esd_alpha_vs_depth.png", "esd_alpha_evolution.png" /* metrics/esd.c */
};

int muon_plot_run_opts(const char *run_dir, const muon_plot_options *opt)
{
    char csv[4096], dir[4096];
    int st = join(csv, sizeof csv, run_dir, "metrics.csv");
    if (!st) st = join(dir, sizeof dir, run_dir, "research_plots");
    return st ? st : muon_plot_csv(csv, dir, opt);
}

int muon_plot_csv(const char *csv_path, const char *dir, const muon_plot_options *opt)
{
    muon_metrics_table t;
    ctx g;
    char path[4096];
    int st, i, L;
    memset(&g, 0, sizeof g);
    st = muon_metrics_table_read(csv_path, &t);
    if (st) return st;
    g.t = &t;
    L = t.n_layers;
    {
        /* events.csv beside the metric log, if there is one */
        char ep[4096];
        const char *slash = strrchr(csv_path, '/');
        size_t dl = slash ? (size_t)(slash - csv_path) + 1 : 0;
        if (dl + 11 < sizeof ep) {
            memcpy(ep, csv_path, dl);
            strcpy(ep + dl, "events.csv");
            if ((st = muon_events_read(ep, &g.ev, &g.n_ev))) goto done;
        }
    }
    g.W = opt && opt->width > 0 ? opt->width : 1200;
    g.H = opt && opt->height > 0 ? opt->height : 750;
    if (g.W < 600 || g.H < 400 || g.W > 8000 || g.H > 8000) {
        st = muon_error(MUON_ERR_ARG, "plot size %d x %d outside 600x400 .. 8000x8000", g.W, g.H);
        goto done;
    }
    if (opt && opt->n_layers > 0) {
        if (opt->n_layers > 8) { st = muon_error(MUON_ERR_ARG, "at most 8 layers can be compared, not %d", opt->n_layers); goto done; }
        for (i = 0; i < opt->n_layers; i++) {
            if (opt->layers[i] < 0 || opt->layers[i] >= (L > 0 ? L : 1)) {
                st = muon_error(MUON_ERR_ARG, "compared layer %d is not in the log (layers 0..%d)", opt->layers[i], L - 1);
                goto done;
            }
            g.layers[g.nl] = opt->layers[i];
            snprintf(g.role[g.nl], sizeof g.role[0], "layer %d", opt->layers[i]);
            g.nl++;
        }
    } else {
        int cand[3];
        const char *names[3] = { "first", "middle", "last" };
        cand[0] = 0; cand[1] = L > 0 ? (L - 1) / 2 : 0; cand[2] = L > 0 ? L - 1 : 0;
        for (i = 0; i < 3; i++) {
            if (g.nl > 0 && g.layers[g.nl - 1] == cand[i]) continue;
            g.layers[g.nl] = cand[i];
            snprintf(g.role[g.nl], sizeof g.role[0], "layer %d (%s)", cand[i], names[i]);
            g.nl++;
        }
    }
    /* steps -> tokens seen, kept strictly increasing for the inverse map */
    g.tok_s = muon_alloc(sizeof(double) * (size_t)(t.n_steps + 1));
    g.tok_t = muon_alloc(sizeof(double) * (size_t)(t.n_steps + 1));
    if (!g.tok_s || !g.tok_t) { st = MUON_ERR_NOMEM; goto done; }
    for (i = 0; i < t.n_steps; i++) {
        double v = t.model[(size_t)MUON_MODEL_TOKENS * (size_t)t.n_steps + (size_t)i];
        if (!isfinite(v)) continue;
        if (g.ntok > 0 && (v <= g.tok_t[g.ntok - 1] || (double)t.steps[i] <= g.tok_s[g.ntok - 1])) continue;
        g.tok_s[g.ntok] = (double)t.steps[i];
        g.tok_t[g.ntok] = v;
        g.ntok++;
    }
    g.xmin = INFINITY;
    g.xmax = -INFINITY;
    if (t.n_steps) { g.xmin = (double)t.steps[0]; g.xmax = (double)t.steps[t.n_steps - 1]; }
    if (t.n_tracked) {
        if (t.tracked[0] < g.xmin) g.xmin = (double)t.tracked[0];
        if (t.tracked[t.n_tracked - 1] > g.xmax) g.xmax = (double)t.tracked[t.n_tracked - 1];
    }
    if (!(g.xmin <= g.xmax)) { g.xmin = 0; g.xmax = 1; }
    if (g.xmin == g.xmax) { g.xmin -= 0.5; g.xmax += 0.5; }

    if ((st = muon_mkdir_p(dir))) goto done;
    st = muon_canvas_create(&g.c, g.W, g.H, white);
    if (st) goto done;
    for (i = 0; i < N_FIGS; i++) {
        clear(&g);
        st = draw_figure(&g, i);
        if (st) goto done;
        st = join(path, sizeof path, dir, fig_files[i]);
        if (st) goto done;
        st = muon_png_write(path, &g.c);
        if (st) goto done;
    }
done:
    muon_canvas_free(&g.c);
    muon_free(g.ev);
    muon_free(g.tok_s);
    muon_free(g.tok_t);
    muon_metrics_table_free(&t);
    return st;
}

int muon_plot_run(const char *run_dir) { return muon_plot_run_opts(run_dir, NULL); }
