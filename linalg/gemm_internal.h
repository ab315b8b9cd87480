/* Private to linalg/gemm*.c: the argument check shared by muon_gemm and
 * muon_gemm_naive, so both reject exactly the same calls. */
#ifndef MUON_GEMM_INTERNAL_H
#define MUON_GEMM_INTERNAL_H

#include "linalg/linalg.h"

/* MUON_OK, or MUON_ERR_ARG (message set) for a negative size or a leading
 * dimension shorter than a stored row of A, B or C. */
int muon_gemm_check_args(muon_op opA, muon_op opB, int M, int N, int K,
                         int lda, int ldb, int ldc);

/* Test hook: 0 turns off the contention guard of muon_gemm (which runs calls
 * on one thread for a while after threads were seen waiting for cores), so a
 * test asking for 2 threads gets 2 whatever the machine's load; 1 turns it
 * back on. */
void muon_gemm_guard_enable(int on);

#endif
