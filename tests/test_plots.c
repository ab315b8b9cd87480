/* Plots: ticks, canvas shapes, text, colour map, heatmaps, PNG round trip,
 * the metrics.csv reader (good and malformed input), the twelve research
 * plots and the `muon plot` command.
 *
 * Pictures are checked by decoding the PNG files back with stb_image (the
 * same Debian package) and looking at pixels whose values follow from the
 * drawing rules by hand: a line's rows from the axis mapping, a heatmap
 * cell's colour from matplotlib's viridis anchors, ink of a glyph from the
 * glyph's design. */
#include "test.h"
#include "plots/font_atlas.h"
#include "plots/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb_image.h>

#define TDIR "build/test_plots"

static const muon_rgb WHITE = { 255, 255, 255 };
static const muon_rgb RED = { 200, 30, 40 };

static int same(muon_rgb a, muon_rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
static int is_white(muon_rgb a) { return a.r == 255 && a.g == 255 && a.b == 255; }
static muon_rgb hex(unsigned v)
{
    muon_rgb c;
    c.r = (unsigned char)(v >> 16); c.g = (unsigned char)(v >> 8); c.b = (unsigned char)v;
    return c;
}

static int file_exists(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* ---- ticks ----------------------------------------------------------------- */

static void check_ticks(const char *what, double lo, double hi, int target,
                        const double *want, int nwant, double want_step)
{
    double t[64], step;
    int n = muon_nice_ticks(lo, hi, target, t, 64, &step), i, ok = n == nwant;
    for (i = 0; ok && i < n; i++) ok = fabs(t[i] - want[i]) <= 1e-12 * (fabs(want[i]) + 1e-300) + 1e-15;
    ok = ok && fabs(step - want_step) <= 1e-12 * want_step;
    check(ok, "nice ticks %s [%g, %g] target %d: %d ticks (want %d), step %g (want %g), first %g last %g",
          what, lo, hi, target, n, nwant, step, want_step, n ? t[0] : NAN, n ? t[n - 1] : NAN);
}

static void test_ticks(void)
{
    /* Heckbert: R = nicenum(hi-lo, up); d = nicenum(R/(target-1), nearest);
     * ticks floor(lo/d)*d .. ceil(hi/d)*d. Worked by hand:
     * [0,0.93],5: R=1 (9.3e-1 -> 10e-1), 1/4=0.25 -> f=2.5 <3 -> 2: d=0.2, 0..1.0
     * [0,100],5: R=100, 25 -> 2.5 -> 2: d=20, 0..100
     * [-3.7,12.2],5: R=20 (15.9 -> 2e1), 5 -> 5: d=5, -5..15
     * [1000,1003],5: R=5 (3 -> 5), 1.25 -> 1: d=1, 1000..1003
     * [0.0012,0.0047],5: R=0.005, 0.00125 -> 1e-3: d=0.001, 0.001..0.005 */
    double a[] = { 0, 0.2, 0.4, 0.6, 0.8, 1.0 };
    double b[] = { 0, 20, 40, 60, 80, 100 };
    double c[] = { -5, 0, 5, 10, 15 };
    double d[] = { 1000, 1001, 1002, 1003 };
    double e[] = { 0.001, 0.002, 0.003, 0.004, 0.005 };
    double t[64];
    char buf[64];
    int n;
    check_ticks("a", 0, 0.93, 5, a, 6, 0.2);
    check_ticks("b", 0, 100, 5, b, 6, 20);
    check_ticks("c", -3.7, 12.2, 5, c, 5, 5);
    check_ticks("d", 1000, 1003, 5, d, 4, 1);
    check_ticks("e", 0.0012, 0.0047, 5, e, 5, 0.001);
    check(muon_nice_ticks(NAN, 1, 5, t, 64, NULL) == 0 && muon_nice_ticks(0, INFINITY, 5, t, 64, NULL) == 0,
          "nice ticks of a non-finite range: none");
    n = muon_nice_ticks(3, 3, 5, t, 64, NULL);
    check(n >= 2 && t[0] <= 3 && t[n - 1] >= 3, "nice ticks of a zero range [3,3]: %d ticks around it (%g..%g)",
          n, n ? t[0] : NAN, n ? t[n - 1] : NAN);

    /* log: decades floor(log10 lo) .. ceil(log10 hi); 2 and 5 added below two
     * decades; every k-th decade, k = ceil(decades/8), beyond eight */
    n = muon_log_ticks(0.003, 20, t, 64);
    check(n == 6 && fabs(t[0] - 1e-3) < 1e-18 && fabs(t[5] - 100) < 1e-12,
          "log ticks [0.003, 20]: 1e-3 .. 1e2, 6 ticks (got %d: %g .. %g)", n, t[0], t[n - 1]);
    n = muon_log_ticks(2, 7, t, 64);
    check(n == 4 && t[0] == 1 && t[1] == 2 && t[2] == 5 && t[3] == 10,
          "log ticks [2, 7]: 1, 2, 5, 10 (got %d: %g %g %g %g)", n, t[0], t[1], t[2], t[3]);
    n = muon_log_ticks(1e-12, 1e12, t, 64);
    check(n == 9 && fabs(t[0] / 1e-12 - 1) < 1e-12 && fabs(t[1] / 1e-9 - 1) < 1e-12 && fabs(t[8] / 1e12 - 1) < 1e-12,
          "log ticks [1e-12, 1e12]: every third decade, 9 ticks (got %d)", n);
    check(muon_log_ticks(0, 10, t, 64) == 0 && muon_log_ticks(-1, 10, t, 64) == 0, "log ticks with lo <= 0: none");

    muon_format_tick(0.4, 0.2, buf, sizeof buf);
    check(!strcmp(buf, "0.4"), "tick label 0.4 (step 0.2): '%s'", buf);
    muon_format_tick(0.75, 0.25, buf, sizeof buf);
    check(!strcmp(buf, "0.75"), "tick label 0.75 (step 0.25): '%s'", buf);
    muon_format_tick(1500, 500, buf, sizeof buf);
    check(!strcmp(buf, "1500"), "tick label 1500 (step 500): '%s'", buf);
    muon_format_tick(2e-5, 1e-5, buf, sizeof buf);
    check(!strcmp(buf, "2e-5"), "tick label 2e-5: '%s'", buf);
    muon_format_si(1.5e6, buf, sizeof buf);
    check(!strcmp(buf, "1.5M"), "SI label 1.5e6: '%s'", buf);
    muon_format_si(4e9, buf, sizeof buf);
    check(!strcmp(buf, "4G"), "SI label 4e9: '%s'", buf);
    muon_format_si(950, buf, sizeof buf);
    check(!strcmp(buf, "950"), "SI label 950: '%s'", buf);
}

/* ---- canvas, lines, text ----------------------------------------------------- */

static void test_lines(void)
{
    muon_canvas c;
    muon_axes ax;
    double x[2] = { 0, 1 }, y[2] = { 0.5, 0.5 };
    int st, ok, xx, yy, partial = 0, gaps = 0, inked = 0;
    st = muon_canvas_create(&c, 600, 500, WHITE);
    if (!check(st == MUON_OK, "canvas 600x500 created")) return;
    memset(&ax, 0, sizeof ax);
    ax.x0 = 100; ax.x1 = 500; ax.y0 = 50; ax.y1 = 450;
    ax.xmin = 0; ax.xmax = 1; ax.ymin = 0; ax.ymax = 1;
    /* y = 0.5 on [0,1] maps to row 450 - 0.5*400 = 250.0, the boundary
     * between pixel rows 249 and 250: a 2-pixel line covers exactly those */
    check_near("axes: py(0.5) on [0,1] over rows 50..450", muon_axes_py(&ax, 0.5), 250.0, 0, 1e-12);
    check_near("axes: px(0.25) on [0,1] over columns 100..500", muon_axes_px(&ax, 0.25), 200.0, 0, 1e-12);
    muon_axes_series(&c, &ax, x, y, 2, 2.0, 0, RED, 1.0);
    ok = 1;
    for (xx = 110; xx < 490; xx += 7)
        ok = ok && same(muon_canvas_get(&c, xx, 249), RED) && same(muon_canvas_get(&c, xx, 250), RED) &&
             is_white(muon_canvas_get(&c, xx, 247)) && is_white(muon_canvas_get(&c, xx, 248)) &&
             is_white(muon_canvas_get(&c, xx, 251)) && is_white(muon_canvas_get(&c, xx, 252));
    check(ok, "horizontal line y=0.5, width 2: rows 249 and 250 exactly the line colour, rows 247/248/251/252 untouched");
    /* outside the plot area nothing is drawn (clipping) */
    check(is_white(muon_canvas_get(&c, 99, 249)) && is_white(muon_canvas_get(&c, 501, 250)),
          "line clipped to the plot area");

    /* a shallow diagonal is anti-aliased: pixels of partial coverage exist */
    muon_canvas_line(&c, 100.3, 300.2, 480.7, 340.9, 1.5, RED, 1.0);
    for (yy = 290; yy < 350; yy++)
        for (xx = 100; xx < 490; xx++) {
            muon_rgb p = muon_canvas_get(&c, xx, yy);
            if (!is_white(p) && !same(p, RED)) partial++;
        }
    check(partial > 200, "diagonal line is anti-aliased: %d partially covered pixels", partial);

    /* dashes: a dashed horizontal line has ink and gaps along its centre row */
    muon_canvas_polyline(&c, (double[]){ 100, 500 }, (double[]){ 400.5, 400.5 }, 2, 2.0, 8.0, RED, 1.0);
    for (xx = 100; xx < 500; xx++) {
        if (same(muon_canvas_get(&c, xx, 400), RED)) inked++;
        else if (is_white(muon_canvas_get(&c, xx, 400))) gaps++;
    }
    check(inked > 120 && gaps > 120, "dashed line (8 px dashes): %d inked and %d blank pixels on its row", inked, gaps);

    /* a marker fills its centre and leaves the far corners */
    muon_canvas_marker(&c, 50.5, 50.5, 5, MUON_MARK_CIRCLE, RED, 1.0);
    check(same(muon_canvas_get(&c, 50, 50), RED) && same(muon_canvas_get(&c, 53, 50), RED) &&
          is_white(muon_canvas_get(&c, 57, 57)), "circle marker r=5: centre inked, (57,57) blank");
    muon_canvas_free(&c);
}

static void test_decimation(void)
{
    /* 100k points through the per-column reduction vs the same points drawn
     * one by one: the pictures agree up to antialiasing noise */
    int n = 100000, i, diff = 0, ink = 0, xx, yy, st, ext_bad = 0, ncols = 0;
    static double cmin[1200], cmax[1200];
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
    double *px = malloc(sizeof(double) * n), *py = malloc(sizeof(double) * n);
    muon_canvas a, b;
    muon_axes ax;
    double t0, t1, t2;
    muon_rng r;
    if (!x || !y || !px || !py) { check(0, "decimation: out of memory"); free(x); free(y); free(px); free(py); return; }
    muon_rng_seed(&r, 7);
    for (i = 0; i < n; i++) {
        x[i] = i;
        y[i] = sin(i * 1e-4) + 0.2 * muon_rng_normal(&r);
    }
    memset(&ax, 0, sizeof ax);
    ax.x0 = 50; ax.x1 = 1150; ax.y0 = 50; ax.y1 = 650;
    ax.xmin = 0; ax.xmax = n - 1; ax.ymin = -2; ax.ymax = 2;
    st = muon_canvas_create(&a, 1200, 700, WHITE) | muon_canvas_create(&b, 1200, 700, WHITE);
    if (!check(st == MUON_OK, "decimation canvases")) goto out;
    t0 = muon_seconds();
    muon_axes_series(&a, &ax, x, y, n, 1.5, 0, RED, 1.0);
    t1 = muon_seconds();
    for (i = 0; i < n; i++) { px[i] = muon_axes_px(&ax, x[i]); py[i] = muon_axes_py(&ax, y[i]); }
    muon_canvas_clip(&b, ax.x0, ax.y0, ax.x1 + 1, ax.y1 + 1);
    muon_canvas_polyline(&b, px, py, n, 1.5, 0, RED, 1.0);
    t2 = muon_seconds();
    for (yy = 0; yy < 700; yy++)
        for (xx = 0; xx < 1200; xx++) {
            muon_rgb p = muon_canvas_get(&a, xx, yy), q = muon_canvas_get(&b, xx, yy);
            int d = abs(p.r - q.r) + abs(p.g - q.g) + abs(p.b - q.b);
            if (!is_white(q)) ink++;
            if (d > 96) diff++;
        }
    /* what the reduction promises, checked against the data itself: each
     * pixel column's highest and lowest point is inked (a vertex with a
     * 0.75 px cap covers at least 54% of the pixel holding it), and no ink
     * lies beyond the extremes of the column and its two neighbours by more
     * than the line's half width plus a pixel of antialiasing. "Ink" is
     * coverage above about 40% (green < 160; line 30, paper 255). */
    for (i = 0; i < 1200; i++) { cmin[i] = 1e9; cmax[i] = -1e9; }
    for (i = 0; i < n; i++) {
        int col = (int)floor(px[i]);
        if (col < 0 || col >= 1200) continue;
        if (py[i] < cmin[col]) cmin[col] = py[i];
        if (py[i] > cmax[col]) cmax[col] = py[i];
    }
    for (xx = ax.x0 + 1; xx < ax.x1 - 1; xx++) {
        double lo = cmin[xx], hi = cmax[xx];
        int top = -1, bot = -1, k;
        for (k = -1; k <= 1; k++) {
            if (cmin[xx + k] < lo) lo = cmin[xx + k];
            if (cmax[xx + k] > hi) hi = cmax[xx + k];
        }
        for (yy = ax.y0; yy <= ax.y1; yy++)
            if (muon_canvas_get(&a, xx, yy).g < 160) { if (top < 0) top = yy; bot = yy; }
        ncols++;
        if (muon_canvas_get(&a, xx, (int)floor(cmin[xx])).g >= 160 ||
            muon_canvas_get(&a, xx, (int)floor(cmax[xx])).g >= 160 ||
            top < lo - 2 || bot > hi + 2) ext_bad++;
    }
    check(ext_bad == 0, "100k-point series reduced per pixel column: every column's extreme points inked, no ink beyond the neighbourhood's extremes (%d of %d columns fail)",
          ext_bad, ncols);
    check(ink > 10000 && diff <= ink / 20,
          "100k-point series: %d of %d inked pixels differ by > 96/765 from the full drawing (tol 5%%: antialiased edges); reduced %.3f s, full %.3f s",
          diff, ink, t1 - t0, t2 - t1);
    muon_canvas_free(&a);
    muon_canvas_free(&b);
out:
    free(x); free(y); free(px); free(py);
}

static int count_ink(const muon_canvas *c, int x0, int y0, int x1, int y1)
{
    int x, y, n = 0;
    for (y = y0; y < y1; y++)
        for (x = x0; x < x1; x++)
            if (!is_white(muon_canvas_get(c, x, y))) n++;
    return n;
}

/* Sum of ink (255 - green) in a box: coverage-weighted, so antialiased
 * edges count by how much they are inked. */
static long ink_sum(const muon_canvas *c, int x0, int y0, int x1, int y1)
{
    int x, y;
    long n = 0;
    for (y = y0; y < y1; y++)
        for (x = x0; x < x1; x++) n += 255 - muon_canvas_get(c, x, y).g;
    return n;
}

/* Rows [y0,y1) of the box with any ink: first and last (or -1). */
static void ink_rows(const muon_canvas *c, int x0, int x1, int y0, int y1, int *first, int *last)
{
    int y;
    *first = *last = -1;
    for (y = y0; y < y1; y++)
        if (ink_sum(c, x0, y, x1, y + 1) > 0) { if (*first < 0) *first = y; *last = y; }
}

static int same_canvas(const muon_canvas *a, const muon_canvas *b)
{
    return a->w == b->w && a->h == b->h && memcmp(a->px, b->px, (size_t)a->w * a->h * 3) == 0;
}

static void utf8_put(char *s, int cp)
{
    if (cp < 0x80) { s[0] = (char)cp; s[1] = 0; }
    else if (cp < 0x800) { s[0] = (char)(0xC0 | (cp >> 6)); s[1] = (char)(0x80 | (cp & 63)); s[2] = 0; }
    else {
        s[0] = (char)(0xE0 | (cp >> 12)); s[1] = (char)(0x80 | ((cp >> 6) & 63));
        s[2] = (char)(0x80 | (cp & 63)); s[3] = 0;
    }
}

/* Draws s (scale 2, top of capitals at y=40, left at x=20) on a fresh canvas. */
static void text_on(muon_canvas *c, const char *s)
{
    muon_rgb k = { 0, 0, 0 };
    muon_canvas_fill_rect(c, 0, 0, c->w, c->h, WHITE, 1.0);
    muon_canvas_text(c, 20, 40, s, 2, k, -1, -1, 0);
}

static void test_text(void)
{
    muon_canvas c, d;
    muon_rgb k = { 0, 0, 0 };
    const muon_font_size *f18 = &muon_font_atlas[3];
    const muon_glyph *H = NULL;
    int i, j, ok, bad, up_first, up_last, st, base, mid, n_glyph_ok = 0;
    long up, rot;
    char s[8], esc[32];
    st = muon_canvas_create(&c, 300, 200, WHITE);
    if (!check(st == MUON_OK, "text canvas")) return;
    if (!check(muon_canvas_create(&d, 300, 200, WHITE) == MUON_OK, "second text canvas")) { muon_canvas_free(&c); return; }
    for (i = 0; i < f18->n; i++) if (f18->glyphs[i].cp == 'H') H = &f18->glyphs[i];
    check(f18->px == 18 && H != NULL, "scale 2 is DejaVu Sans at 18 px/em, with an 'H'");
    if (!H) goto done;
    /* line height kept from the old bitmap font's scale 2 (18): cap + descent */
    check(muon_text_height(2) == 18 && muon_text_width("H", 2) == (H->adv16 + 8) / 16 &&
          muon_text_width("HHHH", 2) == (4 * H->adv16 + 8) / 16,
          "text metrics: line 18 high at scale 2, 'H' as wide as its advance, widths add in 1/16 px (got %d, %d)",
          muon_text_height(2), muon_text_width("H", 2));
    /* 'H' with the top of its capitals at (10,10): every pixel is white
     * blended toward black by the atlas coverage c/15, at (10 + xoff, baseline
     * 10 + cap + yoff); nothing else is touched */
    muon_canvas_fill_rect(&c, 0, 0, 300, 200, WHITE, 1.0);
    muon_canvas_text(&c, 10, 10, "H", 2, k, -1, -1, 0);
    base = 10 + f18->cap;
    for (j = 0, bad = 0; j < 40; j++)
        for (i = 0; i < 40; i++) {
            int gx = i - 10 - H->xoff, gy = j - base - H->yoff, cov = 0, want;
            if (gx >= 0 && gy >= 0 && gx < H->w && gy < H->h) {
                char ch = H->rows[gy * H->w + gx];
                cov = ch == '.' ? 0 : ch <= '9' ? ch - '0' : ch - 'a' + 10;
            }
            want = (int)floor(255 + (0 - 255) * (cov / 15.0) + 0.5);
            if (abs(muon_canvas_get(&c, i, j).g - want) > 0) bad++;
        }
    check(bad == 0, "'H' at (10,10): each pixel is paper blended by the atlas coverage, at the anchored place (%d differ)", bad);
    /* the design: two stems over the cap height, a bar between them at mid
     * height, paper between the stems above and below it, nothing under the
     * baseline */
    mid = 10 + H->xoff + H->w / 2;
    ink_rows(&c, 10 + H->xoff, 10 + H->xoff + 2, 0, 60, &up_first, &up_last);
    ok = up_first >= 9 && up_first <= 10 && up_last == base - 1;
    ink_rows(&c, mid, mid + 1, 0, 60, &up_first, &up_last);
    ok = ok && up_first > 10 + 3 && up_last < base - 3;
    check(ok && ink_sum(&c, 0, base, 300, 200) == 0,
          "'H' at scale 2: left stem inked over the cap height (rows 10..%d), the bar alone between the stems, no ink below the baseline",
          base - 1);
    /* rotated: the same ink, in a box 18 wide (the line's height) turned on its side */
    muon_canvas_fill_rect(&c, 0, 0, 300, 200, WHITE, 1.0);
    muon_canvas_text(&c, 100, 100, "Hello", 2, k, -1, -1, 0);
    up = ink_sum(&c, 0, 0, 300, 200);
    muon_canvas_fill_rect(&c, 0, 0, 300, 200, WHITE, 1.0);
    muon_canvas_text(&c, 100, 150, "Hello", 2, k, -1, -1, 1);
    rot = ink_sum(&c, 0, 0, 300, 200);
    /* the box starts 3 px before the capitals' top: ascenders (l) rise above them */
    check(up == rot && ink_sum(&c, 97, 150 - muon_text_width("Hello", 2) - 1, 100 + muon_text_height(2) + 1, 151) == rot,
          "rotated text: same ink (%ld vs %ld), all inside the rotated box", up, rot);
    /* every glyph of the atlas draws ink (all but the space) */
    for (i = 0; i < f18->n; i++) {
        if (f18->glyphs[i].cp == ' ') continue;
        utf8_put(s, f18->glyphs[i].cp);
        text_on(&c, s);
        if (ink_sum(&c, 0, 0, 300, 200) > 0 && muon_text_width(s, 2) > 0) n_glyph_ok++;
    }
    check(n_glyph_ok == f18->n - 1 && f18->n >= 95 + 40,
          "all %d glyphs (ASCII 33..126, Greek, norms, operators) draw ink", n_glyph_ok);
    text_on(&c, "?");
    text_on(&d, "\xe4\xb8\x80"); /* U+4E00, not in the atlas */
    ok = same_canvas(&c, &d);
    text_on(&d, "\xff");
    check(ok && same_canvas(&c, &d), "a character outside the atlas and malformed UTF-8 both draw '?'");
    /* markup: scripts go above the capitals / below the baseline, smaller */
    text_on(&c, "H^2");
    ink_rows(&c, 0, 300, 0, 200, &up_first, &up_last);
    check(up_first < 40 - 2 && up_last == 40 + f18->cap - 1, "H^2: the superscript rises above the capitals (ink from row %d, caps at 40)", up_first);
    text_on(&c, "H_2");
    ink_rows(&c, 0, 300, 0, 200, &up_first, &up_last);
    check(up_first >= 39 && up_last > 40 + f18->cap + 2, "H_2: the subscript drops below the baseline (ink to row %d, baseline %d)",
          up_last, 40 + f18->cap);
    check(muon_text_width("H_2", 2) < muon_text_width("H2", 2), "a subscript is narrower than the full-size digit");
    text_on(&c, "H^2"); text_on(&d, "H\xc2\xb2");
    ok = same_canvas(&c, &d);
    text_on(&c, "H_1"); text_on(&d, "H\xe2\x82\x81");
    ok = ok && same_canvas(&c, &d);
    text_on(&c, "O^T"); text_on(&d, "O\xe1\xb5\x80");
    check(ok && same_canvas(&c, &d), "Unicode \xc2\xb2, \xe2\x82\x81, \xe1\xb5\x80 draw exactly as ^2, _1, ^T");
    text_on(&c, "\xcf\x83_max"); text_on(&d, "\xcf\x83_{max}");
    check(same_canvas(&c, &d) && muon_text_width("\xcf\x83_max", 2) < muon_text_width("\xcf\x83max", 2),
          "\xcf\x83_max: the letter run is one subscript, the same as _{max}");
    check(muon_text_width("\xe2\x80\x96W\xe2\x80\x96\xc2\xb2_F", 2) ==
          (muon_text_width("\xe2\x80\x96W\xe2\x80\x96^2", 2) > muon_text_width("\xe2\x80\x96W\xe2\x80\x96_F", 2)
           ? muon_text_width("\xe2\x80\x96W\xe2\x80\x96^2", 2) : muon_text_width("\xe2\x80\x96W\xe2\x80\x96_F", 2)),
          "\xe2\x80\x96W\xe2\x80\x96\xc2\xb2_F: the 2 and the F stack (width of the wider)");
    muon_text_escape(esc, sizeof esc, "lr_floor^{x}");
    check(!strcmp(esc, "lr\\_floor\\^\\{x\\}") && muon_text_width(esc, 2) > muon_text_width("lr_floor", 2) &&
          muon_text_escape(esc, 4, "a_b_c") == 1 && strlen(esc) < 4,
          "escaping data labels: lr_floor^{x} becomes lr\\_floor\\^\\{x\\} and prints literally; a short buffer is reported");
    text_on(&c, "x_");
    check(ink_sum(&c, 0, 40 + f18->cap, 300, 200) > 0, "a trailing '_' is drawn as an underscore, not dropped");
done:
    muon_canvas_free(&c);
    muon_canvas_free(&d);
}

/* ---- colour map, heatmap, PNG ---------------------------------------------- */

static void test_heatmap(void)
{
    muon_canvas c;
    /* row 0 at the top; cells 100x100 */
    double v[6] = { 0, 0.5, 1, NAN, 0.1, 0.9 };
    int st, x, y, light = 0;
    /* matplotlib's viridis at 0, 0.1, 0.5, 0.9, 1 (_cm_listed.py entries
     * 0, 26, 128, 230, 255 rounded to 8 bits) */
    muon_rgb v0 = hex(0x440154), v01 = hex(0x482475), v05 = hex(0x21918C), v09 = hex(0xBDDF26), v1 = hex(0xFDE725);
    muon_rgb m = muon_colormap(0.25), lo = muon_colormap(0.2), hi = muon_colormap(0.3);
    check(same(muon_colormap(0), v0) && same(muon_colormap(0.5), v05) && same(muon_colormap(1), v1) &&
          same(muon_colormap(-3), v0) && same(muon_colormap(7), v1),
          "colour map anchors: viridis(0)=#440154, (0.5)=#21918C, (1)=#FDE725, clamped outside [0,1]");
    check(abs(m.r - (lo.r + hi.r) / 2) <= 1 && abs(m.g - (lo.g + hi.g) / 2) <= 1 && abs(m.b - (lo.b + hi.b) / 2) <= 1,
          "colour map interpolates linearly between anchors (0.25 = mean of 0.2 and 0.3, +-1)");
    st = muon_canvas_create(&c, 400, 300, WHITE);
    if (!check(st == MUON_OK, "heatmap canvas")) return;
    muon_heatmap(&c, 50, 50, 350, 250, v, 2, 3, 0.0, 1.0, NULL);
    check(same(muon_canvas_get(&c, 100, 100), v0) && same(muon_canvas_get(&c, 200, 100), v05) &&
          same(muon_canvas_get(&c, 300, 100), v1) && same(muon_canvas_get(&c, 200, 200), v01) &&
          same(muon_canvas_get(&c, 300, 200), v09) && same(muon_canvas_get(&c, 100, 200), hex(0xDDDDDD)) &&
          same(muon_canvas_get(&c, 51, 51), v0) && same(muon_canvas_get(&c, 349, 249), v09) &&
          is_white(muon_canvas_get(&c, 49, 49)) && is_white(muon_canvas_get(&c, 350, 250)),
          "heatmap cells of value 0, 0.5, 1, 0.1, 0.9 on [0,1] have viridis' colours; NaN is grey; edges exact");
    /* annotated: the dark cell gets white digits, the bright one dark digits */
    muon_heatmap(&c, 50, 50, 350, 250, v, 2, 3, 0.0, 1.0, "%.1f");
    for (y = 50; y < 150; y++)
        for (x = 50; x < 150; x++) if (same(muon_canvas_get(&c, x, y), WHITE)) light++;
    check(light > 20, "annotated heatmap: value printed in white on the dark cell (%d white pixels)", light);
    light = 0;
    for (y = 50; y < 150; y++)
        for (x = 250; x < 350; x++) if (same(muon_canvas_get(&c, x, y), hex(0x000000))) light++;
    check(light > 20, "annotated heatmap: value printed in black on the bright cell (%d black pixels)", light);
    muon_canvas_fill_rect(&c, 0, 0, 400, 300, WHITE, 1.0);
    muon_colorbar(&c, 50, 20, 74, 280, 0, 1, "entropy");
    check(same(muon_canvas_get(&c, 60, 20), v1) && same(muon_canvas_get(&c, 60, 279), v0) &&
          count_ink(&c, 80, 20, 400, 280) > 100,
          "colour bar: top row viridis(1), bottom row viridis(0), tick labels beside it");
    muon_canvas_free(&c);
}

static void test_png(void)
{
    muon_canvas c;
    unsigned char *img;
    int w = 0, h = 0, n = 0, st;
    const char *path = TDIR "/unit.png";
    run_cmd("mkdir -p " TDIR, NULL, 0);
    remove(path);
    st = muon_canvas_create(&c, 123, 45, WHITE);
    if (!check(st == MUON_OK, "png canvas")) return;
    muon_canvas_line(&c, 3, 4, 110, 40, 3, RED, 1.0);
    muon_canvas_text(&c, 5, 5, "png 1.5", 2, hex(0x0000FF), -1, -1, 0);
    st = muon_png_write(path, &c);
    check(st == MUON_OK && !file_exists(TDIR "/unit.png.tmp"), "PNG written atomically (no temporary left): %s",
          st ? muon_last_error() : "ok");
    img = stbi_load(path, &w, &h, &n, 3);
    check(img && w == 123 && h == 45 && memcmp(img, c.px, (size_t)123 * 45 * 3) == 0,
          "PNG read back with stb_image: 123x45, every pixel identical");
    if (img) stbi_image_free(img);
    st = muon_png_write(TDIR "/no/such/dir/x.png", &c);
    check(st == MUON_ERR_IO && strstr(muon_last_error(), "x.png") != NULL,
          "PNG into a missing directory: I/O error naming the file (%s)", muon_last_error());
    muon_canvas_free(&c);
    check(muon_canvas_create(&c, 0, 10, WHITE) == MUON_ERR_ARG && c.px == NULL, "canvas of width 0 refused");
}

/* ---- metrics.csv ------------------------------------------------------------- */

static const char *const kinds[7] = { "q", "k", "v", "o", "up", "down", "gate" };
static const char *const mnames[22] = {
    "sigma_max", "spectral_gap", "top_sv_1", "top_sv_2", "top_sv_3", "top_sv_4", "top_sv_5",
    "top_sv_6", "top_sv_7", "top_sv_8", "top_sv_9", "top_sv_10", "stable_rank",
    "spectral_entropy", "alignment_left", "alignment_right", "update_rank",
    "subspace_efficiency", "ortho_error_weight", "ortho_error_update", "update_sv_min", "update_sv_max"
};

/* A plausible run: L layers, steps 0..S, loss and tokens every step, val_loss
 * every 50, every matrix metric of every kind every K steps. */
static int write_synthetic(const char *path, int L, int S, int K, int gate)
{
    FILE *f = fopen(path, "w");
    int s, l, k, m;
    if (!f) return 0;
    fprintf(f, "step,layer,matrix,metric,value\n");
    for (s = 0; s <= S; s++) {
        double fr = (double)s / (S > 0 ? S : 1);
        fprintf(f, "%d,-1,model,loss,%.9g\n", s, 1.5 + 4.0 * exp(-s / 60.0) + 0.05 * sin(s * 0.7));
        fprintf(f, "%d,-1,model,lr,%.9g\n", s, 0.02);
        fprintf(f, "%d,-1,model,tokens,%d\n", s, (s + 1) * 2048);
        if (s % 50 == 0 && s > 0) fprintf(f, "%d,-1,model,val_loss,%.9g\n", s, 1.6 + 4.0 * exp(-s / 60.0));
        if (s % K) continue;
        for (l = 0; l < L; l++)
            for (k = 0; k < (gate ? 7 : 6); k++)
                for (m = 0; m < 22; m++) {
                    double v, sig = 1 + (0.5 + 0.4 * l + 0.1 * k) * fr * 3;
                    if (m == 0) v = sig;
                    else if (m == 1) v = 1.1 + 0.5 * fr * l;
                    else if (m < 12) v = sig * exp(-(m - 2) * (0.1 + 0.05 * l * fr));
                    else if (m == 13) v = 0.97 - 0.4 * fr * l / L - 0.01 * k;
                    else if (m == 16) v = 30 - 10 * fr + l;
                    else if (m == 19) v = 0.05 * exp(-l / 3.0);
                    else v = 0.2 + 0.5 * fr + 0.01 * l;
                    fprintf(f, "%d,%d,%s,%s,%.9g\n", s, l, kinds[k], mnames[m], v);
                }
    }
    /* forward compatibility: an unknown metric and an unknown kind are skipped */
    fprintf(f, "%d,0,q,some_future_metric,1.5\n%d,0,embed,sigma_max,3\n", S, S);
    return fclose(f) == 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

static void test_csv(void)
{
    muon_metrics_table t;
    const char *p = TDIR "/csv/metrics.csv";
    int st, sig = muon_metric_index("sigma_max");
    run_cmd("mkdir -p " TDIR "/csv", NULL, 0);
    check(sig == 0 && muon_metric_index("top_sv_10") == 11 && muon_metric_index("nope") == -1,
          "metric names index: sigma_max 0, top_sv_10 11, unknown -1");
    write_text(p, "step,layer,matrix,metric,value\r\n"
                  "0,-1,model,loss,5.5\r\n"
                  "0,-1,model,tokens,1024\n"
                  "10,2,q,sigma_max,1.25\n"
                  "10,0,v,sigma_max,nan\n"
                  "20,0,v,sigma_max,-inf\n"
                  "20,1,q,sigma_max,2.5\n"
                  "\n"
                  "30,-1,model,val_loss,4.75\n"
                  "30,0,q,brand_new_metric,7\n"
                  "30,0,qkvo,sigma_max,7\n");
    st = muon_metrics_table_read(p, &t);
    if (!check(st == MUON_OK, "metrics.csv with CRLF, nan/inf, a blank line, unknown names: read (%s)",
               st ? muon_last_error() : "ok"))
        return;
    check(t.n_steps == 2 && t.steps[0] == 0 && t.steps[1] == 30 && t.n_tracked == 2 && t.tracked[0] == 10 &&
          t.tracked[1] == 20 && t.n_layers == 3,
          "table shape: model steps {0,30}, tracked steps {10,20}, 3 layers");
    check(t.model[0] == 5.5 && t.model[1] != t.model[1] && t.model[MUON_MODEL_VAL_LOSS * 2 + 1] == 4.75 &&
          t.model[MUON_MODEL_TOKENS * 2] == 1024,
          "model rows: loss 5.5 at step 0, absent (NaN) at 30; val_loss 4.75 at 30; tokens 1024");
    check(t.mat[sig][0] && t.mat[sig][0][2 * 2 + 0] == 1.25f && t.mat[sig][0][1 * 2 + 1] == 2.5f &&
          t.mat[sig][0][0] != t.mat[sig][0][0] && t.mat[sig][2] && isinf(t.mat[sig][2][0]) &&
          isinf(t.mat[sig][2][1]) && !t.mat[sig][1],
          "matrix rows: values in place, logged nan/inf kept as +inf (gap), never-logged NaN, absent kinds NULL");
    muon_metrics_table_free(&t);
}

static void check_malformed(const char *what, const char *text, const char *want_in_msg)
{
    muon_metrics_table t;
    char dir[256], path[300], png[400];
    int st, i, none = 1;
    static const char *const files[12] = {
        "update_alignment.png", "update_rank_evolution.png", "subspace_efficiency.png",
        "entropy_mri.png", "spectral_norm_vs_depth.png", "singular_spectrum.png",
        "spectral_gap.png", "spectral_stretching_evolution.png", "orthogonality_error.png",
        "loss.png", "norm_heatmap.png", "entropy_heatmap.png"
    };
    static int counter;
    snprintf(dir, sizeof dir, TDIR "/bad%d", counter++);
    snprintf(path, sizeof path, "mkdir -p %.100s && rm -rf %.100s/research_plots", dir, dir);
    run_cmd(path, NULL, 0);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    write_text(path, text);
    st = muon_metrics_table_read(path, &t);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), want_in_msg) != NULL,
          "malformed metrics.csv (%s): format error '%s'", what, muon_last_error());
    st = muon_plot_run(dir);
    for (i = 0; i < 12; i++) {
        snprintf(png, sizeof png, "%s/research_plots/%s", dir, files[i]);
        if (file_exists(png)) none = 0;
    }
    check(st == MUON_ERR_FORMAT && none, "muon_plot_run on it: error, no PNG written");
}

static void test_malformed(void)
{
    const char *h = "step,layer,matrix,metric,value\n";
    char buf[512];
    char dir[] = TDIR "/missing";
    int st;
    run_cmd("mkdir -p " TDIR "/missing && rm -f " TDIR "/missing/metrics.csv", NULL, 0);
    st = muon_plot_run(dir);
    check(st == MUON_ERR_IO && strstr(muon_last_error(), "metrics.csv") != NULL && !file_exists(TDIR "/missing/research_plots/loss.png"),
          "missing metrics.csv: I/O error naming it (%s), no PNG", muon_last_error());
    check_malformed("bad header", "step,layer,matrix,value\n0,-1,model,loss,1\n", "metrics.csv:1:");
    check_malformed("empty file", "", "metrics.csv:1:");
    check_malformed("header only", h, "no metric rows");
    snprintf(buf, sizeof buf, "%s0,-1,model,some_future_metric,1\n", h);
    check_malformed("only unknown metrics", buf, "no metric rows");
    snprintf(buf, sizeof buf, "%s0,-1,model,loss,1\n1,-1,model,loss\n", h);
    check_malformed("4 fields", buf, "metrics.csv:3:");
    snprintf(buf, sizeof buf, "%s0,-1,model,loss,1,2\n", h);
    check_malformed("6 fields", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s0,-1,model,loss,1\n0,0,q,sigma_max,abc\n", h);
    check_malformed("non-numeric value", buf, "metrics.csv:3:");
    snprintf(buf, sizeof buf, "%s0,-1,model,loss,\n", h);
    check_malformed("empty value", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s0,L3,q,sigma_max,1\n", h);
    check_malformed("layer 'L3'", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s0,1.5,q,sigma_max,1\n", h);
    check_malformed("layer '1.5'", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s0,-1,q,sigma_max,1\n", h);
    check_malformed("layer -1 on a matrix", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s0,3,model,loss,1\n", h);
    check_malformed("model row with a layer", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s-2,0,q,sigma_max,1\n", h);
    check_malformed("negative step", buf, "metrics.csv:2:");
    snprintf(buf, sizeof buf, "%s0,0,q,sigma_max,1\n1,0,q,sigma_max,1.0x\n", h);
    check_malformed("trailing junk in a value", buf, "metrics.csv:3:");
}

/* ---- the research plots ------------------------------------------------------- */

static const char *const figs[12] = {
    "update_alignment.png", "update_rank_evolution.png", "subspace_efficiency.png",
    "entropy_mri.png", "spectral_norm_vs_depth.png", "singular_spectrum.png",
    "spectral_gap.png", "spectral_stretching_evolution.png", "orthogonality_error.png",
    "loss.png", "norm_heatmap.png", "entropy_heatmap.png"
};

/* Every figure exists, is 1200x750 and has ink (not just a frame) inside the
 * central region where the plot areas lie; returns how many passed. */
static int check_figures(const char *dir, const char *what, int want_full)
{
    int i, good = 0;
    for (i = 0; i < 12; i++) {
        char path[512];
        int w = 0, h = 0, n = 0, x, y, inked = 0, colored = 0, total = 0;
        unsigned char *img;
        snprintf(path, sizeof path, "%s/research_plots/%s", dir, figs[i]);
        img = stbi_load(path, &w, &h, &n, 3);
        if (!img) { check(0, "%s: %s missing or unreadable", what, figs[i]); continue; }
        for (y = 150; y < 600 && h == 750; y++)
            for (x = 200; x < 1000 && w == 1200; x++) {
                const unsigned char *p = img + 3 * ((size_t)y * 1200 + (size_t)x);
                int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
                int mn = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
                total++;
                if (p[0] != 255 || p[1] != 255 || p[2] != 255) inked++;
                if (mx - mn > 40) colored++; /* data colours, not grey grid or black text */
            }
        stbi_image_free(img);
        if (check(w == 1200 && h == 750 && inked > (want_full ? total / 200 : total / 2000) &&
                  (!want_full || colored > total / 400),
                  "%s: %s is %dx%d, %.1f%% of the central region inked, %.1f%% in data colours",
                  what, figs[i], w, h, 100.0 * inked / (total ? total : 1), 100.0 * colored / (total ? total : 1)))
            good++;
    }
    return good;
}

static void test_research(void)
{
    char buf[512];
    double t0;
    int st;
    run_cmd("rm -rf " TDIR "/run && mkdir -p " TDIR "/run", NULL, 0);
    if (!check(write_synthetic(TDIR "/run/metrics.csv", 6, 400, 20, 1), "synthetic metrics.csv written")) return;
    t0 = muon_seconds();
    st = muon_plot_run(TDIR "/run");
    check(st == MUON_OK, "muon_plot_run on a 6-layer, 400-step synthetic run with every metric (%s), %.2f s",
          st ? muon_last_error() : "ok", muon_seconds() - t0);
    check_figures(TDIR "/run", "full run", 1);

    /* a young run: loss only, no val_loss, no matrix metrics: every figure
     * is still drawn, with "no data" where nothing is logged */
    run_cmd("rm -rf " TDIR "/young && mkdir -p " TDIR "/young", NULL, 0);
    write_text(TDIR "/young/metrics.csv", "step,layer,matrix,metric,value\n0,-1,model,loss,5.6\n1,-1,model,loss,5.2\n");
    st = muon_plot_run(TDIR "/young");
    check(st == MUON_OK, "muon_plot_run with loss only (%s)", st ? muon_last_error() : "ok");
    check_figures(TDIR "/young", "loss-only run", 0);

    /* one tracked step (no alignment yet), a single layer */
    run_cmd("rm -rf " TDIR "/one && mkdir -p " TDIR "/one", NULL, 0);
    if (write_synthetic(TDIR "/one/metrics.csv", 1, 0, 20, 0)) {
        st = muon_plot_run(TDIR "/one");
        check(st == MUON_OK, "muon_plot_run with one step and one layer (%s)", st ? muon_last_error() : "ok");
        check_figures(TDIR "/one", "one-step run", 0);
    }

    /* a known line in a real figure: a constant loss of 2 is drawn at the
     * middle of loss.png's plot area (the y range is the data's +-6%
     * padding, symmetric about 2), found from the frame's own pixels */
    run_cmd("rm -rf " TDIR "/flat && mkdir -p " TDIR "/flat", NULL, 0);
    {
        FILE *f = fopen(TDIR "/flat/metrics.csv", "w");
        int k, w = 0, h = 0, n = 0, top = -1, bot = -1, y, hits = 0, cols = 0, x;
        unsigned char *img;
        if (f) {
            fprintf(f, "step,layer,matrix,metric,value\n");
            for (k = 0; k <= 100; k++) fprintf(f, "%d,-1,model,loss,2\n%d,-1,model,tokens,%d\n", k, k, 1000 * (k + 1));
            fclose(f);
        }
        st = muon_plot_run(TDIR "/flat");
        img = stbi_load(TDIR "/flat/research_plots/loss.png", &w, &h, &n, 3);
        if (check(st == MUON_OK && img && w == 1200 && h == 750, "flat-loss run drawn")) {
            /* frame rows: the first and last #444444 pixels down column 600 */
            for (y = 0; y < h; y++) {
                const unsigned char *p = img + 3 * ((size_t)y * 1200 + 600);
                if (p[0] == 0x44 && p[1] == 0x44 && p[2] == 0x44) { if (top < 0) top = y; bot = y; }
            }
            /* the area is rows top+1 .. bot, so the line's centre is at
             * mid = (top + 1 + bot) / 2; a 1.6 px line covers row y by
             * cov = clamp(0.8 + 0.5 - |y + 0.5 - mid|, 0, 1) (the canvas's
             * coverage rule), so the red channel there is bg * (1 - cov):
             * #0072B2 has red 0; bg is white, or #E6E6E6 on a grid row */
            for (x = 300; x < 900; x += 10) {
                double mid = (top + 1 + bot) / 2.0;
                int found = 1;
                for (y = (int)mid - 3; y <= (int)mid + 3; y++) {
                    const unsigned char *p = img + 3 * ((size_t)y * 1200 + (size_t)x);
                    double cov = 0.8 + 0.5 - fabs(y + 0.5 - mid);
                    cov = cov < 0 ? 0 : cov > 1 ? 1 : cov;
                    if (fabs(p[0] - 255 * (1 - cov)) > 6 && fabs(p[0] - 230 * (1 - cov)) > 6) found = 0;
                }
                hits += found;
                cols++;
            }
            check(top > 0 && bot > top + 100 && hits == cols,
                  "loss.png: constant loss 2 drawn at the middle of the plot area, coverage per row as computed (+-6/255) (frame rows %d..%d): %d of %d sampled columns",
                  top, bot, hits, cols);
        }
        if (img) stbi_image_free(img);
    }

    /* out of memory at every allocation in turn: a clean error, never a crash
     * (the sanitizer build also checks nothing leaks) */
    {
        int k, nomem = 0, ok = 0, other = 0;
        /* every allocation of the CSV reader (the first dozen), then every
         * 10th (a run makes ~200; small figures keep it quick); past the
         * last allocation every run succeeds: stop after two */
        muon_plot_options small;
        memset(&small, 0, sizeof small);
        small.width = 600;
        small.height = 400;
        for (k = 1; k <= 2000 && ok < 2; k += k < 12 ? 1 : 10) {
            muon_alloc_fail_after(k);
            st = muon_plot_run_opts(TDIR "/one", &small);
            if (st == MUON_ERR_NOMEM) nomem++;
            else if (st == MUON_OK) ok++;
            else other++;
        }
        muon_alloc_fail_after(0);
        check(nomem > 20 && ok > 0 && other == 0,
              "allocation failure injected at allocation 1..12, 22, 32, ...: %d out-of-memory errors, then %d runs past the last allocation, %d other results",
              nomem, ok, other);
    }

    /* a long log: 20000 steps of loss, 100 tracked steps of 8 layers */
    run_cmd("rm -rf " TDIR "/long && mkdir -p " TDIR "/long", NULL, 0);
    if (write_synthetic(TDIR "/long/metrics.csv", 8, 20000, 200, 0)) {
        t0 = muon_seconds();
        st = muon_plot_run(TDIR "/long");
        snprintf(buf, sizeof buf, "%s", st ? muon_last_error() : "ok");
        check(st == MUON_OK, "muon_plot_run on 20000 steps x 8 layers (%s): %.2f s", buf, muon_seconds() - t0);
    }
}

static void test_cli(void)
{
    char cmd[512], err[512];
    int rc;
    snprintf(cmd, sizeof cmd, "%s plot", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && !strncmp(err, "muon: ", 6), "`muon plot` without RUN_DIR: exit %d, '%s'", rc, err);
    snprintf(cmd, sizeof cmd, "%s plot " TDIR "/does_not_exist", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "metrics.csv") != NULL, "`muon plot` on a missing directory: exit %d, '%s'", rc, err);
    snprintf(cmd, sizeof cmd, "%s plot " TDIR "/bad0", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "metrics.csv:1:") != NULL, "`muon plot` on a malformed log: exit %d, '%s'", rc, err);
    snprintf(cmd, sizeof cmd, "%s plot " TDIR "/run --layers 1,x", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "--layers") != NULL, "`muon plot --layers 1,x`: exit %d, '%s'", rc, err);
    snprintf(cmd, sizeof cmd, "%s plot " TDIR "/run --bogus", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "--bogus") != NULL, "`muon plot --bogus`: exit %d, '%s'", rc, err);
    snprintf(cmd, sizeof cmd, "%s plot --help", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0, "`muon plot --help`: exit %d", rc);
    snprintf(cmd, sizeof cmd, "%s plot " TDIR "/run --layers 0,2,5", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0 && file_exists(TDIR "/run/research_plots/loss.png"), "`muon plot RUN --layers 0,2,5`: exit %d %s", rc, err);
}

void suite_plots(void)
{
    run_cmd("mkdir -p " TDIR, NULL, 0);
    test_ticks();
    test_lines();
    test_decimation();
    test_text();
    test_heatmap();
    test_png();
    test_csv();
    test_malformed();
    test_research();
    test_cli();
}
