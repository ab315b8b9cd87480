/* optim suite: Muon, AdamW, clipping and the LR schedule against PyTorch
 * (tests/golden/gen_optim.py, float32 torch 1.13), on plain tensors and on
 * three whole training steps of the tiny transformer. */
#include "test.h"
#include "train/data_parallel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; int rows, cols; } shapes[] = {
    {"wide", 8, 12}, {"tall", 12, 8}, {"square", 6, 6}};

/* Muon on plain tensors: three steps from fixed gradients. The
 * orthogonalisers run the same float32 iterations as the torch reference
 * (different GEMM summation order), so O agrees to a few float32 ulps times
 * the iteration's error growth: polar-express's first step (a = 8.2,
 * b = -22.5, c = 15.9) amplifies rounding most. Tolerances per output: O
 * entries are O(0.3), W = W0 (0.1 scale) - 0.02 O. */
static void muon_kernels(const muon_safetensors *f)
{
    static const struct {
        const char *run; muon_orth_kind orth; int ns; int nesterov; muon_mscale_kind scale; float wd;
        double o_rtol, o_atol; /* O's tolerance; W, delta scale it by lr */
    } runs[] = {
        {"pe", MUON_ORTH_POLAR_EXPRESS, 0, 1, MUON_MSCALE_DEFAULT, 0.1f, 1e-4, 1e-5},
        {"keller", MUON_ORTH_KELLER, 0, 1, MUON_MSCALE_DEFAULT, 0.1f, 1e-4, 1e-5},
        {"ns5", MUON_ORTH_NEWTON_SCHULZ, 5, 1, MUON_MSCALE_DEFAULT, 0.1f, 1e-4, 1e-5},
        {"ns3", MUON_ORTH_NEWTON_SCHULZ, 3, 1, MUON_MSCALE_DEFAULT, 0.1f, 1e-4, 1e-5},
        {"svd", MUON_ORTH_SVD, 0, 1, MUON_MSCALE_DEFAULT, 0.1f, 1e-4, 1e-5},
        {"plain", MUON_ORTH_POLAR_EXPRESS, 0, 0, MUON_MSCALE_MOONLIGHT, 0.1f, 1e-4, 1e-5},
        {"nowd", MUON_ORTH_POLAR_EXPRESS, 0, 1, MUON_MSCALE_DEFAULT, 0.0f, 1e-4, 1e-5},
    };
    const float *lrs = golden_get(f, "muon_lrs", 3);
    size_t r, k;
    int s;
    char name[128], what[160];
    if (!lrs) return;
    for (r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        muon_optim_config c;
        muon_optim_defaults(&c);
        c.orth = runs[r].orth;
        c.ns_steps = runs[r].ns;
        c.nesterov = runs[r].nesterov;
        c.scale = runs[r].scale;
        c.wd = runs[r].wd;
        for (k = 0; k < 3; k++) {
            int rows = shapes[k].rows, cols = shapes[k].cols;
            size_t n = (size_t)rows * cols;
            float W[144], M[144], O[144], D[144];
            const float *w0, *g, *want;
            int st = MUON_OK;
            double lr = lrs[2];
            sprintf(name, "init.%s", shapes[k].name);
            if (!(w0 = golden_get(f, name, n))) return;
            memcpy(W, w0, n * sizeof(float));
            memset(M, 0, sizeof M);
            for (s = 0; s < 3 && !st; s++) {
                sprintf(name, "grad%d.%s", s, shapes[k].name);
                if (!(g = golden_get(f, name, n))) return;
                st = muon_orthogonal_update(&c, lrs[s], rows, cols, W, g, M, O, D);
            }
            if (!check(st == MUON_OK, "muon %s %s (%dx%d): 3 steps run (%s)", runs[r].run, shapes[k].name,
                       rows, cols, st ? muon_last_error() : "ok"))
                continue;
#define CMP(field, buf, rtol, atol)                                                             \
            do {                                                                                \
                sprintf(name, "%s.%s.%s", runs[r].run, field, shapes[k].name);                  \
                sprintf(what, "muon %s %s %s vs torch", runs[r].run, shapes[k].name, field);    \
                if ((want = golden_get(f, name, n))) check_close(what, buf, want, n, rtol, atol); \
            } while (0)
            /* momentum is elementwise: only the float32 rounding of two ops */
            CMP("M", M, 1e-6, 1e-7);
            CMP("O", O, runs[r].o_rtol, runs[r].o_atol);
            /* W and delta move by lr*scale*O (<= 0.03*O): O's error scaled */
            CMP("D", D, runs[r].o_rtol, lr * 2 * runs[r].o_atol);
            CMP("W", W, 1e-6, lr * 2 * runs[r].o_atol);
#undef CMP
        }
    }
}

/* AdamW against torch.optim.AdamW itself: same float32 operation order, so
 * only sqrt/div rounding differs. */
static void adamw_kernels(const muon_safetensors *f)
{
    static const struct { const char *name; size_t n; } t[] = {{"vec", 50}, {"mat", 35}};
    const float *lrs = golden_get(f, "adam_lrs", 3);
    muon_optim_config c;
    size_t k;
    int s;
    char name[64], what[96];
    if (!lrs) return;
    muon_optim_defaults(&c);
    for (k = 0; k < 2; k++) {
        float W[64], m[64], v[64], D[64];
        const float *w0, *g, *want;
        size_t n = t[k].n;
        sprintf(name, "adam.init.%s", t[k].name);
        if (!(w0 = golden_get(f, name, n))) return;
        memcpy(W, w0, n * sizeof(float));
        memset(m, 0, sizeof m);
        memset(v, 0, sizeof v);
        for (s = 0; s < 3; s++) {
            sprintf(name, "adam.grad%d.%s", s, t[k].name);
            if (!(g = golden_get(f, name, n))) return;
            muon_adamw_update(&c, lrs[s], 0.1f, s + 1, n, W, g, m, v, D);
        }
#define CMP(field, buf, rtol, atol)                                                  \
        do {                                                                         \
            sprintf(name, "adam.%s.%s", field, t[k].name);                           \
            sprintf(what, "adamw %s %s vs torch.optim.AdamW", t[k].name, field);     \
            if ((want = golden_get(f, name, n))) check_close(what, buf, want, n, rtol, atol); \
        } while (0)
        CMP("W", W, 1e-6, 1e-8);
        CMP("m", m, 1e-6, 1e-8);
        CMP("v", v, 1e-6, 1e-9);
#undef CMP
    }
}

static void schedule(const muon_safetensors *f)
{
    const muon_tensor *t = muon_safetensors_find(f, "schedule");
    size_t i, rows, bad = 0;
    double max_err = 0;
    if (!check(t && t->ndim == 2 && t->shape[1] == 6, "schedule table present")) return;
    rows = (size_t)t->shape[0];
    for (i = 0; i < rows; i++) {
        const float *r = t->data + 6 * i; /* read back as float32 by muon_safetensors_read */
        double got = muon_lr_multiplier(r[0] ? MUON_SCHED_COSINE : MUON_SCHED_CONSTANT, (long)r[1],
                                        (long)r[2], (long)r[3], r[4]);
        double err = fabs(got - r[5]);
        if (err > max_err) max_err = err;
        /* the table is F64 read back as float32 (floors are exact in float): 1 float ulp */
        if (err > 1.2e-7 * fabs(r[5]) + 1e-9) bad++;
        if (r[1] == 1 && got <= 0) bad++; /* no lr-0 first step */
    }
    check(bad == 0, "lr schedule: %lu (step, warmup, total, floor) cases vs Python's formula, max err %.2e, step 1 never 0",
          (unsigned long)rows, max_err);
}

/* ---- whole training steps of the tiny model vs PyTorch ------------------- */

static int config_from_meta(const muon_safetensors *f, const char *run, muon_config *cfg)
{
    char key[64], buf[512], *tok, *save;
    const char *v;
    sprintf(key, "%s.config", run);
    v = muon_safetensors_meta(f, key);
    if (!v || strlen(v) >= sizeof buf) return muon_error(MUON_ERR_FORMAT, "no %s", key);
    strcpy(buf, v);
    if (muon_config_named("tiny", cfg)) return MUON_ERR_ARG;
    for (tok = strtok(buf, ","), save = NULL; tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        (void)save;
        if (!eq) return muon_error(MUON_ERR_FORMAT, "bad config item %s", tok);
        *eq = 0;
        if (muon_config_set(cfg, tok, eq + 1)) return MUON_ERR_FORMAT;
    }
    return muon_config_check(cfg);
}

static void train_steps(const muon_safetensors *f)
{
    /* Tolerances: the model's gradients match torch to ~1e-6 relative (see
     * the model suite); clipping and Muon's normalisation keep that scale, and
     * the orthogonaliser amplifies it as in the kernel test (observed: 6e-8 on
     * matrix entries of 0.02, 2.4e-7 on gains of 1.0). Parameters: rtol 1e-5
     * (gains), atol 5e-7 (matrix entries, ~8x the observed error). */
    static const struct { const char *run; int adamw; muon_orth_kind orth; double p_atol; } runs[] = {
        {"pe", 0, MUON_ORTH_POLAR_EXPRESS, 5e-7},
        {"keller", 0, MUON_ORTH_KELLER, 5e-7},
        {"ns", 0, MUON_ORTH_NEWTON_SCHULZ, 5e-7},
        {"svd", 0, MUON_ORTH_SVD, 5e-7},
        {"adamw", 1, MUON_ORTH_POLAR_EXPRESS, 5e-7},
        {"merged", 0, MUON_ORTH_POLAR_EXPRESS, 5e-7},
        {"swiglu_untied", 0, MUON_ORTH_POLAR_EXPRESS, 5e-7},
    };
    size_t r;
    for (r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        muon_config cfg;
        muon_model m;
        muon_optim o;
        muon_optim_config oc;
        char key[160], what[200];
        const char *init;
        int i, s, st, B, T, tok[512], tgt[512];
        float losses[3];
        const float *want;
        if (!check(config_from_meta(f, runs[r].run, &cfg) == MUON_OK, "train %s: config from golden metadata", runs[r].run))
            continue;
        sprintf(key, "%s.init", runs[r].run);
        init = muon_safetensors_meta(f, key);
        if (!init || muon_model_create(&m, &cfg)) { check(0, "train %s: model", runs[r].run); continue; }
        for (i = 0; i < m.n_tensors; i++) {
            const muon_param *p = &m.tensors[i];
            size_t n = (size_t)p->rows * p->cols;
            sprintf(key, "%s.init.%s", init, p->name);
            if (!(want = golden_get(f, key, n))) break;
            memcpy(m.params + p->offset, want, n * sizeof(float));
        }
        if (i < m.n_tensors) { muon_model_free(&m); continue; }
        muon_optim_defaults(&oc);
        oc.kind = runs[r].adamw ? MUON_OPT_ADAMW : MUON_OPT_MUON;
        oc.orth = runs[r].orth;
        oc.wd = 0.01f;
        if (muon_optim_create(&o, &oc, &m)) { check(0, "train %s: optimizer", runs[r].run); muon_model_free(&m); continue; }
        B = cfg.batch_size;
        T = cfg.seq_len;
        st = MUON_OK;
        for (s = 0; s < 3 && !st; s++) {
            const float *a, *b;
            sprintf(key, "tokens%d", s);
            a = golden_get(f, key, (size_t)B * T);
            sprintf(key, "targets%d", s);
            b = golden_get(f, key, (size_t)B * T);
            if (!a || !b) { st = MUON_ERR_FORMAT; break; }
            for (i = 0; i < B * T; i++) { tok[i] = (int)a[i]; tgt[i] = (int)b[i]; }
            muon_model_zero_grad(&m);
            st = muon_model_forward(&m, tok, tgt, B, T);
            if (!st) st = muon_model_backward(&m);
            losses[s] = m.loss;
            if (!st) st = muon_optim_step(&o, &m, muon_lr_multiplier(MUON_SCHED_CONSTANT, s + 1, 2, 3, 0.0));
        }
        if (check(st == MUON_OK, "train %s: 3 steps run (%s)", runs[r].run, st ? muon_last_error() : "ok")) {
            sprintf(key, "%s.loss", runs[r].run);
            sprintf(what, "train %s: losses of steps 1-3 vs torch", runs[r].run);
            if ((want = golden_get(f, key, 3))) check_close(what, losses, want, 3, 1e-6, 0);
            for (i = 0; i < m.n_tensors; i++) {
                const muon_param *p = &m.tensors[i];
                size_t n = (size_t)p->rows * p->cols;
                int muon = muon_optim_uses_muon(&oc, p);
                sprintf(key, "%s.param.%s", runs[r].run, p->name);
                sprintf(what, "train %s: %s after 3 steps", runs[r].run, p->name);
                if ((want = golden_get(f, key, n))) check_close(what, m.params + p->offset, want, n, 1e-5, runs[r].p_atol);
                sprintf(key, "%s.%s.%s", runs[r].run, muon ? "muon_m" : "adam_m", p->name);
                if (!muon_safetensors_find(f, key)) continue; /* state kept for some runs only */
                sprintf(what, "train %s: %s %s", runs[r].run, muon ? "Muon momentum" : "AdamW m", p->name);
                /* the momentum is a gradient average (entries 1e-5..1e-3): the model's
                 * gradient tolerance; observed max abs 4e-9 */
                if ((want = golden_get(f, key, n))) check_close(what, o.momentum + p->offset, want, n, 1e-4, 5e-8);
                if (muon) continue;
                sprintf(key, "%s.adam_v.%s", runs[r].run, p->name);
                sprintf(what, "train %s: AdamW v %s", runs[r].run, p->name);
                /* squared gradients: twice the relative error; observed max abs 2.3e-10 */
                if ((want = golden_get(f, key, n))) check_close(what, o.adam_v + p->offset, want, n, 2e-4, 2e-9);
            }
        }
        muon_optim_free(&o);
        muon_model_free(&m);
    }
}

/* ---- properties that need no reference ----------------------------------- */

static void routing_and_clipping(void)
{
    muon_config cfg;
    muon_model m;
    muon_optim o;
    muon_optim_config oc;
    float *before;
    int i, n_muon = 0, n_adam = 0, ok = 1, st;
    size_t j;
    double norm;
    if (muon_config_named("tiny", &cfg) || muon_config_set(&cfg, "untied_head", "1") ||
        muon_config_set(&cfg, "ffn", "swiglu") || muon_model_create(&m, &cfg)) {
        check(0, "tiny model: %s", muon_last_error());
        return;
    }
    muon_model_init(&m, 5);
    muon_optim_defaults(&oc);
    for (i = 0; i < m.n_tensors; i++) {
        const muon_param *p = &m.tensors[i];
        int want = p->role == MUON_ROLE_MATRIX;
        if (muon_optim_uses_muon(&oc, p) != want) ok = 0;
        if (want) n_muon++; else n_adam++;
    }
    check(ok && n_muon == cfg.n_layers * 7 && n_adam == 2 + 1 + 4 * cfg.n_layers,
          "routing: %d matrices to Muon (q,k,v,o,up,down,gate per layer), %d tensors (embed, head, gains) to AdamW",
          n_muon, n_adam);
    oc.kind = MUON_OPT_ADAMW;
    for (i = 0, ok = 1; i < m.n_tensors; i++) if (muon_optim_uses_muon(&oc, &m.tensors[i])) ok = 0;
    check(ok, "routing: --optimizer adamw sends every tensor to AdamW");

    /* clipping: gradients of norm 10 come out with norm clip/(10+1e-6)*10 */
    oc.kind = MUON_OPT_ADAMW; /* no orthogonaliser needed for this check */
    st = muon_optim_create(&o, &oc, &m);
    before = muon_alloc(m.num_params * sizeof(float));
    if (st || !before) { check(0, "optimizer: %s", muon_last_error()); muon_model_free(&m); return; }
    test_fill_random(m.grads, m.num_params, 9);
    norm = muon_norm2(m.grads, m.num_params);
    muon_scale((float)(10.0 / norm), m.grads, m.num_params);
    norm = muon_grad_norm(m.grads, m.num_params);
    memcpy(before, m.params, m.num_params * sizeof(float));
    st = muon_optim_step(&o, &m, 1.0);
    check(st == MUON_OK && fabs(o.grad_norm - norm) < 1e-12 * norm, "clip: reports the pre-clip norm %.6f", o.grad_norm);
    check_near("clip: gradient norm after clipping to 1.0", muon_grad_norm(m.grads, m.num_params),
               1.0 / (norm + 1e-6) * norm, 1e-6, 0);
    for (j = 0, ok = 1; j < m.num_params; j++) {
        /* the difference as a float: compared unrounded, x87's extra
         * precision would make an exact float delta look wrong */
        float d = m.params[j] - before[j];
        if (o.delta[j] != d) ok = 0;
    }
    check(ok, "delta is exactly W after - W before for every parameter");
    check(o.t == 1, "optimizer step count is 1 after one step");

    /* a non-finite gradient: numeric error, parameters untouched */
    memcpy(before, m.params, m.num_params * sizeof(float));
    m.grads[3] = NAN;
    st = muon_optim_step(&o, &m, 1.0);
    check(st == MUON_ERR_NUMERIC && !memcmp(before, m.params, m.num_params * sizeof(float)) && o.t == 1,
          "NaN gradient: MUON_ERR_NUMERIC, parameters and step count untouched (%s)", muon_last_error());
    check_near("grad norm of (3,4) is 5", muon_grad_norm((const float[]){3.0f, 4.0f}, 2), 5.0, 0, 0);
    muon_free(before);
    muon_optim_free(&o);
    muon_model_free(&m);
}

static void bad_settings(void)
{
    muon_config cfg;
    muon_model m;
    muon_optim o;
    muon_optim_config oc;
    muon_orth_kind k;
    if (muon_config_named("tiny", &cfg) || muon_model_create(&m, &cfg)) { check(0, "tiny model"); return; }
    muon_optim_defaults(&oc);
    oc.lr = -1;
    check(muon_optim_create(&o, &oc, &m) == MUON_ERR_ARG, "optimizer refuses lr -1: %s", muon_last_error());
    muon_optim_defaults(&oc);
    oc.momentum = 1.0f;
    check(muon_optim_create(&o, &oc, &m) == MUON_ERR_ARG, "optimizer refuses momentum 1: %s", muon_last_error());
    muon_alloc_fail_after(2);
    muon_optim_defaults(&oc);
    check(muon_optim_create(&o, &oc, &m) == MUON_ERR_NOMEM && o.momentum == NULL,
          "optimizer: out of memory reported, nothing leaked (state zeroed)");
    muon_alloc_fail_after(0);
    check(muon_orth_parse("bogus", &k) == MUON_ERR_ARG, "unknown orthogonaliser name refused");
    check(muon_update_scale(MUON_MSCALE_DEFAULT, 512, 128) == 2.0f && muon_update_scale(MUON_MSCALE_DEFAULT, 128, 512) == 1.0f,
          "Muon scale sqrt(max(1, rows/cols)): 2 for 512x128, 1 for 128x512");
    check(fabs(muon_update_scale(MUON_MSCALE_MOONLIGHT, 128, 512) - 0.2 * sqrt(512.0)) < 1e-6,
          "Moonlight scale 0.2*sqrt(max(rows, cols))");
    muon_model_free(&m);
}

/* Nothing is allocated inside a step: after one warm-up step (GEMM's packing
 * buffers are cached from the first call on), an injected failure at the
 * next allocation must not be hit by forward, backward or the optimizer. */
static void step_allocates_nothing(void)
{
    static const muon_orth_kind kinds[] = {MUON_ORTH_POLAR_EXPRESS, MUON_ORTH_SVD};
    int k;
    /* one thread: with several, the per-matrix Muon loop hands matrices to
     * threads dynamically and GEMM's shared packing pool gives each call the
     * free buffer that fits best at that moment, so which buffer grows (once,
     * to the largest matrix) depends on timing; one thread makes the check
     * deterministic (docs/determinism.md) */
    int threads0 = muon_threads();
    muon_set_threads(1);
    for (k = 0; k < 4; k++) { /* {polar express, svd} x {one pass, the per-sequence tree} */
        int tree = k >= 2;
        muon_config cfg;
        muon_model m;
        muon_shard sh;
        muon_dp dp;
        muon_optim o;
        muon_optim_config oc;
        int tok[2 * 16], tgt[2 * 16], i, st, s;
        if (muon_config_named("tiny", &cfg) || muon_model_create(&m, &cfg)) { check(0, "tiny model"); return; }
        muon_model_init(&m, 3);
        muon_optim_defaults(&oc);
        oc.orth = kinds[k % 2];
        if (muon_optim_create(&o, &oc, &m)) { check(0, "optimizer: %s", muon_last_error()); muon_model_free(&m); return; }
        if (muon_shard_create(&sh, &m) || muon_dp_create(&dp, &sh, &m, 2, 16)) {
            check(0, "gradient tree: %s", muon_last_error());
            muon_optim_free(&o);
            muon_model_free(&m);
            return;
        }
        for (i = 0; i < 32; i++) { tok[i] = (i * 7) % 256; tgt[i] = (i * 11) % 256; }
        for (s = 0, st = MUON_OK; s < 3 && !st; s++) {
            if (s == 1) muon_alloc_fail_after(1);
            if (tree) {
                st = muon_dp_gradient(&dp, &m, tok, tgt);
                if (!st) st = muon_optim_step_shard(&o, &m, 1.0, &sh);
                if (!st) st = muon_shard_share_tensors(&sh, &m, m.params, -1);
                continue;
            }
            muon_model_zero_grad(&m);
            st = muon_model_forward(&m, tok, tgt, 2, 16);
            if (!st) st = muon_model_backward(&m);
            if (!st) st = muon_optim_step(&o, &m, 1.0);
        }
        /* still armed means no allocation reached it */
        {
            void *p = muon_alloc(1);
            check(st == MUON_OK && p == NULL,
                  "%s, %s: gradient and optimizer steps 2 and 3 allocate nothing (%s)",
                  muon_orth_name(kinds[k % 2]), tree ? "--reduce tree" : "--reduce batch", st ? muon_last_error() : "ok");
            muon_free(p);
        }
        muon_alloc_fail_after(0);
        muon_dp_free(&dp);
        muon_shard_free(&sh);
        muon_optim_free(&o);
        muon_model_free(&m);
    }
    muon_set_threads(threads0);
}

void suite_optim(void)
{
    step_allocates_nothing();
    muon_safetensors f;
    if (!golden_open("optim_kernels.safetensors", &f)) {
        muon_kernels(&f);
        adamw_kernels(&f);
        schedule(&f);
        muon_safetensors_free(&f);
    }
    if (!golden_open("optim_train.safetensors", &f)) {
        train_steps(&f);
        muon_safetensors_free(&f);
    }
    routing_and_clipping();
    bad_settings();
}
