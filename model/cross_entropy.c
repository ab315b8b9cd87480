/* Mean softmax cross-entropy over the rows of the logits. */
#include "muon.h"
#include "model/layers.h"

#include <math.h>

double muon_cross_entropy_forward(float *lse, const float *logits, const int *targets, int N, int V)
{
    int r;
    double loss = 0.0;
#pragma omp parallel for schedule(static)
    for (r = 0; r < N; r++) {
        const float *z = logits + (size_t)r * V;
        float mx = z[0], acc[16] = {0}, s = 0.0f;
        int j;
        for (j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        for (j = 0; j < V; j++) acc[j & 15] += muon_expf(z[j] - mx);
        for (j = 0; j < 16; j++) s += acc[j];
        lse[r] = mx + logf(s);
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
#pragma omp parallel for schedule(static)
    for (r = 0; r < N; r++) {
        const float *z = logits + (size_t)r * V;
        float *d = dlogits + (size_t)r * V, m = lse[r];
        int j;
        for (j = 0; j < V; j++) d[j] = muon_expf(z[j] - m) * inv;
        d[targets[r]] -= inv;
    }
}
