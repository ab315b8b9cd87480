/* Suite `model`: the whole model (model/model.c) -- parameter layout, init,
 * forward and backward against PyTorch (golden files from
 * tests/golden/gen_model.py), finite differences, thread-count determinism,
 * causality and bad arguments. */
#include "test.h"
#include "train/data_parallel.h"
#include "model/layers.h"
#include "model/experiments.h" /* muon_model_set_bf16 */
#include "model/model_internal.h" /* packed weights */

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

static int make_model(muon_model *m, const char *preset, const char *const *kv)
{
    muon_config c;
    int st = muon_config_named(preset, &c);
    for (; !st && kv && kv[0]; kv += 2) st = muon_config_set(&c, kv[0], kv[1]);
    if (!st) st = muon_model_create(m, &c);
    if (st) check(0, "create model %s: %s", preset, muon_last_error());
    return st;
}

static void random_batch(int *tok, int *tgt, int n, int V, uint64_t seed)
{
    muon_rng r;
    int i;
    muon_rng_seed(&r, seed);
    for (i = 0; i < n; i++) {
        tok[i] = (int)muon_rng_below(&r, (uint64_t)V);
        tgt[i] = (int)muon_rng_below(&r, (uint64_t)V);
    }
}

/* Gains off 1 and a larger init, so every parameter matters to the loss */
static void perturb_gains(muon_model *m, uint64_t seed)
{
    muon_rng r;
    int i;
    size_t j;
    muon_rng_seed(&r, seed);
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        if (p->role != MUON_ROLE_GAIN) continue;
        for (j = 0; j < (size_t)p->cols; j++)
            m->params[p->offset + j] = 1.0f + 0.2f * (float)muon_rng_normal(&r);
    }
}

/* ---- layout, count, tracked, init ---------------------------------------- */

static void test_layout(void)
{
    static const char *const variants[][12] = {
        {NULL},
        {"ffn", "swiglu", NULL},
        {"untied_head", "1", NULL},
        {"merged_qkvo", "1", NULL},
        {"ffn", "swiglu", "untied_head", "1", "merged_qkvo", "1", "n_kv_heads", "1", NULL},
        {"d_model", "48", "n_heads", "3", "n_kv_heads", "3", "d_ff", "40", "n_layers", "3", NULL},
    };
    size_t v;
    int all_ok = 1;
    for (v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        muon_model m;
        muon_tracked tr[64];
        int i, nt, ok = 1, expect_tracked;
        size_t off = 0;
        if (make_model(&m, "tiny", variants[v])) return;
        for (i = 0; i < m.n_tensors; i++) {
            const muon_param *p = &m.tensors[i];
            if (p->offset != off) ok = 0;
            off += (size_t)p->rows * p->cols;
            if (muon_model_find(&m, p->name) != p) ok = 0;
        }
        nt = muon_model_tracked(&m, tr, 64);
        expect_tracked = m.cfg.n_layers * (4 + 2 + (m.cfg.ffn == MUON_FFN_SWIGLU));
        check(ok && off == m.num_params && m.num_params == muon_config_param_count(&m.cfg) &&
              nt == expect_tracked && muon_model_tracked(&m, NULL, 0) == nt,
              "layout variant %lu: %d tensors contiguous, %lu params = closed form %lu, %d tracked",
              (unsigned long)v, m.n_tensors, (unsigned long)m.num_params,
              (unsigned long)muon_config_param_count(&m.cfg), nt);
        /* tracked slices: Q,K,V,O,UP,DOWN(,GATE) per layer, shapes [out,in] */
        for (i = 0; i < nt && i < 64; i++) {
            int HS = m.cfg.d_model / m.cfg.n_heads;
            int rows = tr[i].kind == MUON_MAT_Q ? m.cfg.n_heads * HS
                     : tr[i].kind == MUON_MAT_K || tr[i].kind == MUON_MAT_V ? m.cfg.n_kv_heads * HS
                     : tr[i].kind == MUON_MAT_O || tr[i].kind == MUON_MAT_DOWN ? m.cfg.d_model : m.cfg.d_ff;
            int cols = tr[i].kind == MUON_MAT_DOWN ? m.cfg.d_ff : m.cfg.d_model;
            if (tr[i].rows != rows || tr[i].cols != cols || tr[i].offset + (size_t)rows * cols > m.num_params)
                all_ok = 0;
        }
        muon_model_free(&m);
    }
    check(all_ok, "tracked matrices have [out,in] shapes inside params for every variant");
    {
        /* bigger presets: layout only, so shrink the activations */
        static const char *const small[] = {"seq_len", "4", "batch_size", "1", NULL};
        const char *presets[] = {"nano", "blueberry-nano"};
        for (v = 0; v < 2; v++) {
            muon_model m;
            if (make_model(&m, presets[v], small)) return;
            check(m.num_params == muon_config_param_count(&m.cfg),
                  "param count %s: layout %lu = closed form", presets[v], (unsigned long)m.num_params);
            muon_model_free(&m);
        }
    }
    {
        /* merged and separate: same floats, same tracked offsets, same init */
        static const char *const merged[] = {"merged_qkvo", "1", NULL};
        muon_model a, b;
        muon_tracked ta[16], tb[16];
        int na, nb, i, same = 1;
        if (make_model(&a, "tiny", NULL)) return;
        if (make_model(&b, "tiny", merged)) { muon_model_free(&a); return; }
        muon_model_init(&a, 7);
        muon_model_init(&b, 7);
        na = muon_model_tracked(&a, ta, 16);
        nb = muon_model_tracked(&b, tb, 16);
        for (i = 0; i < na && i < 16; i++)
            if (ta[i].offset != tb[i].offset || ta[i].kind != tb[i].kind || ta[i].rows != tb[i].rows) same = 0;
        check(na == nb && same && a.num_params == b.num_params &&
              !memcmp(a.params, b.params, a.num_params * sizeof(float)) &&
              muon_model_find(&b, "layers.1.attn.qkvo.weight") && !muon_model_find(&b, "layers.1.attn.q.weight"),
              "merged_qkvo: same init and tracked Q,K,V,O slices as separate matrices");
        muon_model_free(&a);
        muon_model_free(&b);
    }
}

static void test_init(void)
{
    muon_model a, b;
    int i, gains_one = 1;
    double s = 0, s2 = 0;
    const muon_param *e;
    size_t j, n;
    if (make_model(&a, "tiny", NULL)) return;
    if (make_model(&b, "tiny", NULL)) { muon_model_free(&a); return; }
    muon_model_init(&a, 42);
    muon_model_init(&b, 42);
    check(!memcmp(a.params, b.params, a.num_params * sizeof(float)), "init: the same seed gives the same weights");
    muon_model_init(&b, 43);
    check(memcmp(a.params, b.params, a.num_params * sizeof(float)) != 0, "init: another seed gives other weights");
    for (i = 0; i < a.n_tensors; i++)
        if (a.tensors[i].role == MUON_ROLE_GAIN)
            for (j = 0; j < (size_t)a.tensors[i].cols; j++)
                if (a.params[a.tensors[i].offset + j] != 1.0f) gains_one = 0;
    check(gains_one, "init: every gain is 1");
    e = muon_model_find(&a, "embed.weight");
    n = (size_t)e->rows * e->cols;
    for (j = 0; j < n; j++) { s += a.params[e->offset + j]; s2 += (double)a.params[e->offset + j] * a.params[e->offset + j]; }
    /* 8192 draws: the sample std is within 3% of 0.02 (~4 sigma), the mean within 4 sigma of 0 */
    check(fabs(sqrt(s2 / n) - 0.02) < 0.02 * 0.03 && fabs(s / n) < 4 * 0.02 / sqrt((double)n),
          "init: embedding mean %.2e, std %.5f (want 0, 0.02)", s / n, sqrt(s2 / n));
    muon_model_free(&a);
    muon_model_free(&b);
}

/* ---- golden: the whole model against PyTorch ------------------------------- */

/* The gradient of --reduce tree (train/data_parallel.h: one forward and
 * backward per sequence, summed in the fixed tree, then / B) against the
 * same PyTorch gradients, held to the same tolerances as the one-pass
 * gradient: it differs from it only in the order of the batch sums. */
static void test_golden_tree(const char *file, const muon_safetensors *f, muon_model *m,
                             const int *tok, const int *tgt)
{
    muon_shard sh;
    muon_dp dp;
    char name[96];
    const float *want;
    int i, st = muon_shard_create(&sh, m);
    if (!st) st = muon_dp_create(&dp, &sh, m, m->cfg.batch_size, m->cfg.seq_len);
    if (!check(st == MUON_OK, "%s: the gradient tree of %d sequences (%s)", file, m->cfg.batch_size,
               st ? muon_last_error() : "ok")) {
        if (sh.owner) muon_shard_free(&sh);
        return;
    }
    st = muon_dp_gradient(&dp, m, tok, tgt);
    if (check(st == MUON_OK, "%s: tree gradient (%s)", file, st ? muon_last_error() : "ok")) {
        if ((want = golden_get(f, "loss", 1))) {
            snprintf(name, sizeof name, "%s tree: loss (mean of sequence losses) vs PyTorch", file);
            check_near(name, m->loss, want[0], 2e-6, 0);
        }
        for (i = 0; i < m->n_tensors; i++) {
            const muon_param *p = &m->tensors[i];
            size_t n = (size_t)p->rows * p->cols, j;
            const float *g;
            double gmax = 0;
            snprintf(name, sizeof name, "grad.%s", p->name);
            if (!(g = golden_get(f, name, n))) continue;
            for (j = 0; j < n; j++) if (fabs(g[j]) > gmax) gmax = fabs(g[j]);
            snprintf(name, sizeof name, "%s tree grad %s vs PyTorch", file, p->name);
            check_close(name, m->grads + p->offset, g, n, 1e-4, 2e-5 * gmax);
        }
    }
    muon_dp_free(&dp);
    muon_shard_free(&sh);
}

static void test_golden(const char *file)
{
    muon_safetensors f;
    muon_config c;
    muon_model m;
    int i, st, N, ok = 1;
    const float *tokf, *tgtf, *want;
    int *tok = NULL, *tgt = NULL;
    char name[96];
    if (golden_open(file, &f)) return;
    muon_config_named("tiny", &c);
    for (i = 0; i < f.meta_count; i++)
        if (!strncmp(f.meta_keys[i], "config.", 7) &&
            (st = muon_config_set(&c, f.meta_keys[i] + 7, f.meta_values[i]))) {
            check(0, "%s: config %s", file, muon_last_error());
            muon_safetensors_free(&f);
            return;
        }
    if ((st = muon_model_create(&m, &c))) {
        check(0, "%s: create: %s", file, muon_last_error());
        muon_safetensors_free(&f);
        return;
    }
    N = c.batch_size * c.seq_len;
    {
        const char *pc = muon_safetensors_meta(&f, "param_count");
        check(pc && strtoul(pc, NULL, 10) == muon_config_param_count(&c) && m.num_params == muon_config_param_count(&c),
              "%s: parameter count %lu = PyTorch's %s", file, (unsigned long)m.num_params, pc ? pc : "(missing)");
    }
    for (i = 0; i < m.n_tensors && ok; i++) {
        const muon_param *p = &m.tensors[i];
        const float *w = golden_get(&f, p->name, (size_t)p->rows * p->cols);
        if (!w) ok = 0;
        else memcpy(m.params + p->offset, w, (size_t)p->rows * p->cols * sizeof(float));
    }
    tokf = golden_get(&f, "tokens", (size_t)N);
    tgtf = golden_get(&f, "targets", (size_t)N);
    tok = malloc((size_t)N * sizeof(int));
    tgt = malloc((size_t)N * sizeof(int));
    if (!ok || !tokf || !tgtf || !tok || !tgt) goto done;
    for (i = 0; i < N; i++) { tok[i] = (int)tokf[i]; tgt[i] = (int)tgtf[i]; }
    muon_model_zero_grad(&m);
    st = muon_model_forward(&m, tok, tgt, c.batch_size, c.seq_len);
    if (st) { check(0, "%s: forward: %s", file, muon_last_error()); goto done; }
    /* logits are O(1) sums of 32 products after 2 layers: float32 rounding
     * in another summation order gives ~1e-6 abs */
    snprintf(name, sizeof name, "%s logits vs PyTorch", file);
    if ((want = golden_get(&f, "logits", (size_t)N * c.vocab_size)))
        check_close(name, muon_model_logits(&m), want, (size_t)N * c.vocab_size, 1e-5, 1e-6);
    if ((want = golden_get(&f, "loss", 1))) {
        snprintf(name, sizeof name, "%s loss vs PyTorch", file);
        check_near(name, m.loss, want[0], 2e-6, 0);
    }
    st = muon_model_backward(&m);
    if (st) { check(0, "%s: backward: %s", file, muon_last_error()); goto done; }
    for (i = 0; i < m.n_tensors; i++) {
        const muon_param *p = &m.tensors[i];
        size_t n = (size_t)p->rows * p->cols;
        const float *g;
        double gmax = 0;
        size_t j;
        snprintf(name, sizeof name, "grad.%s", p->name);
        if (!(g = golden_get(&f, name, n))) continue;
        for (j = 0; j < n; j++) if (fabs(g[j]) > gmax) gmax = fabs(g[j]);
        /* per tensor: 1e-4 relative to each entry plus 2e-5 of the tensor's
         * largest entry (entries near 0 are differences of O(gmax) terms) */
        snprintf(name, sizeof name, "%s grad %s vs PyTorch", file, p->name);
        check_close(name, m.grads + p->offset, g, n, 1e-4, 2e-5 * gmax);
    }
    test_golden_tree(file, &f, &m, tok, tgt);
done:
    free(tok);
    free(tgt);
    muon_model_free(&m);
    muon_safetensors_free(&f);
}

/* ---- finite differences ---------------------------------------------------- */

/* The loss in double from the float32 logits, so the difference quotient
 * is not swamped by the rounding of m->loss (a float near 5.5). */
static double loss_d(muon_model *m, const int *tok, const int *tgt, int B, int T)
{
    const float *z;
    double loss = 0;
    int r, j, V = m->cfg.vocab_size;
    muon_model_forward(m, tok, tgt, B, T);
    z = muon_model_logits(m);
    for (r = 0; r < B * T; r++) {
        double mx = z[(size_t)r * V], s = 0;
        for (j = 1; j < V; j++) if (z[(size_t)r * V + j] > mx) mx = z[(size_t)r * V + j];
        for (j = 0; j < V; j++) s += exp(z[(size_t)r * V + j] - mx);
        loss += mx + log(s) - z[(size_t)r * V + tgt[r]];
    }
    return loss / (B * T);
}

/* B, T: the batch shape (0: the config's full one) */
static void test_finite_diff(const char *label, const char *const *kv, int B, int T)
{
    muon_model m;
    int i, *tok, *tgt;
    if (make_model(&m, "tiny", kv)) return;
    if (!B) B = m.cfg.batch_size;
    if (!T) T = m.cfg.seq_len;
    tok = malloc((size_t)B * T * sizeof(int));
    tgt = malloc((size_t)B * T * sizeof(int));
    if (!tok || !tgt) { check(0, "fd: out of memory"); goto done; }
    muon_model_init(&m, 5);
    perturb_gains(&m, 6);
    random_batch(tok, tgt, B * T, m.cfg.vocab_size, 8);
    muon_model_zero_grad(&m);
    muon_model_forward(&m, tok, tgt, B, T);
    muon_model_backward(&m);
    for (i = 0; i < m.n_tensors; i++) {
        const muon_param *p = &m.tensors[i];
        size_t n = (size_t)p->rows * p->cols, j, picks[4];
        double worst = 0, gmax = 0, tol_abs, eps;
        int k, bad = 0;
        float maxg = 0;
        /* the largest gradient entry and three spread-out ones */
        picks[0] = 0;
        for (j = 0; j < n; j++)
            if (fabsf(m.grads[p->offset + j]) > maxg) { maxg = fabsf(m.grads[p->offset + j]); picks[0] = j; }
        picks[1] = n / 3; picks[2] = (2 * n) / 3 + 1 < n ? (2 * n) / 3 + 1 : n - 1; picks[3] = n - 1;
        gmax = maxg;
        /* step: 2e-2 of the gains (~1), 0.1 of the matrices (~0.02). Central
         * differences err by eps^2 f'''/6 (~1e-4 relative here) and by the
         * float32 rounding of the logits (~1e-8 in the loss) over 2 eps:
         * hence 1e-2 relative plus a 1e-5 floor. */
        eps = p->role == MUON_ROLE_GAIN ? 2e-2 : 2e-3;
        tol_abs = 2e-3 * gmax + 1e-5;
        for (k = 0; k < 4; k++) {
            float *w = m.params + p->offset + picks[k], w0 = *w;
            double lp, lm, fd, g = m.grads[p->offset + picks[k]], err;
            *w = (float)(w0 + eps);
            lp = loss_d(&m, tok, tgt, B, T);
            *w = (float)(w0 - eps);
            lm = loss_d(&m, tok, tgt, B, T);
            *w = w0;
            /* the step actually taken, in float */
            fd = (lp - lm) / ((double)(float)(w0 + eps) - (double)(float)(w0 - eps));
            err = fabs(fd - g);
            if (err > worst) worst = err;
            if (err > tol_abs + 1e-2 * fabs(g)) bad++;
        }
        check(!bad, "finite differences %s %s: 4 entries, max |fd - grad| %.2e (tol 1e-2 rel + %.1e abs; max |grad| %.2e)",
              label, p->name, worst, tol_abs, gmax);
    }
done:
    free(tok);
    free(tgt);
    muon_model_free(&m);
}

/* ---- determinism, causality, bad arguments --------------------------------- */

static void test_threads(void)
{
    /* big enough that every loop of model/ runs parallel (>= MUON_PAR_MIN
     * elements: B*T*NKV*HS = 512*2*32 is the smallest) */
    static const char *const kv[] = {"d_model", "128", "n_layers", "2", "n_heads", "4", "n_kv_heads", "2",
                                     "d_ff", "128", "seq_len", "128", "batch_size", "4", "ffn", "swiglu", NULL};
    muon_model m;
    int B, T, *tok, *tgt, saved = muon_threads();
    float *g1, *l1, loss1;
    if (make_model(&m, "tiny", kv)) return;
    B = m.cfg.batch_size; T = m.cfg.seq_len;
    tok = malloc((size_t)B * T * sizeof(int));
    tgt = malloc((size_t)B * T * sizeof(int));
    g1 = malloc(m.num_params * sizeof(float));
    l1 = malloc((size_t)B * T * m.cfg.vocab_size * sizeof(float));
    if (!threads_begin("forward+backward")) {
        /* skipped: built without OpenMP */
    } else if (tok && tgt && g1 && l1) {
        muon_model_init(&m, 11);
        perturb_gains(&m, 12);
        random_batch(tok, tgt, B * T, m.cfg.vocab_size, 13);
        muon_set_threads(1);
        muon_model_zero_grad(&m);
        muon_model_forward(&m, tok, tgt, B, T);
        muon_model_backward(&m);
        loss1 = m.loss;
        memcpy(g1, m.grads, m.num_params * sizeof(float));
        memcpy(l1, muon_model_logits(&m), (size_t)B * T * m.cfg.vocab_size * sizeof(float));
        muon_set_threads(2);
        muon_model_zero_grad(&m);
        muon_model_forward(&m, tok, tgt, B, T);
        muon_model_backward(&m);
        check(loss1 == m.loss && !memcmp(g1, m.grads, m.num_params * sizeof(float)) &&
              !memcmp(l1, muon_model_logits(&m), (size_t)B * T * m.cfg.vocab_size * sizeof(float)),
              "forward+backward bit-identical with 1 and 2 threads (loss, logits, %lu grads)",
              (unsigned long)m.num_params);
        threads_end();
    } else {
        threads_end();
        check(0, "threads test: out of memory");
    }
    (void)saved;
    free(tok); free(tgt); free(g1); free(l1);
    muon_model_free(&m);
}

static void test_causal_and_accumulate(void)
{
    muon_model m;
    int B, T, V, *tok, *tgt, t, b, ok = 1;
    float *full, *g1;
    size_t i;
    if (make_model(&m, "tiny", NULL)) return;
    B = m.cfg.batch_size; T = m.cfg.seq_len; V = m.cfg.vocab_size;
    tok = malloc((size_t)B * T * sizeof(int));
    tgt = malloc((size_t)B * T * sizeof(int));
    full = malloc((size_t)B * T * V * sizeof(float));
    g1 = malloc(m.num_params * sizeof(float));
    if (!tok || !tgt || !full || !g1) { check(0, "causal test: out of memory"); goto done; }
    muon_model_init(&m, 21);
    random_batch(tok, tgt, B * T, V, 22);
    muon_model_forward(&m, tok, tgt, B, T);
    memcpy(full, muon_model_logits(&m), (size_t)B * T * V * sizeof(float));
    /* changing the last token of sequence 0 leaves every earlier logit alone */
    tok[T - 1] = (tok[T - 1] + 1) % V;
    muon_model_forward(&m, tok, tgt, B, T);
    for (t = 0; t < T - 1; t++)
        for (i = 0; i < (size_t)V; i++)
            if (muon_model_logits(&m)[(size_t)t * V + i] != full[(size_t)t * V + i]) ok = 0;
    check(ok, "causal: changing token T-1 leaves the logits of positions < T-1 bit-identical");
    tok[T - 1] = (tok[T - 1] + V - 1) % V;
    {
        /* a shorter run (B=1, T/2) gives the first half of sequence 0's logits */
        int Th = T / 2;
        float maxd = 0;
        muon_model_forward(&m, tok, tgt, 1, Th);
        for (t = 0; t < Th; t++)
            for (i = 0; i < (size_t)V; i++) {
                float d = fabsf(muon_model_logits(&m)[(size_t)t * V + i] - full[(size_t)t * V + i]);
                if (d > maxd) maxd = d;
            }
        (void)b;
        check(maxd <= 1e-5f, "B=1, T=%d forward matches the first positions of the full run (max abs diff %.2e, tol 1e-5)", Th, maxd);
    }
    /* backward accumulates: two backward passes give twice one */
    muon_model_zero_grad(&m);
    muon_model_forward(&m, tok, tgt, B, T);
    muon_model_backward(&m);
    memcpy(g1, m.grads, m.num_params * sizeof(float));
    muon_model_backward(&m);
    for (i = 0; i < m.num_params; i++) g1[i] *= 2.0f;
    /* exact where the B*T tokens fit the GEMM's K block (g + g = 2g: each
     * gradient is added once, finished, docs/model.md); beyond it the GEMMs
     * add to the stored values one K block at a time */
    if (B * T <= muon_gemm_k_block())
        check_close("backward accumulates into grads (twice = 2x one)", m.grads, g1, m.num_params, 0.0, 0.0);
    else
        check_close("backward accumulates into grads (twice = 2x one)", m.grads, g1, m.num_params, 1e-5, 1e-9);
done:
    free(tok); free(tgt); free(full); free(g1);
    muon_model_free(&m);
}

/* The model variants of test_backward_set and test_packed: between them,
 * every kind of parameter write (GEMM weights, gains, a tied and an untied
 * head, a merged [Q;K;V;O], bf16 inputs). */
typedef struct { const char *label; const char *const *kv; int bf16; } model_case;
static const char *const kv_plain[] = {NULL};
static const char *const kv_swiglu[] = {"ffn", "swiglu", "untied_head", "1", NULL};
static const char *const kv_merged[] = {"merged_qkvo", "1", "n_kv_heads", "1", NULL};
enum { N_WRITE_CASES = 4 };
static const model_case write_cases[N_WRITE_CASES] = {
    {"tiny", kv_plain, 0}, {"swiglu+untied", kv_swiglu, 0}, {"merged+MQA", kv_merged, 0}, {"tiny bf16", kv_plain, 1}};

/* backward_set overwrites every gradient: on grads filled with NaN it gives
 * what zero_grad + backward gives, element for element (== lets an exact
 * zero differ in sign, which is all SET may change), for each kind of
 * parameter write: GEMM weights, gains, the tied head's embedding (added
 * after the head's SET), the untied embedding (zeroed first), bf16 inputs. */
static void test_backward_set(void)
{
    const model_case *cases = write_cases;
    int c;
    for (c = 0; c < N_WRITE_CASES; c++) {
        muon_model m;
        int B, T, V, *tok = NULL, *tgt = NULL, st;
        float *want = NULL;
        size_t i, bad = 0;
        if (make_model(&m, "tiny", cases[c].kv)) continue;
        B = m.cfg.batch_size; T = m.cfg.seq_len; V = m.cfg.vocab_size;
        tok = malloc((size_t)B * T * sizeof(int));
        tgt = malloc((size_t)B * T * sizeof(int));
        want = malloc(m.num_params * sizeof(float));
        st = !tok || !tgt || !want ? MUON_ERR_NOMEM : cases[c].bf16 ? muon_model_set_bf16(&m) : MUON_OK;
        if (st) { check(0, "backward_set %s: out of memory", cases[c].label); goto next; }
        muon_model_init(&m, 31);
        perturb_gains(&m, 32);
        random_batch(tok, tgt, B * T, V, 33);
        muon_model_zero_grad(&m);
        st = muon_model_forward(&m, tok, tgt, B, T);
        if (!st) st = muon_model_backward(&m);
        memcpy(want, m.grads, m.num_params * sizeof(float));
        for (i = 0; i < m.num_params; i++) m.grads[i] = NAN;
        if (!st) st = muon_model_backward_set(&m);
        for (i = 0; i < m.num_params; i++) bad += !(m.grads[i] == want[i]);
        check(!st && bad == 0, "backward_set (%s) on NaN-filled grads = zero_grad + backward: %lu of %lu differ",
              cases[c].label, (unsigned long)bad, (unsigned long)m.num_params);
        /* backward onto nonzero grads G adds with one rounding, G + g, as
         * the tree's right leaves rely on (train/data_parallel.c) */
        if (!st && B * T <= muon_gemm_k_block()) {
            muon_rng r;
            muon_rng_seed(&r, 34);
            memcpy(want, m.grads, m.num_params * sizeof(float));  /* g */
            muon_rng_fill_normal(&r, m.grads, m.num_params, 1e-3f); /* G */
            for (i = 0; i < m.num_params; i++) {
                const float sum = m.grads[i] + want[i];
                want[i] = sum;
            }
            st = muon_model_backward(&m);
            for (i = 0, bad = 0; i < m.num_params; i++) bad += !(m.grads[i] == want[i]);
            check(!st && bad == 0, "backward (%s) onto random grads G = G + (backward_set's g), one rounding: "
                  "%lu of %lu differ", cases[c].label, (unsigned long)bad, (unsigned long)m.num_params);
        } else if (!st) {
            skip("backward (%s) onto random grads: B*T = %d is over the GEMM's K block %d", cases[c].label,
                 B * T, muon_gemm_k_block());
        }
    next:
        free(tok); free(tgt); free(want);
        muon_model_free(&m);
    }
}

/* Weights packed once (model/packed_weights.c, what --reduce tree does per
 * step) give forward and backward the bits of packing per GEMM call, on the
 * cases of test_backward_set. And the linear layers read the packs: with
 * the weights doubled after the fill, a packed pass still gives the old
 * results exactly, an unpacked one other results. (A tied head is the
 * embedding, which the lookup reads directly, so it is left undoubled.) */
static void test_packed(void)
{
    const model_case *cases = write_cases;
    int c;
    for (c = 0; c < N_WRITE_CASES; c++) {
        muon_model m;
        muon_packed_weights *pw = NULL;
        muon_linear_weight *lw = NULL;
        int B, T, V, *tok = NULL, *tgt = NULL, st, nl = 0, i;
        float *logits = NULL, *grads = NULL;
        size_t nlog, j, embed;
        if (make_model(&m, "tiny", cases[c].kv)) continue;
        B = m.cfg.batch_size; T = m.cfg.seq_len; V = m.cfg.vocab_size;
        nlog = (size_t)B * T * V;
        embed = muon_model_find(&m, "embed.weight")->offset;
        nl = muon_model_linears(&m, NULL, 0);
        tok = malloc((size_t)B * T * sizeof(int));
        tgt = malloc((size_t)B * T * sizeof(int));
        logits = malloc(nlog * sizeof(float));
        grads = malloc(m.num_params * sizeof(float));
        lw = malloc((size_t)nl * sizeof *lw);
        st = !tok || !tgt || !logits || !grads || !lw ? MUON_ERR_NOMEM : cases[c].bf16 ? muon_model_set_bf16(&m) : MUON_OK;
        if (!st) st = muon_packed_weights_create(&pw, &m);
        if (st) { check(0, "packed %s: out of memory", cases[c].label); goto next; }
        muon_model_linears(&m, lw, nl);
        muon_model_init(&m, 41);
        perturb_gains(&m, 42);
        random_batch(tok, tgt, B * T, V, 43);
        st = muon_model_forward(&m, tok, tgt, B, T);
        if (!st) st = muon_model_backward_set(&m);
        if (st) { check(0, "packed %s: %s", cases[c].label, muon_last_error()); goto next; }
        memcpy(logits, muon_model_logits(&m), nlog * sizeof(float));
        memcpy(grads, m.grads, m.num_params * sizeof(float));

        muon_packed_weights_fill(pw, m.params);
        m.packed = pw;
        st = muon_model_forward(&m, tok, tgt, B, T);
        if (!st) st = muon_model_backward_set(&m);
        check(!st && !memcmp(logits, muon_model_logits(&m), nlog * sizeof(float)) &&
              !memcmp(grads, m.grads, m.num_params * sizeof(float)),
              "packed weights (%s, %d linear layers): logits and every gradient have the bits of unpacked passes",
              cases[c].label, nl);

        for (i = 0; i < nl; i++)
            if (lw[i].offset != embed)
                for (j = 0; j < (size_t)lw[i].I * lw[i].O; j++) m.params[lw[i].offset + j] *= 2.0f;
        st = muon_model_forward(&m, tok, tgt, B, T);
        if (!st) st = muon_model_backward_set(&m);
        check(!st && !memcmp(logits, muon_model_logits(&m), nlog * sizeof(float)) &&
              !memcmp(grads, m.grads, m.num_params * sizeof(float)),
              "packed weights (%s): after doubling the weights, the packs of the old ones still give the old bits "
              "(every linear layer reads its packs, forward and backward)", cases[c].label);
        m.packed = NULL;
        st = muon_model_forward(&m, tok, tgt, B, T);
        check(!st && memcmp(logits, muon_model_logits(&m), nlog * sizeof(float)),
              "packed weights (%s): unpacked, the doubled weights give other logits", cases[c].label);
    next:
        m.packed = NULL;
        muon_packed_weights_free(pw);
        free(tok); free(tgt); free(logits); free(grads); free(lw);
        muon_model_free(&m);
    }
}

static void test_bad_args(void)
{
    muon_model m;
    muon_config c;
    int tok[40], tgt[40], i, st;
    if (make_model(&m, "tiny", NULL)) return;
    muon_model_init(&m, 1);
    for (i = 0; i < 40; i++) { tok[i] = i; tgt[i] = 2 * i; }
    tok[5] = 256;
    st = muon_model_forward(&m, tok, tgt, 2, 16);
    check(st == MUON_ERR_ARG, "forward: token 256 (vocab 256) -> ARG (%s)", muon_last_error());
    tok[5] = -1;
    st = muon_model_forward(&m, tok, tgt, 2, 16);
    check(st == MUON_ERR_ARG, "forward: token -1 -> ARG (%s)", muon_last_error());
    tok[5] = 5;
    tgt[7] = 300;
    st = muon_model_forward(&m, tok, tgt, 2, 16);
    check(st == MUON_ERR_ARG, "forward: target 300 -> ARG (%s)", muon_last_error());
    tgt[7] = 7;
    check(muon_model_forward(&m, tok, tgt, 1, 17) == MUON_ERR_ARG, "forward: T=17 > seq_len 16 -> ARG (%s)", muon_last_error());
    check(muon_model_forward(&m, tok, tgt, 3, 8) == MUON_ERR_ARG, "forward: B=3 > batch_size 2 -> ARG (%s)", muon_last_error());
    check(muon_model_forward(&m, tok, tgt, 0, 8) == MUON_ERR_ARG, "forward: B=0 -> ARG");
    check(muon_model_forward(&m, tok, tgt, 1, 0) == MUON_ERR_ARG, "forward: T=0 -> ARG");
    check(muon_model_forward(&m, tok, NULL, 2, 16) == MUON_OK && muon_model_backward(&m) == MUON_ERR_ARG,
          "backward after a forward without targets -> ARG (%s)", muon_last_error());
    st = muon_model_forward(&m, tok, tgt, 2, 16);
    if (!st) st = muon_model_backward(&m);
    check(st == MUON_OK && isfinite(m.loss) && m.loss > 0, "forward+backward on valid input after errors: ok, loss %.4f", m.loss);
    muon_model_free(&m);

    muon_config_named("tiny", &c);
    c.n_kv_heads = 3;
    check(muon_model_create(&m, &c) == MUON_ERR_ARG && m.params == NULL, "create with a bad config -> ARG, nothing allocated");
    muon_config_named("tiny", &c);
    for (i = 1; i <= 5; i++) {
        muon_alloc_fail_after(i);
        st = muon_model_create(&m, &c);
        muon_alloc_fail_after(0);
        if (st != MUON_ERR_NOMEM || m.params || m.acts) break;
    }
    check(i == 6, "create: the n-th allocation failing (n = 1..5) -> NOMEM, model left empty");
}

void suite_model(void)
{
    test_layout();
    test_init();
    test_golden("model_default.safetensors");
    test_golden("model_swiglu.safetensors");
    test_golden("model_untied.safetensors");
    test_golden("model_merged.safetensors");
    {
        static const char *const sw[] = {"ffn", "swiglu", "untied_head", "1", NULL};
        static const char *const mg[] = {"merged_qkvo", "1", "n_kv_heads", "1", NULL};
        test_finite_diff("default", NULL, 0, 0);
        test_finite_diff("swiglu+untied", sw, 0, 0);
        /* a batch smaller than the config's: B=1, T=11 of 2 x 16 */
        test_finite_diff("merged+MQA B1 T11", mg, 1, 11);
    }
    test_threads();
    test_causal_and_accumulate();
    test_backward_set();
    test_packed();
    test_bad_args();
}
