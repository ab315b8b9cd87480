/* Placeholder until the Jacobi SVD lands. */
#include "muon.h"

int muon_svd(int m, int n, const float *A, float *S, float *U, float *V, muon_svd_info *info)
{
    (void)m; (void)n; (void)A; (void)S; (void)U; (void)V; (void)info;
    return muon_error(MUON_ERR_ARG, "svd: not yet implemented");
}
