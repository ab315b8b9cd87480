/* Random numbers: xoshiro256** (Blackman & Vigna 2018), seeded by splitmix64.
 * Fast, small state, and the same stream on every platform and compiler. */
#include "linalg/linalg.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void muon_rng_seed(muon_rng *r, uint64_t seed)
{
    int i;
    for (i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t muon_rng_next(muon_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double muon_rng_uniform(muon_rng *r)
{
    /* top 53 bits: every double in [0,1) on the 2^-53 grid, equally likely */
    return (double)(muon_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t muon_rng_below(muon_rng *r, uint64_t n)
{
    /* rejection sampling: drop the incomplete last copy of [0, n) */
    uint64_t limit = (uint64_t)-1 - ((uint64_t)-1 % n + 1) % n, x;
    do x = muon_rng_next(r); while (x > limit);
    return x % n;
}

double muon_rng_normal(muon_rng *r)
{
    const double two_pi = 6.283185307179586476925;
    double u1 = 1.0 - muon_rng_uniform(r); /* (0, 1]: log stays finite */
    double u2 = muon_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

void muon_rng_fill_normal(muon_rng *r, float *x, size_t n, float std)
{
    size_t i;
    for (i = 0; i < n; i++) {
        /* rounded to double first, as where doubles are evaluated in double:
         * one rounding from x87's extended product could differ in the last bit */
        double v = std * muon_rng_normal(r);
        x[i] = (float)v;
    }
}
