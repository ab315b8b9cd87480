/* Validation loss with its standard error: per-window losses from the
 * model's logits, accumulated in double in window order, so the result does
 * not depend on the thread count (the forward pass does not either). */
#include "train/evaluate.h"

#include "dist/dist.h"
#include "linalg/omp.h"
#include "model/model_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* The loss of each of the first nw windows of the last forward pass
 * (logits (nw*T, V), targets tgt (nw*T)) into wl(nw): the mean over its T
 * predictions. The log-sum-exp is recomputed here in double rather than
 * taken from the model, so evaluation needs only the public logits. */
static void window_losses(const float *logits, const int *tgt, int nw, int T, int V, double *wl)
{
    int w, t, j;
    for (w = 0; w < nw; w++) {
        double l = 0.0;
        for (t = 0; t < T; t++) {
            const float *z = logits + ((size_t)w * T + t) * V;
            double mx = z[0], e = 0.0;
            for (j = 1; j < V; j++) if (z[j] > mx) mx = z[j];
            for (j = 0; j < V; j++) e += exp((double)z[j] - mx);
            l += mx + log(e) - (double)z[tgt[(size_t)w * T + t]];
        }
        wl[w] = l / T;
    }
}

/* mean and standard error of wl(n), added in window order */
static void finish(const double *wl, long n, muon_eval_result *out)
{
    double sum = 0.0, sumsq = 0.0, mean, var;
    long i;
    for (i = 0; i < n; i++) {
        sum += wl[i];
        sumsq += wl[i] * wl[i];
    }
    mean = sum / (double)n;
    out->mean = mean;
    out->windows = n;
    if (n < 2) {
        out->se = NAN;
        return;
    }
    /* sample variance; clamp the rounding of a near-constant set at 0 */
    var = (sumsq - (double)n * mean * mean) / (double)(n - 1);
    out->se = var > 0 ? sqrt(var / (double)n) : 0.0;
}

/* Fills batch k's nb windows of the full split into tok/tgt: window k*B+w
 * reads bytes (k*B+w)*T .. +T, the last byte of one window being the first
 * input of the next, so every byte after the first is predicted once. */
static void full_batch(const muon_data *d, size_t first, int nb, int T, int *tok, int *tgt)
{
    int w, t;
    for (w = 0; w < nb; w++) {
        size_t at = d->n_train + (first + (size_t)w) * (size_t)T;
        for (t = 0; t < T; t++) { /* byte tokens, or a token file's ids (train/token_file.c) */
            tok[w * T + t] = d->ids ? (int)d->ids[at + (size_t)t] : d->bytes[at + (size_t)t];
            tgt[w * T + t] = d->ids ? (int)d->ids[at + (size_t)t + 1] : d->bytes[at + (size_t)t + 1];
        }
    }
}

/* wl(nb) = the losses of windows tok/tgt (nb, T), one forward pass of one
 * window each, side by side on m and the n_extra models (one thread each) */
static int windows_apart(muon_model *m, muon_model *extra, int n_extra, const int *tok, const int *tgt,
                         int nb, int T, double *wl)
{
    muon_failure f = {0};
    int w;
    for (w = 0; w < n_extra; w++) extra[w].params = m->params;
MUON_OMP(omp parallel for schedule(dynamic, 1) num_threads(muon_threads_upto(n_extra + 1)))
    for (w = 0; w < nb; w++) {
        int t = muon_thread_id(), st;
        muon_model *x = t == 0 ? m : &extra[t - 1];
        st = muon_model_forward(x, tok + (size_t)w * T, tgt + (size_t)w * T, 1, T);
        if (!st) window_losses(muon_model_logits(x), tgt + (size_t)w * T, 1, T, m->cfg.vocab_size, wl + w);
        else muon_failure_note(&f, w, st);
    }
    return muon_failure_raise(&f);
}

int muon_eval_spread(muon_model *m, const muon_data *d, uint64_t seed, int n_batches, int B, int T,
                     int *tok, int *tgt, muon_shard *sh, muon_model *extra, int n_extra,
                     muon_eval_result *out)
{
    int V = m->cfg.vocab_size, rank = sh ? sh->rank : 0, ranks = sh ? sh->size : 1, st = MUON_OK;
    int cap = muon_model_max_batch(m);
    size_t nwin, k, nbat;
    double *wl = NULL;
    int *owner = NULL;
    if (B < 1 || T < 1) return muon_error(MUON_ERR_ARG, "evaluate: bad shape B=%d T=%d", B, T);
    if (n_batches < 0) {
        size_t len = muon_data_split_size(d, MUON_SPLIT_VAL);
        if (len < (size_t)T + 1)
            return muon_error(MUON_ERR_ARG, "evaluate: the validation split has %lu bytes, fewer than seq_len+1 = %d",
                              (unsigned long)len, T + 1);
        nwin = (len - 1) / (size_t)T;
    } else {
        if (n_batches < 1) return muon_error(MUON_ERR_ARG, "evaluate: %d validation batches", n_batches);
        nwin = (size_t)n_batches * (size_t)B;
    }
    nbat = (nwin + (size_t)B - 1) / (size_t)B;
    if (nwin > (size_t)INT_MAX / sizeof(double))
        return muon_error(MUON_ERR_ARG, "evaluate: %lu windows are more than one evaluation handles", (unsigned long)nwin);
    wl = muon_alloc(nwin * sizeof *wl);
    owner = muon_alloc(nwin * sizeof *owner);
    if (!wl || !owner) st = muon_error(MUON_ERR_NOMEM, "evaluate: out of memory for %lu window losses", (unsigned long)nwin);
    for (k = 0; !st && k < nbat; k++) {
        size_t first = k * (size_t)B, w;
        int nb = (int)(nwin - first < (size_t)B ? nwin - first : (size_t)B);
        for (w = 0; w < (size_t)nb; w++) owner[first + w] = (int)(k % (size_t)ranks);
        if ((int)(k % (size_t)ranks) != rank) continue;
        if (n_batches < 0) full_batch(d, first, nb, T, tok, tgt);
        else st = muon_data_batch(d, MUON_SPLIT_VAL, seed, (long)k, B, T, tok, tgt);
        /* in forward passes of as many windows as the model holds (one,
         * with --reduce tree, and then side by side on the extra models); a
         * window's loss never depends on its neighbours */
        if (!st && cap == 1 && n_extra > 0 && muon_threads() > 1) {
            st = windows_apart(m, extra, n_extra, tok, tgt, nb, T, wl + first);
            continue;
        }
        for (w = 0; !st && w < (size_t)nb; w += (size_t)cap) {
            int nw = nb - (int)w < cap ? nb - (int)w : cap;
            st = muon_model_forward(m, tok + w * (size_t)T, tgt + w * (size_t)T, nw, T);
            if (!st) window_losses(muon_model_logits(m), tgt + w * (size_t)T, nw, T, V, wl + first + w);
        }
    }
    if (sh) st = muon_dist_agree(st);
    if (!st && sh) st = muon_shard_share_items(sh, wl, sizeof *wl, (int)nwin, owner, 0);
    if (!st && rank == 0) finish(wl, (long)nwin, out);
    muon_free(wl);
    muon_free(owner);
    return st;
}

int muon_eval_sampled(muon_model *m, const muon_data *d, uint64_t seed, int n_batches,
                      int B, int T, int *tok, int *tgt, muon_eval_result *out)
{
    if (n_batches < 1) return muon_error(MUON_ERR_ARG, "evaluate: %d validation batches", n_batches);
    return muon_eval_spread(m, d, seed, n_batches, B, T, tok, tgt, NULL, NULL, 0, out);
}

int muon_eval_full(muon_model *m, const muon_data *d, int B, int T,
                   int *tok, int *tgt, muon_eval_result *out)
{
    return muon_eval_spread(m, d, 0, -1, B, T, tok, tgt, NULL, NULL, 0, out);
}
