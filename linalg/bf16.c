/* bfloat16 rounding, for emulating bf16 backends bit for bit.
 *
 * bfloat16 is float32 with the low 16 mantissa bits dropped (8 exponent bits,
 * 7 stored mantissa bits). PyTorch and the GPU tensor cores convert with
 * round-to-nearest, ties-to-even, and keep NaN a NaN; that is done here on the
 * bit pattern, so the result is exact and independent of the FPU's mode. */
#include "linalg/linalg.h"

#include <string.h>

float muon_bf16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) {
        u |= 0x00400000u;                       /* NaN: keep it quiet, drop the low bits */
    } else {
        /* add half an ulp (minus one when the kept lsb is 0: ties to even);
         * a carry into the exponent rounds up correctly, to Inf at the top */
        u += 0x7fffu + ((u >> 16) & 1u);
    }
    u &= 0xffff0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

void muon_bf16_round_array(float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] = muon_bf16_round(x[i]);
}
