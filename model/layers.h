/* model/layers.h -- the transformer's layers as _forward/_backward pairs,
 * private to model/ (and the tests).
 *
 * Conventions: a backward writes its weight gradients as its muon_grad_mode
 * says, accumulating (ADD, as llm.c) or overwriting (SET, no zeroing pass);
 * input gradients are written or accumulated as each function says. Rows are
 * tokens: row r = b*T + t of a (B,T,...) buffer. Nothing here allocates;
 * scratch comes from the caller (muon_acts). Every parallel loop splits over
 * independent outputs, so results never depend on the thread count.
 */
#ifndef MUON_MODEL_LAYERS_H
#define MUON_MODEL_LAYERS_H

#include "model/model_internal.h"
#include "linalg/omp.h"

#include <string.h>

/* Loops with less work than this (in elements touched) stay on one thread
 * (test_threads in tests/test_model.c sizes its model to reach it everywhere):
 * forking and joining costs more than they take (and it is ruinous on a
 * loaded machine). Which thread does what never changes any result. */
#define MUON_PAR_MIN 32768

/* ---- a vectorisable exp ------------------------------------------------ */

/* exp(x) to ~2 ulp, 0 for x < -87 (where expf is denormal or 0): Cody-Waite
 * reduction x = n ln2 + r, |r| <= ln2/2, a degree-7 Taylor polynomial for
 * e^r (truncation < 6e-9 relative) and 2^n built in the exponent bits.
 * libm's expf does not vectorise without -ffast-math, and the softmaxes call
 * this T^2 times per head; this loop body vectorises (no branches, no calls). */
static inline float muon_expf(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693145751953125f;      /* 16 significant bits: n*ln2_hi is exact */
    const float ln2_lo = 1.42860682030941723e-6f;
    const float round_magic = 12582912.0f;        /* 1.5*2^23: adding it rounds to an integer */
    /* written so NaN clamps too: a NaN reaching the int conversion below
     * would be undefined behaviour (a diverging run produces NaN logits) */
    float xc = !(x >= -87.0f) ? -87.0f : (x > 88.0f ? 88.0f : x);
    /* Two statements, not one expression: the sum must be rounded to float
     * for the magic number to round to an integer, and C99 guarantees that
     * rounding only at an assignment (or cast). Under FLT_EVAL_METHOD != 0
     * (x87, s390x with -std=c99) the one-expression form kept extra
     * precision and gave a non-integer n, so 2^n below was garbage. */
    float shifted = xc * log2e + round_magic;
    float n = shifted - round_magic;
    float r = (xc - n * ln2_hi) - n * ln2_lo;
    float p = 1.0f / 5040.0f, scale;
    uint32_t bits;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    bits = (uint32_t)((int32_t)n + 127) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return x != x ? x : (x < -87.0f ? 0.0f : p * scale);
}

/* Dot product in 16 fixed lanes summed in a fixed order: vectorises without
 * -ffast-math (no reassociation needed) and gives the same bits with or
 * without OpenMP, on any thread count. */
static inline float muon_dotf(const float *a, const float *b, int n)
{
    float acc[16] = {0};
    float s = 0.0f;
    int i = 0, j;
    for (; i + 16 <= n; i += 16)
MUON_SIMD(omp simd)
        for (j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
    for (; i < n; i++) acc[i & 15] += a[i] * b[i];
    for (j = 0; j < 16; j++) s += acc[j];
    return s;
}

/* Sum and maximum of x(n) in the same 16 fixed lanes. */
static inline float muon_sumf(const float *x, int n)
{
    float acc[16] = {0};
    float s = 0.0f;
    int i = 0, j;
    for (; i + 16 <= n; i += 16)
MUON_SIMD(omp simd)
        for (j = 0; j < 16; j++) acc[j] += x[i + j];
    for (; i < n; i++) acc[i & 15] += x[i];
    for (j = 0; j < 16; j++) s += acc[j];
    return s;
}

static inline float muon_maxf(const float *x, int n)
{
    float acc[16], m;
    int i = 0, j;
    if (n < 16) {
        m = x[0];
        for (i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
        return m;
    }
    for (j = 0; j < 16; j++) acc[j] = x[j];
    for (i = 16; i + 16 <= n; i += 16)
MUON_SIMD(omp simd)
        for (j = 0; j < 16; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    for (; i < n; i++) acc[i & 15] = x[i] > acc[i & 15] ? x[i] : acc[i & 15];
    m = acc[0];
    for (j = 1; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    return m;
}

/* What a backward does with a gradient it writes: overwrite it, or add to
 * what is there. For an input gradient (din) ADD is the residual stream's
 * sum of branches; for a parameter gradient SET is a fresh backward (the
 * gradient of one pass, no zeroing pass before it) and ADD accumulates over
 * passes. SET gives the bits of zeroing then ADD, but for the sign of an
 * exact zero (0 + -0 is +0). */
typedef enum { MUON_GRAD_SET = 0, MUON_GRAD_ADD = 1 } muon_grad_mode;

/* ---- linear: y = x W^T over muon_gemm (model/linear.c) ------------------ */

/* out(N,O) = in(N,I) W(O,I)^T. */
int muon_linear_forward(float *out,             /* (N,O), row stride ldo */
                        int ldo,
                        const float *in,        /* (N,I), row stride ldi */
                        int ldi,
                        const float *W,         /* (O,I) */
                        const float *Wt_packed, /* W^T (I,O) by muon_gemm_pack_b, or NULL; the same bits */
                        int N, int I, int O);
/* dW = dout^T in (wmode SET) or dW + dout^T in (ADD); din = din_beta*din +
 * dout W (din may be NULL: skipped). */
int muon_linear_backward(float *din,            /* (N,I), row stride ldi, or NULL */
                         float din_beta,
                         muon_grad_mode wmode,
                         float *dW,             /* (O,I) */
                         const float *dout,     /* (N,O), row stride ldo */
                         int ldo,
                         const float *in,       /* (N,I), row stride ldi */
                         int ldi,
                         const float *W,        /* (O,I) */
                         const float *W_packed, /* W (O,I) by muon_gemm_pack_b, or NULL; the same bits */
                         int N, int I, int O);

/* ---- embedding (model/embedding.c) -------------------------------------- */

/* out[r] = scale * wte[tokens[r]] for r < N. */
void muon_embedding_forward(float *out,        /* (N,C) */
                            const int *tokens, /* (N) */
                            const float *wte,  /* (V,C) */
                            int N, int C, float scale);
/* dwte[tokens[r]] += scale * dout[r], after dwte = 0 for wmode SET. */
void muon_embedding_backward(muon_grad_mode wmode,
                             float *dwte,       /* (V,C) */
                             const float *dout, /* (N,C) */
                             const int *tokens, /* (N) */
                             int N, int V, int C, float scale);

/* ---- RMSNorm (model/rmsnorm.c) ------------------------------------------ */
/* Each of N rows holds G contiguous vectors of length n (G = 1 for the
 * residual-stream norms; G = heads for QK-norm, n = HS, rows strided by the
 * qkv width). y = x / sqrt(mean(x^2) + eps) * g, with g (n) shared by all. */

/* The shape of one RMSNorm call: N rows of G vectors of n, read from rows
 * ld_in floats apart (in, and din in backward) and written to rows ld_out
 * apart (out, and dout in backward). */
typedef struct {
    int N, G, n;
    int ld_in, ld_out;
} muon_norm_shape;

void muon_rmsnorm_forward(const muon_norm_shape *sh,
                          float *out,        /* (N, G*n), rows ld_out apart */
                          float *rstd,       /* (N,G): 1/sqrt(mean(x^2)+eps), kept for backward */
                          const float *in,   /* (N, G*n), rows ld_in apart */
                          const float *g,    /* (n) */
                          float eps);
/* din = dx (mode SET) or din + dx (ADD); dg = (gmode SET) or += (ADD) the
 * sum over vectors of dout*xhat. */
void muon_rmsnorm_backward(const muon_norm_shape *sh, muon_grad_mode mode, muon_grad_mode gmode,
                           float *din,        /* (N, G*n), rows ld_in apart */
                           float *dg,         /* (n) */
                           const float *dout, /* (N, G*n), rows ld_out apart */
                           const float *in,   /* (N, G*n), rows ld_in apart */
                           const float *rstd, /* (N,G) */
                           const float *g);   /* (n) */

/* ---- RoPE (model/rope.c) ------------------------------------------------ */

/* cos/sin(t * base^(-2i/HS)) for t < T, i < HS/2 (computed in double). */
void muon_rope_table(float *cosv, /* (T, HS/2) */
                     float *sinv, /* (T, HS/2) */
                     int T, int HS, double base);
/* Rotates pairs (2i, 2i+1) of each of H heads of every row in place:
 * x is (B,T,H*HS) with row stride ld. */
void muon_rope_forward(float *x, int ld, const float *cosv, const float *sinv,
                       int B, int T, int H, int HS);
/* The transposed rotation, in place on the gradient. */
void muon_rope_backward(float *dx, int ld, const float *cosv, const float *sinv,
                        int B, int T, int H, int HS);

/* ---- causal grouped-query attention (model/attention.c) ----------------- */
/* Head h reads K/V head h / (NH/NKV). q, k, v rows are strided (they live in
 * the packed qkv buffers); head h of a row starts at h*HS. */

typedef struct {
    int B, T, NH, NKV, HS;
    const float *q; int ldq;   /* (B,T,NH*HS) */
    const float *k; int ldk;   /* (B,T,NKV*HS) */
    const float *v; int ldv;   /* (B,T,NKV*HS) */
} muon_attn_shape;

/* The fast kernel: out (B,T,NH*HS), lse (B,NH,T) = log-sum-exp of each
 * scaled score row (backward recomputes the probabilities from it, so memory
 * stays O(T) per head). scratch: muon_attention_scratch floats. */
void muon_attention_forward(float *out, /* (B,T,NH*HS), row stride ldo */
                            int ldo,
                            float *lse,     /* (B,NH,T) */
                            const muon_attn_shape *s,
                            float *scratch);
/* dq, dk (written), dv (written) from dout; needs out and lse of the forward.
 * O(T^2 HS) per head: probabilities recomputed row by row. The outputs must
 * not overlap q, k, v, out or dout (which are read in place). */
void muon_attention_backward(float *dq, int lddq,  /* (B,T,NH*HS) */
                             float *dk, int lddk,  /* (B,T,NKV*HS) */
                             float *dv, int lddv,  /* (B,T,NKV*HS) */
                             const float *dout, int lddo, /* (B,T,NH*HS) */
                             const float *out, int ldo,   /* (B,T,NH*HS) */
                             const float *lse,            /* (B,NH,T) */
                             const muon_attn_shape *s,
                             float *scratch);
/* Floats of scratch the two fast kernels need. */
size_t muon_attention_scratch(int B, int T, int NH, int NKV, int HS);

/* The slow, obviously correct references: full probability matrices
 * probs (B,NH,T,T) (zero above the diagonal), plain loops. */
void muon_attention_forward_naive(float *out, int ldo, /* (B,T,NH*HS) */
                                  float *probs,        /* (B,NH,T,T) */
                                  const muon_attn_shape *s);
void muon_attention_backward_naive(float *dq, int lddq, float *dk, int lddk,
                                   float *dv, int lddv,       /* written */
                                   const float *dout, int lddo,
                                   const float *probs,        /* (B,NH,T,T) */
                                   const muon_attn_shape *s);

/* ---- feed-forward activations (model/ffn.c) ----------------------------- */

/* relu2: act = relu(h)^2. swiglu: act = silu(gate) * h (h = up x). */
void muon_ffn_act_forward(float *act,        /* (n) */
                          const float *h,    /* (n) up projection */
                          const float *gate, /* (n) gate projection, swiglu only (else NULL) */
                          size_t n, muon_ffn_kind kind);
/* dh = dact * d act/dh (written); swiglu also dgate (written). dact may
 * alias dh. */
void muon_ffn_act_backward(float *dh,          /* (n) */
                           float *dgate,       /* (n), swiglu only */
                           const float *dact,  /* (n) */
                           const float *h,     /* (n) */
                           const float *gate,  /* (n), swiglu only */
                           size_t n, muon_ffn_kind kind);

/* ---- cross-entropy (model/cross_entropy.c) ------------------------------ */

/* Mean over N rows of -log softmax(logits[r])[targets[r]]; lse (N) kept.
 * ework is scratch (e.g. the dlogits buffer). */
double muon_cross_entropy_forward(float *lse,           /* (N) */
                                  float *ework,         /* (N,V) scratch */
                                  const float *logits,  /* (N,V) */
                                  const int *targets,   /* (N) */
                                  int N, int V);
/* dlogits = (softmax - onehot(target)) / N (written). */
void muon_cross_entropy_backward(float *dlogits,        /* (N,V) */
                                 const float *logits,   /* (N,V) */
                                 const float *lse,      /* (N) */
                                 const int *targets,    /* (N) */
                                 int N, int V);

#endif
