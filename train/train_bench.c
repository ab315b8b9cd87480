/* `muon bench` training row: tokens/s of a whole training step of nano
 * (forward, backward, clipping, Muon with polar-express, AdamW) on 1 and 2
 * threads, the share of the step spent in the Muon update (the
 * orthogonaliser and its elementwise prologue/epilogue) and in the
 * orthogonaliser alone (timed apart on the same momentum buffers). Best of several
 * timed steps after a warm-up step, because the machine is shared. */
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "linalg/omp.h"

#include <string.h>

static int bench_one(FILE *out, int threads, int steps)
{
    muon_config cfg;
    muon_model m;
    muon_optim o;
    muon_optim_config oc;
    muon_rng r;
    int *tok = NULL, *tgt = NULL, s, st, B, T, i;
    double best = 1e30, best_orth = 0;
    st = muon_config_named("nano", &cfg);
    if (st) return st;
    st = muon_model_create(&m, &cfg);
    if (st) return st;
    muon_model_init(&m, 1);
    muon_optim_defaults(&oc);
    st = muon_optim_create(&o, &oc, &m);
    if (st) { muon_model_free(&m); return st; }
    B = cfg.batch_size;
    T = cfg.seq_len;
    tok = muon_alloc(sizeof(int) * (size_t)B * T);
    tgt = muon_alloc(sizeof(int) * (size_t)B * T);
    if (!tok || !tgt) { st = MUON_ERR_NOMEM; goto done; }
    muon_rng_seed(&r, 7);
    for (i = 0; i < B * T; i++) { tok[i] = (int)muon_rng_below(&r, 256); tgt[i] = (int)muon_rng_below(&r, 256); }
    muon_set_threads(threads);
    for (s = 0; s <= steps; s++) {
        double t0 = muon_seconds(), o0 = o.orth_seconds, dt;
        muon_model_zero_grad(&m);
        st = muon_model_forward(&m, tok, tgt, B, T);
        if (!st) st = muon_model_backward(&m);
        if (!st) st = muon_optim_step(&o, &m, 1.0);
        if (st) goto done;
        dt = muon_seconds() - t0;
        if (s > 0 && dt < best) { best = dt; best_orth = o.orth_seconds - o0; }
    }
    {
        /* the orthogonaliser alone: every Muon matrix's momentum through it,
         * threads over matrices as in muon_optim_step */
        double t_orth = 1e30;
        int rep;
        for (rep = 0; rep < 5 && !st; rep++) {
            double t0 = muon_seconds();
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
            if (muon_seconds() - t0 < t_orth) t_orth = muon_seconds() - t0;
        }
        if (st) goto done;
        fprintf(out, "train nano step      %d thread%s  %9.0f tokens/s  %7.1f ms/step  Muon update %4.1f%%, "
                "orthogonaliser %4.1f%% (best of %d)\n",
                threads, threads > 1 ? "s" : " ", (double)B * T / best, best * 1e3, 100.0 * best_orth / best,
                100.0 * t_orth / best, steps);
    }
done:
    muon_free(tok);
    muon_free(tgt);
    muon_optim_free(&o);
    muon_model_free(&m);
    return st;
}

int muon_bench_train(FILE *out)
{
    int before = muon_threads(), st;
    st = bench_one(out, 1, 5);
    if (!st) st = bench_one(out, 2, 5);
    muon_set_threads(before);
    return st;
}
