/* Mean softmax cross-entropy over the rows of the logits. */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"

#include <math.h>

double muon_cross_entropy_forward(float *lse, float *ework, const float *logits, const int *targets, int N, int V)
{
    int r;
    double loss = 0.0;
MUON_OMP(omp parallel for schedule(static) if ((size_t)N * V >= MUON_PAR_MIN))
    for (r = 0; r < N; r++) {
        const float *z = logits + (size_t)r * V;
        float *e = ework + (size_t)r * V; /* exp(z - max), dlogits' rows as scratch */
        float mx = muon_maxf(z, V);
        int j;
        for (j = 0; j < V; j++) e[j] = muon_expf(z[j] - mx);
        lse[r] = mx + logf(muon_sumf(e, V));
    }
    /* the mean in double, rows in order: independent of the thread count */
    for (r = 0; r < N; r++) loss += (double)lse[r] - logits[(size_t)r * V + targets[r]];
    return loss / N;
}

void muon_cross_entropy_backward(float *dlogits, const float *logits, const float *lse,
                                 const int *targets, int N, int V)
{
    int r;
    float inv = 1.0f / (float)N;
MUON_OMP(omp parallel for schedule(static) if ((size_t)N * V >= MUON_PAR_MIN))
    for (r = 0; r < N; r++) {
        const float *z = logits + (size_t)r * V;
        float *d = dlogits + (size_t)r * V, m = lse[r];
        int j;
        for (j = 0; j < V; j++) d[j] = muon_expf(z[j] - m) * inv;
        d[targets[r]] -= inv;
    }
}
