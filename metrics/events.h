/* metrics/events.h -- phase transitions: sudden moves of a matrix's alignment
 * or spectral entropy, found in a metric log (metrics/events.c) and written
 * to events.csv beside metrics.csv. See docs/experiments.md. */
#ifndef MUON_METRICS_EVENTS_H
#define MUON_METRICS_EVENTS_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

#define MUON_EVENT_K_DEFAULT 6.0      /* robust standard deviations */
#define MUON_EVENT_WINDOW_DEFAULT 10  /* earlier changes that form the history */
#define MUON_EVENT_MIN_HISTORY 5      /* fewer earlier changes: no verdict yet */
/* The robust deviation is never taken below this (metric units): a history
 * of identical changes (MAD 0) would otherwise make any wiggle an event. */
#define MUON_EVENT_SIGMA_FLOOR 1e-4

typedef struct muon_event {
    long step;        /* the tracked step at which the value moved */
    int layer;
    int kind;         /* 0..6 as muon_matrix_name */
    int metric;       /* muon_metric_index: alignment_left/right or spectral_entropy */
    double value;     /* the metric at step */
    double change;    /* value minus the previous tracked value */
    double median;    /* median of the history of changes */
    double sigma;     /* 1.4826 MAD of that history (floored) */
    double score;     /* (change - median) / sigma; |score| > K made it an event */
} muon_event;

/* Events of every (metric, kind, layer) series of t: with d_j the change
 * between consecutive tracked values, step j is an event when
 * |d_j - median(H)| > K * max(1.4826 MAD(H), MUON_EVENT_SIGMA_FLOOR), H the
 * up to `window` changes before d_j (at least MUON_EVENT_MIN_HISTORY).
 * *ev (muon_alloc'ed, free with muon_free) sorted by step, layer, kind,
 * metric; K <= 0 finds none. MUON_ERR_ARG (window < MIN_HISTORY) / NOMEM. */
int muon_events_detect(const muon_metrics_table *t, double K, int window,
                       muon_event **ev, int *n);
/* Writes events.csv, header "step,layer,matrix,metric,value,change,median,sigma,score",
 * atomically (path.tmp, then rename). */
int muon_events_write(const char *path, const muon_event *ev, int n);
/* Reads run_dir/metrics.csv, detects, writes run_dir/events.csv; *n events. */
int muon_events_run(const char *run_dir, double K, int window, int *n);
/* Reads an events.csv written by muon_events_write (matrix and metric names
 * resolved; unknown ones skipped). A missing file gives 0 events, MUON_OK. */
int muon_events_read(const char *path, muon_event **ev, int *n);

#endif
