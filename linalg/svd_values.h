/* linalg/svd_values.h -- singular values only, by Householder
 * bidiagonalisation and bidiagonal QR in double (linalg/svd_values.c), the
 * way LAPACK's dgesdd computes them without vectors; muon_svd's Jacobi is
 * the algorithm of record and checks it in tests/test_svd_values.c. */
#ifndef MUON_SVD_VALUES_H
#define MUON_SVD_VALUES_H

#include "linalg/linalg.h"

/* A(m,n): S(r) all r = min(m,n) singular values, descending, >= 0, each
 * within a small multiple of DBL_EPSILON sigma_1 of the exact one before its
 * rounding to float32 (absolute accuracy, like dgesdd's; muon_svd also has
 * high relative accuracy on graded matrices). The same result for any thread
 * count (only the QR of tall matrices is parallel); A is not
 * modified; the scratch lives in ws (grown when too small). *sweeps (may
 * be NULL) = the QR sweeps on the bidiagonal, or -1 where they did not
 * converge and muon_svd's Jacobi gave S instead. MUON_ERR_ARG,
 * MUON_ERR_NUMERIC (NaN/Inf in A; S is then NaN), MUON_ERR_NOMEM. */
int muon_svd_values_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int *sweeps);

#endif
