/* Metric overhead benchmark: one tracking pass over `nano` as training runs
 * it (48 matrices, all update buffers present: values of W, dW, M, O and
 * top-5 vectors of W, dW, and the ESD fit of W) against one forward+backward
 * step at nano's batch, best of N (the machine is shared; the best run is the
 * least disturbed one). The optimizer step is not in the step time, so the
 * overhead printed is an upper bound. */
#include "metrics/metrics.h"
#include "metrics/spectral.h"

int muon_bench_metrics(FILE *out)
{
    muon_config cfg;
    muon_model m;
    muon_update_view u;
    muon_metrics *res = NULL;
    muon_esd_fit *fit = NULL;
    float *delta = NULL, *mom = NULL, *orth = NULL;
    int *tok = NULL, *tgt = NULL;
    int st, n, i, rep, reps = 3, orth_ok = 1, B, T;
    double best_pass = 1e30, best_step = 1e30;
    muon_rng r;
    muon_tracked *tr = NULL;
    muon_tracker_pool pool = {NULL, 0};   /* kept across passes, as the trainer's log keeps it */

    if ((st = muon_config_named("nano", &cfg))) return st;
    if ((st = muon_model_create(&m, &cfg))) return st;
    muon_model_init(&m, 1);
    B = cfg.batch_size;
    T = cfg.seq_len;
    n = muon_model_tracked(&m, NULL, 0);
    res = muon_alloc((size_t)n * sizeof *res);
    fit = muon_alloc((size_t)n * sizeof *fit);
    tr = muon_alloc((size_t)n * sizeof *tr);
    delta = muon_alloc(m.num_params * sizeof(float));
    mom = muon_alloc(m.num_params * sizeof(float));
    orth = muon_alloc(m.num_params * sizeof(float));
    tok = muon_alloc((size_t)B * T * sizeof(int));
    tgt = muon_alloc((size_t)B * T * sizeof(int));
    if (!res || !fit || !tr || !delta || !mom || !orth || !tok || !tgt) { st = MUON_ERR_NOMEM; goto done; }

    /* realistic inputs: M a random gradient average, O = orth(M) (its
     * clustered spectrum is the hard case for the alignments' top vectors),
     * dW = -0.02 O */
    muon_rng_seed(&r, 7);
    muon_rng_fill_normal(&r, mom, m.num_params, 1e-3f);
    muon_model_tracked(&m, tr, n);
    for (i = 0; i < n; i++) {
        size_t off = tr[i].offset, j, sz = (size_t)tr[i].rows * tr[i].cols;
        if (orth_ok && muon_orthogonalize(MUON_ORTH_POLAR_EXPRESS, 0, tr[i].rows, tr[i].cols,
                                          mom + off, orth + off) != MUON_OK)
            orth_ok = 0;
        if (!orth_ok) for (j = 0; j < sz; j++) orth[off + j] = mom[off + j] * 30.0f;
        for (j = 0; j < sz; j++) delta[off + j] = -0.02f * orth[off + j];
    }
    u.delta = delta;
    u.momentum = mom;
    u.orth_out = orth;
    for (i = 0; i < B * T; i++) {
        tok[i] = (int)muon_rng_below(&r, (uint64_t)cfg.vocab_size);
        tgt[i] = (int)muon_rng_below(&r, (uint64_t)cfg.vocab_size);
    }
    for (rep = 0; rep < reps; rep++) {
        double t0 = muon_seconds(), t1, t2;
        if ((st = muon_metrics_model_subset(&pool, &m, &u, NULL, res, fit, n))) goto done;
        t1 = muon_seconds();
        if ((st = muon_model_forward(&m, tok, tgt, B, T))) goto done;
        if ((st = muon_model_backward_set(&m))) goto done;
        t2 = muon_seconds();
        if (t1 - t0 < best_pass) best_pass = t1 - t0;
        if (t2 - t1 < best_step) best_step = t2 - t1;
    }
    fprintf(out, "metrics nano (%d matrices, %d threads), best of %d%s:\n", n, muon_threads(), reps,
            orth_ok ? "" : " (O not orthogonalised: orthogonaliser unavailable)");
    fprintf(out, "  tracking pass %8.1f ms   forward+backward step %8.1f ms   pass = %.1f steps\n",
            best_pass * 1e3, best_step * 1e3, best_pass / best_step);
    fprintf(out, "  overhead at --track-every %d: %.1f%% of training time (at most; optimizer step not counted)\n",
            MUON_DEFAULT_TRACK_EVERY, 100.0 * best_pass / (best_pass + MUON_DEFAULT_TRACK_EVERY * best_step));
done:
    muon_tracker_pool_free(&pool);
    muon_free(res); muon_free(fit); muon_free(tr); muon_free(delta); muon_free(mom); muon_free(orth);
    muon_free(tok); muon_free(tgt);
    muon_model_free(&m);
    return st;
}
