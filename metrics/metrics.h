/* metrics/metrics.h -- internal declarations of metrics/: the metric log and tracking. */
#ifndef MUON_METRICS_H
#define MUON_METRICS_H

#include "linalg/linalg.h"
#include "io/io.h"
#include "model/model_internal.h"

/* Default --track-every. A tracking pass computes only what the metrics read
 * (metrics/spectral.c: Gram-path values, top-k vectors of W and dW, O's SVD
 * shared with dW); `muon bench metrics` prints its cost in training steps,
 * and at this interval a pass stays under a tenth of training (the README's
 * performance table has the measurement), so `make run` samples each
 * research curve 50 times. */
#define MUON_DEFAULT_TRACK_EVERY 10
/* k of alignment_left/right (docs/metrics.md#alignment_left); min(k, rank) is used when smaller. */
#define MUON_ALIGN_K 5

/* The model-wide metrics of metrics.csv (layer -1, matrix "model"); names from
 * the one table in metrics/spectral.c, like the matrix metrics'. */
typedef enum {
    MUON_MODEL_LOSS = 0, MUON_MODEL_VAL_LOSS, MUON_MODEL_LR, MUON_MODEL_TOKENS,
    MUON_MODEL_GRAD_NORM, MUON_MODEL_VAL_LOSS_SE, MUON_MODEL_METRIC_COUNT
} muon_model_metric;
/* "loss", "val_loss", "lr", "tokens", "grad_norm" ("unknown" otherwise). */
const char *muon_model_metric_name(muon_model_metric id);
/* Index of a model-wide metric name, or -1. */
int muon_model_metric_index(const char *name);
/* Index 0..MUON_METRIC_COUNT-1 of a matrix metric name ("sigma_max",
 * "top_sv_3", ...), or -1 if unknown. */
int muon_metric_index(const char *name);

/* What the optimizer's last step did, laid out like muon_model.params so a
 * tracked matrix's offset indexes all of them. Any pointer may be NULL; the
 * metrics that need it are then not logged. */
typedef struct {
    const float *delta;     /* (num_params) applied update: W after - W before (weight decay included) */
    const float *momentum;  /* (num_params) Muon momentum M after the step, or AdamW's first moment */
    const float *orth_out;  /* (num_params) the orthogonaliser's output O (Muon only) */
} muon_update_view;

/* The tidy metric log metrics.csv: header "step,layer,matrix,metric,value";
 * layer is 0-based, or -1 with matrix "model" for model-wide values
 * ("loss", "val_loss", "lr", "tokens" = tokens seen after that step). */
typedef struct muon_metric_log muon_metric_log;

/* Opens path for appending (created with its header if missing). With
 * resume_step >= 0 it first drops every row with step > resume_step, by an
 * atomic rewrite, so a resumed run continues without duplicates. */
int muon_metric_log_open(muon_metric_log **log, const char *path, long resume_step);
/* Appends one row (value printed with %.9g). */
int muon_metric_log_row(muon_metric_log *log, long step, int layer, const char *matrix,
                        const char *metric, double value);
/* Flushes to disk: called once per step, so a crash loses at most that step. */
int muon_metric_log_flush(muon_metric_log *log);
/* Flushes, closes and frees (NULL is fine). */
int muon_metric_log_close(muon_metric_log *log);
/* Computes the metrics (docs/metrics.md) of every tracked matrix of m (u may be
 * NULL: static metrics only) and appends their rows for step. */
int muon_metrics_track(muon_metric_log *log, long step, const muon_model *m,
                       const muon_update_view *u);
/* The metrics of every tracked matrix of m (muon_model_tracked's order) into
 * out(cap); u may be NULL. Parallel over matrices, thread-count independent.
 * MUON_ERR_ARG when cap is below the tracked count. */
int muon_metrics_model(const muon_model *m, const muon_update_view *u,
                       muon_metrics *out, int cap);
/* Appends the rows of every present metric of mt for (step, layer, matrix). */
int muon_metric_log_metrics(muon_metric_log *log, long step, int layer, const char *matrix,
                     const muon_metrics *mt);

#endif /* MUON_METRICS_H */
