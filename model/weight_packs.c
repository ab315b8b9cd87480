/* Weights packed once per step. A training step runs every sequence through
 * its own forward and backward (--reduce tree, train/data_parallel.c), each
 * pass with T rows, so each of its GEMMs multiplies T rows by a weight that
 * muon_gemm would pack again in every pass: at T = 128 that copying is
 * about a tenth of a pass. Packed here once, in both layouts the linear
 * layers read (W^T for the forward, W for the backward's dX), every pass of
 * the step reads the packs instead (muon_gemm_packed): the same numbers in
 * the same order, so the same bits. The weights' gradients (dY^T X) pack
 * activations, which differ per pass, and are not touched. */
#include "model/model_internal.h"
#include "linalg/omp.h"

int muon_weight_packs_fill(muon_weight_packs *p, const muon_model *m)
{
    int n = muon_model_linear_weights(m, NULL, 0), i;
    size_t floats = 0;
    float *at;
    if (n > p->cap) {
        muon_linear_weight *nl = muon_calloc((size_t)n, sizeof *nl);
        muon_weight_pack *np = muon_calloc((size_t)n, sizeof *np);
        if (!nl || !np) {
            muon_free(nl);
            muon_free(np);
            return muon_error(MUON_ERR_NOMEM, "packing weights: out of memory for %d entries", n);
        }
        muon_free(p->list);
        muon_free(p->packs);
        p->list = nl;
        p->packs = np;
        p->cap = n;
    }
    p->n = 0;   /* nothing valid until the packs are written */
    muon_model_linear_weights(m, p->list, n);
    for (i = 0; i < n; i++)
        floats += muon_gemm_packed_b_floats(p->list[i].in, p->list[i].out) +
                  muon_gemm_packed_b_floats(p->list[i].out, p->list[i].in);
    if (floats > p->buf_floats) {
        float *nb = muon_alloc(floats * sizeof(float));
        if (!nb) return muon_error(MUON_ERR_NOMEM, "packing weights: out of memory (%.1f MB)", floats * 4.0 / 1e6);
        muon_free(p->buf);
        p->buf = nb;
        p->buf_floats = floats;
    }
    for (i = 0, at = p->buf; i < n; i++) {
        p->packs[i].W = p->list[i].W;
        p->packs[i].wt = at;
        at += muon_gemm_packed_b_floats(p->list[i].in, p->list[i].out);
        p->packs[i].w = at;
        at += muon_gemm_packed_b_floats(p->list[i].out, p->list[i].in);
    }
MUON_OMP(omp parallel for schedule(dynamic, 1))
    for (i = 0; i < n; i++) {
        const int I = p->list[i].in, O = p->list[i].out;
        const float *W = p->list[i].W;
        muon_gemm_pack_b(MUON_TRANS, I, O, W, I, p->packs[i].wt);   /* op(B) = W^T (I, O) */
        muon_gemm_pack_b(MUON_NOTRANS, O, I, W, I, p->packs[i].w);  /* op(B) = W (O, I) */
    }
    p->n = n;
    return MUON_OK;
}

void muon_weight_packs_free(muon_weight_packs *p)
{
    muon_free(p->list);
    muon_free(p->packs);
    muon_free(p->buf);
    p->list = NULL;
    p->packs = NULL;
    p->buf = NULL;
    p->n = p->cap = 0;
    p->buf_floats = 0;
}

const muon_weight_pack *muon_weight_packs_find(const muon_weight_packs *p, const float *W)
{
    int i;
    if (!p) return NULL;
    for (i = 0; i < p->n; i++)
        if (p->packs[i].W == W) return &p->packs[i];
    return NULL;
}
