/* muon conform: this project's own code run through the conformance suite,
 * writing RESULTS exactly as any other backend must (docs/conformance.md), so
 * the C implementation is checked by `muon verify` like everyone else.
 *
 * Each op calls the library's public functions -- muon_orthogonalize_flags,
 * muon_orthogonal_update, muon_adamw_update, muon_lr_multiplier, muon_clip_grads,
 * the model's forward/backward and muon_optim_step, muon_metrics_compute --
 * and nothing here re-implements any of them. A case's parameters come from
 * the manifest; its outputs are kept by name and those the manifest lists are
 * written as "<case id>/<name>". */
#include "conformance/conformance.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- named outputs of one case ------------------------------------------- */

typedef struct {
    char name[160];
    float *data;
    size_t n;
} output;

typedef struct {
    int n, cap;
    output *v;
} outputs;

static void outputs_free(outputs *o)
{
    int i;
    for (i = 0; i < o->n; i++) muon_free(o->v[i].data);
    free(o->v);
    memset(o, 0, sizeof *o);
}

/* A new zeroed output buffer of n floats called printf(fmt, ...); NULL on OOM. */
static float *output_new(outputs *o, size_t n, const char *fmt, ...)
{
    va_list ap;
    output *x;
    if (o->n == o->cap) {
        int nc = o->cap ? 2 * o->cap : 32;
        output *nv = realloc(o->v, (size_t)nc * sizeof *nv);
        if (!nv) { muon_error(MUON_ERR_NOMEM, "conform: out of memory"); return NULL; }
        o->v = nv;
        o->cap = nc;
    }
    x = &o->v[o->n];
    va_start(ap, fmt);
    vsnprintf(x->name, sizeof x->name, fmt, ap);
    va_end(ap);
    x->n = n;
    x->data = muon_calloc(n ? n : 1, sizeof(float));
    if (!x->data) { muon_error(MUON_ERR_NOMEM, "conform: out of memory"); return NULL; }
    o->n++;
    return x->data;
}

static float *output_copy(outputs *o, const float *src, size_t n, const char *fmt, const char *arg)
{
    float *d = output_new(o, n, fmt, arg);
    if (d) memcpy(d, src, n * sizeof *d);
    return d;
}

static const output *output_find(const outputs *o, const char *name)
{
    int i;
    for (i = 0; i < o->n; i++) if (!strcmp(o->v[i].name, name)) return &o->v[i];
    return NULL;
}

static int wanted(const conf_case *c, const char *name)
{
    int j;
    for (j = 0; j < c->n_expected; j++) if (!strcmp(c->expected_t[j].name, name)) return 1;
    return 0;
}

/* ---- inputs --------------------------------------------------------------- */

/* Input name as a matrix (rows, cols) (ndim 2) or a vector (ndim 1: rows 1). */
static const float *input(const conf_case *c, const muon_safetensors *in, const char *name, int ndim,
                          int *rows, int *cols)
{
    const muon_tensor *t = in ? muon_safetensors_find(in, name) : NULL;
    if (!t || t->ndim != ndim || t->numel == 0) {
        muon_error(MUON_ERR_FORMAT, "case '%s': input '%s' missing or not %d-D", c->id, name, ndim);
        return NULL;
    }
    *rows = ndim == 2 ? (int)t->shape[0] : 1;
    *cols = (int)t->shape[ndim - 1];
    return t->data;
}

static float *dup(const float *x, size_t n)
{
    float *d = muon_alloc(n * sizeof *d);
    if (d) memcpy(d, x, n * sizeof *d);
    else muon_error(MUON_ERR_NOMEM, "conform: out of memory");
    return d;
}

/* ---- the ops --------------------------------------------------------------- */

static int run_orth(const conf_case *c, const muon_safetensors *in, outputs *o)
{
    const char *method, *prec;
    muon_orth_kind kind;
    unsigned flags = 0;
    double steps = 5;
    int rows, cols, j, st;
    const float *G;
    if ((st = conf_param_str(c, NULL, "method", &method)) || (st = conf_param_str(c, NULL, "precision", &prec))) return st;
    if ((st = muon_orth_parse(method, &kind))) return muon_error_prefix(st, "case '%s': ", c->id);
    if (!strcmp(prec, "bf16")) flags = MUON_ORTH_BF16;
    else if (strcmp(prec, "fp32")) return muon_error(MUON_ERR_FORMAT, "case '%s': precision '%s' (fp32|bf16)", c->id, prec);
    if (conf_json_get(c->params, "steps") && (st = conf_param_num(c, NULL, "steps", &steps))) return st;
    if (!(G = input(c, in, "G", 2, &rows, &cols))) return MUON_ERR_FORMAT;
    for (j = 0; j < c->n_expected; j++) {
        const char *name = c->expected_t[j].name;
        float *X = output_new(o, (size_t)rows * cols, "%s", name);
        if (!X) return MUON_ERR_NOMEM;
        if (name[0] == 'X') {   /* the iterate after k steps */
            int k = atoi(name + 1);
            st = muon_orthogonalize_flags(kind, k, rows, cols, G, X, flags | MUON_ORTH_PARTIAL);
        } else {
            st = muon_orthogonalize_flags(kind, kind == MUON_ORTH_NEWTON_SCHULZ ? (int)steps : 0, rows, cols, G, X, flags);
        }
        if (st) return muon_error_prefix(st, "case '%s': ", c->id);
    }
    return MUON_OK;
}

static int optim_from(const conf_case *c, const conf_json *p, muon_optim_config *oc, int model)
{
    double lr, mu, wd;
    const char *scale, *orth;
    int st, nest;
    muon_optim_defaults(oc);
    if ((st = conf_param_num(c, p, "lr", &lr)) || (st = conf_param_num(c, p, "momentum", &mu)) ||
        (st = conf_param_bool(c, p, "nesterov", &nest)) || (st = conf_param_str(c, p, "scale", &scale)) ||
        (st = conf_param_num(c, p, "weight_decay", &wd)) || (st = conf_param_str(c, p, "orth", &orth)))
        return st;
    oc->lr = (float)lr;
    oc->momentum = (float)mu;
    oc->nesterov = nest;
    oc->wd = (float)wd;
    if ((st = muon_mscale_parse(scale, &oc->scale)) || (st = muon_orth_parse(orth, &oc->orth)))
        return muon_error_prefix(st, "case '%s': ", c->id);
    if (model) {
        double alr, b1, b2, eps, clip;
        if ((st = conf_param_num(c, p, "adam_lr", &alr)) || (st = conf_param_num(c, p, "beta1", &b1)) ||
            (st = conf_param_num(c, p, "beta2", &b2)) || (st = conf_param_num(c, p, "eps", &eps)) ||
            (st = conf_param_num(c, p, "clip", &clip)))
            return st;
        oc->adam_lr = (float)alr;
        oc->beta1 = (float)b1;
        oc->beta2 = (float)b2;
        oc->eps = (float)eps;
        oc->clip = (float)clip;
    }
    return MUON_OK;
}

static int run_muon(const conf_case *c, const muon_safetensors *in, outputs *o)
{
    muon_optim_config oc;
    int rows = 0, cols = 0, r2 = 0, c2 = 0, r3 = 0, c3 = 0, st;
    const float *W = input(c, in, "W", 2, &rows, &cols), *G = input(c, in, "G", 2, &r2, &c2),
                *M = input(c, in, "M", 2, &r3, &c3);
    size_t n;
    float *Wn, *Mn, *U, *O, *dW, *Mu;
    if (!W || !G || !M) return MUON_ERR_FORMAT;
    if (r2 != rows || c2 != cols || r3 != rows || c3 != cols)
        return muon_error(MUON_ERR_FORMAT, "case '%s': W, G, M shapes differ", c->id);
    if ((st = optim_from(c, c->params, &oc, 0))) return st;
    n = (size_t)rows * cols;
    if (!(Wn = output_copy(o, W, n, "%s", "W")) || !(Mn = output_copy(o, M, n, "%s", "M")) ||
        !(Mu = dup(M, n)))
        return MUON_ERR_NOMEM;
    U = output_new(o, n, "U");
    O = output_new(o, n, "O");
    dW = output_new(o, n, "dW");
    if (!U || !O || !dW) { muon_free(Mu); return MUON_ERR_NOMEM; }
    muon_momentum_update(&oc, n, G, Mu, U);   /* U alone, from a copy of M */
    muon_free(Mu);
    st = muon_orthogonal_update(&oc, oc.lr, rows, cols, Wn, G, Mn, O, dW);
    return st ? muon_error_prefix(st, "case '%s': ", c->id) : MUON_OK;
}

static int run_adamw(const conf_case *c, const muon_safetensors *in, outputs *o)
{
    static const char *const parts[2][4] = {{"W", "G", "m", "v"}, {"gain", "gain_grad", "gain_m", "gain_v"}};
    muon_optim_config oc;
    double lr, b1, b2, eps, wd, gwd, t;
    int st, k;
    muon_optim_defaults(&oc);
    if ((st = conf_param_num(c, NULL, "lr", &lr)) || (st = conf_param_num(c, NULL, "beta1", &b1)) ||
        (st = conf_param_num(c, NULL, "beta2", &b2)) || (st = conf_param_num(c, NULL, "eps", &eps)) ||
        (st = conf_param_num(c, NULL, "weight_decay", &wd)) || (st = conf_param_num(c, NULL, "gain_weight_decay", &gwd)) ||
        (st = conf_param_num(c, NULL, "step", &t)))
        return st;
    if (t < 1 || t != floor(t)) return muon_error(MUON_ERR_FORMAT, "case '%s': step must be an integer >= 1", c->id);
    oc.beta1 = (float)b1;
    oc.beta2 = (float)b2;
    oc.eps = (float)eps;
    for (k = 0; k < 2; k++) {
        const char *const *nm = parts[k];
        int nd = k ? 1 : 2, r[4], cc[4], i;
        const float *x[4];
        float *W, *m, *v, *d;
        size_t n;
        for (i = 0; i < 4; i++)
            if (!(x[i] = input(c, in, nm[i], nd, &r[i], &cc[i]))) return MUON_ERR_FORMAT;
        n = (size_t)r[0] * cc[0];
        for (i = 1; i < 4; i++)
            if ((size_t)r[i] * cc[i] != n) return muon_error(MUON_ERR_FORMAT, "case '%s': %s shapes differ", c->id, nm[0]);
        if (!(W = output_copy(o, x[0], n, "%s", nm[0])) || !(m = output_copy(o, x[2], n, "%s", nm[2])) ||
            !(v = output_copy(o, x[3], n, "%s", nm[3])) || !(d = output_new(o, n, "%s.delta", nm[0])))
            return MUON_ERR_NOMEM;
        muon_adamw_update(&oc, (float)lr, (float)(k ? gwd : wd), (long)t, n, W, x[1], m, v, d);
    }
    return MUON_OK;
}

static int sched_from(const conf_case *c, const conf_json *p, muon_sched_kind *kind, long *warmup, long *total,
                      double *floor_)
{
    const char *k;
    double w, t;
    int st;
    if ((st = conf_param_str(c, p, c->op[0] == 'l' ? "kind" : "schedule", &k)) ||
        (st = conf_param_num(c, p, "warmup", &w)) || (st = conf_param_num(c, p, "total", &t)) ||
        (st = conf_param_num(c, p, "floor", floor_)))
        return st;
    if ((st = muon_sched_parse(k, kind))) return muon_error_prefix(st, "case '%s': ", c->id);
    if (w < 0 || t < 1 || t > 1e6) return muon_error(MUON_ERR_FORMAT, "case '%s': bad warmup/total", c->id);
    *warmup = (long)w;
    *total = (long)t;
    return MUON_OK;
}

static int run_schedule(const conf_case *c, outputs *o)
{
    muon_sched_kind kind;
    long warmup, total, s;
    double fl;
    float *m;
    int st;
    if ((st = sched_from(c, NULL, &kind, &warmup, &total, &fl))) return st;
    if (!(m = output_new(o, (size_t)total, "multiplier"))) return MUON_ERR_NOMEM;
    for (s = 1; s <= total; s++) m[s - 1] = (float)muon_lr_multiplier(kind, s, warmup, total, fl);
    return MUON_OK;
}

static int run_clip(const conf_case *c, const muon_safetensors *in, outputs *o)
{
    double max_norm;
    size_t total = 0, off = 0, sizes[64];
    const float *g[64];
    float *all, *norm;
    int n = 0, i, st;
    char name[16];
    if ((st = conf_param_num(c, NULL, "max_norm", &max_norm))) return st;
    for (n = 0; n < 64; n++) {
        const muon_tensor *t;
        snprintf(name, sizeof name, "g%d", n);
        if (!(t = muon_safetensors_find(in, name))) break;
        g[n] = t->data;
        sizes[n] = t->numel;
        total += t->numel;
    }
    if (n == 0) return muon_error(MUON_ERR_FORMAT, "case '%s': no input g0", c->id);
    if (!(all = muon_alloc(total * sizeof *all))) return muon_error(MUON_ERR_NOMEM, "conform: out of memory");
    for (i = 0; i < n; i++) { memcpy(all + off, g[i], sizes[i] * sizeof *all); off += sizes[i]; }
    /* the parameters of a model are one flat buffer, so clipping sees one vector */
    if (!(norm = output_new(o, 1, "norm"))) { muon_free(all); return MUON_ERR_NOMEM; }
    norm[0] = (float)muon_clip_grads(all, total, (float)max_norm);
    for (i = 0, off = 0; i < n; i++) {
        snprintf(name, sizeof name, "g%d", i);
        if (!output_copy(o, all + off, sizes[i], "%s", name)) { muon_free(all); return MUON_ERR_NOMEM; }
        off += sizes[i];
    }
    muon_free(all);
    return MUON_OK;
}

static int model_from(const conf_case *c, const conf_json *cfgj, muon_config *cfg)
{
    int i, st;
    if (!cfgj || cfgj->type != CONF_JSON_OBJECT) return muon_error(MUON_ERR_FORMAT, "case '%s': no config object", c->id);
    muon_config_named("tiny", cfg);
    for (i = 0; i < cfgj->n; i++) {
        const conf_json *v = &cfgj->items[i];
        char buf[64];
        if (v->type == CONF_JSON_STRING) snprintf(buf, sizeof buf, "%s", v->str);
        else if (v->type == CONF_JSON_NUMBER && v->num == floor(v->num) && fabs(v->num) < 1e9) snprintf(buf, sizeof buf, "%.0f", v->num);
        else if (v->type == CONF_JSON_NUMBER) snprintf(buf, sizeof buf, "%.17g", v->num);
        else if (v->type == CONF_JSON_BOOL) snprintf(buf, sizeof buf, "%d", (int)v->num);
        else return muon_error(MUON_ERR_FORMAT, "case '%s': config '%s' has a bad value", c->id, cfgj->keys[i]);
        if ((st = muon_config_set(cfg, cfgj->keys[i], buf))) return muon_error_prefix(st, "case '%s': ", c->id);
    }
    if ((st = muon_config_check(cfg))) return muon_error_prefix(st, "case '%s': ", c->id);
    return MUON_OK;
}

/* Tokens (leading dims..., B, T) of input name, as ints in [0, V). */
static int *tokens_from(const conf_case *c, const muon_safetensors *in, const char *name, size_t want, int V)
{
    const muon_tensor *t = muon_safetensors_find(in, name);
    int *x;
    size_t i;
    if (!t || t->numel != want) {
        muon_error(MUON_ERR_FORMAT, "case '%s': input '%s' missing or not of %lu tokens", c->id, name, (unsigned long)want);
        return NULL;
    }
    if (!(x = malloc(want * sizeof *x))) { muon_error(MUON_ERR_NOMEM, "conform: out of memory"); return NULL; }
    for (i = 0; i < want; i++) {
        float v = t->data[i];
        if (!(v >= 0 && v < (float)V && v == floorf(v))) {
            free(x);
            muon_error(MUON_ERR_FORMAT, "case '%s': %s[%lu] = %g is not a token id", c->id, name, (unsigned long)i, (double)v);
            return NULL;
        }
        x[i] = (int)v;
    }
    return x;
}

static int load_params(const conf_case *c, const muon_safetensors *in, muon_model *m)
{
    int i;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        int64_t shape[2];
        int nd = p->role == MUON_ROLE_GAIN ? 1 : 2;
        char name[96];
        const muon_tensor *t;
        if (nd == 1) shape[0] = p->cols; else { shape[0] = p->rows; shape[1] = p->cols; }
        snprintf(name, sizeof name, "param.%s", p->name);
        if (!(t = muon_safetensors_expect(in, name, nd, shape))) return muon_error_prefix(MUON_ERR_FORMAT, "case '%s': ", c->id);
        memcpy(m->params + p->offset, t->data, (size_t)p->rows * p->cols * sizeof(float));
    }
    return MUON_OK;
}

static int save_params(outputs *o, const muon_model *m, const float *buf, const char *prefix,
                       int which /* 0 all, 1 Muon params, 2 the others */, const muon_optim_config *oc)
{
    int i;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        int mu = muon_optim_uses_muon(oc, p);
        char name[160];
        if ((which == 1 && !mu) || (which == 2 && mu)) continue;
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        if (!output_copy(o, buf + p->offset, (size_t)p->rows * p->cols, "%s", name)) return MUON_ERR_NOMEM;
    }
    return MUON_OK;
}

/* model_step (one full step with every intermediate) and trajectory (steps). */
static int run_model(const conf_case *c, const muon_safetensors *in, outputs *o, int trajectory)
{
    const conf_json *optj = conf_json_get(c->params, "optim");
    muon_config cfg;
    muon_optim_config oc;
    muon_model m;
    muon_optim opt;
    muon_sched_kind sk;
    long warmup, total, s, n_steps;
    double fl, dsteps;
    int *tok = NULL, *tgt = NULL, st, B, T, l, have_model = 0, have_opt = 0;
    float *losses = NULL;
    memset(&m, 0, sizeof m);
    memset(&opt, 0, sizeof opt);
    if ((st = model_from(c, conf_json_get(c->params, "config"), &cfg))) return st;
    if (!optj || optj->type != CONF_JSON_OBJECT) return muon_error(MUON_ERR_FORMAT, "case '%s': no optim object", c->id);
    if ((st = optim_from(c, optj, &oc, 1)) || (st = sched_from(c, optj, &sk, &warmup, &total, &fl))) return st;
    if ((st = conf_param_num(c, NULL, trajectory ? "steps" : "step", &dsteps))) return st;
    if (dsteps < 1 || dsteps > 1e5) return muon_error(MUON_ERR_FORMAT, "case '%s': bad step count", c->id);
    n_steps = trajectory ? (long)dsteps : 1;
    B = cfg.batch_size;
    T = cfg.seq_len;
    tok = tokens_from(c, in, "tokens", (size_t)n_steps * B * T, cfg.vocab_size);
    tgt = tokens_from(c, in, "targets", (size_t)n_steps * B * T, cfg.vocab_size);
    if (!tok || !tgt) { st = MUON_ERR_FORMAT; goto done; }
    if ((st = muon_model_create(&m, &cfg))) goto done;
    have_model = 1;
    if ((st = load_params(c, in, &m))) goto done;
    if ((st = muon_optim_create(&opt, &oc, &m))) goto done;
    have_opt = 1;
    if (trajectory && !(losses = output_new(o, (size_t)n_steps, "loss"))) { st = MUON_ERR_NOMEM; goto done; }
    for (s = 1; s <= n_steps; s++) {
        /* a one-step case is step `step` of its schedule; a trajectory starts at 1 */
        long step = trajectory ? s : (long)dsteps;
        const size_t off = (size_t)(s - 1) * B * T;
        double mult = muon_lr_multiplier(sk, step, warmup, total, fl);
        char name[64];
        muon_model_zero_grad(&m);
        if ((st = muon_model_forward(&m, tok + off, tgt + off, B, T))) goto done;
        if ((st = muon_model_backward(&m))) goto done;
        if (trajectory) losses[s - 1] = m.loss;
        else {
            float *loss;
            for (l = 0; l < cfg.n_layers; l++) {
                snprintf(name, sizeof name, "block.%d", l);
                if (!output_copy(o, muon_model_block_output(&m, l), (size_t)B * T * cfg.d_model, "%s", name)) { st = MUON_ERR_NOMEM; goto done; }
            }
            if (!output_copy(o, muon_model_logits(&m), (size_t)B * T * cfg.vocab_size, "%s", "logits") ||
                !(loss = output_new(o, 1, "loss"))) { st = MUON_ERR_NOMEM; goto done; }
            loss[0] = m.loss;
            if ((st = save_params(o, &m, m.grads, "grad.", 0, &oc))) goto done;
        }
        opt.t = step - 1;  /* AdamW's bias correction counts from the schedule's step */
        if ((st = muon_optim_step(&opt, &m, mult))) goto done;
        snprintf(name, sizeof name, "step%ld.embed.weight", s);
        if (trajectory && wanted(c, name)) {
            snprintf(name, sizeof name, "step%ld.", s);
            if ((st = save_params(o, &m, m.params, name, 0, &oc))) goto done;
        }
    }
    if (!trajectory) {
        float *gn = output_new(o, 1, "grad_norm");
        if (!gn) { st = MUON_ERR_NOMEM; goto done; }
        gn[0] = (float)opt.grad_norm;
        if ((st = save_params(o, &m, m.params, "param.", 0, &oc)) ||
            (st = save_params(o, &m, opt.momentum, "muon_m.", 1, &oc)) ||
            (st = save_params(o, &m, opt.momentum, "adam_m.", 2, &oc)) ||
            (st = save_params(o, &m, opt.adam_v, "adam_v.", 2, &oc)))
            goto done;
    }
done:
    if (st && st != MUON_ERR_NOMEM && st != MUON_ERR_FORMAT) muon_error_prefix(st, "case '%s': ", c->id);
    free(tok);
    free(tgt);
    if (have_opt) muon_optim_free(&opt);
    if (have_model) muon_model_free(&m);
    return st;
}

static int run_metrics(const conf_case *c, const muon_safetensors *in, outputs *o)
{
    const muon_tensor *W = muon_safetensors_find(in, "W"), *x[3];
    static const char *const names[3] = {"dW", "M", "O"};
    muon_metrics mt;
    int i, st;
    if (!W || W->ndim != 2) return muon_error(MUON_ERR_FORMAT, "case '%s': input W missing or not 2-D", c->id);
    for (i = 0; i < 3; i++) {
        x[i] = muon_safetensors_find(in, names[i]);
        if (x[i] && (x[i]->ndim != 2 || x[i]->shape[0] != W->shape[0] || x[i]->shape[1] != W->shape[1]))
            return muon_error(MUON_ERR_FORMAT, "case '%s': input %s is not shaped like W", c->id, names[i]);
    }
    st = muon_metrics_compute((int)W->shape[0], (int)W->shape[1], W->data, x[0] ? x[0]->data : NULL,
                              x[1] ? x[1]->data : NULL, x[2] ? x[2]->data : NULL, &mt);
    if (st) return muon_error_prefix(st, "case '%s': ", c->id);
    for (i = 0; i < MUON_METRIC_COUNT; i++) {
        float *v;
        if (!mt.have[i]) continue;
        if (!(v = output_new(o, 1, "%s", muon_metric_name(i)))) return MUON_ERR_NOMEM;
        v[0] = (float)mt.value[i];
    }
    return MUON_OK;
}

/* ---- the driver ------------------------------------------------------------ */

int conf_conform(const char *suite_dir, const char *out_path)
{
    conf_suite s;
    outputs *outs = NULL;
    muon_tensor *tensors = NULL;
    char **names = NULL;
    int st, i, j, count = 0, total = 0;
    static const char *const meta[] = {"format", CONF_FORMAT, "backend", "muon C " MUON_VERSION " (muon conform)", NULL};
    if ((st = conf_suite_load(suite_dir, &s))) return st;
    outs = calloc((size_t)s.n_cases, sizeof *outs);
    for (i = 0; i < s.n_cases; i++) total += s.cases[i].n_expected;
    tensors = calloc((size_t)total, sizeof *tensors);
    names = calloc((size_t)total, sizeof *names);
    if (!outs || !tensors || !names) { st = muon_error(MUON_ERR_NOMEM, "conform: out of memory"); goto done; }
    for (i = 0; i < s.n_cases && !st; i++) {
        const conf_case *c = &s.cases[i];
        muon_safetensors in;
        memset(&in, 0, sizeof in);
        if (c->has_inputs && (st = conf_case_read(&s, &c->inputs, &in))) break;
        if (!strcmp(c->op, "orthogonalize")) st = run_orth(c, &in, &outs[i]);
        else if (!strcmp(c->op, "muon_step")) st = run_muon(c, &in, &outs[i]);
        else if (!strcmp(c->op, "adamw_step")) st = run_adamw(c, &in, &outs[i]);
        else if (!strcmp(c->op, "lr_schedule")) st = run_schedule(c, &outs[i]);
        else if (!strcmp(c->op, "clip_grad_norm")) st = run_clip(c, &in, &outs[i]);
        else if (!strcmp(c->op, "model_step")) st = run_model(c, &in, &outs[i], 0);
        else if (!strcmp(c->op, "trajectory")) st = run_model(c, &in, &outs[i], 1);
        else if (!strcmp(c->op, "metrics")) st = run_metrics(c, &in, &outs[i]);
        else st = muon_error(MUON_ERR_FORMAT, "case '%s': unknown op '%s'", c->id, c->op);
        muon_safetensors_free(&in);
        for (j = 0; !st && j < c->n_expected; j++) {
            const conf_expected *e = &c->expected_t[j];
            const output *x = output_find(&outs[i], e->name);
            muon_tensor *t = &tensors[count];
            size_t L = strlen(c->id) + strlen(e->name) + 2;
            if (!x) { st = muon_error(MUON_ERR_FORMAT, "case '%s': this backend does not produce '%s'", c->id, e->name); break; }
            if (x->n != e->numel) {
                st = muon_error(MUON_ERR_FORMAT, "case '%s': '%s' has %lu values, the manifest's shape %lu", c->id,
                                e->name, (unsigned long)x->n, (unsigned long)e->numel);
                break;
            }
            if (!(names[count] = malloc(L))) { st = muon_error(MUON_ERR_NOMEM, "conform: out of memory"); break; }
            snprintf(names[count], L, "%s/%s", c->id, e->name);
            t->name = names[count];
            t->ndim = e->ndim;
            memcpy(t->shape, e->shape, sizeof t->shape);
            t->numel = e->numel;
            t->data = x->data;
            count++;
        }
    }
    if (!st) st = muon_safetensors_write(out_path, tensors, count, meta);
done:
    if (outs) for (i = 0; i < s.n_cases; i++) outputs_free(&outs[i]);
    if (names) for (i = 0; i < count; i++) free(names[i]);
    free(outs);
    free(names);
    free(tensors);
    conf_suite_free(&s);
    return st;
}
