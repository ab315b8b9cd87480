/* Model benchmark: forward+backward time per step for `nano` at its full
 * batch (B=16, T=128), and for the same at d_model 512, with 1 and 2 threads;
 * and on one thread the same batch one sequence per pass, as each worker of
 * --reduce tree runs it (train/data_parallel.c). Best of N runs (the machine
 * is shared, so the best run is the least disturbed one). */
#include "model/model_internal.h"
#include "linalg/fma_peak.h"

/* Model flops of one forward+backward (the usual 6 per weight per token
 * for every matrix: forward 2, backward 4) plus causal attention: (T+1)/2
 * keys per query on average, 2*HS flops per query-key pair in each of the
 * six products (QK^T, PV forward; dP, dS K, dS^T Q, P^T dO backward). The
 * backward's recomputation of QK^T and all elementwise work are not counted,
 * so GFLOP/s here is "useful" work, comparable with PyTorch's. */
static double step_flops(const muon_config *c, int B, int T)
{
    double C = c->d_model, HS = C / c->n_heads, NH = c->n_heads, NKV = c->n_kv_heads;
    double F = c->d_ff, V = c->vocab_size, N = (double)B * T;
    double mat = (NH * HS * C + 2 * NKV * HS * C + C * NH * HS) +
                 (c->ffn == MUON_FFN_SWIGLU ? 3 : 2) * F * C;
    double attn = NH * HS * (T + 1) / 2.0 * 2 * (2 + 4);
    return N * (c->n_layers * (6 * mat + attn) + 6 * V * C);
}

/* The batch of tok/tgt (B x T) one sequence per pass on one thread, in one
 * model with activations for one sequence, each pass overwriting the
 * gradient as a tree leaf does: the GEMMs take T rows instead of B*T, and
 * every activation stays in cache. */
static int bench_per_sequence(FILE *out, const muon_config *cfg, const int *tok, const int *tgt, int reps, double peak)
{
    muon_model m;
    muon_packed_weights *packed = NULL;
    int st, s, rep, B = cfg->batch_size, T = cfg->seq_len;
    double best = 1e30;
    if ((st = muon_model_create_rows(&m, cfg, 1))) return st;
    if ((st = muon_packed_weights_create(&packed, &m))) goto done;
    muon_model_init(&m, 1);
    muon_set_threads(1);
    for (rep = 0; rep < reps + 1; rep++) {
        double t0 = muon_seconds(), t;
        /* the weights packed once per step, as the tree does (model/packed_weights.c) */
        muon_packed_weights_fill(packed, m.params);
        m.packed = packed;
        for (s = 0; s < B; s++) {
            if ((st = muon_model_forward(&m, tok + (size_t)s * T, tgt + (size_t)s * T, 1, T))) goto done;
            if ((st = muon_model_backward_set(&m))) goto done;
        }
        t = muon_seconds() - t0;
        if (rep && t < best) best = t;
    }
    fprintf(out, "  per sequence, 1 thread: %8.2f ms/step (%d passes of T=%d, as a --reduce tree worker runs them)"
            "  %9.0f tokens/s  %6.1f GFLOP/s  %3.0f%% of peak\n",
            best * 1e3, B, T, B * T / best, step_flops(cfg, B, T) / best * 1e-9,
            peak > 0.0 ? 100.0 * step_flops(cfg, B, T) / best * 1e-9 / peak : 0.0);
done:
    muon_packed_weights_free(packed);
    muon_model_free(&m);
    return st;
}

/* One config's rows: forward+backward at its full batch on 1 and 2 threads,
 * then one sequence per pass. */
static int bench_config(FILE *out, const char *name, const muon_config *cfg, int reps)
{
    muon_model m;
    int st, *tok = NULL, *tgt = NULL, i, t, rep, threads[2] = {1, 2};
    int B = cfg->batch_size, T = cfg->seq_len;
    double peak = muon_fma_peak_gflops();
    muon_rng r;
    if ((st = muon_model_create(&m, cfg))) return st;
    tok = muon_alloc((size_t)B * T * sizeof(int));
    tgt = muon_alloc((size_t)B * T * sizeof(int));
    if (!tok || !tgt) { st = MUON_ERR_NOMEM; goto done; }
    muon_model_init(&m, 1);
    muon_rng_seed(&r, 2);
    for (i = 0; i < B * T; i++) {
        tok[i] = (int)muon_rng_below(&r, (uint64_t)cfg->vocab_size);
        tgt[i] = (int)muon_rng_below(&r, (uint64_t)cfg->vocab_size);
    }
    fprintf(out, "model %s (B=%d, T=%d, %lu params), forward+backward, best of %d:\n",
            name, B, T, (unsigned long)m.num_params, reps);
    for (t = 0; t < 2; t++) {
        double best = 1e30, bf = 1e30, tfw;
        muon_set_threads(threads[t]);
        for (rep = 0; rep < reps + 1; rep++) { /* the first run warms caches and pages */
            double t0 = muon_seconds(), t1;
            if ((st = muon_model_forward(&m, tok, tgt, B, T))) goto done;
            t1 = muon_seconds();
            if ((st = muon_model_backward_set(&m))) goto done;
            tfw = muon_seconds();
            if (rep && tfw - t0 < best) best = tfw - t0;
            if (rep && t1 - t0 < bf) bf = t1 - t0;
        }
        fprintf(out, "  threads %d: %8.2f ms/step (forward %6.2f ms)  %9.0f tokens/s  %6.1f GFLOP/s"
                "  %3.0f%% of peak (%.1f GFLOP/s per core, measured)\n",
                threads[t], best * 1e3, bf * 1e3, B * T / best, step_flops(cfg, B, T) / best * 1e-9,
                peak > 0.0 ? 100.0 * step_flops(cfg, B, T) / best * 1e-9 / (threads[t] * peak) : 0.0, peak);
    }
    st = bench_per_sequence(out, cfg, tok, tgt, reps, peak);
done:
    muon_free(tok);
    muon_free(tgt);
    muon_model_free(&m);
    return st;
}

int muon_bench_model(FILE *out)
{
    muon_config cfg;
    int st, saved = muon_threads();
    if ((st = muon_config_named("nano", &cfg))) return st;
    st = bench_config(out, "nano", &cfg, 5);
    /* the same at blueberry-nano's width (d_model 512, 8 heads, 4 KV heads,
     * d_ff 2048), nano's depth and batch: the GEMMs grow 4x, the rest 4x less */
    cfg.d_model = 512;
    cfg.n_heads = 8;
    cfg.n_kv_heads = 4;
    cfg.d_ff = 2048;
    if (!st) st = bench_config(out, "d512 (nano at d_model 512, 8 heads, 4 KV heads, d_ff 2048)", &cfg, 3);
    muon_set_threads(saved);
    return st;
}
