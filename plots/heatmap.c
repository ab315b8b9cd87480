/* Heatmaps (cells coloured by muon_colormap, optionally annotated with their
 * values) and the colour bar that gives the scale. */
#include "plots/plots.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>

static const muon_rgb ink = { 0x22, 0x22, 0x22 };
static const muon_rgb frame_col = { 0x44, 0x44, 0x44 };

/* Relative luminance (Rec. 709 weights on sRGB values, no linearisation:
 * only used to pick black or white text). */
static double luma(muon_rgb c) { return (0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b) / 255.0; }

void muon_heatmap(muon_canvas *c, int x0, int y0, int x1, int y1, const double *v,
                  int rows, int cols, double vmin, double vmax, const char *fmt)
{
    int i, j, scale = 0;
    double span = vmax - vmin;
    char buf[32];
    if (rows <= 0 || cols <= 0) return;
    if (fmt) {
        /* one text size for every cell, the largest that fits them all, so
         * the numbers read as one table */
        int cw = (x1 - x0) / cols, ch = (y1 - y0) / rows, wmax = 0;
        for (i = 0; i < rows * cols; i++)
            if (isfinite(v[i])) {
                int w;
                snprintf(buf, sizeof buf, fmt, v[i]);
                w = muon_text_width(buf, 1);
                if (w > wmax) wmax = w;
            }
        for (scale = 2; scale >= 1; scale--)
            if (wmax * scale <= cw - 3 && 7 * scale <= ch - 4) break;
    }
    for (i = 0; i < rows; i++) {
        int ya = y0 + (int)((long)i * (y1 - y0) / rows);
        int yb = y0 + (int)((long)(i + 1) * (y1 - y0) / rows);
        for (j = 0; j < cols; j++) {
            int xa = x0 + (int)((long)j * (x1 - x0) / cols);
            int xb = x0 + (int)((long)(j + 1) * (x1 - x0) / cols);
            double val = v[(size_t)i * (size_t)cols + (size_t)j];
            double t = isfinite(val) ? (span > 0 ? (val - vmin) / span : 0.5) : NAN;
            muon_rgb col = muon_colormap(t);
            muon_canvas_fill_rect(c, xa, ya, xb, yb, col, 1.0);
            if (scale >= 1 && isfinite(val)) {
                muon_rgb tc = { 0, 0, 0 };
                if (luma(col) < 0.5) tc.r = tc.g = tc.b = 255;
                snprintf(buf, sizeof buf, fmt, val);
                muon_canvas_text(c, (xa + xb) / 2, (ya + yb) / 2, buf, scale, tc, 0, 0, 0);
            }
        }
    }
}

void muon_colorbar(muon_canvas *c, int x0, int y0, int x1, int y1, double vmin,
                   double vmax, const char *label)
{
    double ticks[32], step;
    int i, n, y, maxw = 0;
    char buf[64];
    for (y = y0; y < y1; y++) {
        double t = y1 - y0 > 1 ? (double)(y1 - 1 - y) / (y1 - y0 - 1) : 0.5;
        muon_canvas_fill_rect(c, x0, y, x1, y + 1, muon_colormap(t), 1.0);
    }
    muon_canvas_fill_rect(c, x0 - 1, y0 - 1, x1 + 1, y0, frame_col, 1.0);
    muon_canvas_fill_rect(c, x0 - 1, y1, x1 + 1, y1 + 1, frame_col, 1.0);
    muon_canvas_fill_rect(c, x0 - 1, y0, x0, y1, frame_col, 1.0);
    muon_canvas_fill_rect(c, x1, y0, x1 + 1, y1, frame_col, 1.0);
    {
        /* Heckbert's loose ticks can leave only two inside a tight range:
         * ask for more until at least four label the bar */
        int target, inside;
        for (target = 6; target <= 16; target += 2) {
            n = muon_nice_ticks(vmin, vmax, target, ticks, 32, &step);
            for (i = 0, inside = 0; i < n; i++)
                if (ticks[i] >= vmin - 1e-9 * (vmax - vmin) && ticks[i] <= vmax + 1e-9 * (vmax - vmin)) inside++;
            if (inside >= 4) break;
        }
    }
    for (i = 0; i < n; i++) {
        double f = vmax > vmin ? (ticks[i] - vmin) / (vmax - vmin) : 0.5;
        int yy;
        if (f < -1e-9 || f > 1 + 1e-9) continue; /* loose ticks beyond the bar */
        yy = (int)floor(y1 - 1 - f * (y1 - y0 - 1) + 0.5);
        muon_canvas_fill_rect(c, x1 + 1, yy, x1 + 6, yy + 1, frame_col, 1.0);
        muon_format_tick(ticks[i], step, buf, sizeof buf);
        muon_canvas_text(c, x1 + 10, yy, buf, 2, ink, -1, 0, 0);
        if (muon_text_width(buf, 2) > maxw) maxw = muon_text_width(buf, 2);
    }
    if (label) muon_canvas_text(c, x1 + 10 + maxw + 14, (y0 + y1) / 2, label, 2, ink, 0, -1, 1);
}
