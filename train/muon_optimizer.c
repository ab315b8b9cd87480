/* Muon (Keller Jordan 2024): momentum SGD whose update direction is replaced
 * by its orthogonal polar factor, so every singular direction of a weight
 * matrix moves by the same amount. docs/optimizers.md#muon:
 *   M <- mu M + (1-mu) G;  U = (1-mu) G + mu M (Nesterov) or U = M;
 *   O = orth(U);  W <- W (1 - lr wd) - lr scale O.
 * The "(1-mu) G" form (an EMA, as in modded-nanogpt) rather than "mu M + G"
 * keeps M at the gradient's scale; orth() normalises anyway, but the metrics
 * look at M itself. */
#include "train/train.h"
#include "model/experiments.h"
#include "metrics/metrics.h"
#include "plots/plots.h"

#include <math.h>
#include <string.h>

static const char *const mscale_names[] = {"default", "moonlight"};

const char *muon_mscale_name(muon_mscale_kind k) { return muon_name_of(mscale_names, 2, (int)k); }

int muon_mscale_parse(const char *name, muon_mscale_kind *k)
{
    int v, st = muon_name_parse("Muon scale", mscale_names, 2, name, &v);
    if (!st) *k = (muon_mscale_kind)v;
    return st;
}

float muon_update_scale(muon_mscale_kind k, int rows, int cols)
{
    /* default: an orthogonal (rows,cols) matrix has RMS entry 1/sqrt(max dim);
     * sqrt(rows/cols) for tall matrices makes the RMS-to-RMS operator norm of
     * the update 1 (Keller's choice). Moonlight (Liu et al. 2025):
     * 0.2 sqrt(max) gives the update AdamW's typical RMS of 0.2, so AdamW lrs carry over. */
    if (k == MUON_MSCALE_MOONLIGHT) return (float)(0.2 * sqrt((double)(rows > cols ? rows : cols)));
    return (float)sqrt(rows > cols ? (double)rows / (double)cols : 1.0);
}

void muon_momentum_update(const muon_optim_config *c, size_t n,
                        const float *G, /* (n) */
                        float *M,       /* (n) momentum, updated */
                        float *U)       /* (n) out: the direction orthogonalised */
{
    const float mu = c->momentum, one_mu = (float)(1.0 - (double)c->momentum);
    size_t i;
    for (i = 0; i < n; i++) {
        float m = M[i] * mu + one_mu * G[i];
        M[i] = m;
        U[i] = c->nesterov ? G[i] * one_mu + mu * m : m;
    }
}

int muon_orthogonal_update(const muon_optim_config *c, float lr, int rows, int cols,
                           float *W, const float *G, float *M, float *O, float *delta)
{
    return muon_orthogonal_update_keyed(c, lr, rows, cols, W, G, M, O, delta, 0);
}

int muon_orthogonal_update_keyed(const muon_optim_config *c, float lr, int rows, int cols,
                                 float *W, const float *G, float *M, float *O, float *delta,
                                 uint64_t noise_key)
{
    muon_workspace ws = {0};
    int st = muon_orthogonal_update_ws(&ws, c, lr, rows, cols, W, G, M, O, delta, noise_key);
    muon_workspace_free(&ws);
    return st;
}

int muon_orthogonal_update_ws(muon_workspace *ws, const muon_optim_config *c, float lr, int rows, int cols,
                     float *W,       /* (rows,cols) */
                     const float *G, /* (rows,cols) */
                     float *M,       /* (rows,cols) momentum, updated */
                     float *O,       /* (rows,cols) out: orth(U) (+ noise) */
                     float *delta,   /* (rows,cols) out: W after - W before */
                     uint64_t noise_key) /* seed of --update-noise (docs/experiments.md) */
{
    const float decay = (float)(1.0 - (double)lr * (double)c->wd);
    const float step = (float)((double)lr * (double)muon_update_scale(c->scale, rows, cols));
    size_t i, n = (size_t)rows * (size_t)cols; /* up to 2^32: beyond a 32-bit long */
    int st;
    if (rows < 1 || cols < 1) return muon_error(MUON_ERR_ARG, "muon update: bad shape (%d,%d)", rows, cols);
    muon_momentum_update(c, (size_t)n, G, M, O);
    /* flags 0 is muon_orthogonalize exactly; bf16: docs/precision.md */
    st = muon_orthogonalize_ws(ws, c->orth, c->ns_steps, rows, cols, O, O,
                               c->bf16 ? MUON_ORTH_BF16 | MUON_ORTH_BF16_BLOCKED : 0u);
    if (st) return st;
    if (c->update_noise > 0) muon_update_noise_add(O, (size_t)n, c->update_noise, noise_key);
    for (i = 0; i < n; i++) {
        float w0 = W[i], w = w0 * decay;
        w = w + (-step) * O[i];
        if (c->bf16) w = muon_bf16_round(w); /* parameters stored in bf16 */
        W[i] = w;
        delta[i] = w - w0;
    }
    return MUON_OK;
}
