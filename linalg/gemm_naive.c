/* The reference GEMM: a triple loop with double accumulation. Slow and
 * obviously correct; the tests compare muon_gemm against it. */
#include "linalg/linalg.h"
#include "linalg/gemm_internal.h"

int muon_gemm_naive(muon_op opA, muon_op opB, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc)
{
    int i, j, p;
    int st = muon_gemm_check_args(opA, opB, M, N, K, lda, ldb, ldc);
    if (st) return st;
    for (i = 0; i < M; i++)
        for (j = 0; j < N; j++) {
            double s = 0.0;
            for (p = 0; alpha != 0.0f && p < K; p++) { /* alpha == 0: A, B unread */
                float a = opA == MUON_NOTRANS ? A[(size_t)i * lda + p] : A[(size_t)p * lda + i];
                float b = opB == MUON_NOTRANS ? B[(size_t)p * ldb + j] : B[(size_t)j * ldb + p];
                s += (double)a * b;
            }
            s *= alpha;
            if (beta != 0.0f) s += (double)beta * C[(size_t)i * ldc + j];
            C[(size_t)i * ldc + j] = (float)s;
        }
    return MUON_OK;
}

/* Shared argument check (also used by muon_gemm): leading dimensions must
 * cover a stored row of each operand. */
int muon_gemm_check_args(muon_op opA, muon_op opB, int M, int N, int K,
                         int lda, int ldb, int ldc)
{
    int acols = opA == MUON_NOTRANS ? K : M;
    int bcols = opB == MUON_NOTRANS ? N : K;
    if (M < 0 || N < 0 || K < 0)
        return muon_error(MUON_ERR_ARG, "gemm: negative size (M=%d, N=%d, K=%d)", M, N, K);
    if (lda < (acols > 1 ? acols : 1) || ldb < (bcols > 1 ? bcols : 1) || ldc < (N > 1 ? N : 1))
        return muon_error(MUON_ERR_ARG, "gemm: leading dimension too small (lda=%d, ldb=%d, ldc=%d)", lda, ldb, ldc);
    return MUON_OK;
}
