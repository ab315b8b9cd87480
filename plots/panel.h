/* plots/panel.h -- private to plots/: the framework the research figures are
 * drawn with (plots/panel.c): the shared colours, data series taken from a
 * metrics table, ranges and ticks, legend placement, and a time-series panel
 * (frame, axes, tokens-seen axis on top, series, legend). plots/research.c
 * holds the twelve figures, each a few panels. */
#ifndef MUON_PLOTS_PANEL_H
#define MUON_PLOTS_PANEL_H

#include "plots/plots.h"
#include "metrics/metrics.h"

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
    struct muon_event *ev; /* events.csv beside metrics.csv (metrics/events.c), may be none */
    int n_ev;
} ctx;

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

/* Draws panel p into the pixel rectangle [rx0,rx1) x [ry0,ry1): frame,
 * ticks, labels, the series s(ns) and, if asked, the legend; the axes used
 * go to *out (may be NULL). "no data" when no series has a point.
 * MUON_ERR_NOMEM from a series' reduction buffer. */
int muon_panel_draw(ctx *g, int rx0, int ry0, int rx1, int ry1, const panel *p,
                    series *s, int ns, muon_axes *out);
/* The ticks of a nice-ticks set (muon_nice_ticks) that fall inside [lo, hi]. */
int muon_plot_inside_ticks(double lo, double hi, int target, double *t, int cap);
/* Whole-number nice ticks on a layer axis 0..L-1 (at least 0). */
int muon_plot_layer_ticks(int L, double *t, int cap);
/* s = metric of (kind, layer) over the tracked steps; MUON_ERR_NOMEM. */
int muon_plot_matrix_series(const ctx *g, series *s, int metric, int kind, int layer);
/* One value of the table: metric of (kind, layer) at tracked step index ti
 * (NaN when not logged). */
float muon_plot_matval(const ctx *g, int metric, int kind, int layer, int ti);
/* Width in pixels of the widest tick label of t(n) (lg: log axis). */
int muon_plot_max_label_width(const double *t, int n, int lg);
/* s = model-wide metric `which` (muon_model_metric) over the steps. */
int muon_plot_model_series(const ctx *g, series *s, int which);
/* "no data" (or what) in the middle of the axes' area. */
void muon_plot_no_data(ctx *g, const muon_axes *ax, const char *what);
/* Draws the legend e(ne) in the corner of ax where it covers the fewest
 * points of s(ns). */
void muon_plot_place_legend(ctx *g, const muon_axes *ax, const series *s, int ns,
                            const muon_legend_entry *e, int ne);
/* Allocates x and y of s for n points; MUON_ERR_NOMEM. Frees ns series. */
int muon_plot_series_alloc(series *s, int n);
void muon_plot_series_free(series *s, int n);

#endif /* MUON_PLOTS_PANEL_H */
