/* --update-noise X: Gaussian noise added to Muon's orthogonalised update O,
 * scaled so ||noise||_F = X ||O||_F, before the step W -= lr scale O. The
 * question it answers (docs/experiments.md): does lowering the update-weight
 * alignment on purpose change generalisation? The applied update then has
 * cosine ~ 1/sqrt(1+X^2) with the noiseless O, and the logged alignment and
 * ortho_error_update show it.
 *
 * The noise is drawn twice from the same seed (once for its norm, once to add
 * it), so nothing is allocated, and the seed depends on (run seed, step,
 * matrix) only. */
#include "model/experiments.h"

#include <math.h>

uint64_t muon_update_noise_key(uint64_t seed, long t, int index)
{
    /* muon_rng_seed runs splitmix64 over this, so distinct (t, index) pairs
     * only need distinct keys: t < 2^40 and index < 2^24 pack without overlap */
    return seed ^ ((uint64_t)t << 24) ^ (uint64_t)(index & 0xffffff) ^ 0x6e6f697365ull; /* "noise" */
}

void muon_update_noise_add(float *O, size_t n, float x, uint64_t key)
{
    muon_rng r;
    double on = 0.0, en = 0.0, scale;
    size_t i;
    if (!(x > 0) || n == 0) return;
    for (i = 0; i < n; i++) on += (double)O[i] * (double)O[i];
    if (!(on > 0)) return;
    muon_rng_seed(&r, key);
    for (i = 0; i < n; i++) {
        double e = muon_rng_normal(&r);
        en += e * e;
    }
    if (!(en > 0)) return;
    scale = (double)x * sqrt(on / en);
    muon_rng_seed(&r, key);
    for (i = 0; i < n; i++) O[i] = (float)((double)O[i] + scale * muon_rng_normal(&r));
}
