/* The optimizer of a whole model: global-norm clipping, then every parameter
 * routed to Muon (2-D hidden matrices) or AdamW (embedding/head, gains; or all
 * of them with --optimizer adamw). Every state buffer is laid out like
 * muon_model.params, so a muon_tracked offset indexes all of them. */
#include "train/train.h"
#include "model/experiments.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "linalg/omp.h"
#include "train/shard.h"

#include <math.h>
#include <string.h>

void muon_optim_defaults(muon_optim_config *c)
{
    memset(c, 0, sizeof *c);
    c->kind = MUON_OPT_MUON;
    c->orth = MUON_ORTH_POLAR_EXPRESS;
    c->ns_steps = 0;
    c->lr = 0.02f;
    c->adam_lr = 1e-3f;
    c->wd = 0.0f;
    c->momentum = 0.95f;
    c->nesterov = 1;
    c->scale = MUON_MSCALE_DEFAULT;
    c->beta1 = 0.9f;
    c->beta2 = 0.95f;
    c->eps = 1e-8f;
    c->clip = 1.0f;
}

static const char *const opt_names[] = {"muon", "adamw"};

const char *muon_opt_name(muon_opt_kind k) { return muon_name_of(opt_names, 2, (int)k); }

int muon_opt_parse(const char *name, muon_opt_kind *k)
{
    int v, st = muon_name_parse("optimizer", opt_names, 2, name, &v);
    if (!st) *k = (muon_opt_kind)v;
    return st;
}

/* sum of g(n)^2: one double accumulator in index order -- not the fastest
 * sum, but its value is defined by the data alone */
static double sum_squares(const float *g, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
    return s;
}

double muon_grad_norm(const float *g, size_t n) { return sqrt(sum_squares(g, n)); }

double muon_clip_grads(float *g, size_t n, float clip)
{
    double norm = muon_grad_norm(g, n);
    if (clip > 0 && norm > clip && isfinite(norm)) {
        /* torch.nn.utils.clip_grad_norm_'s coefficient, +1e-6 included */
        muon_scale((float)(clip / (norm + 1e-6)), g, n);
    }
    return norm;
}

int muon_optim_uses_muon(const muon_optim_config *cfg, const muon_param *p)
{
    return cfg->kind == MUON_OPT_MUON && p->role == MUON_ROLE_MATRIX;
}

static int check_cfg(const muon_optim_config *c)
{
    if (!(c->lr > 0 && isfinite(c->lr))) return muon_error(MUON_ERR_ARG, "optimizer: lr must be > 0");
    if (!(c->adam_lr > 0 && isfinite(c->adam_lr))) return muon_error(MUON_ERR_ARG, "optimizer: adam lr must be > 0");
    if (!(c->wd >= 0 && isfinite(c->wd))) return muon_error(MUON_ERR_ARG, "optimizer: weight decay must be >= 0");
    if (!(c->momentum >= 0 && c->momentum < 1)) return muon_error(MUON_ERR_ARG, "optimizer: momentum must be in [0, 1)");
    if (!(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1))
        return muon_error(MUON_ERR_ARG, "optimizer: AdamW betas must be in [0, 1)");
    if (!(c->eps > 0)) return muon_error(MUON_ERR_ARG, "optimizer: eps must be > 0");
    if (!(c->clip >= 0 && isfinite(c->clip))) return muon_error(MUON_ERR_ARG, "optimizer: clip must be >= 0");
    if (c->ns_steps < 0) return muon_error(MUON_ERR_ARG, "optimizer: ns steps must be >= 0");
    return MUON_OK;
}

/* One orthogonaliser workspace per thread, each sized for the largest Muon
 * matrix, so muon_optim_step allocates nothing. The step runs on at most
 * n threads; which thread takes which matrix does not change any result. */
typedef struct {
    int n;
    muon_workspace *ws;   /* (n) */
} optim_work;

static void work_free(optim_work *w)
{
    int i;
    if (!w) return;
    for (i = 0; w->ws && i < w->n; i++) muon_workspace_free(&w->ws[i]);
    muon_free(w->ws);
    muon_free(w);
}

static int work_create(muon_optim *o, const muon_model *m)
{
    optim_work *w;
    size_t bytes = 0;
    int i, st = MUON_OK;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        size_t b;
        if (!muon_optim_uses_muon(&o->cfg, p)) continue;
        b = muon_orth_workspace_bytes(o->cfg.orth, p->rows, p->cols);
        if (b > bytes) bytes = b;
    }
    w = muon_calloc(1, sizeof *w);
    if (!w) return MUON_ERR_NOMEM;
    w->n = muon_threads();
    w->ws = muon_calloc((size_t)w->n, sizeof *w->ws);
    if (!w->ws) st = MUON_ERR_NOMEM;
    for (i = 0; !st && i < w->n; i++) st = muon_workspace_reserve(&w->ws[i], bytes);
    if (st) { work_free(w); return st; }
    o->work = w;
    return MUON_OK;
}

int muon_optim_create(muon_optim *o, const muon_optim_config *cfg, const muon_model *m)
{
    int st;
    memset(o, 0, sizeof *o);
    st = check_cfg(cfg);
    if (st) return st;
    o->cfg = *cfg;
    o->n = m->num_params;
    o->momentum = muon_calloc(o->n, sizeof(float));
    o->adam_v = muon_calloc(o->n, sizeof(float));
    o->delta = muon_calloc(o->n, sizeof(float));
    o->tensor_sq = muon_calloc((size_t)m->n_tensors + 1, sizeof(double));
    if (cfg->kind == MUON_OPT_MUON) o->orth_out = muon_calloc(o->n, sizeof(float));
    if (!o->momentum || !o->adam_v || !o->delta || !o->tensor_sq || (cfg->kind == MUON_OPT_MUON && !o->orth_out) ||
        (cfg->kind == MUON_OPT_MUON && work_create(o, m))) {
        muon_optim_free(o);
        return MUON_ERR_NOMEM;
    }
    return MUON_OK;
}

int muon_optim_step(muon_optim *o, muon_model *m, double lr_mult)
{
    return muon_optim_step_shard(o, m, lr_mult, NULL);
}

/* The global gradient norm: each tensor's sum of squares in index order
 * (double), then those sums in model order -- defined by the data alone, and
 * computable by owners of disjoint tensors (sq is shared in between). */
static int global_norm(muon_optim *o, const muon_model *m, muon_shard *sh, double *norm)
{
    double s = 0.0, *sq = o->tensor_sq;
    int i, st;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        sq[i] = 0.0;
        if (sh && !muon_shard_owns(sh, i)) continue;
        sq[i] = sum_squares(m->grads + p->offset, (size_t)p->rows * (size_t)p->cols);
    }
    if (sh && (st = muon_shard_share_items(sh, sq, sizeof *sq, m->n_tensors, sh->owner, -1))) return st;
    for (i = 0; i < m->n_tensors; i++) s += sq[i];
    *norm = sqrt(s);
    return MUON_OK;
}

int muon_optim_step_shard(muon_optim *o, muon_model *m, double lr_mult, muon_shard *sh)
{
    const muon_optim_config *c = &o->cfg;
    float lr = (float)(c->lr * lr_mult), alr = (float)(c->adam_lr * lr_mult);
    double norm;
    int i, st;
    if (m->num_params != o->n) return muon_error(MUON_ERR_ARG, "optimizer: built for %lu parameters, model has %lu",
                                                 (unsigned long)o->n, (unsigned long)m->num_params);
    if ((st = global_norm(o, m, sh, &norm))) return st;
    o->grad_norm = norm;
    if (!isfinite(norm)) return muon_error(MUON_ERR_NUMERIC, "gradient norm is %g", norm);
    if (c->clip > 0 && norm > c->clip) {
        /* torch.nn.utils.clip_grad_norm_'s coefficient, +1e-6 included */
        float coef = (float)(c->clip / (norm + 1e-6));
        for (i = 0; i < m->n_tensors; i++) {
            const muon_param *p = &m->tensors[i];
            if (sh && !muon_shard_owns(sh, i)) continue;
            muon_scale(coef, m->grads + p->offset, (size_t)p->rows * (size_t)p->cols);
        }
    }
    o->t++;
    /* Muon: the matrices are independent, so threads take whole matrices
     * (dynamic: sizes differ) and the GEMMs inside run on the calling thread.
     * Small matrices keep one core busy better than a GEMM split in two, and
     * the result is the same for any thread count because a GEMM never
     * splits its K sum. With ranks, each takes only the matrices it owns. */
    if (c->kind == MUON_OPT_MUON) {
        optim_work *w = o->work;
        double t0 = muon_seconds();
        muon_failure failed = {0};
MUON_OMP(omp parallel num_threads(muon_threads_upto(w->n)))
        {
            muon_workspace *ws = &w->ws[muon_thread_id()];
MUON_OMP(omp for schedule(dynamic, 1))
            for (i = 0; i < m->n_tensors; i++) {
                const muon_param *p = &m->tensors[i];
                size_t off = p->offset;
                int s;
                if (!muon_optim_uses_muon(c, p) || (sh && !muon_shard_owns(sh, i))) continue;
                s = muon_orthogonal_update_ws(ws, c, lr, p->rows, p->cols, m->params + off,
                                              m->grads + off, o->momentum + off,
                                              o->orth_out + off, o->delta + off,
                                              muon_update_noise_key(c->noise_seed, o->t, i));
                muon_failure_note(&failed, i, s);
            }
        }
        o->orth_seconds += muon_seconds() - t0;
        if (failed.status) return muon_failure_raise(&failed);
    }
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        size_t off = p->offset, n = (size_t)p->rows * (size_t)p->cols;
        float wd = p->role == MUON_ROLE_GAIN ? 0.0f : c->wd;
        if (muon_optim_uses_muon(c, p) || (sh && !muon_shard_owns(sh, i))) continue;
        muon_adamw_update(c, alr, wd, o->t, n, m->params + off, m->grads + off,
                          o->momentum + off, o->adam_v + off, o->delta + off);
    }
    return MUON_OK;
}

void muon_optim_free(muon_optim *o)
{
    if (!o) return;
    muon_free(o->momentum);
    muon_free(o->adam_v);
    muon_free(o->delta);
    muon_free(o->orth_out);
    muon_free(o->tensor_sq);
    work_free(o->work);
    memset(o, 0, sizeof *o);
}
