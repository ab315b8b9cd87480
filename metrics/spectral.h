/* metrics/spectral.h -- the metrics of one matrix with caller-owned scratch
 * (metrics/spectral.c), so the tracker allocates nothing per matrix but the
 * ESD fit's three arrays of min(rows, cols) doubles (metrics/esd.c). */
#ifndef MUON_SPECTRAL_H
#define MUON_SPECTRAL_H

#include "metrics/metrics.h"
#include "metrics/esd.h"

/* muon_metrics_compute with its buffers in ws[0] and the SVDs' scratch in
 * ws[1] (both grown when too small; zero-initialise them once); esd (NULL:
 * not fitted) receives muon_esd_alpha_sigma of W's singular values. */
int muon_metrics_compute_ws(muon_workspace ws[2], int rows, int cols, const float *W,
                            const float *dW, const float *M, const float *O, muon_metrics *out,
                            muon_esd_fit *esd);

/* Scratch of the tracker: two workspaces per thread, grown by the first
 * pass and reused by every later one (a fresh allocation each pass costs the
 * kernel's page zeroing, a large share of a pass). Zero-initialise. */
typedef struct { muon_workspace *ws; int n; } muon_tracker_pool;
void muon_tracker_pool_free(muon_tracker_pool *p);
/* muon_metrics_model with its scratch in pool (grown to the thread count). */
int muon_metrics_model_pool(muon_tracker_pool *pool, const muon_model *m,
                            const muon_update_view *u, muon_metrics *out, int cap);
/* The same for the tracked matrices i with mine[i] != 0 only (mine NULL:
 * all); out[i] of the others is left as it was; esd (NULL: none) receives
 * each one's ESD fit from the same SVD. A rank's share of a distributed
 * tracking pass (train/train.c). */
int muon_metrics_model_subset(muon_tracker_pool *pool, const muon_model *m, const muon_update_view *u,
                              const unsigned char *mine, muon_metrics *out, muon_esd_fit *esd, int cap);
/* The log's pool, which muon_metrics_track uses (freed by muon_metric_log_close). */
muon_tracker_pool *muon_metric_log_pool(muon_metric_log *log);

#endif
