/* Placeholder until the SVD benchmark lands. */
#include "muon.h"

int muon_bench_svd(FILE *out)
{
    fprintf(out, "svd bench: not yet\n");
    return MUON_OK;
}
