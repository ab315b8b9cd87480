/* The research plots of SPEC section 8, drawn from metrics.csv alone.
 *
 * Conventions shared by every figure, so they can be read side by side:
 * a compared layer keeps its colour everywhere (first blue, middle green,
 * last vermillion: the Okabe-Ito colour-blind-safe set); a matrix kind keeps
 * its colour where kinds are compared; Q is drawn solid and V dashed; steps
 * run along x, with tokens seen on a second axis on top of time series.
 * Whatever is not in the log is drawn as an empty frame saying "no data", so
 * a young run or a run without SwiGLU still gets every file. */
#include "muon.h"
#include "io/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const muon_rgb white = { 255, 255, 255 };
static const muon_rgb ink = { 0x22, 0x22, 0x22 };
static const muon_rgb grey = { 0x88, 0x88, 0x88 };

/* Okabe & Ito (2008): distinguishable with every common colour-vision deficiency. */
static const muon_rgb layer_cols[8] = {
    { 0x00, 0x72, 0xB2 }, { 0x00, 0x9E, 0x73 }, { 0xD5, 0x5E, 0x00 }, { 0xCC, 0x79, 0xA7 },
    { 0xE6, 0x9F, 0x00 }, { 0x56, 0xB4, 0xE9 }, { 0x00, 0x00, 0x00 }, { 0xF0, 0xE4, 0x42 }
};
/* Matrix kinds q, k, v, o, up, down, gate (Tableau 10). */
static const muon_rgb kind_cols[MUON_CSV_NKINDS] = {
    { 0x4E, 0x79, 0xA7 }, { 0xF2, 0x8E, 0x2B }, { 0x59, 0xA1, 0x4F }, { 0xE1, 0x57, 0x59 },
    { 0xB0, 0x7A, 0xA1 }, { 0x76, 0xB7, 0xB2 }, { 0x9C, 0x75, 0x5F }
};
static const int kind_marks[MUON_CSV_NKINDS] = {
    MUON_MARK_CIRCLE, MUON_MARK_SQUARE, MUON_MARK_DIAMOND, MUON_MARK_TRIANGLE,
    MUON_MARK_CIRCLE, MUON_MARK_SQUARE, MUON_MARK_DIAMOND
};
enum { KQ = 0, KK, KV, KO, KUP, KDOWN, KGATE };

#define MAXSER 16

typedef struct {
    double *x, *y;  /* owned */
    int n;
    muon_rgb col;
    double width, dash;
    int marker;     /* -1 none, else drawn at every point when few */
    double alpha;
    char label[64];
    int listed;     /* 1: in the legend even when empty ("not logged yet") */
} series;

typedef struct {
    const muon_metrics_table *t;
    muon_canvas c;
    int W, H;
    int nl;               /* compared layers */
    int layers[8];
    char role[8][40];     /* "layer 0 (first)" */
    double *tok_s, *tok_t; /* (ntok) step -> tokens seen, strictly increasing */
    int ntok;
    double xmin, xmax;    /* the step range of the whole log */
} ctx;

/* ---- data access -------------------------------------------------------- */

static float matval(const ctx *g, int metric, int kind, int layer, int ti)
{
    const float *m = g->t->mat[metric][kind];
    if (!m || layer < 0 || layer >= g->t->n_layers) return (float)NAN;
    return m[(size_t)layer * (size_t)g->t->n_tracked + (size_t)ti];
}

static void series_free(series *s, int n)
{
    int i;
    for (i = 0; i < n; i++) { muon_free(s[i].x); muon_free(s[i].y); s[i].x = s[i].y = NULL; }
}

static int series_alloc(series *s, int n)
{
    memset(s, 0, sizeof *s);
    s->x = muon_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    s->y = muon_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    s->marker = -1;
    s->width = 2.0;
    s->alpha = 1.0;
    if (!s->x || !s->y) { series_free(s, 1); return MUON_ERR_NOMEM; }
    return MUON_OK;
}

/* metric of (kind, layer) over the tracked steps where it was logged; a
 * logged nan/inf becomes a NaN point (a gap in the line). */
static int matrix_series(const ctx *g, series *s, int metric, int kind, int layer)
{
    int i, st = series_alloc(s, g->t->n_tracked);
    if (st) return st;
    for (i = 0; i < g->t->n_tracked; i++) {
        float v = matval(g, metric, kind, layer, i);
        if (v != v) continue;
        s->x[s->n] = (double)g->t->tracked[i];
        s->y[s->n] = isfinite(v) ? (double)v : NAN;
        s->n++;
    }
    return MUON_OK;
}

static int model_series(const ctx *g, series *s, int which)
{
    int i, st = series_alloc(s, g->t->n_steps);
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

static int inside_ticks(double lo, double hi, int target, double *t, int cap);

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
    n = inside_ticks(tl, th, 6, ticks, 32);
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
static int inside_ticks(double lo, double hi, int target, double *t, int cap)
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
        m = inside_ticks(lo, hi, 5, t, cap);
    }
    return m;
}

/* Integer ticks for a layer axis 0..L-1. */
static int layer_ticks(int L, double *t, int cap)
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

static int max_label_width(const double *t, int n, int lg)
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
static void place_legend(ctx *g, const muon_axes *ax, const series *s, int ns,
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

typedef struct {
    const char *title;  /* NULL: none */
    int title_scale;    /* 3 for the figure title, 2 for a panel's subtitle */
    const char *ylabel;
    int ylog;           /* 0 linear, 1 log, -1 decide from the data */
    double ylo, yhi;    /* fixed y range when yhi > ylo */
    int top_tokens;     /* draw the tokens-seen axis on top */
    int xlabels;        /* tick labels and "step" below */
    double xlo, xhi;    /* x range (steps) */
    const char *xlabel;
    int legend;
    int xint;           /* only whole-number x ticks */
} panel;

static void no_data(ctx *g, const muon_axes *ax, const char *what)
{
    char buf[128];
    snprintf(buf, sizeof buf, "no data%s%s", what ? ": " : "", what ? what : "");
    muon_canvas_text(&g->c, (ax->x0 + ax->x1) / 2, (ax->y0 + ax->y1) / 2, buf, 3, grey, 0, 0, 0);
}

static int draw_panel(ctx *g, int rx0, int ry0, int rx1, int ry1, const panel *p,
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
    nyt = ylog ? inside_log_ticks(ax.ymin, ax.ymax, yt, 64) : inside_ticks(ax.ymin, ax.ymax, 6, yt, 64);
    nxt = inside_ticks(ax.xmin, ax.xmax, 7, xt, 64);
    if (p->xint) { /* steps and layers are whole numbers */
        int m = 0;
        for (i = 0; i < nxt; i++)
            if (fabs(xt[i] - floor(xt[i] + 0.5)) < 1e-9) xt[m++] = xt[i];
        nxt = m;
    }
    ax.x0 = rx0 + 40 + max_label_width(yt, nyt, ylog) + 12;
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
    if (!have) no_data(g, &ax, NULL);
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
        if (ne >= 1) place_legend(g, &ax, s, ns, e, ne);
    }
    if (out) *out = ax;
    return MUON_OK;
}

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
        st = matrix_series(g, &s[i], metric, kind, g->layers[i]);
        if (st) { series_free(s, i); return st; }
        s[i].col = layer_cols[i % 8];
        s[i].dash = dash;
        s[i].marker = dash > 0 ? MUON_MARK_SQUARE : MUON_MARK_CIRCLE;
        snprintf(s[i].label, sizeof s[i].label, "%s%s", g->role[i], suffix ? suffix : "");
    }
    return MUON_OK;
}

static int fig_single(ctx *g, int metric, int kind, const char *title, const char *ylabel, int ylog)
{
    series s[8];
    panel p = time_panel(g, title, ylabel);
    int st;
    p.ylog = ylog;
    st = layer_series(g, s, metric, kind, 0, NULL);
    if (st) return st;
    st = draw_panel(g, 0, 0, g->W, g->H, &p, s, g->nl, NULL);
    series_free(s, g->nl);
    return st;
}

/* Two stacked time-series panels sharing the step axis. */
static int fig_two(ctx *g, int m1, int m2, int kind, const char *title,
                   const char *y1, const char *sub2, const char *y2, int ylog)
{
    series s[8];
    panel p = time_panel(g, title, y1);
    int st, split = g->H * 53 / 100;
    p.ylog = ylog;
    p.xlabels = 0;
    st = layer_series(g, s, m1, kind, 0, NULL);
    if (st) return st;
    st = draw_panel(g, 0, 0, g->W, split, &p, s, g->nl, NULL);
    series_free(s, g->nl);
    if (st) return st;
    p = time_panel(g, sub2, y2);
    p.title_scale = 2;
    p.top_tokens = 0;
    p.ylog = ylog;
    p.legend = 0; /* same series, same colours as above */
    st = layer_series(g, s, m2, kind, 0, NULL);
    if (st) return st;
    st = draw_panel(g, 0, split - 6, g->W, g->H, &p, s, g->nl, NULL);
    series_free(s, g->nl);
    return st;
}

static int fig_loss(ctx *g)
{
    series s[2];
    panel p = time_panel(g, "Training and validation loss", "cross-entropy loss (nats)");
    int st;
    st = model_series(g, &s[0], MUON_CSV_LOSS);
    if (st) return st;
    st = model_series(g, &s[1], MUON_CSV_VAL_LOSS);
    if (st) { series_free(s, 1); return st; }
    s[0].col = layer_cols[0];
    s[0].width = 1.6;
    snprintf(s[0].label, sizeof s[0].label, "train loss");
    s[1].col = layer_cols[2];
    s[1].width = 2.4;
    s[1].marker = MUON_MARK_CIRCLE;
    snprintf(s[1].label, sizeof s[1].label, s[1].n ? "validation loss" : "validation loss: not logged yet");
    s[1].listed = 1;
    st = draw_panel(g, 0, 0, g->W, g->H, &p, s, 2, NULL);
    series_free(s, 2);
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
                st = matrix_series(g, &s[ns], metric, kind, g->layers[idx[i]]);
                if (st) break;
                s[ns].col = layer_cols[idx[i] % 8];
                s[ns].dash = k ? 7 : 0;
                snprintf(s[ns].label, sizeof s[ns].label, "%s %s", kind == KQ ? "Q" : "V", g->role[idx[i]]);
                ns++;
            }
        if (st) break;
        if (pass == 0) {
            p = time_panel(g, "Spectral stretching: sigma_max of Q and V", "sigma_max");
            p.xlabels = 0;
            p.ylog = -1;
            st = draw_panel(g, 0, 0, g->W, split, &p, s, ns, NULL);
        } else {
            p = time_panel(g, "stable rank  ||W||_F^2 / sigma_max^2", "stable rank");
            p.title_scale = 2;
            p.top_tokens = 0;
            p.ylog = -1;
            p.legend = 0;
            st = draw_panel(g, 0, split - 6, g->W, g->H, &p, s, ns, NULL);
        }
        series_free(s, ns);
        ns = 0;
    }
    series_free(s, ns);
    return st;
}

/* Per-(kind, layer) last logged finite value of metric; NaN when none. */
static double final_value(const ctx *g, int metric, int kind, int layer, long *at_step)
{
    int i;
    for (i = g->t->n_tracked - 1; i >= 0; i--) {
        float v = matval(g, metric, kind, layer, i);
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
        st = series_alloc(&s[k], L);
        if (st) { series_free(s, k); return st; }
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
    st = draw_panel(g, 0, 0, g->W, top_h, &p, s, 2, &top);
    series_free(s, 2);
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
                        v = matval(g, ent, kind, layer, ti);
                        muon_canvas_fill_rect(&g->c, x, y, x + 1, y + 1,
                                              muon_colormap(isfinite(v) ? (double)v : NAN), 1.0);
                    }
                }
            }
            nxt = inside_ticks(ax.xmin, ax.xmax, 5, xt, 64);
            {
                int m = 0;
                for (i = 0; i < nxt; i++)
                    if (fabs(xt[i] - floor(xt[i] + 0.5)) < 1e-9) xt[m++] = xt[i];
                nxt = m;
            }
            nyt = layer_ticks(L > 0 ? L : 1, yt, 64);
            muon_axes_draw(&g->c, &ax, xt, nxt, yt, nyt, 1);
            muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ax.y1 + 38, "step", 2, ink, 0, -1, 0);
            if (k == 0) muon_canvas_text(&g->c, 12, (ax.y0 + ax.y1) / 2, "layer", 2, ink, 0, -1, 1);
            if (!(nt > 0 && L > 0 && g->t->mat[ent][kind])) no_data(g, &ax, NULL);
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

static int fig_norm_depth(ctx *g)
{
    int sig = muon_metric_index("sigma_max");
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
            st = series_alloc(q, L);
            if (st) { series_free(s, ns); return st; }
            for (i = 0; i < L; i++) {
                double v = e < ne ? (double)matval(g, sig, k, i, earlier[e]) : final_value(g, sig, k, i, NULL);
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
                snprintf(q->label, sizeof q->label, "%s", muon_csv_kind_name(k));
                if (q->n) have = 1;
            }
            ns++;
        }
    }
    memset(&p, 0, sizeof p);
    p.title = "Spectral norm vs depth (final step, least-squares trend)";
    p.title_scale = 3;
    p.ylabel = "sigma_max";
    p.ylog = 0;
    p.xlabels = 1;
    p.xlabel = "layer";
    p.xint = 1;
    p.xlo = -0.5;
    p.xhi = L > 1 ? L - 0.5 : 0.5;
    p.legend = 0;
    st = draw_panel(g, 0, 0, g->W, g->H, &p, s, ns, &ax);
    if (st) { series_free(s, ns); return st; }
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
    if (have) place_legend(g, &ax, s, ns, le, nle);
    series_free(s, ns);
    return MUON_OK;
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
            float s1 = matval(g, t1, KQ, layer, ti);
            if (isfinite(s1) && s1 > 0) {
                at[k] = g->t->tracked[ti];
                for (i = 0; i < 10; i++) {
                    float si = matval(g, t1 + i, KQ, layer, ti);
                    v[k][i] = isfinite(si) ? si / s1 : NAN;
                }
                have = 1;
                break;
            }
        }
    }
    memset(&ax, 0, sizeof ax);
    ax.xmin = 0.4; ax.xmax = 10.6; ax.ymin = 0; ax.ymax = 1.08;
    nyt = inside_ticks(0, 1.08, 6, yt, 16);
    ax.x0 = 40 + max_label_width(yt, nyt, 0) + 12;
    ax.x1 = g->W - 36;
    ax.y0 = 58;
    ax.y1 = g->H - 58;
    for (i = 0; i < 10; i++) xt[i] = i + 1;
    muon_axes_draw(&g->c, &ax, xt, 10, yt, nyt, 1);
    muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, 10, "Singular spectrum of Q: top 10, normalised to sigma_1 = 1",
                     3, ink, 0, -1, 0);
    muon_canvas_text(&g->c, 12, (ax.y0 + ax.y1) / 2, "sigma_i / sigma_1", 2, ink, 0, -1, 1);
    muon_canvas_text(&g->c, (ax.x0 + ax.x1) / 2, ax.y1 + 38, "singular value index i", 2, ink, 0, -1, 0);
    if (!have) { no_data(g, &ax, NULL); return MUON_OK; }
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
        no_data(g, &ax, NULL);
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
        muon_canvas_text(&g->c, ax.x0 - 12, yc, muon_csv_kind_name(kinds[k]), 2, ink, 1, 0, 0);
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
        return fig_two(g, ALIGN_L, ALIGN_R, KQ, "Update-weight alignment, Q: top-5 left singular vectors",
                       "alignment (left)", "the same for the top-5 right singular vectors", "alignment (right)", 0);
    case 1:
        return fig_single(g, muon_metric_index("update_rank"), KQ,
                          "Momentum effective rank, Q", "effective rank (Roy-Vetterli)", 0);
    case 2:
        return fig_single(g, muon_metric_index("subspace_efficiency"), KQ,
                          "Subspace efficiency, Q: alignment / update rank", "alignment / rank", -1);
    case 3: return fig_entropy_mri(g);
    case 4: return fig_norm_depth(g);
    case 5: return fig_spectrum(g);
    case 6:
        return fig_single(g, muon_metric_index("spectral_gap"), KQ,
                          "Spectral gap sigma_1 / sigma_2, Q", "sigma_1 / sigma_2", -1);
    case 7: return fig_stretching(g);
    case 8:
        return fig_two(g, muon_metric_index("ortho_error_update"), muon_metric_index("ortho_error_weight"), KQ,
                       "Orthogonality error of Muon's update, Q", "||O^T O - I|| / sqrt(r)",
                       "weight's departure from orthogonality ||W^T W / s1^2 - I|| / sqrt(r)", "weight error", -1);
    case 9: return fig_loss(g);
    case 10:
        return fig_kind_heatmap(g, "sigma_max", "Final sigma_max by matrix and layer",
                                "sigma_max (fitted range)", 0, "%.3g");
    default:
        return fig_kind_heatmap(g, "spectral_entropy", "Final spectral entropy by matrix and layer",
                                "spectral entropy (fixed scale 0 to 1)", 1, "%.2f");
    }
}

static const char *const fig_files[12] = {
    "update_alignment.png", "update_rank_evolution.png", "subspace_efficiency.png",
    "entropy_mri.png", "spectral_norm_vs_depth.png", "singular_spectrum.png",
    "spectral_gap.png", "spectral_stretching_evolution.png", "orthogonality_error.png",
    "loss.png", "norm_heatmap.png", "entropy_heatmap.png"
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
    st = muon_metrics_read(csv_path, &t);
    if (st) return st;
    g.t = &t;
    L = t.n_layers;
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
        double v = t.model[(size_t)MUON_CSV_TOKENS * (size_t)t.n_steps + (size_t)i];
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
    for (i = 0; i < 12; i++) {
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
    muon_free(g.tok_s);
    muon_free(g.tok_t);
    muon_metrics_free(&t);
    return st;
}

int muon_plot_run(const char *run_dir) { return muon_plot_run_opts(run_dir, NULL); }
