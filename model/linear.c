/* Linear layers without bias, y = x W^T with W (out, in) as in PyTorch, over
 * muon_gemm. The weight gradient is one GEMM whose K dimension is all N
 * tokens: muon_gemm never splits K across threads, so it is the same for any
 * thread count (no per-thread partial sums to combine). W may come packed
 * already as well (model/packed_weights.c): the same bits. */
#include "model/model_internal.h"
#include "model/layers.h"

int muon_linear_forward(float *out, int ldo, const float *in, int ldi, const float *W,
                        const float *Wt_packed, int N, int I, int O)
{
    return muon_gemm_packed(MUON_NOTRANS, MUON_TRANS, N, O, I, 1.0f, in, ldi, W, I, Wt_packed, 0.0f, out, ldo);
}

int muon_linear_backward(float *din, float din_beta, muon_grad_mode wmode, float *dW, const float *dout,
                         int ldo, const float *in, int ldi, const float *W, const float *W_packed,
                         int N, int I, int O)
{
    /* beta 0 never reads dW: a fresh gradient costs no zeroing pass and no
     * read of the zeros (the per-sequence tree writes one per sequence) */
    const float wbeta = wmode == MUON_GRAD_ADD ? 1.0f : 0.0f;
    int st = muon_gemm(MUON_TRANS, MUON_NOTRANS, O, I, N, 1.0f, dout, ldo, in, ldi, wbeta, dW, I);
    if (st || !din) return st;
    return muon_gemm_packed(MUON_NOTRANS, MUON_NOTRANS, N, I, O, 1.0f, dout, ldo, W, I, W_packed, din_beta, din, I);
}
