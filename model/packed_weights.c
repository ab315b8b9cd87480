/* Linear weights packed once for the GEMM, then read by many passes.
 *
 * --reduce tree runs one sequence per pass (train/data_parallel.c), so each
 * linear layer's products have M = T rows: muon_gemm packs op(B), the
 * weight, a K x N copy (a transpose for the forward's W^T), for every T x K x N
 * multiply-adds, and the same weight again in every pass of the step. Here
 * each weight is packed once per step, both ways it is used: W^T for the
 * forward out = in W^T, W for the input gradient din = dout W. The weight
 * gradient's B is an activation, different in every pass, and stays packed
 * per call. muon_gemm_packed reads the packs as muon_gemm would have packed
 * them, so the passes give the same bits with or without. */
#include "model/model_internal.h"
#include "linalg/omp.h"

typedef struct {
    size_t offset;     /* the weight W(O,I) is params + offset */
    int I, O;
    float *fwd, *bwd;  /* W^T (I,O) and W (O,I), as muon_gemm_pack_b lays them out */
} packed_entry;

struct muon_packed_weights {
    const float *params; /* of the last fill, NULL before the first */
    int n;
    packed_entry *e;   /* (n) in forward order */
    float *data;       /* every entry's fwd and bwd */
};

int muon_packed_weights_create(muon_packed_weights **out, const muon_model *m)
{
    muon_packed_weights *pw;
    muon_linear_weight *lw = NULL;
    size_t floats = 0, at = 0;
    int i, n = muon_model_linears(m, NULL, 0);
    *out = NULL;
    pw = muon_calloc(1, sizeof *pw);
    if (pw) pw->e = muon_calloc((size_t)n, sizeof *pw->e);
    lw = muon_alloc((size_t)n * sizeof *lw);
    if (!pw || !pw->e || !lw) goto nomem;
    muon_model_linears(m, lw, n);
    for (i = 0; i < n; i++)
        floats += muon_gemm_packed_size(lw[i].I, lw[i].O) + muon_gemm_packed_size(lw[i].O, lw[i].I);
    pw->data = muon_alloc((floats ? floats : 1) * sizeof(float));
    if (!pw->data) goto nomem;
    pw->n = n;
    for (i = 0; i < n; i++) {
        packed_entry *e = &pw->e[i];
        e->offset = lw[i].offset;
        e->I = lw[i].I;
        e->O = lw[i].O;
        e->fwd = pw->data + at;
        at += muon_gemm_packed_size(e->I, e->O);
        e->bwd = pw->data + at;
        at += muon_gemm_packed_size(e->O, e->I);
    }
    muon_free(lw);
    *out = pw;
    return MUON_OK;
nomem:
    muon_free(lw);
    muon_packed_weights_free(pw);
    return muon_error(MUON_ERR_NOMEM, "packed weights: out of memory for %d packed matrices (%.0f MB)", n,
                      (double)floats * sizeof(float) / 1e6);
}

void muon_packed_weights_fill(muon_packed_weights *pw, const float *params)
{
    long i, n = pw->n;
    pw->params = params;
    /* the entries are disjoint: any split over threads packs the same */
MUON_OMP(omp parallel for schedule(dynamic, 1) num_threads(muon_threads_upto((int)n)))
    for (i = 0; i < n; i++) {
        packed_entry *e = &pw->e[i];
        const float *W = params + e->offset;
        /* W is (O,I) with row stride I: the arguments are always valid */
        (void)muon_gemm_pack_b(MUON_TRANS, e->I, e->O, W, e->I, e->fwd);
        (void)muon_gemm_pack_b(MUON_NOTRANS, e->O, e->I, W, e->I, e->bwd);
    }
}

void muon_packed_weights_free(muon_packed_weights *pw)
{
    if (!pw) return;
    muon_free(pw->data);
    muon_free(pw->e);
    muon_free(pw);
}

const float *muon_packed_weights_find(const muon_packed_weights *pw, const float *W, int I, int O, muon_op op)
{
    int i;
    if (!pw || !pw->params) return NULL;
    for (i = 0; i < pw->n; i++) {
        const packed_entry *e = &pw->e[i];
        if (pw->params + e->offset == W && e->I == I && e->O == O) return op == MUON_TRANS ? e->fwd : e->bwd;
    }
    return NULL;
}
