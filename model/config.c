/* Model configurations: the named presets, overriding a field by name with
 * checked parsing, validation, and the closed-form parameter count.
 *
 * Presets (docs/model.md):
 *   nano            V 256, C 128, L 8,  NH 4, NKV 2, F 512,  T 128,  B 16 (default)
 *   tiny            V 256, C 32,  L 2,  NH 4, NKV 2, F 64,   T 16,   B 2  (tests:
 *                   small enough that finite differences and golden files are
 *                   cheap, still with GQA (2 query heads per KV head) and HS 8)
 *   blueberry-nano  V 256, C 512, L 22, NH 8, NKV 4, F 2048, T 2048, B 1 (the
 *                   research model's shape; B 1 keeps the activations ~2.4 GB)
 *   deep            V 256, C 128, L 22, NH 4, NKV 2, F 512,  T 128,  B 16 (the
 *                   research model's depth at nano's width: depth trends over
 *                   22 layers in minutes; docs/experiments.md)
 * All use squared-ReLU, a tied head, separate Q/K/V/O, RoPE base 10000,
 * RMSNorm eps 1e-6, init std 0.02.
 */
#include "model/model_internal.h"
#include "io/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const ffn_names[] = {"relu2", "swiglu"};

const char *muon_ffn_name(muon_ffn_kind k) { return muon_name_of(ffn_names, 2, (int)k); }

int muon_ffn_parse(const char *name, muon_ffn_kind *k)
{
    int v, st = muon_name_parse("feed-forward kind", ffn_names, 2, name, &v);
    if (!st) *k = (muon_ffn_kind)v;
    return st;
}

/* Bounds that keep every size product well inside size_t and every GEMM
 * dimension inside int (B*T rows of width up to max(V, F, 3C) elements). */
#define MAX_DIM (1 << 16)       /* V, C, F, T, B each */
#define MAX_LAYERS 1024
#define MAX_TOKENS (1 << 22)    /* B*T */

static void set_common(muon_config *c)
{
    c->vocab_size = 256;
    c->ffn = MUON_FFN_RELU2;
    c->untied_head = 0;
    c->merged_qkvo = 0;
    c->rope_base = 10000.0f;
    c->norm_eps = 1e-6f;
    c->init_std = 0.02f;
}

int muon_config_named(const char *name, muon_config *cfg)
{
    muon_config c;
    memset(&c, 0, sizeof c);
    set_common(&c);
    if (!name) return muon_error(MUON_ERR_ARG, "model config: no name given");
    if (!strcmp(name, "nano")) {
        c.d_model = 128; c.n_layers = 8; c.n_heads = 4; c.n_kv_heads = 2;
        c.d_ff = 512; c.seq_len = 128; c.batch_size = 16;
    } else if (!strcmp(name, "tiny")) {
        c.d_model = 32; c.n_layers = 2; c.n_heads = 4; c.n_kv_heads = 2;
        c.d_ff = 64; c.seq_len = 16; c.batch_size = 2;
    } else if (!strcmp(name, "blueberry-nano")) {
        c.d_model = 512; c.n_layers = 22; c.n_heads = 8; c.n_kv_heads = 4;
        c.d_ff = 2048; c.seq_len = 2048; c.batch_size = 1;
    } else if (!strcmp(name, "deep")) {
        c.d_model = 128; c.n_layers = 22; c.n_heads = 4; c.n_kv_heads = 2;
        c.d_ff = 512; c.seq_len = 128; c.batch_size = 16;
    } else {
        return muon_error(MUON_ERR_ARG, "unknown model config '%s' (nano, tiny, blueberry-nano, deep)", name);
    }
    *cfg = c;
    return MUON_OK;
}

/* Key comparison that treats '-' as '_', so "d-model" (the CLI spelling)
 * and "d_model" both work. */
static int key_is(const char *key, const char *name)
{
    for (; *key && *name; key++, name++) {
        char a = *key == '-' ? '_' : *key;
        if (a != *name) return 0;
    }
    return *key == 0 && *name == 0;
}

static int parse_int(const char *key, const char *value, int lo, int hi, int *out)
{
    char what[80];
    snprintf(what, sizeof what, "model config %s", key);
    if (!value || !*value) return muon_error(MUON_ERR_ARG, "model config %s: empty value", key);
    return muon_parse_int(what, value, lo, hi, out);
}

static int parse_float(const char *key, const char *value, double lo, double hi, float *out)
{
    char *end;
    double v;
    if (!value || !*value) return muon_error(MUON_ERR_ARG, "model config %s: empty value", key);
    errno = 0;
    v = strtod(value, &end);
    if (*end || errno == ERANGE || !(v == v))
        return muon_error(MUON_ERR_ARG, "model config %s: '%s' is not a number", key, value);
    if (!(v >= lo && v <= hi))
        return muon_error(MUON_ERR_ARG, "model config %s: %g is out of range [%g, %g]", key, v, lo, hi);
    *out = (float)v;
    return MUON_OK;
}

int muon_config_set(muon_config *cfg, const char *key, const char *value)
{
    if (!key) return muon_error(MUON_ERR_ARG, "model config: no key given");
    if (key_is(key, "vocab_size")) return parse_int(key, value, 1, MAX_DIM, &cfg->vocab_size);
    if (key_is(key, "d_model")) return parse_int(key, value, 1, MAX_DIM, &cfg->d_model);
    if (key_is(key, "n_layers")) return parse_int(key, value, 1, MAX_LAYERS, &cfg->n_layers);
    if (key_is(key, "n_heads")) return parse_int(key, value, 1, MAX_DIM, &cfg->n_heads);
    if (key_is(key, "n_kv_heads")) return parse_int(key, value, 1, MAX_DIM, &cfg->n_kv_heads);
    if (key_is(key, "d_ff")) return parse_int(key, value, 1, MAX_DIM, &cfg->d_ff);
    if (key_is(key, "seq_len")) return parse_int(key, value, 1, MAX_DIM, &cfg->seq_len);
    if (key_is(key, "batch_size")) return parse_int(key, value, 1, MAX_DIM, &cfg->batch_size);
    if (key_is(key, "untied_head")) return parse_int(key, value, 0, 1, &cfg->untied_head);
    if (key_is(key, "merged_qkvo")) return parse_int(key, value, 0, 1, &cfg->merged_qkvo);
    if (key_is(key, "rope_base")) return parse_float(key, value, 1.0 + 1e-6, 1e12, &cfg->rope_base);
    if (key_is(key, "norm_eps")) return parse_float(key, value, 1e-30, 1.0, &cfg->norm_eps);
    if (key_is(key, "init_std")) return parse_float(key, value, 0.0, 10.0, &cfg->init_std);
    if (key_is(key, "ffn")) {
        muon_ffn_kind k;
        int st = muon_ffn_parse(value, &k);
        if (st) return muon_error_prefix(st, "model config ffn: ");
        cfg->ffn = k;
        return MUON_OK;
    }
    return muon_error(MUON_ERR_ARG, "model config: unknown key '%s' (vocab_size, d_model, n_layers, n_heads, "
                      "n_kv_heads, d_ff, seq_len, batch_size, ffn, untied_head, merged_qkvo, rope_base, "
                      "norm_eps, init_std)", key);
}

static int in_range(const char *name, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        return muon_error(MUON_ERR_ARG, "model config %s: %d is out of range [%d, %d]", name, v, lo, hi);
    return MUON_OK;
}

int muon_config_check(const muon_config *c)
{
    int st, hs;
    double params;
    if ((st = in_range("vocab_size", c->vocab_size, 1, MAX_DIM))) return st;
    if ((st = in_range("d_model", c->d_model, 1, MAX_DIM))) return st;
    if ((st = in_range("n_layers", c->n_layers, 1, MAX_LAYERS))) return st;
    if ((st = in_range("n_heads", c->n_heads, 1, c->d_model))) return st;
    if ((st = in_range("n_kv_heads", c->n_kv_heads, 1, c->n_heads))) return st;
    if ((st = in_range("d_ff", c->d_ff, 1, MAX_DIM))) return st;
    if ((st = in_range("seq_len", c->seq_len, 1, MAX_DIM))) return st;
    if ((st = in_range("batch_size", c->batch_size, 1, MAX_DIM))) return st;
    if ((st = in_range("untied_head", c->untied_head, 0, 1))) return st;
    if ((st = in_range("merged_qkvo", c->merged_qkvo, 0, 1))) return st;
    if (c->ffn != MUON_FFN_RELU2 && c->ffn != MUON_FFN_SWIGLU)
        return muon_error(MUON_ERR_ARG, "model config ffn: unknown kind %d", (int)c->ffn);
    if (c->d_model % c->n_heads)
        return muon_error(MUON_ERR_ARG, "model config: d_model %d is not divisible by n_heads %d",
                          c->d_model, c->n_heads);
    if (c->n_heads % c->n_kv_heads)
        return muon_error(MUON_ERR_ARG, "model config: n_heads %d is not divisible by n_kv_heads %d",
                          c->n_heads, c->n_kv_heads);
    hs = c->d_model / c->n_heads;
    if (hs % 2)
        return muon_error(MUON_ERR_ARG, "model config: head size d_model/n_heads = %d must be even (RoPE rotates pairs)", hs);
    /* [Q;K;V;O] stacks O (C, NH*HS) under Q/K/V (., C): one matrix needs equal widths */
    if (c->merged_qkvo && c->n_heads * hs != c->d_model)
        return muon_error(MUON_ERR_ARG, "model config merged_qkvo: n_heads*head_size %d != d_model %d",
                          c->n_heads * hs, c->d_model);
    /* in double: B and T are each <= 2^16, so B*T may exceed a 32-bit long */
    if ((double)c->batch_size * c->seq_len > MAX_TOKENS)
        return muon_error(MUON_ERR_ARG, "model config: batch_size*seq_len = %.0f exceeds %d tokens",
                          (double)c->batch_size * c->seq_len, MAX_TOKENS);
    if (!(c->rope_base > 1.0f) || !(c->rope_base <= 1e12f))
        return muon_error(MUON_ERR_ARG, "model config rope_base: %g must be in (1, 1e12]", (double)c->rope_base);
    if (!(c->norm_eps > 0.0f) || !(c->norm_eps <= 1.0f))
        return muon_error(MUON_ERR_ARG, "model config norm_eps: %g must be in (0, 1]", (double)c->norm_eps);
    if (!(c->init_std >= 0.0f) || !(c->init_std <= 10.0f))
        return muon_error(MUON_ERR_ARG, "model config init_std: %g must be in [0, 10]", (double)c->init_std);
    params = (double)c->vocab_size * c->d_model * 2.0 +
             (double)c->n_layers * c->d_model * (4.0 * c->d_model + 3.0 * c->d_ff + 4.0);
    if (params > 4e9)
        return muon_error(MUON_ERR_ARG, "model config: about %.3g parameters, more than the 4e9 supported", params);
    return MUON_OK;
}

size_t muon_config_param_count(const muon_config *c)
{
    size_t V = (size_t)c->vocab_size, C = (size_t)c->d_model, F = (size_t)c->d_ff;
    size_t HS = C / (size_t)c->n_heads, NH = (size_t)c->n_heads, NKV = (size_t)c->n_kv_heads;
    size_t per_layer = 2 * C                      /* attn_norm, ffn_norm */
                     + 2 * HS                     /* q_norm, k_norm */
                     + NH * HS * C + 2 * NKV * HS * C + C * NH * HS  /* Q, K, V, O */
                     + (c->ffn == MUON_FFN_SWIGLU ? 3 : 2) * F * C;  /* up, down (, gate) */
    return V * C * (c->untied_head ? 2 : 1) + C + (size_t)c->n_layers * per_layer;
}
