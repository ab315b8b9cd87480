/* bfloat16 rounding of arrays; the scalar rounding and its rule are in
 * linalg/bf16.h. */
#include "linalg/linalg.h"
#include "linalg/omp.h"

void muon_bf16_round_array(float *x, size_t n)
{
    size_t i;
MUON_SIMD(omp simd)
    for (i = 0; i < n; i++) x[i] = muon_bf16_round(x[i]);
}
