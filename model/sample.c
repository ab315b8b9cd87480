/* Text generation from a trained model: bytes in, bytes out. Each new byte
 * reruns the model on the last seq_len bytes (no KV cache: simplest correct
 * thing, and fast enough for the small models this is for). */
#include "model/model_internal.h"
#include "model/experiments.h"

#include <math.h>
#include <string.h>

int muon_sample(muon_model *m,
                const unsigned char *prompt, /* (n_prompt) */
                int n_prompt, int n_new, float temperature, uint64_t seed,
                unsigned char *out)          /* (n_new) */
{
    /* bytes are ids 0..255; an empty prompt starts at a newline */
    int *p, *o, i, st;
    if (n_new < 0 || n_prompt < 0) return muon_error(MUON_ERR_ARG, "sample: negative length");
    p = muon_alloc(sizeof(int) * (size_t)(n_prompt > 0 ? n_prompt : 1));
    o = muon_alloc(sizeof(int) * (size_t)(n_new > 0 ? n_new : 1));
    if (!p || !o) { muon_free(p); muon_free(o); return MUON_ERR_NOMEM; }
    for (i = 0; i < n_prompt; i++) p[i] = prompt[i];
    if (n_prompt == 0) p[0] = '\n';
    st = muon_sample_ids(m, p, n_prompt > 0 ? n_prompt : 1, n_new, temperature, seed, o);
    for (i = 0; !st && i < n_new; i++) out[i] = (unsigned char)(o[i] & 255);
    muon_free(p);
    muon_free(o);
    return st;
}

int muon_sample_ids(muon_model *m,
                    const int *prompt, /* (n_prompt) */
                    int n_prompt, int n_new, float temperature, uint64_t seed,
                    int *out)          /* (n_new) */
{
    const int T = m->cfg.seq_len, V = m->cfg.vocab_size;
    int *ctx, n_ctx = 0, i, j, st = MUON_OK;
    muon_rng r;
    if (n_new < 0 || n_prompt < 0) return muon_error(MUON_ERR_ARG, "sample: negative length");
    if (!(temperature >= 0) || !isfinite(temperature)) return muon_error(MUON_ERR_ARG, "sample: temperature must be >= 0");
    ctx = muon_alloc(sizeof(int) * (size_t)T);
    if (!ctx) return MUON_ERR_NOMEM;
    muon_rng_seed(&r, seed);
    /* keep the last T ids of the prompt; an empty prompt starts at id 0 */
    if (n_prompt == 0) ctx[n_ctx++] = 0;
    for (i = n_prompt > T ? n_prompt - T : 0; i < n_prompt; i++) {
        if (prompt[i] < 0 || prompt[i] >= V) { muon_free(ctx); return muon_error(MUON_ERR_ARG, "sample: prompt id %d outside the vocabulary 0..%d", prompt[i], V - 1); }
        ctx[n_ctx++] = prompt[i];
    }
    for (i = 0; i < n_new; i++) {
        const float *logits;
        int next = 0;
        st = muon_model_forward(m, ctx, NULL, 1, n_ctx);
        if (st) break;
        logits = muon_model_logits(m) + (size_t)(n_ctx - 1) * V;
        if (temperature == 0.0f) {
            for (j = 1; j < V; j++) if (logits[j] > logits[next]) next = j;
        } else {
            /* softmax(logits / temperature) by inversion of the CDF, in double */
            double mx = logits[0], sum = 0.0, u, acc = 0.0;
            for (j = 1; j < V; j++) if (logits[j] > mx) mx = logits[j];
            for (j = 0; j < V; j++) sum += exp(((double)logits[j] - mx) / temperature);
            u = muon_rng_uniform(&r) * sum;
            next = V - 1;
            for (j = 0; j < V; j++) {
                acc += exp(((double)logits[j] - mx) / temperature);
                if (u < acc) { next = j; break; }
            }
        }
        out[i] = next;
        if (n_ctx == T) { memmove(ctx, ctx + 1, sizeof(int) * (size_t)(T - 1)); n_ctx--; }
        ctx[n_ctx++] = next;
    }
    muon_free(ctx);
    return st;
}
