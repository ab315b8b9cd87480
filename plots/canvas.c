/* The RGB canvas and its anti-aliased shapes.
 *
 * Shapes are drawn in two steps: their coverage (0..255 per pixel) is
 * accumulated with max() into the canvas's mask, then the mask is composited
 * once. Taking the max instead of blending segment by segment keeps a polyline
 * of thousands of short segments (or a line with alpha < 1) the same shade at
 * its joints, where overlapping caps would otherwise darken it.
 *
 * Coverage of a thick line is the distance-based estimate
 * clamp(w/2 + 1/2 - d, 0, 1), d the distance from the pixel centre to the
 * segment: exact for a straight edge crossing a pixel at 0 or 90 degrees and
 * within a few percent otherwise, which is all antialiasing needs. */
#include "plots/plots.h"
#include "metrics/metrics.h"

#include <math.h>
#include <string.h>

int muon_canvas_create(muon_canvas *c, int w, int h, muon_rgb bg)
{
    size_t i, n;
    memset(c, 0, sizeof *c);
    if (w < 1 || h < 1 || w > 16384 || h > 16384)
        return muon_error(MUON_ERR_ARG, "canvas: size %d x %d is outside 1..16384", w, h);
    n = (size_t)w * (size_t)h;
    c->px = muon_alloc(n * 3);
    c->mask = muon_calloc(n, 1);
    if (!c->px || !c->mask) {
        muon_free(c->px);
        muon_free(c->mask);
        memset(c, 0, sizeof *c);
        return MUON_ERR_NOMEM;
    }
    c->w = w;
    c->h = h;
    for (i = 0; i < n; i++) {
        c->px[3 * i] = bg.r;
        c->px[3 * i + 1] = bg.g;
        c->px[3 * i + 2] = bg.b;
    }
    c->mx0 = w; c->my0 = h; c->mx1 = -1; c->my1 = -1;
    muon_canvas_clip(c, 0, 0, w, h);
    return MUON_OK;
}

void muon_canvas_clip(muon_canvas *c, int x0, int y0, int x1, int y1)
{
    c->cx0 = x0 < 0 ? 0 : x0;
    c->cy0 = y0 < 0 ? 0 : y0;
    c->cx1 = x1 > c->w ? c->w : x1;
    c->cy1 = y1 > c->h ? c->h : y1;
}

void muon_canvas_free(muon_canvas *c)
{
    if (!c) return;
    muon_free(c->px);
    muon_free(c->mask);
    memset(c, 0, sizeof *c);
}

void muon_canvas_blend(muon_canvas *c, int x, int y, muon_rgb col, double a)
{
    unsigned char *p;
    if (x < 0 || y < 0 || x >= c->w || y >= c->h || !(a > 0)) return;
    if (a > 1) a = 1;
    p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    /* round to nearest; a = 1 gives col exactly */
    p[0] = (unsigned char)floor(p[0] + (col.r - p[0]) * a + 0.5);
    p[1] = (unsigned char)floor(p[1] + (col.g - p[1]) * a + 0.5);
    p[2] = (unsigned char)floor(p[2] + (col.b - p[2]) * a + 0.5);
}

muon_rgb muon_canvas_get(const muon_canvas *c, int x, int y)
{
    muon_rgb r;
    const unsigned char *p;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x >= c->w) x = c->w - 1;
    if (y >= c->h) y = c->h - 1;
    p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
    r.r = p[0]; r.g = p[1]; r.b = p[2];
    return r;
}

void muon_canvas_fill_rect(muon_canvas *c, int x0, int y0, int x1, int y1,
                           muon_rgb col, double a)
{
    int x, y;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    if (a >= 1) { /* opaque: plain stores (clearing a figure is 900k of these) */
        for (y = y0; y < y1; y++) {
            unsigned char *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)(x0 > 0 ? x0 : 0));
            for (x = x0; x < x1; x++, p += 3) { p[0] = col.r; p[1] = col.g; p[2] = col.b; }
        }
        return;
    }
    for (y = y0; y < y1; y++)
        for (x = x0; x < x1; x++) muon_canvas_blend(c, x, y, col, a);
}

/* ---- the coverage mask --------------------------------------------------- */

static void mask_put(muon_canvas *c, int x, int y, double cov)
{
    unsigned char *m;
    int v;
    if (x < c->cx0 || y < c->cy0 || x >= c->cx1 || y >= c->cy1 || !(cov > 0)) return;
    v = cov >= 1 ? 255 : (int)(cov * 255.0 + 0.5);
    m = c->mask + (size_t)y * (size_t)c->w + (size_t)x;
    if (v > *m) *m = (unsigned char)v;
    if (x < c->mx0) c->mx0 = x;
    if (x > c->mx1) c->mx1 = x;
    if (y < c->my0) c->my0 = y;
    if (y > c->my1) c->my1 = y;
}

static void mask_composite(muon_canvas *c, muon_rgb col, double a)
{
    int x, y;
    for (y = c->my0; y <= c->my1; y++) {
        unsigned char *m = c->mask + (size_t)y * (size_t)c->w;
        for (x = c->mx0; x <= c->mx1; x++)
            if (m[x]) {
                muon_canvas_blend(c, x, y, col, a * m[x] / 255.0);
                m[x] = 0;
            }
    }
    c->mx0 = c->w; c->my0 = c->h; c->mx1 = -1; c->my1 = -1;
}

static double seg_dist(double px, double py, double x0, double y0, double x1, double y1)
{
    double dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy, t = 0;
    if (l2 > 0) {
        t = ((px - x0) * dx + (py - y0) * dy) / l2;
        if (t < 0) t = 0;
        if (t > 1) t = 1;
    }
    dx = x0 + t * dx - px;
    dy = y0 + t * dy - py;
    return sqrt(dx * dx + dy * dy);
}

/* Scans only a band around the segment: along its major axis, each column
 * (or row) needs the pixels within (hw+1)*len/|major| of the centre line. */
static void mask_segment(muon_canvas *c, double x0, double y0, double x1, double y1, double hw)
{
    double dx = x1 - x0, dy = y1 - y0, len = sqrt(dx * dx + dy * dy);
    double r = hw + 1.0;
    int horiz = fabs(dx) >= fabs(dy);
    double lo = horiz ? (x0 < x1 ? x0 : x1) : (y0 < y1 ? y0 : y1);
    double hi = horiz ? (x0 < x1 ? x1 : x0) : (y0 < y1 ? y1 : y0);
    double major = horiz ? fabs(dx) : fabs(dy);
    double ext = major > 0 ? r * len / major + 1.0 : r + 1.0;
    int i, j, i0 = (int)floor(lo - r), i1 = (int)ceil(hi + r);
    int lim = horiz ? c->w : c->h;
    if (i0 < 0) i0 = 0;
    if (i1 > lim - 1) i1 = lim - 1;
    for (i = i0; i <= i1; i++) {
        double u = i + 0.5, t, v;
        int j0, j1, lim2 = horiz ? c->h : c->w;
        if (major > 0) {
            t = (u - (horiz ? x0 : y0)) / (horiz ? dx : dy);
            if (t < 0) t = 0;
            if (t > 1) t = 1;
        } else t = 0;
        v = horiz ? y0 + t * dy : x0 + t * dx;
        j0 = (int)floor(v - ext);
        j1 = (int)ceil(v + ext);
        if (j0 < 0) j0 = 0;
        if (j1 > lim2 - 1) j1 = lim2 - 1;
        for (j = j0; j <= j1; j++) {
            double px = horiz ? u : j + 0.5, py = horiz ? j + 0.5 : u;
            double d = seg_dist(px, py, x0, y0, x1, y1);
            double cov = hw + 0.5 - d;
            if (cov > 0) mask_put(c, horiz ? i : j, horiz ? j : i, cov);
        }
    }
}

void muon_canvas_polyline(muon_canvas *c, const double *x, const double *y, int n,
                          double width, double dash, muon_rgb col, double a)
{
    int i;
    double hw = width > 0 ? width / 2 : 0.5;
    double phase = 0; /* distance travelled within the current dash period */
    for (i = 0; i + 1 < n; i++) {
        double ax = x[i], ay = y[i], bx = x[i + 1], by = y[i + 1];
        double len, pos;
        if (!isfinite(ax) || !isfinite(ay) || !isfinite(bx) || !isfinite(by)) {
            phase = 0;
            continue;
        }
        /* keep far-off points from making huge scans: the caller clips, this
         * is only a guard against absurd coordinates */
        if (fabs(ax) > 1e6 || fabs(ay) > 1e6 || fabs(bx) > 1e6 || fabs(by) > 1e6) continue;
        if (!(dash > 0)) {
            mask_segment(c, ax, ay, bx, by, hw);
            continue;
        }
        len = sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay));
        pos = 0;
        while (pos < len) {
            double in_period = fmod(phase, 2 * dash);
            double left = (in_period < dash ? dash : 2 * dash) - in_period;
            double step = left < len - pos ? left : len - pos;
            if (in_period < dash && len > 0) {
                double t0 = pos / len, t1 = (pos + step) / len;
                mask_segment(c, ax + t0 * (bx - ax), ay + t0 * (by - ay),
                             ax + t1 * (bx - ax), ay + t1 * (by - ay), hw);
            }
            pos += step;
            phase += step;
            if (step <= 0) break;
        }
    }
    if (n == 1 && isfinite(x[0]) && isfinite(y[0]))
        mask_segment(c, x[0], y[0], x[0], y[0], hw);
    mask_composite(c, col, a);
}

void muon_canvas_line(muon_canvas *c, double x0, double y0, double x1, double y1,
                      double width, muon_rgb col, double a)
{
    double x[2], y[2];
    x[0] = x0; x[1] = x1; y[0] = y0; y[1] = y1;
    muon_canvas_polyline(c, x, y, 2, width, 0, col, a);
}

/* Coverage of a convex polygon's interior by 4x4 supersampling: simple and
 * exact enough for markers a few pixels across. */
static void mask_polygon(muon_canvas *c, const double *vx, const double *vy, int nv)
{
    double xmin = vx[0], xmax = vx[0], ymin = vy[0], ymax = vy[0];
    int i, x, y, sx, sy;
    for (i = 1; i < nv; i++) {
        if (vx[i] < xmin) xmin = vx[i];
        if (vx[i] > xmax) xmax = vx[i];
        if (vy[i] < ymin) ymin = vy[i];
        if (vy[i] > ymax) ymax = vy[i];
    }
    for (y = (int)floor(ymin); y <= (int)ceil(ymax); y++)
        for (x = (int)floor(xmin); x <= (int)ceil(xmax); x++) {
            int inside = 0;
            for (sy = 0; sy < 4; sy++)
                for (sx = 0; sx < 4; sx++) {
                    double px = x + (sx + 0.5) / 4, py = y + (sy + 0.5) / 4;
                    int pos = 0, neg = 0;
                    for (i = 0; i < nv; i++) {
                        int j = (i + 1) % nv;
                        double cr = (vx[j] - vx[i]) * (py - vy[i]) - (vy[j] - vy[i]) * (px - vx[i]);
                        if (cr > 0) pos = 1;
                        if (cr < 0) neg = 1;
                    }
                    if (!(pos && neg)) inside++;
                }
            if (inside) mask_put(c, x, y, inside / 16.0);
        }
}

void muon_canvas_marker(muon_canvas *c, double x, double y, double r, int shape,
                        muon_rgb col, double a)
{
    double vx[4], vy[4];
    if (!isfinite(x) || !isfinite(y) || !(r > 0)) return;
    switch (shape) {
    case MUON_MARK_SQUARE:
        r *= 0.886; /* same area as the circle */
        vx[0] = x - r; vy[0] = y - r; vx[1] = x + r; vy[1] = y - r;
        vx[2] = x + r; vy[2] = y + r; vx[3] = x - r; vy[3] = y + r;
        mask_polygon(c, vx, vy, 4);
        break;
    case MUON_MARK_DIAMOND:
        r *= 1.25;
        vx[0] = x; vy[0] = y - r; vx[1] = x + r; vy[1] = y;
        vx[2] = x; vy[2] = y + r; vx[3] = x - r; vy[3] = y;
        mask_polygon(c, vx, vy, 4);
        break;
    case MUON_MARK_TRIANGLE:
        r *= 1.3;
        vx[0] = x; vy[0] = y - r; vx[1] = x + 0.866 * r; vy[1] = y + 0.5 * r;
        vx[2] = x - 0.866 * r; vy[2] = y + 0.5 * r;
        mask_polygon(c, vx, vy, 3);
        break;
    default: /* a circle is a zero-length line of width 2r */
        mask_segment(c, x, y, x, y, r);
        break;
    }
    mask_composite(c, col, a);
}
