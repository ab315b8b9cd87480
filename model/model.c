/* The decoder-only transformer: parameter layout, init, and the forward and
 * backward passes, which read like the model diagram:
 *
 *   x = embed[tokens] * sqrt(C)
 *   for each layer:  x = x + attn(rmsnorm(x))        (QK-norm, RoPE, causal GQA)
 *                    x = x + ffn(rmsnorm(x))         (relu^2 or SwiGLU)
 *   logits = rmsnorm(x) embed^T   (or head^T)         loss = mean cross-entropy
 *
 * Memory: one allocation each for parameters, gradients and activations
 * (with the backward's scratch), plus the small tensor table, all made by
 * muon_model_create and sized for cfg.batch_size x cfg.seq_len; forward and
 * backward allocate nothing themselves (muon_gemm may pack into its own
 * buffers). Activations kept per layer: the residual stream twice, both
 * norms' outputs, raw and normed/rotated q|k|v, the attention output, the
 * up (and gate) projections and one log-sum-exp per score row -- not the
 * T x T probabilities, and not the FFN activation (recomputed in backward).
 * The activations dominate memory at large B*T (blueberry-nano, B 1, T 2048,
 * needs gigabytes of them; a failed create says how much it asked for).
 *
 * Parameter layout (m->tensors, and the order of the flat params[] array):
 *   embed.weight (V,C)
 *   per layer i: attn_norm (1,C), attn.q (NH*HS,C), attn.k (NKV*HS,C),
 *                attn.v (NKV*HS,C), attn.o (C,NH*HS), attn.q_norm (1,HS),
 *                attn.k_norm (1,HS), ffn_norm (1,C), ffn.up (F,C),
 *                ffn.down (C,F), ffn.gate (F,C) (SwiGLU only)
 *   norm.weight (1,C), head.weight (V,C) (untied only)
 * With merged_qkvo, q,k,v,o are one tensor attn.qkvo ((NH+2NKV)*HS + C, C):
 * the same floats in the same place, so Q, K, V are always the contiguous
 * rows of one ((NH+2NKV)*HS, C) matrix and the projection is a single GEMM.
 */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"
#include "model/experiments.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Where one layer's weights live: offsets into params[] (the same offsets
 * index grads[]), filled once from the layout by name_weights, like llm.c's
 * ParameterTensors. For a merged [Q;K;V;O] matrix qkv is its first row and
 * o its O rows; separately, Q, K and V are consecutive tensors, so qkv
 * starts the same (NQKV, C) block either way. */
typedef struct {
    size_t attn_norm, qkv, o, q_norm, k_norm, ffn_norm, up, down, gate;
    int has_gate;     /* SwiGLU */
} layer_offsets;

/* The model's named weights: the whole layout under names. */
typedef struct {
    size_t embed, final_norm, head;   /* head == embed when tied */
    layer_offsets *layer;             /* (L) */
} weight_offsets;

struct muon_acts {
    weight_offsets w; /* named weights (in the block below) */
    int N;            /* rows allocated: batch_size*seq_len */
    int have_targets; /* the last forward computed a loss */
    int *tokens;      /* (N) */
    int *targets;     /* (N) */
    /* kept for backward, per layer l a slab of N rows */
    float *x;         /* (L+1,N,C) residual stream entering layer l; x[L] leaves the last */
    float *xmid;      /* (L,N,C) after the attention residual */
    float *ln1;       /* (L,N,C) */
    float *rstd1;     /* (L,N) */
    float *qkv;       /* (L,N,NQKV) raw projections q | k | v */
    float *qk;        /* (L,N,NQK) q | k after QK-norm and RoPE */
    float *rstdqk;    /* (L,N,NH+NKV) */
    float *att;       /* (L,N,C) attention output, before O */
    float *lse;       /* (L,B,NH,T) softmax log-sum-exp per score row */
    float *ln2;       /* (L,N,C) */
    float *rstd2;     /* (L,N) */
    float *h;         /* (L,N,F) up projection */
    float *gate;      /* (L,N,F) gate projection (SwiGLU), else NULL */
    float *lnf;       /* (N,C) */
    float *rstdf;     /* (N) */
    float *logits;    /* (N,V) */
    float *ce_lse;    /* (N) */
    /* scratch: reused layer by layer */
    float *act;       /* (N,F) activation, recomputed in backward */
    float *dres;      /* (N,C) gradient of the residual stream */
    float *dln;       /* (N,C) */
    float *datt;      /* (N,C) */
    float *dqkv;      /* (N,NQKV) */
    float *dqk;       /* (N,NQK) */
    float *dh;        /* (N,F) */
    float *dgate;     /* (N,F) (SwiGLU) */
    float *dlogits;   /* (N,V) */
    float *demb;      /* (V,C) the embedding's (and a tied head's) gradient, backward ADD */
    float *attn_scratch;
    float *rope_cos;  /* (seq_len, HS/2) */
    float *rope_sin;  /* (seq_len, HS/2) */
    void *block;      /* the one allocation everything above points into */
};

/* The one table of matrix-kind names (metrics.csv's matrix column, the
 * plots, muon analyze all use it). */
static const char *const matrix_names[MUON_MAT_COUNT] = {"q", "k", "v", "o", "up", "down", "gate", "qkvo", "none"};

const char *muon_matrix_name(muon_matrix_kind k)
{
    return (unsigned)k < MUON_MAT_COUNT ? matrix_names[k] : "?";
}

int muon_matrix_index(const char *name) { return muon_name_index(matrix_names, MUON_MAT_COUNT, name); }

/* ---- layout -------------------------------------------------------------- */

/* Appends one tensor (or only counts when t is NULL). */
static void add_tensor(muon_param *t, int *n, size_t *off, const char *name,
                       muon_param_role role, muon_matrix_kind kind, int layer, int rows, int cols)
{
    if (t) {
        muon_param *p = &t[*n];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        p->role = role;
        p->kind = kind;
        p->layer = layer;
        p->rows = rows;
        p->cols = cols;
        p->offset = *off;
    }
    (*n)++;
    *off += (size_t)rows * cols;
}

static int layout(const muon_config *c, muon_param *t, size_t *total)
{
    int n = 0, l, C = c->d_model, HS = c->d_model / c->n_heads;
    int NH = c->n_heads, NKV = c->n_kv_heads, F = c->d_ff;
    size_t off = 0;
    char name[64];
    add_tensor(t, &n, &off, "embed.weight", MUON_ROLE_EMBEDDING, MUON_MAT_NONE, -1, c->vocab_size, C);
    for (l = 0; l < c->n_layers; l++) {
#define ADD(suffix, role, kind, r, cc) \
        (snprintf(name, sizeof name, "layers.%d.%s", l, suffix), \
         add_tensor(t, &n, &off, name, role, kind, l, r, cc))
        ADD("attn_norm.weight", MUON_ROLE_GAIN, MUON_MAT_NONE, 1, C);
        if (c->merged_qkvo) {
            ADD("attn.qkvo.weight", MUON_ROLE_MATRIX, MUON_MAT_QKVO, (NH + 2 * NKV) * HS + C, C);
        } else {
            ADD("attn.q.weight", MUON_ROLE_MATRIX, MUON_MAT_Q, NH * HS, C);
            ADD("attn.k.weight", MUON_ROLE_MATRIX, MUON_MAT_K, NKV * HS, C);
            ADD("attn.v.weight", MUON_ROLE_MATRIX, MUON_MAT_V, NKV * HS, C);
            ADD("attn.o.weight", MUON_ROLE_MATRIX, MUON_MAT_O, C, NH * HS);
        }
        ADD("attn.q_norm.weight", MUON_ROLE_GAIN, MUON_MAT_NONE, 1, HS);
        ADD("attn.k_norm.weight", MUON_ROLE_GAIN, MUON_MAT_NONE, 1, HS);
        ADD("ffn_norm.weight", MUON_ROLE_GAIN, MUON_MAT_NONE, 1, C);
        ADD("ffn.up.weight", MUON_ROLE_MATRIX, MUON_MAT_UP, F, C);
        ADD("ffn.down.weight", MUON_ROLE_MATRIX, MUON_MAT_DOWN, C, F);
        if (c->ffn == MUON_FFN_SWIGLU) ADD("ffn.gate.weight", MUON_ROLE_MATRIX, MUON_MAT_GATE, F, C);
#undef ADD
    }
    add_tensor(t, &n, &off, "norm.weight", MUON_ROLE_GAIN, MUON_MAT_NONE, -1, 1, C);
    if (c->untied_head)
        add_tensor(t, &n, &off, "head.weight", MUON_ROLE_HEAD, MUON_MAT_NONE, -1, c->vocab_size, C);
    if (total) *total = off;
    return n;
}

/* Pointers to one layer's weights, or to their gradients (base = params or
 * grads: the same offsets). */
typedef struct {
    float *attn_norm, *qkv, *o, *q_norm, *k_norm, *ffn_norm, *up, *down, *gate;
} layer_weights;

static layer_weights layer_at(const muon_model *m, float *base, int l)
{
    const layer_offsets *o = &m->acts->w.layer[l];
    layer_weights w;
    w.attn_norm = base + o->attn_norm;
    w.qkv = base + o->qkv;
    w.o = base + o->o;
    w.q_norm = base + o->q_norm;
    w.k_norm = base + o->k_norm;
    w.ffn_norm = base + o->ffn_norm;
    w.up = base + o->up;
    w.down = base + o->down;
    w.gate = o->has_gate ? base + o->gate : NULL;
    return w;
}

/* Fills w from the layout, by the names layout() gave the tensors (the one
 * place that decides where a weight lives). */
static void name_weights(const muon_model *m, weight_offsets *w)
{
    const muon_config *c = &m->cfg;
    size_t HS = (size_t)(c->d_model / c->n_heads);
    int i;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        const char *s = p->name;
        layer_offsets *o;
        if (p->layer < 0) {
            if (!strcmp(s, "embed.weight")) w->embed = p->offset;
            else if (!strcmp(s, "norm.weight")) w->final_norm = p->offset;
            else if (!strcmp(s, "head.weight")) w->head = p->offset;
            continue;
        }
        o = &w->layer[p->layer];
        s = strchr(strchr(s, '.') + 1, '.') + 1;   /* past "layers.<l>." */
        if (!strcmp(s, "attn_norm.weight")) o->attn_norm = p->offset;
        else if (!strcmp(s, "attn.q.weight") || !strcmp(s, "attn.qkvo.weight")) o->qkv = p->offset;
        else if (!strcmp(s, "attn.o.weight")) o->o = p->offset;
        else if (!strcmp(s, "attn.q_norm.weight")) o->q_norm = p->offset;
        else if (!strcmp(s, "attn.k_norm.weight")) o->k_norm = p->offset;
        else if (!strcmp(s, "ffn_norm.weight")) o->ffn_norm = p->offset;
        else if (!strcmp(s, "ffn.up.weight")) o->up = p->offset;
        else if (!strcmp(s, "ffn.down.weight")) o->down = p->offset;
        else if (!strcmp(s, "ffn.gate.weight")) { o->gate = p->offset; o->has_gate = 1; }
        if (p->kind == MUON_MAT_QKVO)   /* O is the last C rows of [Q;K;V;O] */
            o->o = p->offset + (size_t)(c->n_heads + 2 * c->n_kv_heads) * HS * (size_t)c->d_model;
    }
    if (!c->untied_head) w->head = w->embed;
}

/* ---- create / free -------------------------------------------------------- */

/* Lays the activation block out: with base NULL only measures. Every buffer
 * starts on a 64-byte boundary. */
static size_t layout_acts(muon_acts *a, const muon_config *c, unsigned char *base)
{
    size_t N = (size_t)c->batch_size * c->seq_len, L = (size_t)c->n_layers;
    size_t C = (size_t)c->d_model, NH = (size_t)c->n_heads, NKV = (size_t)c->n_kv_heads;
    size_t HS = C / NH, F = (size_t)c->d_ff, V = (size_t)c->vocab_size;
    size_t NQKV = (NH + 2 * NKV) * HS, NQK = (NH + NKV) * HS, off = 0;
    int swiglu = c->ffn == MUON_FFN_SWIGLU;
#define ACT(ptr, type, count) do { \
        size_t bytes_ = ((size_t)(count) * sizeof(type) + 63) / 64 * 64; \
        if (base) a->ptr = (type *)(void *)(base + off); \
        off += bytes_; \
    } while (0)
    ACT(w.layer, layer_offsets, L);
    ACT(tokens, int, N);
    ACT(targets, int, N);
    ACT(x, float, (L + 1) * N * C);
    ACT(xmid, float, L * N * C);
    ACT(ln1, float, L * N * C);
    ACT(rstd1, float, L * N);
    ACT(qkv, float, L * N * NQKV);
    ACT(qk, float, L * N * NQK);
    ACT(rstdqk, float, L * N * (NH + NKV));
    ACT(att, float, L * N * C);
    ACT(lse, float, L * N * NH);
    ACT(ln2, float, L * N * C);
    ACT(rstd2, float, L * N);
    ACT(h, float, L * N * F);
    if (swiglu) ACT(gate, float, L * N * F);
    ACT(lnf, float, N * C);
    ACT(rstdf, float, N);
    ACT(logits, float, N * V);
    ACT(ce_lse, float, N);
    ACT(act, float, N * F);
    ACT(dres, float, N * C);
    ACT(dln, float, N * C);
    ACT(datt, float, N * C);
    ACT(dqkv, float, N * NQKV);
    ACT(dqk, float, N * NQK);
    ACT(dh, float, N * F);
    if (swiglu) ACT(dgate, float, N * F);
    ACT(dlogits, float, N * V);
    ACT(demb, float, V * C);
    ACT(attn_scratch, float, muon_attention_scratch(c->batch_size, c->seq_len, c->n_heads, c->n_kv_heads, (int)HS));
    ACT(rope_cos, float, (size_t)c->seq_len * HS / 2);
    ACT(rope_sin, float, (size_t)c->seq_len * HS / 2);
#undef ACT
    return off;
}

int muon_model_create(muon_model *m, const muon_config *cfg)
{
    return muon_model_create_rows(m, cfg, cfg->batch_size);
}

int muon_model_create_rows(muon_model *m, const muon_config *config, int max_batch)
{
    int st;
    size_t bytes;
    muon_acts *a;
    muon_config sized, *cfg = &sized; /* the config with max_batch sequences: what the activations hold */
    memset(m, 0, sizeof *m);
    if ((st = muon_config_check(config))) return st;
    if (max_batch < 1 || max_batch > config->batch_size)
        return muon_error(MUON_ERR_ARG, "model: activations for %d sequences, outside 1..batch_size %d",
                          max_batch, config->batch_size);
    sized = *config;
    sized.batch_size = max_batch;
    {
        /* carve() sizes the activations in size_t, which wraps where it is
         * 32 bits (L*N*C alone reaches 2^48): bound them in double first.
         * Every buffer is at most 20 per layer plus 20 more of N rows of
         * width <= max(V, F, 3C), and the embedding's gradient (V, C);
         * attention's per-(b, kv head) scratch is below
         * (8 + 3R)(T+16)(HS+16) floats. */
        double N = (double)cfg->batch_size * cfg->seq_len, C = cfg->d_model, HS = C / cfg->n_heads;
        double w = cfg->vocab_size, R = (double)cfg->n_heads / cfg->n_kv_heads, bound;
        if (cfg->d_ff > w) w = cfg->d_ff;
        if (3 * C > w) w = 3 * C;
        bound = 4.0 * ((cfg->n_layers + 1.0) * 20.0 * N * w +
                       (double)cfg->batch_size * cfg->n_kv_heads * (8.0 + 3.0 * R) * (cfg->seq_len + 16.0) * (HS + 16.0) +
                       (double)cfg->seq_len * HS + w * C) + 4096.0;
        if (bound > (double)((size_t)-1) / 2)
            return muon_error(MUON_ERR_NOMEM, "model: the activations of batch_size %d x seq_len %d (about %.3g bytes) "
                              "do not fit this machine's %u-bit address space; try a smaller --batch-size or --seq-len",
                              cfg->batch_size, cfg->seq_len, bound, (unsigned)(sizeof(size_t) * 8));
    }
    m->cfg = *config;
    m->n_tensors = layout(cfg, NULL, &m->num_params);
    m->tensors = muon_calloc((size_t)m->n_tensors, sizeof *m->tensors);
    m->params = muon_calloc(m->num_params, sizeof(float));
    m->grads = muon_calloc(m->num_params, sizeof(float));
    a = m->acts = muon_calloc(1, sizeof *m->acts);
    if (!m->tensors || !m->params || !m->grads || !a) {
        st = muon_error(MUON_ERR_NOMEM, "model: out of memory for the %lu parameters and their gradients",
                        (unsigned long)m->num_params);
        goto fail;
    }
    layout(cfg, m->tensors, NULL);
    bytes = layout_acts(a, cfg, NULL);
    a->block = muon_calloc(bytes, 1);
    if (!a->block) {
        /* the activations grow with B*T and are what a too-large batch overflows */
        int gb = bytes >= 1000000000u;
        st = muon_error(MUON_ERR_NOMEM, "model: out of memory for the activations of batch_size %d x seq_len %d "
                        "(%.1f %s); try a smaller --batch-size or --seq-len", cfg->batch_size, cfg->seq_len,
                        (double)bytes / (gb ? 1e9 : 1e6), gb ? "GB" : "MB");
        goto fail;
    }
    layout_acts(a, cfg, a->block);
    name_weights(m, &a->w);
    a->N = cfg->batch_size * cfg->seq_len;
    muon_rope_table(a->rope_cos, a->rope_sin, cfg->seq_len, cfg->d_model / cfg->n_heads, cfg->rope_base);
    return MUON_OK;
fail:
    muon_model_free(m);
    return st;
}

void muon_model_free(muon_model *m)
{
    if (!m) return;
    if (m->acts) muon_free(m->acts->block);
    muon_free(m->acts);
    muon_free(m->tensors);
    muon_free(m->params);
    muon_free(m->grads);
    muon_free(m->bf16_x);
    muon_free(m->bf16_g);
    memset(m, 0, sizeof *m);
}

/* One generator seeded by seed, tensors in m->tensors order, each filled
 * row-major with N(0, init_std^2); gains are set to 1 and draw nothing. So a
 * merged [Q;K;V;O] model gets exactly the weights of the separate one. */
void muon_model_init(muon_model *m, uint64_t seed)
{
    muon_rng r;
    int i;
    size_t j;
    muon_rng_seed(&r, seed);
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        float *w = m->params + p->offset;
        size_t n = (size_t)p->rows * p->cols;
        if (p->role == MUON_ROLE_GAIN)
            for (j = 0; j < n; j++) w[j] = 1.0f;
        else
            muon_rng_fill_normal(&r, w, n, m->cfg.init_std);
    }
}

void muon_model_zero_grad(muon_model *m)
{
    memset(m->grads, 0, m->num_params * sizeof(float));
}

const muon_param *muon_model_find(const muon_model *m, const char *name)
{
    int i;
    for (i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

int muon_model_tracked(const muon_model *m, muon_tracked *out, int cap)
{
    int i, n = 0, k;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        if (p->role != MUON_ROLE_MATRIX) continue;
        if (p->kind == MUON_MAT_QKVO) {
            /* row slices: Q (NH*HS), K, V (NKV*HS each), O (C) */
            int HS = m->cfg.d_model / m->cfg.n_heads;
            int rows[4];
            size_t off = p->offset;
            rows[0] = m->cfg.n_heads * HS;
            rows[1] = rows[2] = m->cfg.n_kv_heads * HS;
            rows[3] = m->cfg.d_model;
            for (k = 0; k < 4; k++) {
                if (n < cap) {
                    out[n].layer = p->layer;
                    out[n].kind = (muon_matrix_kind)(MUON_MAT_Q + k);
                    out[n].rows = rows[k];
                    out[n].cols = p->cols;
                    out[n].offset = off;
                }
                off += (size_t)rows[k] * p->cols;
                n++;
            }
        } else {
            if (n < cap) {
                out[n].layer = p->layer;
                out[n].kind = p->kind;
                out[n].rows = p->rows;
                out[n].cols = p->cols;
                out[n].offset = p->offset;
            }
            n++;
        }
    }
    return n;
}

const float *muon_model_logits(const muon_model *m) { return m->acts->logits; }

int muon_model_max_batch(const muon_model *m) { return m->acts->N / m->cfg.seq_len; }

const float *muon_model_block_output(const muon_model *m, int l)
{
    /* x holds L+1 slabs of batch_size*seq_len rows; slab l+1 is what block l adds up to */
    if (l < 0 || l >= m->cfg.n_layers) return NULL;
    return m->acts->x + (size_t)(l + 1) * (size_t)m->acts->N * (size_t)m->cfg.d_model;
}

/* ---- forward -------------------------------------------------------------- */

/* y += x: the residual connections (muon_axpy is single-threaded) */
static void residual_add(float *y, const float *x, size_t n)
{
    long i, nn = (long)n;
MUON_OMP(omp parallel for schedule(static) if (n >= MUON_PAR_MIN))
    for (i = 0; i < nn; i++) y[i] += x[i];
}

/* The three RMSNorm shapes of a layer for N rows: whole residual rows (C),
 * and QK-norm over the NH query heads and the NKV key heads, read from the
 * raw q|k|v rows and written to the q|k rows. */
static void norm_shapes(const muon_config *c, int N, muon_norm_shape *rows,
                        muon_norm_shape *qheads, muon_norm_shape *kheads)
{
    int C = c->d_model, NH = c->n_heads, NKV = c->n_kv_heads, HS = C / NH;
    rows->N = N; rows->G = 1; rows->n = C; rows->ld_in = rows->ld_out = C;
    qheads->N = N; qheads->G = NH; qheads->n = HS;
    qheads->ld_in = (NH + 2 * NKV) * HS;
    qheads->ld_out = (NH + NKV) * HS;
    *kheads = *qheads;
    kheads->G = NKV;
}

/* The linear layers of muon_model_forward below, in its order and with its
 * shapes (a weight missing here is only multiplied unpacked, the same bits). */
int muon_model_linears(const muon_model *m, muon_linear_weight *out, int cap)
{
    const muon_config *c = &m->cfg;
    int C = c->d_model, NH = c->n_heads, HS = C / NH, F = c->d_ff;
    int NQKV = (NH + 2 * c->n_kv_heads) * HS, n = 0, l;
#define LINEAR(off, in, outw)                                                    \
    do {                                                                         \
        if (n < cap) {                                                           \
            out[n].offset = (off);                                               \
            out[n].I = (in);                                                     \
            out[n].O = (outw);                                                   \
        }                                                                        \
        n++;                                                                     \
    } while (0)
    for (l = 0; l < c->n_layers; l++) {
        const layer_offsets *o = &m->acts->w.layer[l];
        LINEAR(o->qkv, C, NQKV);
        LINEAR(o->o, NH * HS, C);
        LINEAR(o->up, C, F);
        if (o->has_gate) LINEAR(o->gate, C, F);
        LINEAR(o->down, F, C);
    }
    LINEAR(m->acts->w.head, C, c->vocab_size);
#undef LINEAR
    return n;
}

int muon_model_forward(muon_model *m, const int *tokens, const int *targets, int B, int T)
{
    const muon_config *c = &m->cfg;
    muon_acts *a = m->acts;
    int C = c->d_model, NH = c->n_heads, NKV = c->n_kv_heads, HS = C / NH, F = c->d_ff;
    int V = c->vocab_size, NQKV = (NH + 2 * NKV) * HS, NQK = (NH + NKV) * HS;
    int N = B * T, l, i, st;
    size_t Nmax = (size_t)a->N;
    float *x;
    muon_norm_shape rows, qheads, kheads;

    if (B < 1 || B > a->N / c->seq_len || T < 1 || T > c->seq_len)
        return muon_error(MUON_ERR_ARG, "model forward: shape B=%d, T=%d outside 1..%d x 1..%d",
                          B, T, a->N / c->seq_len, c->seq_len);
    if (!tokens) return muon_error(MUON_ERR_ARG, "model forward: no tokens");
    for (i = 0; i < N; i++) {
        if (tokens[i] < 0 || tokens[i] >= V)
            return muon_error(MUON_ERR_ARG, "model forward: token %d at position %d is outside [0, %d)", tokens[i], i, V);
        if (targets && (targets[i] < 0 || targets[i] >= V))
            return muon_error(MUON_ERR_ARG, "model forward: target %d at position %d is outside [0, %d)", targets[i], i, V);
    }
    a->have_targets = 0;
    m->B = B;
    m->T = T;
    memcpy(a->tokens, tokens, (size_t)N * sizeof(int));
    if (targets) memcpy(a->targets, targets, (size_t)N * sizeof(int));

    norm_shapes(c, N, &rows, &qheads, &kheads);
    muon_embedding_forward(a->x, a->tokens, m->params + a->w.embed, N, C, sqrtf((float)C));
    for (l = 0; l < c->n_layers; l++) {
        layer_weights w = layer_at(m, m->params, l);
        muon_attn_shape s;
        float *ln1 = a->ln1 + l * Nmax * C, *qkv = a->qkv + l * Nmax * NQKV;
        float *qk = a->qk + l * Nmax * NQK, *rstdqk = a->rstdqk + l * Nmax * (NH + NKV);
        float *att = a->att + l * Nmax * C, *xmid = a->xmid + l * Nmax * C;
        float *ln2 = a->ln2 + l * Nmax * C, *h = a->h + l * Nmax * F;
        float *gate = a->gate ? a->gate + l * Nmax * F : NULL;
        float *xnext = a->x + (l + 1) * Nmax * C;
        x = a->x + l * Nmax * C;

        /* attention: x -> RMSNorm -> Q,K,V -> QK-norm -> RoPE -> softmax(QK^T/sqrt(HS)) V -> O */
        muon_rmsnorm_forward(&rows, ln1, a->rstd1 + l * Nmax, x, w.attn_norm, c->norm_eps);
        if ((st = muon_linear_forward_m(m, qkv, NQKV, ln1, C, w.qkv, N, C, NQKV))) return st;
        muon_rmsnorm_forward(&qheads, qk, rstdqk, qkv, w.q_norm, c->norm_eps);
        muon_rmsnorm_forward(&kheads, qk + NH * HS, rstdqk + (size_t)N * NH, qkv + NH * HS,
                             w.k_norm, c->norm_eps);
        muon_rope_forward(qk, NQK, a->rope_cos, a->rope_sin, B, T, NH + NKV, HS);
        s.B = B; s.T = T; s.NH = NH; s.NKV = NKV; s.HS = HS;
        s.q = qk; s.ldq = NQK;
        s.k = qk + NH * HS; s.ldk = NQK;
        s.v = qkv + (NH + NKV) * HS; s.ldv = NQKV;
        muon_attention_forward(att, C, a->lse + l * Nmax * NH, &s, a->attn_scratch);
        if ((st = muon_linear_forward_m(m, xmid, C, att, C, w.o, N, NH * HS, C))) return st;
        residual_add(xmid, x, (size_t)N * C);

        /* feed-forward: xmid -> RMSNorm -> up (, gate) -> act -> down */
        muon_rmsnorm_forward(&rows, ln2, a->rstd2 + l * Nmax, xmid, w.ffn_norm, c->norm_eps);
        if ((st = muon_linear_forward_m(m, h, F, ln2, C, w.up, N, C, F))) return st;
        if (gate && (st = muon_linear_forward_m(m, gate, F, ln2, C, w.gate, N, C, F))) return st;
        muon_ffn_act_forward(a->act, h, gate, (size_t)N * F, c->ffn);
        if ((st = muon_linear_forward_m(m, xnext, C, a->act, F, w.down, N, F, C))) return st;
        residual_add(xnext, xmid, (size_t)N * C);
    }
    x = a->x + (size_t)c->n_layers * Nmax * C;
    muon_rmsnorm_forward(&rows, a->lnf, a->rstdf, x, m->params + a->w.final_norm, c->norm_eps);
    if ((st = muon_linear_forward_m(m, a->logits, V, a->lnf, C, m->params + a->w.head, N, C, V))) return st;
    if (targets) {
        m->loss = (float)muon_cross_entropy_forward(a->ce_lse, a->dlogits, a->logits, a->targets, N, V);
        a->have_targets = 1;
    }
    return MUON_OK;
}

/* ---- backward ------------------------------------------------------------- */

/* The backward, its parameter gradients written with wmode: ADD onto
 * m->grads, or SET, every gradient overwritten. Each parameter's first
 * write below is SET in SET mode; a later one (the tied embedding's, after
 * the head's) adds.
 *
 * ADD adds each element's gradient g with one rounding, grads + g, the bits
 * of a SET backward whose result is added afterwards (what the tree of
 * train/data_parallel.c does), wherever the weight GEMMs' K, the B*T
 * tokens, is within muon_gemm_k_block(): the GEMMs then add with beta 1,
 * the gains add their finished sums, and the embedding's gradient, a
 * scatter of rows that would add one row at a time, is summed apart in
 * demb (with a tied head's) and added once at the end. */
static int backward(muon_model *m, muon_grad_mode wmode)
{
    const muon_config *c = &m->cfg;
    muon_acts *a = m->acts;
    int C = c->d_model, NH = c->n_heads, NKV = c->n_kv_heads, HS = C / NH, F = c->d_ff;
    int V = c->vocab_size, NQKV = (NH + 2 * NKV) * HS, NQK = (NH + NKV) * HS;
    int B = m->B, T = m->T, N = B * T, l, st;
    size_t Nmax = (size_t)a->N;
    muon_norm_shape rows, qheads, kheads;
    const int tied = a->w.head == a->w.embed, apart = wmode == MUON_GRAD_ADD;
    float *demb = apart ? a->demb : m->grads + a->w.embed;

    if (!a->have_targets)
        return muon_error(MUON_ERR_ARG, "model backward: the last forward had no targets (no loss to differentiate)");

    norm_shapes(c, N, &rows, &qheads, &kheads);
    /* loss -> logits -> head (tied: the embedding) -> final norm */
    muon_cross_entropy_backward(a->dlogits, a->logits, a->ce_lse, a->targets, N, V);
    if ((st = muon_linear_backward_m(m, a->dln, 0.0f, tied && apart ? MUON_GRAD_SET : wmode,
                                     tied ? demb : m->grads + a->w.head, a->dlogits, V,
                                     a->lnf, C, m->params + a->w.head, N, C, V))) return st;
    muon_rmsnorm_backward(&rows, MUON_GRAD_SET, wmode, a->dres, m->grads + a->w.final_norm, a->dln,
                          a->x + (size_t)c->n_layers * Nmax * C, a->rstdf, m->params + a->w.final_norm);

    for (l = c->n_layers - 1; l >= 0; l--) {
        layer_weights w = layer_at(m, m->params, l), dw = layer_at(m, m->grads, l);
        muon_attn_shape s;
        const float *x = a->x + l * Nmax * C;
        const float *ln1 = a->ln1 + l * Nmax * C, *qkv = a->qkv + l * Nmax * NQKV;
        const float *qk = a->qk + l * Nmax * NQK, *rstdqk = a->rstdqk + l * Nmax * (NH + NKV);
        const float *att = a->att + l * Nmax * C, *xmid = a->xmid + l * Nmax * C;
        const float *ln2 = a->ln2 + l * Nmax * C, *h = a->h + l * Nmax * F;
        const float *gate = a->gate ? a->gate + l * Nmax * F : NULL;

        /* feed-forward branch: dres is d(loss)/d(its output) */
        muon_ffn_act_forward(a->act, h, gate, (size_t)N * F, c->ffn);
        if ((st = muon_linear_backward_m(m, a->dh, 0.0f, wmode, dw.down, a->dres, C, a->act, F, w.down, N, F, C))) return st;
        muon_ffn_act_backward(a->dh, a->dgate, a->dh, h, gate, (size_t)N * F, c->ffn);
        if ((st = muon_linear_backward_m(m, a->dln, 0.0f, wmode, dw.up, a->dh, F, ln2, C, w.up, N, C, F))) return st;
        if (gate && (st = muon_linear_backward_m(m, a->dln, 1.0f, wmode, dw.gate, a->dgate, F, ln2, C, w.gate, N, C, F))) return st;
        muon_rmsnorm_backward(&rows, MUON_GRAD_ADD, wmode, a->dres, dw.ffn_norm, a->dln, xmid,
                              a->rstd2 + l * Nmax, w.ffn_norm);

        /* attention branch */
        if ((st = muon_linear_backward_m(m, a->datt, 0.0f, wmode, dw.o, a->dres, C, att, C, w.o, N, NH * HS, C))) return st;
        s.B = B; s.T = T; s.NH = NH; s.NKV = NKV; s.HS = HS;
        s.q = qk; s.ldq = NQK;
        s.k = qk + NH * HS; s.ldk = NQK;
        s.v = qkv + (NH + NKV) * HS; s.ldv = NQKV;
        muon_attention_backward(a->dqk, NQK, a->dqk + NH * HS, NQK, a->dqkv + (NH + NKV) * HS, NQKV,
                                a->datt, C, att, C, a->lse + l * Nmax * NH, &s, a->attn_scratch);
        muon_rope_backward(a->dqk, NQK, a->rope_cos, a->rope_sin, B, T, NH + NKV, HS);
        muon_rmsnorm_backward(&qheads, MUON_GRAD_SET, wmode, a->dqkv, dw.q_norm, a->dqk, qkv, rstdqk, w.q_norm);
        muon_rmsnorm_backward(&kheads, MUON_GRAD_SET, wmode, a->dqkv + NH * HS, dw.k_norm, a->dqk + NH * HS,
                              qkv + NH * HS, rstdqk + (size_t)N * NH, w.k_norm);
        if ((st = muon_linear_backward_m(m, a->dln, 0.0f, wmode, dw.qkv, a->dqkv, NQKV, ln1, C, w.qkv, N, C, NQKV))) return st;
        muon_rmsnorm_backward(&rows, MUON_GRAD_ADD, wmode, a->dres, dw.attn_norm, a->dln, x,
                              a->rstd1 + l * Nmax, w.attn_norm);
    }
    /* tied, the head's gradient is already there: the embedding's adds */
    muon_embedding_backward(tied ? MUON_GRAD_ADD : MUON_GRAD_SET, demb, a->dres, a->tokens, N, V, C, sqrtf((float)C));
    if (apart) muon_axpy(1.0f, demb, m->grads + a->w.embed, (size_t)V * C); /* 1*x is exact: one rounding */
    return MUON_OK;
}

int muon_model_backward(muon_model *m) { return backward(m, MUON_GRAD_ADD); }

int muon_model_backward_set(muon_model *m) { return backward(m, MUON_GRAD_SET); }
