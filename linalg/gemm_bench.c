/* Placeholder until the GEMM benchmark lands. */
#include "muon.h"

int muon_bench_gemm(FILE *out, int blas)
{
    (void)blas;
    fprintf(out, "gemm bench: not yet\n");
    return MUON_OK;
}
