/* linalg/bf16.h -- bfloat16 rounding, for emulating bf16 backends bit for bit.
 *
 * bfloat16 is float32 with the low 16 mantissa bits dropped (8 exponent bits,
 * 7 stored mantissa bits). PyTorch and the GPU tensor cores convert with
 * round-to-nearest, ties-to-even, and keep NaN a NaN; that is done here on the
 * bit pattern, so the result is exact and independent of the FPU's mode.
 * Inline because --precision bf16 rounds every matmul input and every
 * parameter: a call per element cost as much as the matmuls it fed. */
#ifndef MUON_LINALG_BF16_H
#define MUON_LINALG_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* x rounded to the nearest bfloat16 (ties to even; NaN stays NaN), as float. */
static inline float muon_bf16_round(float x)
{
    uint32_t u, nan_bits, rounded;
    memcpy(&u, &x, sizeof u);
    /* NaN: keep it quiet and drop the low bits; otherwise add half an ulp
     * (minus one when the kept lsb is 0: ties to even), where a carry into
     * the exponent rounds up correctly, to Inf at the top. Both are computed
     * and one is selected, so a loop of these has no branch to vectorise around. */
    nan_bits = u | 0x00400000u;
    rounded = u + 0x7fffu + ((u >> 16) & 1u);
    u = ((u & 0x7fffffffu) > 0x7f800000u) ? nan_bits : rounded;
    u &= 0xffff0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Rounds x(n) to bfloat16 in place (linalg/bf16.c). */
void muon_bf16_round_array(float *x, size_t n);

#endif
