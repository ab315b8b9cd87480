/* Muon (Keller Jordan 2024): momentum SGD whose update direction is replaced
 * by its orthogonal polar factor, so every singular direction of a weight
 * matrix moves by the same amount. SPEC section 6:
 *   M <- mu M + (1-mu) G;  U = (1-mu) G + mu M (Nesterov) or U = M;
 *   O = orth(U);  W <- W (1 - lr wd) - lr scale O.
 * The "(1-mu) G" form (an EMA, as in modded-nanogpt) rather than "mu M + G"
 * keeps M at the gradient's scale; orth() normalises anyway, but the metrics
 * look at M itself. */
#include "muon.h"

#include <math.h>
#include <string.h>

const char *muon_mscale_name(muon_mscale_kind k)
{
    return k == MUON_MSCALE_MOONLIGHT ? "moonlight" : "default";
}

int muon_mscale_parse(const char *name, muon_mscale_kind *k)
{
    if (!strcmp(name, "default")) *k = MUON_MSCALE_DEFAULT;
    else if (!strcmp(name, "moonlight")) *k = MUON_MSCALE_MOONLIGHT;
    else return muon_error(MUON_ERR_ARG, "unknown Muon scale '%s' (default|moonlight)", name);
    return MUON_OK;
}

float muon_muon_scale(muon_mscale_kind k, int rows, int cols)
{
    /* default: an orthogonal (rows,cols) matrix has RMS entry 1/sqrt(max dim);
     * sqrt(rows/cols) for tall matrices makes the RMS-to-RMS operator norm of
     * the update 1 (Keller's choice). Moonlight (Liu et al. 2025):
     * 0.2 sqrt(max) gives the update AdamW's typical RMS of 0.2, so AdamW lrs carry over. */
    if (k == MUON_MSCALE_MOONLIGHT) return (float)(0.2 * sqrt((double)(rows > cols ? rows : cols)));
    return (float)sqrt(rows > cols ? (double)rows / (double)cols : 1.0);
}

int muon_muon_update(const muon_optim_config *c, float lr, int rows, int cols,
                     float *W,       /* (rows,cols) */
                     const float *G, /* (rows,cols) */
                     float *M,       /* (rows,cols) momentum, updated */
                     float *O,       /* (rows,cols) out: orth(U) */
                     float *delta)   /* (rows,cols) out: W after - W before */
{
    const float mu = c->momentum, one_mu = (float)(1.0 - (double)c->momentum);
    const float decay = (float)(1.0 - (double)lr * (double)c->wd);
    const float step = (float)((double)lr * (double)muon_muon_scale(c->scale, rows, cols));
    size_t i, n = (size_t)rows * (size_t)cols; /* up to 2^32: beyond a 32-bit long */
    int st;
    if (rows < 1 || cols < 1) return muon_error(MUON_ERR_ARG, "muon update: bad shape (%d,%d)", rows, cols);
    for (i = 0; i < n; i++) {
        float m = M[i] * mu + one_mu * G[i];
        M[i] = m;
        O[i] = c->nesterov ? G[i] * one_mu + mu * m : m;
    }
    st = muon_orthogonalize(c->orth, c->ns_steps, rows, cols, O, O);
    if (st) return st;
    for (i = 0; i < n; i++) {
        float w0 = W[i], w = w0 * decay;
        w = w + (-step) * O[i];
        W[i] = w;
        delta[i] = w - w0;
    }
    return MUON_OK;
}
