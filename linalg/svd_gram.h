/* linalg/svd_gram.h -- singular values (and the top-k singular vectors) from
 * the eigen-decomposition of the small Gram matrix in double
 * (linalg/svd_gram.c): the fast path of the metrics; muon_svd's Jacobi is the
 * algorithm of record and checks it in tests/test_svd_gram.c. */
#ifndef MUON_SVD_GRAM_H
#define MUON_SVD_GRAM_H

#include "linalg/linalg.h"

/* Bytes muon_svd_gram_ws needs for an (m,n) matrix and k vectors. */
size_t muon_svd_gram_workspace_bytes(int m, int n, int k);

/* A(m,n): S(r) all r = min(m,n) singular values, descending, >= 0; with
 * 0 < k <= r also the top k singular vectors, Uk(m,k) and Vk(n,k) row-major
 * (columns are vectors; a vector of a zero singular value is left zero).
 * k = 0 (Uk, Vk unused, may be NULL) computes values only, which skips the
 * eigenvector accumulation. Accuracy (docs/metrics.md): every sigma_i to
 * about DBL_EPSILON sigma_1^2 / sigma_i, i.e. float32-exact down to
 * sigma_i ~ 1e-4 sigma_1 and below sqrt(DBL_EPSILON) sigma_1 ~ 1.5e-8 sigma_1
 * only as "numerically zero", which is all the metrics ask of them. Results
 * do not depend on the thread count (single-threaded). MUON_ERR_ARG,
 * MUON_ERR_NUMERIC (NaN/Inf in A, or QL did not converge), MUON_ERR_NOMEM. */
int muon_svd_gram_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int k,
                     float *Uk, float *Vk);

/* muon_svd_gram_ws with the path of the top-k vectors chosen and reported:
 * full takes them from all N eigenvectors by the accumulated QL rotations
 * (the slow, obviously-correct form of the top-k path, which
 * tests/test_svd_gram.c checks against it); *from_t (may be NULL) becomes 1
 * where they came from inverse iteration on the tridiagonal, 0 otherwise. */
int muon_svd_gram_path_ws(muon_workspace *ws, int m, int n, const float *A, float *S, int k,
                          float *Uk, float *Vk, int full, int *from_t);

/* Eigenvalues d(N) (unsorted) of the symmetric a(N,N) (lower triangle read;
 * destroyed) by Householder tridiagonalisation and implicit QL in double;
 * with zt(N,N) also the eigenvectors, row i of zt the unit eigenvector of
 * d[i]. e(N), w(2N) scratch. Single-threaded.
 * MUON_OK, or MUON_ERR_NUMERIC when QL did not converge (no error message
 * is set: the caller reports it or falls back). */
int muon_sym_eigen(int N, double *a, double *d, double *e, double *zt, double *w);

/* Test hook: QL gives up after n iterations per eigenvalue (n < 0: the
 * default again), so the tests can reach the callers' fallbacks. */
void muon_svd_gram_test_max_iter(int n);

#endif
