/* Rotary position embedding (Su et al. 2021) on interleaved pairs
 * (2i, 2i+1) of each head -- the layout of the original RoPE and of the
 * research code, not the half-split (i, i + HS/2) one: pair i of position t
 * turns by the angle t * base^(-2i/HS). */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"

#include <math.h>

void muon_rope_table(float *cosv, float *sinv, int T, int HS, double base)
{
    int t, i, P = HS / 2;
    /* double angles, rounded once: t*theta reaches ~T radians, and float
     * arguments would lose ~T*6e-8 of phase at the far positions */
    for (t = 0; t < T; t++)
        for (i = 0; i < P; i++) {
            double theta = pow(base, -2.0 * i / HS);
            cosv[(size_t)t * P + i] = (float)cos(t * theta);
            sinv[(size_t)t * P + i] = (float)sin(t * theta);
        }
}

/* sign +1: rotate by +angle (forward); -1: by -angle (the transpose, backward) */
static void rope_apply(float *x, int ld, const float *cosv, const float *sinv,
                       int B, int T, int H, int HS, float sign)
{
    int r, P = HS / 2;
MUON_OMP(omp parallel for schedule(static) if ((size_t)B * T * H * HS >= MUON_PAR_MIN))
    for (r = 0; r < B * T; r++) {
        int t = r % T, h, i;
        const float *cs = cosv + (size_t)t * P, *sn = sinv + (size_t)t * P;
        for (h = 0; h < H; h++) {
            float *v = x + (size_t)r * ld + (size_t)h * HS;
            for (i = 0; i < P; i++) {
                float x0 = v[2 * i], x1 = v[2 * i + 1], c = cs[i], s = sign * sn[i];
                v[2 * i] = x0 * c - x1 * s;
                v[2 * i + 1] = x0 * s + x1 * c;
            }
        }
    }
}

void muon_rope_forward(float *x, int ld, const float *cosv, const float *sinv,
                       int B, int T, int H, int HS)
{
    rope_apply(x, ld, cosv, sinv, B, T, H, HS, 1.0f);
}

void muon_rope_backward(float *dx, int ld, const float *cosv, const float *sinv,
                        int B, int T, int H, int HS)
{
    rope_apply(dx, ld, cosv, sinv, B, T, H, HS, -1.0f);
}
