/* metrics/spectral.h -- the metrics of one matrix with caller-owned scratch
 * (metrics/spectral.c), so the tracker allocates nothing per matrix. */
#ifndef MUON_SPECTRAL_H
#define MUON_SPECTRAL_H

#include "metrics/metrics.h"

/* muon_metrics_compute with its buffers in ws[0] and the SVDs' scratch in
 * ws[1] (both grown when too small; zero-initialise them once). */
int muon_metrics_compute_ws(muon_workspace ws[2], int rows, int cols, const float *W,
                            const float *dW, const float *M, const float *O, muon_metrics *out);

#endif
