/* AdamW (Loshchilov & Hutter 2019) exactly as torch.optim.AdamW computes it
 * (PyTorch 1.13, _single_tensor_adamw): decoupled decay first, then the moment
 * updates, then p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). The bias
 * corrections are computed in double like Python does, and the per-element
 * arithmetic is float32 in the same order, so the golden comparison with
 * PyTorch is limited only by rounding inside sqrt/div. */
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "linalg/omp.h"

#include <math.h>

void muon_adamw_update(const muon_optim_config *c, float lr, float wd, long t, size_t n,
                       float *W,       /* (n) */
                       const float *G, /* (n) */
                       float *m,       /* (n) */
                       float *v,       /* (n) */
                       float *delta)   /* (n) */
{
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    const float decay = (float)(1.0 - (double)lr * (double)wd);
    const float one_b1 = (float)(1.0 - (double)b1), one_b2 = (float)(1.0 - (double)b2);
    const double bc1 = 1.0 - pow((double)b1, (double)t);
    const double bc2 = 1.0 - pow((double)b2, (double)t);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    long i, nn = (long)n;
MUON_OMP(omp parallel for schedule(static) if (nn > 65536))
    for (i = 0; i < nn; i++) {
        float w0 = W[i], w = w0 * decay, g = G[i];
        float mi = m[i] * b1 + one_b1 * g;
        float vi = v[i] * b2 + one_b2 * (g * g);
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        w = w + (-step_size) * (mi / denom);
        if (c->bf16) w = muon_bf16_round(w); /* --precision bf16: parameters stored in bf16 */
        W[i] = w;
        delta[i] = w - w0;
    }
}
