/* --precision bf16 for the linear layers (docs/precision.md): each matmul
 * reads bf16 inputs and accumulates in float32 (muon_gemm), as a bf16
 * backend's GEMM does. Weights are bf16 already (the optimizer rounds them
 * after every update, muon_model_set_bf16 at the start); the activation x
 * going in, and in backward the gradient dY coming back, are rounded here
 * into scratch, so the fp32 activations the other layers saved stay as they
 * were. Backward: dW += round(dY)^T round(x), dX = round(dY) W -- the
 * rounding passes gradients straight through, and the weight gradient is
 * that of the matmul the forward actually ran.
 *
 * The model calls its linear layers through the two functions at the end
 * (either precision), which also hand muon_gemm the weight packed where
 * the caller packed it (m->packed, model/packed_weights.c). */
#include "model/experiments.h"
#include "model/layers.h"
#include "model/model_internal.h"  /* m->packed */

#include <string.h>

int muon_model_set_bf16(muon_model *m)
{
    const muon_config *c = &m->cfg;
    size_t N = (size_t)muon_model_max_batch(m) * (size_t)c->seq_len; /* the rows one forward pass takes */
    int HS = c->d_model / c->n_heads, NQKV = (c->n_heads + 2 * c->n_kv_heads) * HS;
    int wx = c->d_model > c->d_ff ? c->d_model : c->d_ff;
    int wg = wx > NQKV ? wx : NQKV;
    if (c->vocab_size > wg) wg = c->vocab_size;
    if (c->merged_qkvo && NQKV + c->d_model > wg) wg = NQKV + c->d_model;
    if (!m->bf16_x) m->bf16_x = muon_alloc(N * (size_t)wx * sizeof(float));
    if (!m->bf16_g) m->bf16_g = muon_alloc(N * (size_t)wg * sizeof(float));
    if (!m->bf16_x || !m->bf16_g) {
        muon_free(m->bf16_x);
        muon_free(m->bf16_g);
        m->bf16_x = m->bf16_g = NULL;
        return muon_error(MUON_ERR_NOMEM, "precision bf16: out of memory for the rounding scratch");
    }
    muon_bf16_round_array(m->params, m->num_params);
    return MUON_OK;
}

/* dst(N,I) contiguous = bf16(src(N,I) with row stride ld) */
static void round_rows(float *dst, const float *src, int ld, int N, int I)
{
    int r, j;
    for (r = 0; r < N; r++) {
        const float *s = src + (size_t)r * ld;
        float *d = dst + (size_t)r * I;
        for (j = 0; j < I; j++) d[j] = muon_bf16_round(s[j]);
    }
}

int muon_linear_forward_m(const muon_model *m, float *out, int ldo, const float *in, int ldi,
                          const float *W, int N, int I, int O)
{
    const float *Wt = muon_packed_weights_find(m->packed, W, I, O, MUON_TRANS);
    if (!m->bf16_x) return muon_linear_forward(out, ldo, in, ldi, W, Wt, N, I, O);
    round_rows(m->bf16_x, in, ldi, N, I);
    return muon_linear_forward(out, ldo, m->bf16_x, I, W, Wt, N, I, O);
}

int muon_linear_backward_m(const muon_model *m, float *din, float din_beta, muon_grad_mode wmode, float *dW,
                           const float *dout, int ldo, const float *in, int ldi, const float *W, int N, int I,
                           int O)
{
    const float *Wp = muon_packed_weights_find(m->packed, W, I, O, MUON_NOTRANS);
    if (!m->bf16_x) return muon_linear_backward(din, din_beta, wmode, dW, dout, ldo, in, ldi, W, Wp, N, I, O);
    round_rows(m->bf16_x, in, ldi, N, I);
    round_rows(m->bf16_g, dout, ldo, N, O);
    return muon_linear_backward(din, din_beta, wmode, dW, m->bf16_g, O, m->bf16_x, I, W, Wp, N, I, O);
}
