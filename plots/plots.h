/* plots/plots.h -- internal declarations of plots/: the plotting kit and metrics.csv reader. */
#ifndef MUON_PLOTS_H
#define MUON_PLOTS_H

#include "linalg/linalg.h"
#include "metrics/metrics.h"

/* A small raster plotting library: an RGB canvas, anti-aliased lines and
 * markers, a built-in bitmap font, axes with nice ticks, legends, heatmaps
 * with a perceptual colour map, PNG output. Pixel (0,0) is the top-left
 * corner; pixel (x,y) covers [x,x+1) x [y,y+1), so its centre is (x+.5,y+.5). */

typedef struct { unsigned char r, g, b; } muon_rgb;

typedef struct {
    int w, h;
    unsigned char *px;     /* (h,w,3) RGB, row-major */
    unsigned char *mask;   /* (h,w) coverage scratch for one shape at a time */
    int mx0, my0, mx1, my1; /* bounding box of the mask's non-zero part */
    int cx0, cy0, cx1, cy1; /* shapes (lines, markers) are clipped to [cx0,cx1) x [cy0,cy1) */
} muon_canvas;

/* Allocates a w x h canvas (1..16384 each) filled with bg; MUON_ERR_ARG or
 * MUON_ERR_NOMEM. Free with muon_canvas_free. */
int muon_canvas_create(muon_canvas *c, int w, int h, muon_rgb bg);
/* Releases c's buffers and zeroes it (NULL, or a zeroed canvas, is fine). */
void muon_canvas_free(muon_canvas *c);
/* Clips later lines and markers to [x0,x1) x [y0,y1) (intersected with the
 * canvas); muon_canvas_clip(c, 0, 0, c->w, c->h) removes the clip. */
void muon_canvas_clip(muon_canvas *c, int x0, int y0, int x1, int y1);
/* Blends col over pixel (x,y) with opacity a in [0,1]; outside pixels ignored. */
void muon_canvas_blend(muon_canvas *c, int x, int y, muon_rgb col, double a);
/* The colour of pixel (x,y) (clamped to the canvas). */
muon_rgb muon_canvas_get(const muon_canvas *c, int x, int y);
/* Fills the pixels x0 <= x < x1, y0 <= y < y1 (clipped) with col at opacity a. */
void muon_canvas_fill_rect(muon_canvas *c, int x0, int y0, int x1, int y1,
                           muon_rgb col, double a);
/* Anti-aliased polyline through the points (x(n),y(n)) in pixel coordinates,
 * width in pixels, round joins and caps, drawn as one shape (overlaps are not
 * darkened). dash > 0: dashes and gaps of that many pixels. A non-finite point
 * breaks the line. */
void muon_canvas_polyline(muon_canvas *c, const double *x, const double *y, int n,
                          double width, double dash, muon_rgb col, double a);
/* One anti-aliased segment: a two-point muon_canvas_polyline. */
void muon_canvas_line(muon_canvas *c, double x0, double y0, double x1, double y1,
                      double width, muon_rgb col, double a);
enum { MUON_MARK_CIRCLE = 0, MUON_MARK_SQUARE = 1, MUON_MARK_DIAMOND = 2,
       MUON_MARK_TRIANGLE = 3 };
/* An anti-aliased filled marker of radius r centred on (x,y). */
void muon_canvas_marker(muon_canvas *c, double x, double y, double r, int shape,
                        muon_rgb col, double a);

/* Antialiased UTF-8 text from the built-in DejaVu Sans atlas (docs/font.md):
 * scale 1, 2, 3+ = 11, 18, 26 px/em; markup x_i, x^2, _{..}, ² ₁ ᵀ, \_ ;
 * characters outside the atlas drawn as '?'. Width in pixels of s. */
int muon_text_width(const char *s, int scale);
/* Height of a line of text (cap height + descender) at that scale. */
int muon_text_height(int scale);
/* Draws s with its anchor at (x,y): halign -1 left, 0 centre, 1 right edge;
 * valign -1 top of the capitals, 0 middle of the capitals, 1 baseline.
 * rotate != 0 turns it 90 degrees counter-clockwise (reading bottom to top),
 * alignments then apply along the rotated text. */
void muon_canvas_text(muon_canvas *c, int x, int y, const char *s, int scale,
                      muon_rgb col, int halign, int valign, int rotate);

/* "Nice" linear ticks after Heckbert (Graphics Gems, 1990): the step d is the
 * nice number (1, 2, 5 x 10^k, rounded) nearest (R)/(target-1), R the nice
 * number (1, 2, 5, 10 x 10^k, rounded up) >= hi-lo; ticks run from
 * floor(lo/d)*d to ceil(hi/d)*d. Writes at most cap ticks, returns how many
 * (0 for non-finite input). *step may be NULL. A zero range is widened. */
int muon_nice_ticks(double lo, double hi, int target, double *ticks, int cap,
                    double *step);
/* Log-scale ticks for lo > 0: the powers of ten from 10^floor(log10 lo) to
 * 10^ceil(log10 hi) (every k-th decade when there are many), with 2 and 5
 * between them when fewer than two decades are spanned. Returns the count
 * (0 if lo <= 0 or not finite). */
int muon_log_ticks(double lo, double hi, double *ticks, int cap);
/* Formats a tick value v on an axis whose tick step is step (enough decimals
 * to tell neighbours apart; scientific for very large or small values). */
void muon_format_tick(double v, double step, char *buf, size_t n);
/* Formats a count compactly: 950, 1.5k, 20M, 3.2G. */
void muon_format_si(double v, char *buf, size_t n);

/* Viridis colour map: t in [0,1] (clamped; NaN gives light grey), linear
 * interpolation between matplotlib's 11 anchor colours at t = 0, 0.1, ..., 1. */
muon_rgb muon_colormap(double t);

/* A plot area: data (xmin..xmax, ymin..ymax) onto pixels [x0,x1] x [y0,y1]
 * (y0 on top), each axis linear or log10. */
typedef struct {
    int x0, y0, x1, y1;
    double xmin, xmax, ymin, ymax;
    int xlog, ylog;
} muon_axes;

/* Pixel column / row of data x / y (may lie outside the area; NaN for a
 * non-positive value on a log axis). */
double muon_axes_px(const muon_axes *ax, double x);
double muon_axes_py(const muon_axes *ax, double y);
/* Draws the grid at the given ticks (x then y), the frame, tick marks and tick
 * labels (scale 2) left of and below the area (xlabels 0: no x tick labels). */
void muon_axes_draw(muon_canvas *c, const muon_axes *ax, const double *xt, int nxt,
                    const double *yt, int nyt, int xlabels);
/* Draws data series (x(n),y(n)) as a line clipped to the area; runs of many
 * points are reduced per pixel column to first/min/max/last so thousands of
 * points draw fast and look the same. Non-finite y breaks the line.
 * MUON_ERR_NOMEM if the reduction's buffer cannot be allocated. */
int muon_axes_series(muon_canvas *c, const muon_axes *ax, const double *x,
                     const double *y, int n, double width, double dash,
                     muon_rgb col, double a);

typedef struct {
    const char *label;
    muon_rgb col;
    double width;  /* line width; 0: no line */
    double dash;   /* 0: solid */
    int marker;    /* -1: none, else MUON_MARK_* */
    int bar;       /* 1: a filled box (for bar charts) */
} muon_legend_entry;

/* Size in pixels of the legend box of n entries. */
void muon_legend_size(const muon_legend_entry *e, int n, int *w, int *h);
/* Draws the legend box with its top-left corner at (x,y). */
void muon_legend_draw(muon_canvas *c, int x, int y, const muon_legend_entry *e, int n);

/* Heatmap of v(rows,cols) filling pixels [x0,x1) x [y0,y1), row 0 at the top,
 * colour muon_colormap((v-vmin)/(vmax-vmin)); NaN cells light grey. fmt != NULL
 * prints each value with it (printf format of a double) in the cell when it
 * fits, black or white for contrast. */
void muon_heatmap(muon_canvas *c, int x0, int y0, int x1, int y1, const double *v,
                  int rows, int cols, double vmin, double vmax, const char *fmt);
/* A vertical colour bar in [x0,x1) x [y0,y1) for vmin (bottom) .. vmax (top),
 * with ticks and labels on its right and label (may be NULL) rotated beside. */
void muon_colorbar(muon_canvas *c, int x0, int y0, int x1, int y1, double vmin,
                   double vmax, const char *label);

/* Writes c as a PNG at path atomically (a temporary file in the same
 * directory, then rename): MUON_ERR_IO naming the path on failure. */
int muon_png_write(const char *path, const muon_canvas *c);

/* metrics.csv read into memory (plots/metrics_csv.c). Matrix metrics are
 * indexed by muon_metric_index() and matrix kind 0..6 (q,k,v,o,up,down,gate).
 * Values: NaN = not logged; +inf = logged as nan/inf (a missing point). */
/* Model-wide series are indexed by muon_model_metric (metrics/metrics.h),
 * matrix metrics by muon_metric_id and the tracked kinds q..gate. */
#define MUON_CSV_NMODEL MUON_MODEL_METRIC_COUNT
#define MUON_CSV_NKINDS MUON_MAT_QKVO
#define MUON_CSV_NMETRICS MUON_LOGGED_METRIC_COUNT
typedef struct {
    int n_steps;
    long *steps;        /* (n_steps) ascending: steps with a model-wide row */
    double *model;      /* (MUON_CSV_NMODEL, n_steps) */
    int n_tracked;
    long *tracked;      /* (n_tracked) ascending: steps with a matrix row */
    int n_layers;       /* 1 + the largest layer index seen (0 if none) */
    float *mat[MUON_CSV_NMETRICS][MUON_CSV_NKINDS]; /* NULL or (n_layers, n_tracked) */
    long partial_line;  /* > 0: this last line had no end of line (a write cut short) and was ignored */
} muon_metrics_table;

/* Parses the whole of path (header "step,layer,matrix,metric,value"; unknown
 * metric names and matrix kinds are skipped). MUON_ERR_IO if it cannot be
 * read, MUON_ERR_FORMAT "path:line: problem" if malformed; *t zeroed then. */
int muon_metrics_table_read(const char *path, muon_metrics_table *t);
/* Releases what muon_metrics_table_read allocated and zeroes t (NULL is fine). */
void muon_metrics_table_free(muon_metrics_table *t);

#endif /* MUON_PLOTS_H */
