/* Validation loss with its standard error: per-window losses from the
 * model's logits, accumulated in double in window order, so the result does
 * not depend on the thread count (the forward pass does not either). */
#include "train/evaluate.h"

#include <math.h>
#include <string.h>

/* Accumulates the losses of the first nw windows of the last forward pass
 * (logits (nw*T, V), targets tgt (nw*T)) into sum and sum of squares of
 * window means. The log-sum-exp is recomputed here in double rather than
 * taken from the model, so evaluation needs only the public logits. */
static void add_windows(const float *logits, const int *tgt, int nw, int T, int V,
                        double *sum, double *sumsq)
{
    int w, t, j;
    for (w = 0; w < nw; w++) {
        double wl = 0.0;
        for (t = 0; t < T; t++) {
            const float *z = logits + ((size_t)w * T + t) * V;
            double mx = z[0], e = 0.0;
            for (j = 1; j < V; j++) if (z[j] > mx) mx = z[j];
            for (j = 0; j < V; j++) e += exp((double)z[j] - mx);
            wl += mx + log(e) - (double)z[tgt[(size_t)w * T + t]];
        }
        wl /= T;
        *sum += wl;
        *sumsq += wl * wl;
    }
}

static void finish(double sum, double sumsq, long n, muon_eval_result *out)
{
    double mean = sum / (double)n, var;
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

int muon_eval_sampled(muon_model *m, const muon_data *d, uint64_t seed, int n_batches,
                      int B, int T, int *tok, int *tgt, muon_eval_result *out)
{
    int i, st, V = m->cfg.vocab_size;
    double sum = 0.0, sumsq = 0.0;
    if (n_batches < 1) return muon_error(MUON_ERR_ARG, "evaluate: %d validation batches", n_batches);
    for (i = 0; i < n_batches; i++) {
        st = muon_data_batch(d, MUON_SPLIT_VAL, seed, i, B, T, tok, tgt);
        if (!st) st = muon_model_forward(m, tok, tgt, B, T);
        if (st) return st;
        add_windows(muon_model_logits(m), tgt, B, T, V, &sum, &sumsq);
    }
    finish(sum, sumsq, (long)n_batches * B, out);
    return MUON_OK;
}

int muon_eval_full(muon_model *m, const muon_data *d, int B, int T,
                   int *tok, int *tgt, muon_eval_result *out)
{
    size_t len = muon_data_split_size(d, MUON_SPLIT_VAL), k, nwin;
    int V = m->cfg.vocab_size, st;
    double sum = 0.0, sumsq = 0.0;
    if (B < 1 || T < 1) return muon_error(MUON_ERR_ARG, "evaluate: bad shape B=%d T=%d", B, T);
    if (len < (size_t)T + 1)
        return muon_error(MUON_ERR_ARG, "evaluate: the validation split has %lu bytes, fewer than seq_len+1 = %d",
                          (unsigned long)len, T + 1);
    /* window k reads bytes k*T .. k*T+T: the last byte of one window is the
     * first input of the next, so every byte after the first is predicted once */
    nwin = (len - 1) / (size_t)T;
    for (k = 0; k < nwin; k += (size_t)B) {
        int nb = (int)(nwin - k < (size_t)B ? nwin - k : (size_t)B), w, t;
        for (w = 0; w < nb; w++) {
            size_t at = d->n_train + (k + (size_t)w) * (size_t)T;
            for (t = 0; t < T; t++) { /* byte tokens, or a token file's ids (train/token_file.c) */
                tok[w * T + t] = d->ids ? (int)d->ids[at + (size_t)t] : d->bytes[at + (size_t)t];
                tgt[w * T + t] = d->ids ? (int)d->ids[at + (size_t)t + 1] : d->bytes[at + (size_t)t + 1];
            }
        }
        st = muon_model_forward(m, tok, tgt, nb, T);
        if (st) return st;
        add_windows(muon_model_logits(m), tgt, nb, T, V, &sum, &sumsq);
    }
    finish(sum, sumsq, (long)nwin, out);
    return MUON_OK;
}
