/* The figure framework of the research plots (plots/panel.h): data series
 * from the metrics table, the tokens-seen axis, ranges and ticks, legend
 * placement, and the time-series panel every figure is built from. */
#include "plots/panel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- data access -------------------------------------------------------- */

float muon_plot_matval(const ctx *g, int metric, int kind, int layer, int ti)
{
    const float *m = g->t->mat[metric][kind];
    if (!m || layer < 0 || layer >= g->t->n_layers) return (float)NAN;
    return m[(size_t)layer * (size_t)g->t->n_tracked + (size_t)ti];
}

void muon_plot_series_free(series *s, int n)
{
    int i;
    for (i = 0; i < n; i++) { muon_free(s[i].x); muon_free(s[i].y); s[i].x = s[i].y = NULL; }
}

int muon_plot_series_alloc(series *s, int n)
{
    memset(s, 0, sizeof *s);
    s->x = muon_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    s->y = muon_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    s->marker = -1;
    s->width = 2.0;
    s->alpha = 1.0;
    if (!s->x || !s->y) { muon_plot_series_free(s, 1); return MUON_ERR_NOMEM; }
    return MUON_OK;
}

/* metric of (kind, layer) over the tracked steps where it was logged; a
 * logged nan/inf becomes a NaN point (a gap in the line). */
int muon_plot_matrix_series(const ctx *g, series *s, int metric, int kind, int layer)
{
    int i, st = muon_plot_series_alloc(s, g->t->n_tracked);
    if (st) return st;
    for (i = 0; i < g->t->n_tracked; i++) {
        float v = muon_plot_matval(g, metric, kind, layer, i);
        if (v != v) continue;
        s->x[s->n] = (double)g->t->tracked[i];
        s->y[s->n] = isfinite(v) ? (double)v : NAN;
        s->n++;
    }
    return MUON_OK;
}

int muon_plot_model_series(const ctx *g, series *s, int which)
{
    int i, st = muon_plot_series_alloc(s, g->t->n_steps);
    if (st) return st;
    for (i = 0; i < g->t->n_steps; i++) {
        double v = g->t->model[(size_t)which * (size_t)g->t->n_steps + (size_t)i];
        if (v != v) continue;
        s->x[s->n] = (double)g->t->steps[i];
        s->y[s->n] = isfinite(v) ? v : NAN;
        s->n++;
    }
    return MUON_OK;
}

static int finite_count(const series *s, int ns, int ylog)
{
    int i, j, n = 0;
    for (i = 0; i < ns; i++)
        for (j = 0; j < s[i].n; j++)
            if (isfinite(s[i].y[j]) && (!ylog || s[i].y[j] > 0)) n++;
    return n;
}


/* ---- tokens-seen axis ----------------------------------------------------- */

static double interp(const double *a, const double *b, int n, double v)
{
    int lo = 0, hi = n - 1;
    if (n < 2) return NAN;
    if (v <= a[0]) lo = 0;
    else if (v >= a[n - 1]) lo = n - 2;
    else {
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (a[mid] <= v) lo = mid; else hi = mid;
        }
    }
    /* beyond the ends, extend the nearest segment's slope */
    return b[lo] + (v - a[lo]) * (b[lo + 1] - b[lo]) / (a[lo + 1] - a[lo]);
}

static void draw_token_axis(ctx *g, const muon_axes *ax)
{
    double tl, th, ticks[32];
    int i, n;
    char buf[32];
    if (g->ntok == 0) {
        muon_canvas_text(&g->c, (ax->x0 + ax->x1) / 2, ax->y0 - 12, "tokens seen: not logged", 2, grey, 0, 1, 0);
        return;
    }
    if (g->ntok == 1) { /* one point: no scale to interpolate, label it alone */
        double p = muon_axes_px(ax, g->tok_s[0]);
        if (p >= ax->x0 - 0.5 && p <= ax->x1 + 0.5) {
            int ip = (int)floor(p + 0.5);
            muon_canvas_fill_rect(&g->c, ip, ax->y0 - 6, ip + 1, ax->y0 - 1, ink, 1.0);
            muon_format_si(g->tok_t[0], buf, sizeof buf);
            muon_canvas_text(&g->c, ip, ax->y0 - 11, buf, 2, ink, 0, 1, 0);
        }
        muon_canvas_text(&g->c, (ax->x0 + ax->x1) / 2, ax->y0 - 36, "tokens seen", 2, ink, 0, 1, 0);
        return;
    }
    tl = interp(g->tok_s, g->tok_t, g->ntok, ax->xmin);
    th = interp(g->tok_s, g->tok_t, g->ntok, ax->xmax);
    n = muon_plot_inside_ticks(tl, th, 6, ticks, 32);
    for (i = 0; i < n; i++) {
        double s, p;
        int ip;
        if (ticks[i] < tl - 1e-9 * fabs(th - tl) || ticks[i] > th + 1e-9 * fabs(th - tl)) continue;
        s = interp(g->tok_t, g->tok_s, g->ntok, ticks[i]);
        p = muon_axes_px(ax, s);
        if (!(p >= ax->x0 - 0.5 && p <= ax->x1 + 0.5)) continue;
        ip = (int)floor(p + 0.5);
        muon_canvas_fill_rect(&g->c, ip, ax->y0 - 6, ip + 1, ax->y0 - 1, ink, 1.0);
        muon_format_si(ticks[i], buf, sizeof buf);
        muon_canvas_text(&g->c, ip, ax->y0 - 11, buf, 2, ink, 0, 1, 0);
    }
    muon_canvas_text(&g->c, (ax->x0 + ax->x1) / 2, ax->y0 - 36, "tokens seen", 2, ink, 0, 1, 0);
}

/* ---- ranges and ticks ---------------------------------------------------- */

/* Ticks of a nice-ticks set that fall inside [lo, hi]. */
int muon_plot_inside_ticks(double lo, double hi, int target, double *t, int cap)
{
    double all[64];
    double eps = (hi - lo) * 1e-9;
    int i, n, m = 0;
    /* loose ticks can leave only two inside a tight range: ask for more */
    for (; target <= 16; target += 2) {
        n = muon_nice_ticks(lo, hi, target, all, 64, NULL);
        for (i = 0, m = 0; i < n && m < cap; i++)
            if (all[i] >= lo - eps && all[i] <= hi + eps) t[m++] = all[i];
        if (m >= 4) break;
    }
    return m;
}

static int inside_log_ticks(double lo, double hi, double *t, int cap)
{
    double all[64];
    int i, n = muon_log_ticks(lo, hi, all, 64), m = 0;
    for (i = 0; i < n && m < cap; i++)
        if (all[i] >= lo * (1 - 1e-9) && all[i] <= hi * (1 + 1e-9)) t[m++] = all[i];
    if (m < 2) { /* less than a decade: fall back to linear-looking ticks */
        m = muon_plot_inside_ticks(lo, hi, 5, t, cap);
    }
    return m;
}

/* Integer ticks for a layer axis 0..L-1. */
int muon_plot_layer_ticks(int L, double *t, int cap)
{
    double all[64];
    int i, n = muon_nice_ticks(0, L > 1 ? L - 1 : 1, 8, all, 64, NULL), m = 0;
    for (i = 0; i < n && m < cap; i++)
        if (all[i] >= 0 && all[i] <= L - 1 && fabs(all[i] - floor(all[i] + 0.5)) < 1e-9) t[m++] = all[i];
    if (m == 0 && cap > 0) t[m++] = 0;
    return m;
}

static void y_range(const series *s, int ns, int ylog, double *lo, double *hi)
{
    int i, j;
    double a = INFINITY, b = -INFINITY;
    for (i = 0; i < ns; i++)
        for (j = 0; j < s[i].n; j++) {
            double v = s[i].y[j];
            if (!isfinite(v) || (ylog && v <= 0)) continue;
            if (v < a) a = v;
            if (v > b) b = v;
        }
    if (!(a <= b)) { *lo = ylog ? 0.1 : 0; *hi = 1; return; }
    if (ylog) {
        double la = log10(a), lb = log10(b), pad = (lb - la) * 0.06;
        if (pad < 0.05) pad = 0.05;
        *lo = pow(10.0, la - pad);
        *hi = pow(10.0, lb + pad);
    } else {
        double pad = (b - a) * 0.06;
        if (pad <= 0) pad = a != 0 ? fabs(a) * 0.1 : 0.5;
        *lo = a - pad;
        *hi = b + pad;
        /* metrics that are >= 0 read better from a 0 baseline when close to it */
        if (a >= 0 && *lo < 0) *lo = 0;
    }
}

static int auto_log(const series *s, int ns)
{
    int i, j;
    double a = INFINITY, b = -INFINITY;
    for (i = 0; i < ns; i++)
        for (j = 0; j < s[i].n; j++) {
            double v = s[i].y[j];
            if (!isfinite(v)) continue;
            if (v <= 0) return 0;
            if (v < a) a = v;
            if (v > b) b = v;
        }
    return a <= b && b / a > 30;
}

int muon_plot_max_label_width(const double *t, int n, int lg)
{
    int i, w = 0;
    char buf[64];
    for (i = 0; i < n; i++) {
        int tw;
        if (lg) muon_format_tick(t[i], t[i], buf, sizeof buf);
        else muon_format_tick(t[i], n > 1 ? fabs(t[1] - t[0]) : 0, buf, sizeof buf);
        tw = muon_text_width(buf, 2);
        if (tw > w) w = tw;
    }
    return w;
}

/* ---- legend placement ----------------------------------------------------- */

/* The inside corner whose legend box covers the fewest data points. */
void muon_plot_place_legend(ctx *g, const muon_axes *ax, const series *s, int ns,
                         const muon_legend_entry *e, int ne)
{
    int w, h, k, best = 1, i, j;
    long bestn = -1;
    int bx[8], by[8];
    int cx, cy;
    if (ne < 1) return;
    muon_legend_size(e, ne, &w, &h);
    cx = (ax->x0 + ax->x1 - w) / 2;
    cy = (ax->y0 + ax->y1 - h) / 2;
    /* corners first (preferred on ties), then the middles of the edges */
    bx[0] = ax->x1 - 10 - w; by[0] = ax->y0 + 10;   /* top right */
    bx[1] = ax->x0 + 10; by[1] = ax->y0 + 10;       /* top left */
    bx[2] = ax->x1 - 10 - w; by[2] = ax->y1 - 10 - h;
    bx[3] = ax->x0 + 10; by[3] = ax->y1 - 10 - h;
    bx[4] = ax->x1 - 10 - w; by[4] = cy;
    bx[5] = ax->x0 + 10; by[5] = cy;
    bx[6] = cx; by[6] = ax->y0 + 10;
    bx[7] = cx; by[7] = ax->y1 - 10 - h;
    for (k = 0; k < 8; k++) {
        long cnt = 0;
        for (i = 0; i < ns; i++) {
            /* sample along the segments too: a line crossing a box hides as much as points */
            for (j = 0; j < s[i].n; j++) {
                int q, sub = j + 1 < s[i].n ? 8 : 1;
                for (q = 0; q < sub; q++) {
                    double f = (double)q / sub, xx, yy;
                    double y0v = s[i].y[j], y1v = j + 1 < s[i].n ? s[i].y[j + 1] : y0v;
                    double x0v = s[i].x[j], x1v = j + 1 < s[i].n ? s[i].x[j + 1] : x0v;
                    if (!isfinite(y0v) || !isfinite(y1v)) continue;
                    xx = muon_axes_px(ax, x0v + f * (x1v - x0v));
                    yy = muon_axes_py(ax, y0v + f * (y1v - y0v));
                    if (xx >= bx[k] - 4 && xx <= bx[k] + w + 4 && yy >= by[k] - 4 && yy <= by[k] + h + 4) cnt++;
                }
            }
        }
        if (bestn < 0 || cnt < bestn) { bestn = cnt; best = k; }
    }
    muon_legend_draw(&g->c, bx[best], by[best], e, ne);
}

/* ---- a time-series panel -------------------------------------------------- */


void muon_plot_no_data(ctx *g, const muon_axes *ax, const char *what)
{
    char buf[128];
    snprintf(buf, sizeof buf, "no data%s%s", what ? ": " : "", what ? what : "");
    muon_canvas_text(&g->c, (ax->x0 + ax->x1) / 2, (ax->y0 + ax->y1) / 2, buf, 3, grey, 0, 0, 0);
}

int muon_panel_draw(ctx *g, int rx0, int ry0, int rx1, int ry1, const panel *p,
                      series *s, int ns, muon_axes *out)
{
    muon_axes ax;
    double xt[64], yt[64];
    int nxt, nyt, i, j, st, ylog, have;
    muon_legend_entry e[MAXSER];
    int ne = 0;
    memset(&ax, 0, sizeof ax);
    ylog = p->ylog < 0 ? auto_log(s, ns) : p->ylog;
    have = finite_count(s, ns, ylog);
    if (p->yhi > p->ylo) { ax.ymin = p->ylo; ax.ymax = p->yhi; }
    else y_range(s, ns, ylog, &ax.ymin, &ax.ymax);
    ax.ylog = ylog;
    ax.xmin = p->xlo;
    ax.xmax = p->xhi;
    nyt = ylog ? inside_log_ticks(ax.ymin, ax.ymax, yt, 64) : muon_plot_inside_ticks(ax.ymin, ax.ymax, 6, yt, 64);
    nxt = muon_plot_inside_ticks(ax.xmin, ax.xmax, 7, xt, 64);
    if (p->xint) { /* steps and layers are whole numbers */
        int m = 0;
        for (i = 0; i < nxt; i++)
            if (fabs(xt[i] - floor(xt[i] + 0.5)) < 1e-9) xt[m++] = xt[i];
        nxt = m;
    }
    ax.x0 = rx0 + 40 + muon_plot_max_label_width(yt, nyt, ylog) + 12;
    ax.x1 = rx1 - 36;
    ax.y0 = ry0 + (p->title ? (p->title_scale >= 3 ? 48 : 34) : 10) + (p->top_tokens ? 50 : 0);
    ax.y1 = ry1 - (p->xlabels ? 58 : 12);
    muon_axes_draw(&g->c, &ax, xt, nxt, yt, nyt, p->xlabels);
    if (p->title)
        muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ry0 + (p->title_scale >= 3 ? 10 : 8), p->title,
                         p->title_scale, ink, 0, -1, 0);
    if (p->ylabel) muon_canvas_text(&g->c, rx0 + 12, (ax.y0 + ax.y1) / 2, p->ylabel, 2, ink, 0, -1, 1);
    if (p->xlabels && p->xlabel)
        muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ax.y1 + 38, p->xlabel, 2, ink, 0, -1, 0);
    if (p->top_tokens) draw_token_axis(g, &ax);
    for (i = 0; i < ns; i++) {
        int few = 0;
        if (s[i].n == 0) continue;
        if (s[i].width > 0) {
            st = muon_axes_series(&g->c, &ax, s[i].x, s[i].y, s[i].n, s[i].width, s[i].dash, s[i].col, s[i].alpha);
            if (st) return st;
        }
        for (j = 0; j < s[i].n; j++) few += isfinite(s[i].y[j]) ? 1 : 0;
        if (s[i].marker >= 0 && (few <= 60 || s[i].width <= 0)) {
            muon_canvas_clip(&g->c, ax.x0, ax.y0, ax.x1 + 1, ax.y1 + 1);
            for (j = 0; j < s[i].n; j++)
                if (isfinite(s[i].y[j]))
                    muon_canvas_marker(&g->c, muon_axes_px(&ax, s[i].x[j]), muon_axes_py(&ax, s[i].y[j]),
                                       s[i].width <= 0 ? 5.5 : few == 1 ? 5.0 : 3.5, s[i].marker, s[i].col, s[i].alpha);
            muon_canvas_clip(&g->c, 0, 0, g->c.w, g->c.h);
        }
    }
    if (!have) muon_plot_no_data(g, &ax, NULL);
    if (p->legend && have) {
        for (i = 0; i < ns && ne < MAXSER; i++) {
            if (!s[i].label[0] || (s[i].n == 0 && !s[i].listed)) continue;
            e[ne].label = s[i].label;
            e[ne].col = s[i].col;
            e[ne].width = s[i].width;
            e[ne].dash = s[i].dash;
            e[ne].marker = s[i].marker;
            e[ne].bar = 0;
            ne++;
        }
        if (ne >= 1) muon_plot_place_legend(g, &ax, s, ns, e, ne);
    }
    if (out) *out = ax;
    return MUON_OK;
}
