/* Feed-forward activations. The matrices (up, down, gate) are plain linear
 * layers (model/linear.c); these are the elementwise parts.
 *   relu2  (the research model; So et al. 2021, "Primer"): relu(h)^2
 *   swiglu (Shazeer 2020): silu(gate) * h, silu(z) = z * sigmoid(z) */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"

static float sigmoidf_(float z)
{
    /* 1/(1+e^-z) with e^-z in range both ways: muon_expf gives 0 for
     * -z < -87, i.e. sigmoid 1; for -z > 88 it saturates, sigmoid ~1e-38 */
    return 1.0f / (1.0f + muon_expf(-z));
}

void muon_ffn_act_forward(float *act, const float *h, const float *gate, size_t n, muon_ffn_kind kind)
{
    long i, nn = (long)n;
    if (kind == MUON_FFN_SWIGLU) {
MUON_OMP(omp parallel for schedule(static) if (n >= MUON_PAR_MIN))
        for (i = 0; i < nn; i++) {
            float z = gate[i];
            act[i] = z * sigmoidf_(z) * h[i];
        }
    } else {
MUON_OMP(omp parallel for schedule(static) if (n >= MUON_PAR_MIN))
        for (i = 0; i < nn; i++) {
            float r = h[i] > 0.0f ? h[i] : 0.0f;
            act[i] = r * r;
        }
    }
}

void muon_ffn_act_backward(float *dh, float *dgate, const float *dact, const float *h,
                           const float *gate, size_t n, muon_ffn_kind kind)
{
    long i, nn = (long)n;
    if (kind == MUON_FFN_SWIGLU) {
MUON_OMP(omp parallel for schedule(static) if (n >= MUON_PAR_MIN))
        for (i = 0; i < nn; i++) {
            float z = gate[i], s = sigmoidf_(z), d = dact[i];
            /* d silu/dz = s * (1 + z (1 - s)) */
            dgate[i] = d * h[i] * s * (1.0f + z * (1.0f - s));
            dh[i] = d * z * s;
        }
    } else {
MUON_OMP(omp parallel for schedule(static) if (n >= MUON_PAR_MIN))
        for (i = 0; i < nn; i++) {
            float r = h[i] > 0.0f ? h[i] : 0.0f;
            dh[i] = dact[i] * 2.0f * r;
        }
    }
}
