/* `muon bench` training rows: tokens/s of a whole training step of nano
 * (the gradient, clipping, Muon with polar-express, AdamW) on 1 and 2
 * threads, for --reduce tree (the default: per-sequence gradients in a fixed
 * tree, threads taking sequences, train/data_parallel.h) and --reduce batch
 * (one pass over the batch, threads inside each GEMM); the share of the step
 * spent in the Muon update (the orthogonaliser and its elementwise
 * prologue/epilogue) and in the orthogonaliser alone (timed apart on the same
 * momentum buffers). Best of several timed steps after a warm-up step,
 * on the shared machine, 1 and 2 threads alternating (bench_pair). */
#include "train/train.h"
#include "train/data_parallel.h"
#include "model/model_internal.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "linalg/omp.h"

#include <string.h>

/* One setup created on `threads` threads, its steps timed alternately on 1
 * thread and on `threads`: the machine is shared and its speed drifts, and
 * alternating gives both counts the same conditions (the tree's workers and
 * the optimizer's workspaces, made for `threads`, serve fewer threads too).
 * Writes a row per thread count. */
static int bench_pair(FILE *out, int threads, int steps, int tree)
{
    muon_config cfg;
    muon_model m;
    muon_optim o;
    muon_optim_config oc;
    muon_shard sh;
    muon_dp dp;
    muon_rng r;
    int *tok = NULL, *tgt = NULL, s, st, B, T, i, k, have_dp = 0, counts[2];
    double best[2] = {1e30, 1e30}, best_orth[2] = {0, 0}, t_orth[2] = {1e30, 1e30};
    counts[0] = 1;
    counts[1] = threads;
    muon_set_threads(threads);  /* first: what the optimizer and the tree size themselves for */
    st = muon_config_named("nano", &cfg);
    if (st) return st;
    st = muon_model_create_rows(&m, &cfg, tree ? 1 : cfg.batch_size);
    if (st) return st;
    muon_model_init(&m, 1);
    muon_optim_defaults(&oc);
    st = muon_optim_create(&o, &oc, &m);
    if (st) { muon_model_free(&m); return st; }
    if ((st = muon_shard_create(&sh, &m))) { muon_optim_free(&o); muon_model_free(&m); return st; }
    B = cfg.batch_size;
    T = cfg.seq_len;
    tok = muon_alloc(sizeof(int) * (size_t)B * T);
    tgt = muon_alloc(sizeof(int) * (size_t)B * T);
    if (!tok || !tgt) { st = MUON_ERR_NOMEM; goto done; }
    muon_rng_seed(&r, 7);
    for (i = 0; i < B * T; i++) { tok[i] = (int)muon_rng_below(&r, 256); tgt[i] = (int)muon_rng_below(&r, 256); }
    if (tree && (st = muon_dp_create(&dp, &sh, &m, B, T))) goto done;
    have_dp = tree;
    for (s = 0; s <= steps; s++)
        for (k = 0; k < 2; k++) {
            double t0, o0 = o.orth_seconds, dt;
            muon_set_threads(counts[k]);
            t0 = muon_seconds();
            if (tree) {
                st = muon_dp_gradient(&dp, &m, tok, tgt);
                if (!st) st = muon_optim_step_shard(&o, &m, 1.0, &sh);
                if (!st) st = muon_shard_share_tensors(&sh, &m, m.params, -1);
            } else {
                st = muon_model_forward(&m, tok, tgt, B, T);
                if (!st) st = muon_model_backward_set(&m);
                if (!st) st = muon_optim_step(&o, &m, 1.0);
            }
            if (st) goto done;
            dt = muon_seconds() - t0;
            if (s > 0 && dt < best[k]) { best[k] = dt; best_orth[k] = o.orth_seconds - o0; }
        }
    /* the orthogonaliser alone: every Muon matrix's momentum through it,
     * threads over matrices as in muon_optim_step */
    for (s = 0; s < 5 && !st; s++)
        for (k = 0; k < 2; k++) {
            double t0 = muon_seconds();
            muon_set_threads(counts[k]);
MUON_OMP(omp parallel for schedule(dynamic, 1))
            for (i = 0; i < m.n_tensors; i++) {
                const muon_param *p = &m.tensors[i];
                if (!muon_optim_uses_muon(&oc, p)) continue;
                if (muon_orthogonalize(oc.orth, oc.ns_steps, p->rows, p->cols, o.momentum + p->offset,
                                       o.delta + p->offset)) {
MUON_OMP(omp critical(bench_fail))
                    st = MUON_ERR_NUMERIC;
                }
            }
            if (muon_seconds() - t0 < t_orth[k]) t_orth[k] = muon_seconds() - t0;
        }
    if (st) goto done;
    for (k = 0; k < 2; k++)
        fprintf(out, "train nano step %-5s %d thread%s  %9.0f tokens/s  %7.1f ms/step  Muon update %4.1f%%, "
                "orthogonaliser %4.1f%% (best of %d)%s\n", tree ? "tree" : "batch",
                counts[k], counts[k] > 1 ? "s" : " ", (double)B * T / best[k], best[k] * 1e3,
                100.0 * best_orth[k] / best[k], 100.0 * t_orth[k] / best[k], steps,
                k == 1 ? "" : " [alternating with the next row]");
    fprintf(out, "train nano step %-5s %d threads / 1 thread: %.2fx\n", tree ? "tree" : "batch", threads, best[0] / best[1]);
done:
    if (have_dp) muon_dp_free(&dp);
    muon_shard_free(&sh);
    muon_free(tok);
    muon_free(tgt);
    muon_optim_free(&o);
    muon_model_free(&m);
    return st;
}

int muon_bench_train(FILE *out)
{
    int before = muon_threads(), st;
    int tree;
    /* tree first: it is what `muon train` runs */
    for (tree = 1, st = MUON_OK; tree >= 0 && !st; tree--) st = bench_pair(out, 2, 10, tree);
    muon_set_threads(before);
    return st;
}
