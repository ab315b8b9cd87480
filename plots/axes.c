/* Axes: data-to-pixel mapping, grid, frame, tick labels, series and legends.
 *
 * Series with more points than the plot has pixel columns are reduced before
 * drawing, keeping per column the first, smallest, largest and last point in
 * their original order (the "M4" aggregation of Jugel et al., VLDB 2014):
 * the rasterised line is then the same as with every point, but a run with
 * 100k logged steps costs a few thousand segments. */
#include "plots/plots.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>

static const muon_rgb ink = { 0x22, 0x22, 0x22 };
static const muon_rgb frame_col = { 0x44, 0x44, 0x44 };
static const muon_rgb grid_col = { 0xE6, 0xE6, 0xE6 };

static double tr(double v, int lg)
{
    if (!lg) return v;
    return v > 0 ? log10(v) : NAN;
}

double muon_axes_px(const muon_axes *ax, double x)
{
    double a = tr(ax->xmin, ax->xlog), b = tr(ax->xmax, ax->xlog);
    if (b == a) return (ax->x0 + ax->x1) / 2.0;
    return ax->x0 + (tr(x, ax->xlog) - a) / (b - a) * (ax->x1 - ax->x0);
}

double muon_axes_py(const muon_axes *ax, double y)
{
    double a = tr(ax->ymin, ax->ylog), b = tr(ax->ymax, ax->ylog);
    if (b == a) return (ax->y0 + ax->y1) / 2.0;
    return ax->y1 - (tr(y, ax->ylog) - a) / (b - a) * (ax->y1 - ax->y0);
}

static void tick_label(double v, const double *t, int nt, int lg, char *buf, size_t n)
{
    if (lg) muon_format_tick(v, v, buf, n);
    else muon_format_tick(v, nt > 1 ? fabs(t[1] - t[0]) : 0, buf, n);
}

void muon_axes_draw(muon_canvas *c, const muon_axes *ax, const double *xt, int nxt,
                    const double *yt, int nyt, int xlabels)
{
    int i;
    char buf[64];
    /* grid first, so the frame and the data lie on top of it */
    for (i = 0; i < nxt; i++) {
        double p = muon_axes_px(ax, xt[i]);
        int ip = (int)floor(p + 0.5);
        if (!(p >= ax->x0 - 0.5 && p <= ax->x1 + 0.5)) continue;
        muon_canvas_fill_rect(c, ip, ax->y0, ip + 1, ax->y1, grid_col, 1.0);
    }
    for (i = 0; i < nyt; i++) {
        double p = muon_axes_py(ax, yt[i]);
        int ip = (int)floor(p + 0.5);
        if (!(p >= ax->y0 - 0.5 && p <= ax->y1 + 0.5)) continue;
        muon_canvas_fill_rect(c, ax->x0, ip, ax->x1, ip + 1, grid_col, 1.0);
    }
    /* frame: one pixel just outside the area on every side */
    muon_canvas_fill_rect(c, ax->x0 - 1, ax->y0 - 1, ax->x1 + 1, ax->y0, frame_col, 1.0);
    muon_canvas_fill_rect(c, ax->x0 - 1, ax->y1, ax->x1 + 1, ax->y1 + 1, frame_col, 1.0);
    muon_canvas_fill_rect(c, ax->x0 - 1, ax->y0 - 1, ax->x0, ax->y1 + 1, frame_col, 1.0);
    muon_canvas_fill_rect(c, ax->x1, ax->y0 - 1, ax->x1 + 1, ax->y1 + 1, frame_col, 1.0);
    for (i = 0; i < nxt; i++) {
        double p = muon_axes_px(ax, xt[i]);
        int ip = (int)floor(p + 0.5);
        if (!(p >= ax->x0 - 0.5 && p <= ax->x1 + 0.5)) continue;
        muon_canvas_fill_rect(c, ip, ax->y1 + 1, ip + 1, ax->y1 + 6, frame_col, 1.0);
        if (xlabels) {
            tick_label(xt[i], xt, nxt, ax->xlog, buf, sizeof buf);
            muon_canvas_text(c, ip, ax->y1 + 11, buf, 2, ink, 0, -1, 0);
        }
    }
    for (i = 0; i < nyt; i++) {
        double p = muon_axes_py(ax, yt[i]);
        int ip = (int)floor(p + 0.5);
        if (!(p >= ax->y0 - 0.5 && p <= ax->y1 + 0.5)) continue;
        muon_canvas_fill_rect(c, ax->x0 - 6, ip, ax->x0 - 1, ip + 1, frame_col, 1.0);
        tick_label(yt[i], yt, nyt, ax->ylog, buf, sizeof buf);
        muon_canvas_text(c, ax->x0 - 11, ip, buf, 2, ink, 1, 0, 0);
    }
}

int muon_axes_series(muon_canvas *c, const muon_axes *ax, const double *x,
                     const double *y, int n, double width, double dash,
                     muon_rgb col, double a)
{
    double *px, *py;
    int i, m = 0, cols = ax->x1 - ax->x0 + 1;
    if (n <= 0) return MUON_OK;
    /* first/min/max/last per column plus a break: at most 5 per input point */
    px = muon_alloc(sizeof(double) * (size_t)n * 2 + 16);
    py = muon_alloc(sizeof(double) * (size_t)n * 2 + 16);
    if (!px || !py) { muon_free(px); muon_free(py); return MUON_ERR_NOMEM; }
    if (n <= 4 * cols) {
        for (i = 0; i < n; i++) {
            px[m] = muon_axes_px(ax, x[i]);
            py[m] = isfinite(y[i]) ? muon_axes_py(ax, y[i]) : NAN;
            m++;
        }
    } else {
        i = 0;
        while (i < n) {
            double xi = muon_axes_px(ax, x[i]);
            double yi = isfinite(y[i]) ? muon_axes_py(ax, y[i]) : NAN;
            long col0;
            int first, last, jmin, jmax, j;
            if (!isfinite(xi) || !isfinite(yi)) {
                px[m] = NAN; py[m] = NAN; m++;
                i++;
                continue;
            }
            /* the run of finite points falling in this pixel column */
            col0 = (long)floor(xi);
            first = last = jmin = jmax = i;
            {
                double ymin = yi, ymax = yi;
                for (j = i + 1; j < n; j++) {
                    double xj = muon_axes_px(ax, x[j]);
                    double yj = isfinite(y[j]) ? muon_axes_py(ax, y[j]) : NAN;
                    if (!isfinite(xj) || !isfinite(yj) || (long)floor(xj) != col0) break;
                    if (yj < ymin) { ymin = yj; jmin = j; }
                    if (yj > ymax) { ymax = yj; jmax = j; }
                    last = j;
                }
            }
            {
                int idx[4], k, prev = -1;
                idx[0] = first;
                idx[1] = jmin < jmax ? jmin : jmax;
                idx[2] = jmin < jmax ? jmax : jmin;
                idx[3] = last;
                for (k = 0; k < 4; k++) {
                    if (idx[k] == prev) continue;
                    prev = idx[k];
                    px[m] = muon_axes_px(ax, x[idx[k]]);
                    py[m] = muon_axes_py(ax, y[idx[k]]);
                    m++;
                }
            }
            i = last + 1;
        }
    }
    muon_canvas_clip(c, ax->x0, ax->y0, ax->x1 + 1, ax->y1 + 1);
    muon_canvas_polyline(c, px, py, m, width, dash, col, a);
    muon_canvas_clip(c, 0, 0, c->w, c->h);
    muon_free(px);
    muon_free(py);
    return MUON_OK;
}

/* ---- legends -------------------------------------------------------------- */

#define LEG_PAD 10
#define LEG_SAMPLE 36
#define LEG_ROW 26

void muon_legend_size(const muon_legend_entry *e, int n, int *w, int *h)
{
    int i, tw = 0;
    for (i = 0; i < n; i++) {
        int t = muon_text_width(e[i].label, 2);
        if (t > tw) tw = t;
    }
    *w = 2 * LEG_PAD + LEG_SAMPLE + 10 + tw;
    *h = 2 * LEG_PAD + n * LEG_ROW - 8;
}

void muon_legend_draw(muon_canvas *c, int x, int y, const muon_legend_entry *e, int n)
{
    static const muon_rgb white = { 255, 255, 255 }, border = { 0xBB, 0xBB, 0xBB };
    int w, h, i;
    muon_legend_size(e, n, &w, &h);
    muon_canvas_fill_rect(c, x, y, x + w, y + h, white, 0.88);
    muon_canvas_fill_rect(c, x, y, x + w, y + 1, border, 1.0);
    muon_canvas_fill_rect(c, x, y + h - 1, x + w, y + h, border, 1.0);
    muon_canvas_fill_rect(c, x, y, x + 1, y + h, border, 1.0);
    muon_canvas_fill_rect(c, x + w - 1, y, x + w, y + h, border, 1.0);
    for (i = 0; i < n; i++) {
        int cy = y + LEG_PAD + i * LEG_ROW + 9; /* centre of the row's capitals */
        int sx = x + LEG_PAD;
        if (e[i].bar) {
            muon_canvas_fill_rect(c, sx + 6, cy - 8, sx + LEG_SAMPLE - 6, cy + 9, e[i].col, 1.0);
        } else {
            if (e[i].width > 0) {
                double px[2], py[2];
                px[0] = sx; px[1] = sx + LEG_SAMPLE;
                py[0] = py[1] = cy + 0.5;
                muon_canvas_polyline(c, px, py, 2, e[i].width, e[i].dash, e[i].col, 1.0);
            }
            if (e[i].marker >= 0)
                muon_canvas_marker(c, sx + LEG_SAMPLE / 2.0, cy + 0.5, 4.5, e[i].marker, e[i].col, 1.0);
        }
        muon_canvas_text(c, sx + LEG_SAMPLE + 10, cy, e[i].label, 2, ink, -1, 0, 0);
    }
}
