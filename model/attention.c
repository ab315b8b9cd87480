/* Causal grouped-query self-attention core: softmax(q k^T / sqrt(HS)) v per
 * head, query head h reading K/V head h / (NH/NKV) (Ainslie et al. 2023).
 * (The projections, QK-norm and RoPE around it are in model.c, rmsnorm.c,
 * rope.c.)
 *
 * Fast kernels: the forward keeps only each score row's log-sum-exp; the
 * backward recomputes the probabilities row by row from it (as
 * FlashAttention does), so memory is O(T) per head instead of O(T^2) --
 * blueberry-nano's T = 2048 would need 0.7 GB per layer of probabilities --
 * and work is O(T^2 HS) per head. K and V of a KV head are first transposed
 * to (HS, T) so the score loops run unit-stride over key positions.
 * Threads split (batch, head) in the forward and (batch, KV head) in the
 * backward, where one work item owns every dK/dV row of its KV head: each
 * output is summed by one thread in a fixed order.
 *
 * The naive kernels below store the full probability matrix and are the
 * plain textbook loops; the tests hold the fast ones to them. */
#include "muon.h"
#include "model/layers.h"

#include <math.h>
#include <string.h>

size_t muon_attention_scratch(int B, int T, int NH, int NKV, int HS)
{
    /* kt, vt (B,NKV,HS,T) + two score rows per work item */
    return 2 * (size_t)B * NKV * HS * T + 2 * (size_t)B * NH * T;
}

/* dst(HS,T) = src rows (T, HS) of KV head g of batch b, transposed */
static void transpose_head(float *dst, const float *src, int ld, int T, int HS)
{
    int j, d;
    for (j = 0; j < T; j++)
        for (d = 0; d < HS; d++) dst[(size_t)d * T + j] = src[(size_t)j * ld + d];
}

/* s[0..n) = scale * q . K[j] with Kt (HS, T) */
static void scores(float *s, const float *q, const float *Kt, int T, int HS, int n, float scale)
{
    int d, j;
    for (j = 0; j < n; j++) s[j] = 0.0f;
    for (d = 0; d < HS; d++) {
        const float *row = Kt + (size_t)d * T;
        float qd = q[d] * scale;
        for (j = 0; j < n; j++) s[j] += qd * row[j];
    }
}

void muon_attention_forward(float *out, int ldo, float *lse, const muon_attn_shape *sh, float *scratch)
{
    int B = sh->B, T = sh->T, NH = sh->NH, NKV = sh->NKV, HS = sh->HS, R = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
    float *kt = scratch, *rows = scratch + 2 * (size_t)B * NKV * HS * T;
    int item;

#pragma omp parallel for schedule(static)
    for (item = 0; item < B * NKV; item++) {
        int b = item / NKV, g = item % NKV;
        transpose_head(kt + (size_t)item * HS * T, sh->k + (size_t)b * T * sh->ldk + (size_t)g * HS, sh->ldk, T, HS);
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (item = 0; item < B * NH; item++) {
        int b = item / NH, h = item % NH, g = h / R, i, j, d;
        const float *Kt = kt + ((size_t)b * NKV + g) * HS * T;
        float *s = rows + (size_t)item * 2 * T;
        for (i = 0; i < T; i++) {
            const float *q = sh->q + ((size_t)b * T + i) * sh->ldq + (size_t)h * HS;
            float *o = out + ((size_t)b * T + i) * ldo + (size_t)h * HS;
            float mx, sum = 0.0f, inv, acc[16] = {0};
            int n = i + 1;
            scores(s, q, Kt, T, HS, n, scale);
            mx = s[0];
            for (j = 1; j < n; j++) mx = s[j] > mx ? s[j] : mx;
            for (j = 0; j < n; j++) {
                s[j] = muon_expf(s[j] - mx);
                acc[j & 15] += s[j];
            }
            for (j = 0; j < 16; j++) sum += acc[j];
            inv = 1.0f / sum;
            for (d = 0; d < HS; d++) o[d] = 0.0f;
            for (j = 0; j < n; j++) {
                const float *v = sh->v + ((size_t)b * T + j) * sh->ldv + (size_t)g * HS;
                float p = s[j] * inv;
                for (d = 0; d < HS; d++) o[d] += p * v[d];
            }
            lse[((size_t)b * NH + h) * T + i] = mx + logf(sum);
        }
    }
}

void muon_attention_backward(float *dq, int lddq, float *dk, int lddk, float *dv, int lddv,
                             const float *dout, int lddo, const float *out, int ldo,
                             const float *lse, const muon_attn_shape *sh, float *scratch)
{
    int B = sh->B, T = sh->T, NH = sh->NH, NKV = sh->NKV, HS = sh->HS, R = NH / NKV;
    float scale = 1.0f / sqrtf((float)HS);
    float *kt = scratch, *vt = scratch + (size_t)B * NKV * HS * T;
    float *rows = scratch + 2 * (size_t)B * NKV * HS * T;
    int item;

#pragma omp parallel for schedule(dynamic, 1)
    for (item = 0; item < B * NKV; item++) {
        int b = item / NKV, g = item % NKV, h, i, j, d;
        float *Kt = kt + (size_t)item * HS * T, *Vt = vt + (size_t)item * HS * T;
        float *p = rows + (size_t)item * 2 * T, *ds = p + T;
        transpose_head(Kt, sh->k + (size_t)b * T * sh->ldk + (size_t)g * HS, sh->ldk, T, HS);
        transpose_head(Vt, sh->v + (size_t)b * T * sh->ldv + (size_t)g * HS, sh->ldv, T, HS);
        for (j = 0; j < T; j++) {
            memset(dk + ((size_t)b * T + j) * lddk + (size_t)g * HS, 0, (size_t)HS * sizeof(float));
            memset(dv + ((size_t)b * T + j) * lddv + (size_t)g * HS, 0, (size_t)HS * sizeof(float));
        }
        for (h = g * R; h < (g + 1) * R; h++)
            for (i = 0; i < T; i++) {
                size_t row = (size_t)b * T + i;
                const float *q = sh->q + row * sh->ldq + (size_t)h * HS;
                const float *dO = dout + row * lddo + (size_t)h * HS;
                const float *O = out + row * ldo + (size_t)h * HS;
                float *dQ = dq + row * lddq + (size_t)h * HS;
                float m = lse[((size_t)b * NH + h) * T + i], D;
                int n = i + 1;
                scores(p, q, Kt, T, HS, n, scale);
                for (j = 0; j < n; j++) p[j] = muon_expf(p[j] - m);
                /* dp_j = dO . v_j; ds_j = p_j (dp_j - sum_k p_k dp_k), and
                 * sum_k p_k dp_k = dO . O (FlashAttention-2's D) */
                D = muon_dotf(dO, O, HS);
                for (j = 0; j < n; j++) ds[j] = 0.0f;
                for (d = 0; d < HS; d++) {
                    const float *vrow = Vt + (size_t)d * T;
                    float g_ = dO[d];
                    for (j = 0; j < n; j++) ds[j] += g_ * vrow[j];
                }
                for (j = 0; j < n; j++) ds[j] = p[j] * (ds[j] - D) * scale;
                for (d = 0; d < HS; d++) dQ[d] = muon_dotf(ds, Kt + (size_t)d * T, n);
                for (j = 0; j < n; j++) {
                    float *dK = dk + ((size_t)b * T + j) * lddk + (size_t)g * HS;
                    float *dV = dv + ((size_t)b * T + j) * lddv + (size_t)g * HS;
                    float a = ds[j], pj = p[j];
                    for (d = 0; d < HS; d++) {
                        dK[d] += a * q[d];
                        dV[d] += pj * dO[d];
                    }
                }
            }
    }
}

/* ---- the references ------------------------------------------------------ */

void muon_attention_forward_naive(float *out, int ldo, float *probs, const muon_attn_shape *sh)
{
    int B = sh->B, T = sh->T, NH = sh->NH, HS = sh->HS, R = NH / sh->NKV;
    int b, h, i, j, d;
    float scale = 1.0f / sqrtf((float)HS);
    for (b = 0; b < B; b++)
        for (h = 0; h < NH; h++)
            for (i = 0; i < T; i++) {
                const float *q = sh->q + ((size_t)b * T + i) * sh->ldq + (size_t)h * HS;
                float *p = probs + (((size_t)b * NH + h) * T + i) * T;
                float *o = out + ((size_t)b * T + i) * ldo + (size_t)h * HS;
                float mx = -INFINITY, sum = 0.0f;
                for (j = 0; j < T; j++) {
                    const float *k = sh->k + ((size_t)b * T + j) * sh->ldk + (size_t)(h / R) * HS;
                    float s = 0.0f;
                    if (j > i) { p[j] = 0.0f; continue; } /* causal mask */
                    for (d = 0; d < HS; d++) s += q[d] * k[d];
                    p[j] = s * scale;
                    if (p[j] > mx) mx = p[j];
                }
                for (j = 0; j <= i; j++) { p[j] = expf(p[j] - mx); sum += p[j]; }
                for (j = 0; j <= i; j++) p[j] /= sum;
                for (d = 0; d < HS; d++) {
                    float acc = 0.0f;
                    for (j = 0; j <= i; j++)
                        acc += p[j] * sh->v[((size_t)b * T + j) * sh->ldv + (size_t)(h / R) * HS + d];
                    o[d] = acc;
                }
            }
}

void muon_attention_backward_naive(float *dq, int lddq, float *dk, int lddk, float *dv, int lddv,
                                   const float *dout, int lddo, const float *probs,
                                   const muon_attn_shape *sh)
{
    int B = sh->B, T = sh->T, NH = sh->NH, NKV = sh->NKV, HS = sh->HS, R = NH / NKV;
    int b, h, i, j, d;
    float scale = 1.0f / sqrtf((float)HS);
    for (b = 0; b < B; b++)
        for (i = 0; i < T; i++) {
            for (d = 0; d < NH * HS; d++) dq[((size_t)b * T + i) * lddq + d] = 0.0f;
            for (d = 0; d < NKV * HS; d++) {
                dk[((size_t)b * T + i) * lddk + d] = 0.0f;
                dv[((size_t)b * T + i) * lddv + d] = 0.0f;
            }
        }
    for (b = 0; b < B; b++)
        for (h = 0; h < NH; h++)
            for (i = 0; i < T; i++) {
                const float *p = probs + (((size_t)b * NH + h) * T + i) * T;
                const float *dO = dout + ((size_t)b * T + i) * lddo + (size_t)h * HS;
                const float *q = sh->q + ((size_t)b * T + i) * sh->ldq + (size_t)h * HS;
                float *dQ = dq + ((size_t)b * T + i) * lddq + (size_t)h * HS;
                float sum = 0.0f;
                /* d(softmax): ds_j = p_j (dp_j - sum_k p_k dp_k), dp_j = dO . v_j */
                for (j = 0; j <= i; j++) {
                    const float *v = sh->v + ((size_t)b * T + j) * sh->ldv + (size_t)(h / R) * HS;
                    float dpj = 0.0f;
                    for (d = 0; d < HS; d++) dpj += dO[d] * v[d];
                    sum += p[j] * dpj;
                }
                for (j = 0; j <= i; j++) {
                    const float *v = sh->v + ((size_t)b * T + j) * sh->ldv + (size_t)(h / R) * HS;
                    const float *k = sh->k + ((size_t)b * T + j) * sh->ldk + (size_t)(h / R) * HS;
                    float *dK = dk + ((size_t)b * T + j) * lddk + (size_t)(h / R) * HS;
                    float *dV = dv + ((size_t)b * T + j) * lddv + (size_t)(h / R) * HS;
                    float dpj = 0.0f, ds;
                    for (d = 0; d < HS; d++) dpj += dO[d] * v[d];
                    ds = p[j] * (dpj - sum);
                    for (d = 0; d < HS; d++) {
                        dQ[d] += scale * ds * k[d];
                        dK[d] += scale * ds * q[d];
                        dV[d] += p[j] * dO[d];
                    }
                }
            }
}
