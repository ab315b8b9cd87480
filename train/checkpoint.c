/* Checkpoints: a safetensors file a PyTorch user can load directly.
 *
 * Tensors: every parameter under its PyTorch name (RMSNorm gains 1-D like
 * torch's nn.Parameter(torch.ones(n)), matrices [out, in]); the optimizer state
 * as extra tensors "optim.muon_momentum.<name>" (Muon params) and
 * "optim.adam_m.<name>", "optim.adam_v.<name>" (AdamW params), which
 * load_state_dict(strict=False) ignores. Metadata: "format" = "muon-checkpoint",
 * "step", "optim.t", every model config field as "config.<field>" and the
 * caller's extra pairs (the training settings). muon_safetensors_write writes a
 * temporary file and renames it, so a crash never leaves half a checkpoint. */
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "io/parse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "muon-checkpoint"


static void shape_of(const muon_param *p, int *ndim, int64_t *shape)
{
    if (p->role == MUON_ROLE_GAIN) { *ndim = 1; shape[0] = p->cols; }
    else { *ndim = 2; shape[0] = p->rows; shape[1] = p->cols; }
}

/* The config fields as (key, value) strings; keys are the muon_config field
 * names, which muon_config_set accepts. */
#define N_CFG 14
static void config_strings(const muon_config *c, char keys[N_CFG][32], char vals[N_CFG][32])
{
    int i = 0;
#define PUT_I(k, v) (strcpy(keys[i], "config." k), sprintf(vals[i], "%d", (int)(v)), i++)
#define PUT_F(k, v) (strcpy(keys[i], "config." k), sprintf(vals[i], "%.9g", (double)(v)), i++)
    PUT_I("vocab_size", c->vocab_size);
    PUT_I("d_model", c->d_model);
    PUT_I("n_layers", c->n_layers);
    PUT_I("n_heads", c->n_heads);
    PUT_I("n_kv_heads", c->n_kv_heads);
    PUT_I("d_ff", c->d_ff);
    PUT_I("seq_len", c->seq_len);
    PUT_I("batch_size", c->batch_size);
    strcpy(keys[i], "config.ffn");
    strcpy(vals[i], muon_ffn_name(c->ffn));
    i++;
    PUT_I("untied_head", c->untied_head);
    PUT_I("merged_qkvo", c->merged_qkvo);
    PUT_F("rope_base", c->rope_base);
    PUT_F("norm_eps", c->norm_eps);
    PUT_F("init_std", c->init_std);
#undef PUT_I
#undef PUT_F
}

int muon_checkpoint_save(const char *path, const muon_model *m, const muon_optim *o,
                         long step, const char *const *meta_kv)
{
    int n_t = m->n_tensors, per = 1, count = 0, i, j, st, n_extra = 0, n_meta;
    muon_tensor *t;
    char *names;
    const char **meta;
    char ckeys[N_CFG][32], cvals[N_CFG][32], step_s[32], t_s[32];
    const size_t NAME = 96;
    if (!muon_all_finite(m->params, m->num_params))
        return muon_error(MUON_ERR_NUMERIC, "checkpoint %s: parameters are not finite; not written", path);
    if (o) per = 3; /* at most param + two moments */
    while (meta_kv && meta_kv[n_extra]) n_extra++;
    t = muon_calloc((size_t)n_t * per, sizeof *t);
    names = muon_calloc((size_t)n_t * per, NAME);
    n_meta = 2 * (4 + N_CFG) + n_extra + 1; /* format, version, step, optim.t, config */
    meta = muon_calloc((size_t)n_meta, sizeof *meta);
    if (!t || !names || !meta) { st = MUON_ERR_NOMEM; goto done; }
    for (i = 0; i < n_t; i++) {
        const muon_param *p = &m->tensors[i];
        const float *src[3];
        const char *prefix[3];
        int k = 0;
        src[k] = m->params + p->offset; prefix[k++] = "";
        if (o) {
            if (muon_optim_uses_muon(&o->cfg, p)) {
                src[k] = o->momentum + p->offset; prefix[k++] = "optim.muon_momentum.";
            } else {
                src[k] = o->momentum + p->offset; prefix[k++] = "optim.adam_m.";
                src[k] = o->adam_v + p->offset; prefix[k++] = "optim.adam_v.";
            }
        }
        for (j = 0; j < k; j++) {
            muon_tensor *x = &t[count];
            x->name = names + (size_t)count * NAME;
            snprintf(x->name, NAME, "%s%s", prefix[j], p->name);
            strcpy(x->dtype, "F32");
            shape_of(p, &x->ndim, x->shape);
            x->numel = (size_t)p->rows * (size_t)p->cols;
            x->data = (float *)src[j];
            count++;
        }
    }
    config_strings(&m->cfg, ckeys, cvals);
    sprintf(step_s, "%ld", step);
    sprintf(t_s, "%ld", o ? o->t : 0L);
    j = 0;
    meta[j++] = "format"; meta[j++] = CKPT_FORMAT;
    meta[j++] = "muon_version"; meta[j++] = MUON_VERSION;
    meta[j++] = "step"; meta[j++] = step_s;
    if (o) { meta[j++] = "optim.t"; meta[j++] = t_s; }
    for (i = 0; i < N_CFG; i++) { meta[j++] = ckeys[i]; meta[j++] = cvals[i]; }
    for (i = 0; i < n_extra; i++) meta[j++] = meta_kv[i];
    meta[j] = NULL;
    st = muon_safetensors_write(path, t, count, meta);
done:
    muon_free(t);
    muon_free(names);
    muon_free(meta);
    return st;
}

int muon_checkpoint_open(const char *path, muon_safetensors *f)
{
    const char *fmt;
    int st = muon_safetensors_read(path, f);
    if (st) return st;
    fmt = muon_safetensors_meta(f, "format");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0) {
        muon_safetensors_free(f);
        return muon_error(MUON_ERR_FORMAT, "%s: not a muon checkpoint (no \"format\": \"" CKPT_FORMAT "\" metadata)", path);
    }
    return MUON_OK;
}

int muon_checkpoint_config(const muon_safetensors *f, muon_config *cfg)
{
    char ckeys[N_CFG][32], cvals[N_CFG][32];
    muon_config c;
    int i, st;
    /* start from nano so every field has a value, then overwrite them all */
    st = muon_config_named("nano", &c);
    if (st) return st;
    config_strings(&c, ckeys, cvals);
    for (i = 0; i < N_CFG; i++) {
        const char *v = muon_safetensors_meta(f, ckeys[i]);
        if (!v) return muon_error(MUON_ERR_FORMAT, "checkpoint: metadata lacks %s", ckeys[i]);
        st = muon_config_set(&c, ckeys[i] + 7, v);
        if (st) return muon_error_prefix(MUON_ERR_FORMAT, "checkpoint: bad %s: ", ckeys[i]);
    }
    st = muon_config_check(&c);
    if (st) return muon_error_prefix(MUON_ERR_FORMAT, "checkpoint: bad config: ");
    *cfg = c;
    return MUON_OK;
}

static int meta_long(const muon_safetensors *f, const char *key, long *out)
{
    const char *v = muon_safetensors_meta(f, key);
    if (!v) return muon_error(MUON_ERR_FORMAT, "checkpoint: metadata lacks \"%s\"", key);
    if (muon_parse_long(key, v, 0, LONG_MAX, out))
        return muon_error_prefix(MUON_ERR_FORMAT, "checkpoint: bad metadata ");
    return MUON_OK;
}

int muon_checkpoint_step(const muon_safetensors *f, long *step)
{
    return meta_long(f, "step", step);
}

static int copy_tensor(const muon_safetensors *f, const char *prefix, const muon_param *p, float *dst)
{
    char name[128];
    int ndim;
    int64_t shape[2];
    const muon_tensor *x;
    snprintf(name, sizeof name, "%s%s", prefix, p->name);
    shape_of(p, &ndim, shape);
    x = muon_safetensors_expect(f, name, ndim, shape);
    if (!x) return muon_error_prefix(MUON_ERR_FORMAT, "checkpoint: ");
    if (!muon_all_finite(x->data, x->numel))
        return muon_error(MUON_ERR_FORMAT, "checkpoint: tensor %s holds NaN or Inf", name);
    memcpy(dst, x->data, x->numel * sizeof(float));
    return MUON_OK;
}

int muon_checkpoint_load_model(const muon_safetensors *f, muon_model *m)
{
    int i, st;
    for (i = 0; i < m->n_tensors; i++) {
        st = copy_tensor(f, "", &m->tensors[i], m->params + m->tensors[i].offset);
        if (st) return st;
    }
    return MUON_OK;
}

int muon_checkpoint_load_optim(const muon_safetensors *f, const muon_model *m, muon_optim *o)
{
    int i, st;
    long t = 0;
    st = meta_long(f, "optim.t", &t);
    if (st) return st;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        if (muon_optim_uses_muon(&o->cfg, p)) {
            st = copy_tensor(f, "optim.muon_momentum.", p, o->momentum + p->offset);
        } else {
            st = copy_tensor(f, "optim.adam_m.", p, o->momentum + p->offset);
            if (!st) st = copy_tensor(f, "optim.adam_v.", p, o->adam_v + p->offset);
        }
        if (st) return st;
    }
    o->t = t;
    return MUON_OK;
}
