/* evaluate suite: the validation loss and its standard error, against a
 * plain recomputation (one window per forward pass, the model's own
 * cross-entropy, a two-pass variance). */
#include "test.h"
#include "train/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR "build/test_evaluate"

static int write_corpus(const char *path, size_t n, uint64_t seed)
{
    FILE *f = fopen(path, "wb");
    muon_rng r;
    size_t k;
    int ok = 1;
    if (!f) return 1;
    muon_rng_seed(&r, seed);
    /* lower-case letters with structure the tiny model can partly learn */
    for (k = 0; k < n && ok; k++) ok = fputc('a' + (int)(muon_rng_next(&r) % 7u) + (k % 3 == 0), f) != EOF;
    return fclose(f) != 0 || !ok;
}

/* Reference: window k alone through the model (B = 1), the model's own loss. */
static int reference(muon_model *m, const muon_data *d, int T, double *mean, double *se, long *nw)
{
    size_t len = muon_data_split_size(d, MUON_SPLIT_VAL), n = (len - 1) / (size_t)T, k;
    double *l = malloc(n * sizeof *l), s = 0, v = 0;
    int tok[64], tgt[64], t;
    if (!l || T > 64) { free(l); return 1; }
    for (k = 0; k < n; k++) {
        for (t = 0; t < T; t++) {
            tok[t] = d->bytes[d->n_train + k * T + t];
            tgt[t] = d->bytes[d->n_train + k * T + t + 1];
        }
        if (muon_model_forward(m, tok, tgt, 1, T)) { free(l); return 1; }
        l[k] = m->loss;
        s += l[k];
    }
    s /= (double)n;
    for (k = 0; k < n; k++) v += (l[k] - s) * (l[k] - s);
    *mean = s;
    *se = sqrt(v / (double)(n - 1) / (double)n);
    *nw = (long)n;
    free(l);
    return 0;
}

void suite_evaluate(void)
{
    muon_config cfg;
    muon_model m;
    muon_data d;
    muon_eval_result full, samp, one;
    double rmean = 0, rse = 0;
    long rn = 0;
    int st;
    int *tok, *tgt, B, T;
    memset(&m, 0, sizeof m);
    if (system("mkdir -p " DIR) != 0 || write_corpus(DIR "/corpus.txt", 20000, 5)) {
        check(0, "cannot write the test corpus in " DIR);
        return;
    }
    muon_config_named("tiny", &cfg);
    cfg.batch_size = 4; /* 62 windows: 15 full batches and a partial one */
    if (!check(muon_model_create(&m, &cfg) == MUON_OK,
               "evaluate: tiny model created")) return;
    muon_model_init(&m, 3);
    if (!check(muon_data_load(&d, DIR "/corpus.txt") == MUON_OK, "evaluate: corpus loaded")) {
        muon_model_free(&m);
        return;
    }
    B = cfg.batch_size;
    T = cfg.seq_len;
    tok = malloc((size_t)B * T * sizeof *tok);
    tgt = malloc((size_t)B * T * sizeof *tgt);
    if (!check(tok && tgt, "evaluate: scratch")) goto done;

    /* 1000 validation bytes, T = 16: 62 windows, the last batch partial */
    check(muon_eval_full(&m, &d, B, T, tok, tgt, &full) == MUON_OK, "full split evaluates");
    if (!check(reference(&m, &d, T, &rmean, &rse, &rn) == 0, "reference evaluation ran")) goto done;
    check(full.windows == rn && rn == 999 / T, "full split: %ld non-overlapping windows of %d bytes (reference %ld)",
          full.windows, T, rn);
    check(rn % B != 0, "the test covers a partial last batch (%ld windows, B = %d)", rn, B);
    /* float32 per-row losses summed by the model vs double log-sum-exp here */
    check_near("full-split mean loss vs one window per pass", full.mean, rmean, 1e-6, 0);
    check_near("full-split standard error vs two-pass sd/sqrt(n)", full.se, rse, 1e-4, 1e-7);
    check(full.se > 0 && full.se < 0.1 * full.mean, "standard error is positive and small (%.5f of %.4f)", full.se, full.mean);

    if (threads_begin("evaluation on extra models")) {
        /* --reduce tree's models hold one window: the windows of a batch then
         * go to extra models side by side (the tree's workers); the same bits */
        muon_model one_row, extra[2];
        muon_eval_result alone, apart;
        int k, ok;
        memset(extra, 0, sizeof extra);   /* freed below even if never created */
        ok = muon_model_create_rows(&one_row, &cfg, 1) == MUON_OK;
        for (k = 0; k < 2; k++) ok = ok && muon_model_create_rows(&extra[k], &cfg, 1) == MUON_OK;
        if (ok) {
            float *own[2];
            muon_model_init(&one_row, 3);
            for (k = 0; k < 2; k++) own[k] = extra[k].params;   /* evaluation points them at one_row's */
            ok = muon_eval_spread(&one_row, &d, 0, -1, B, T, tok, tgt, NULL, NULL, 0, &alone) == MUON_OK &&
                 muon_eval_spread(&one_row, &d, 0, -1, B, T, tok, tgt, NULL, extra, 2, &apart) == MUON_OK;
            check(ok && alone.mean == apart.mean && alone.se == apart.se && alone.windows == apart.windows,
                  "full split on 1 model and on 3 side by side (2 threads): the same bits (%.9g, %.9g)",
                  alone.mean, apart.mean);
            check(ok && alone.mean == full.mean, "one window per pass: the batch model's mean loss, bit for bit");
            for (k = 0; k < 2; k++) extra[k].params = own[k];
        } else {
            check(0, "evaluate: one-row models: %s", muon_last_error());
        }
        muon_model_free(&one_row);
        muon_model_free(&extra[0]);
        muon_model_free(&extra[1]);
        threads_end();
    }
    st = muon_eval_sampled(&m, &d, 7, 3, B, T, tok, tgt, &samp);
    check(st == MUON_OK && samp.windows == 3L * B,
          "sampled: 3 batches = %ld windows", samp.windows);
    check(fabs(samp.mean - full.mean) < 6 * (samp.se + full.se),
          "sampled estimate within 6 standard errors of the full split (%.4f vs %.4f)", samp.mean, full.mean);
    st = muon_eval_sampled(&m, &d, 7, 1, 1, T, tok, tgt, &one);
    check(st == MUON_OK && one.windows == 1 && isnan(one.se),
          "one window: standard error is NaN (undefined), not 0");
    check(muon_eval_sampled(&m, &d, 7, 0, B, T, tok, tgt, &one) == MUON_ERR_ARG, "0 sampled batches refused");
    {
        /* the hook in training: --eval-batches 0 evaluates the whole split,
         * each evaluation logs its standard error, the done line says so */
        char cmd[1024], line[256];
        FILE *f;
        int n_se = 0, rc;
        snprintf(cmd, sizeof cmd, "%s train --model tiny --steps 2 --eval-every 1 --eval-batches 0 --track-every 0 "
                 "--data " DIR "/corpus.txt --out " DIR "/run > " DIR "/progress.txt 2>&1", muon_bin());
        rc = system(cmd);
        f = fopen(DIR "/run/metrics.csv", "r");
        while (f && fgets(line, sizeof line, f)) n_se += strstr(line, ",model,val_loss_se,") != NULL;
        if (f) fclose(f);
        check(rc == 0 && n_se == 2, "train --eval-batches 0: exit %d, a val_loss_se row at each of the 2 evaluations (%d)", rc, n_se);
        f = fopen(DIR "/progress.txt", "r");
        n_se = 0;
        while (f && fgets(line, sizeof line, f))
            n_se += strncmp(line, "done:", 5) == 0 && strstr(line, "\xc2\xb1") && strstr(line, "(whole split)");
        if (f) fclose(f);
        check(n_se == 1, "the done line prints the whole-split loss with its standard error");
    }
done:
    free(tok);
    free(tgt);
    muon_data_free(&d);
    muon_model_free(&m);
}
