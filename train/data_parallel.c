/* The batch gradient as a fixed tree of per-sequence gradients
 * (train/data_parallel.h, docs/distributed.md#the-reduction). */
#include "train/data_parallel.h"
#include "dist/dist.h"
#include "linalg/omp.h"

#include <math.h>
#include <string.h>

int muon_tree_split(int a, int b)
{
    int h = 1;
    while (2 * h < b - a) h *= 2;
    return a + h;
}

static void nodes_in(int a, int b, int lo, int hi, muon_span *out, int cap, int *n)
{
    if (b <= lo || a >= hi) return;
    if (a >= lo && b <= hi) {
        if (*n < cap) { out[*n].lo = a; out[*n].hi = b; }
        (*n)++;
        return;
    }
    nodes_in(a, muon_tree_split(a, b), lo, hi, out, cap, n);
    nodes_in(muon_tree_split(a, b), b, lo, hi, out, cap, n);
}

int muon_tree_nodes(int n, int lo, int hi, muon_span *out, int cap)
{
    int k = 0;
    if (n >= 1 && lo < hi) nodes_in(0, n, lo, hi, out, cap, &k);
    return k;
}

void muon_dp_free(muon_dp *dp)
{
    if (!dp) return;
    muon_free(dp->nodes);
    muon_free(dp->node_rank);
    muon_free(dp->local);
    muon_free(dp->tmp);
    muon_free(dp->send);
    muon_free(dp->recv);
    muon_free(dp->ctmp);
    muon_free(dp->scounts);
    muon_free(dp->sdispls);
    muon_free(dp->rcounts);
    muon_free(dp->rdispls);
    muon_free(dp->lcounts);
    muon_free(dp->ldispls);
    muon_free(dp->losses);
    muon_free(dp->my_losses);
    memset(dp, 0, sizeof *dp);
}

static void *alloc_floats(size_t n) { return muon_alloc((n ? n : 1) * sizeof(float)); }

int muon_dp_create(muon_dp *dp, muon_shard *s, const muon_model *m, int B, int T)
{
    int R = s->size, r, cap;
    size_t P = m->num_params, mine = s->owned[s->rank];
    memset(dp, 0, sizeof *dp);
    if (B < 1 || B % R)
        return muon_error(MUON_ERR_ARG, "distributed training: --batch-size %d is not a multiple of the %d ranks", B, R);
    dp->shard = s;
    dp->B = B;
    dp->T = T;
    dp->lo = s->rank * (B / R);
    dp->hi = dp->lo + B / R;
    while ((1 << dp->depth) < B) dp->depth++;
    cap = 2 * dp->depth + 2;
    dp->nodes = muon_alloc((size_t)R * cap * sizeof *dp->nodes);
    dp->node_rank = muon_alloc((size_t)R * cap * sizeof *dp->node_rank);
    dp->scounts = muon_alloc((size_t)R * sizeof(int));
    dp->sdispls = muon_alloc((size_t)R * sizeof(int));
    dp->rcounts = muon_alloc((size_t)R * sizeof(int));
    dp->rdispls = muon_alloc((size_t)R * sizeof(int));
    dp->lcounts = muon_alloc((size_t)R * sizeof(int));
    dp->ldispls = muon_alloc((size_t)R * sizeof(int));
    dp->losses = muon_alloc((size_t)B * sizeof(double));
    dp->my_losses = muon_alloc((size_t)(B / R) * sizeof(double));
    if (!dp->nodes || !dp->node_rank || !dp->scounts || !dp->sdispls || !dp->rcounts || !dp->rdispls ||
        !dp->lcounts || !dp->ldispls || !dp->losses || !dp->my_losses)
        goto nomem;
    for (r = 0; r < R; r++) {
        int lo = r * (B / R), k = muon_tree_nodes(B, lo, lo + B / R, dp->nodes + dp->n_nodes, cap), j;
        for (j = 0; j < k; j++) dp->node_rank[dp->n_nodes + j] = r;
        if (r == s->rank) { dp->first = dp->n_nodes; dp->count = k; }
        dp->rcounts[r] = (int)(k * mine);          /* k node sums of this rank's tensors */
        dp->rdispls[r] = (int)((size_t)dp->n_nodes * mine);
        dp->lcounts[r] = B / R;
        dp->ldispls[r] = lo;
        dp->n_nodes += k;
    }
    if (R > 1 && ((double)dp->count * (double)P > 2147483647.0 || (double)dp->n_nodes * (double)mine > 2147483647.0))
        return muon_dp_free(dp), muon_error(MUON_ERR_ARG, "distributed training: a rank's gradient message "
                                            "exceeds MPI's int counts (use fewer ranks per batch)");
    {
        int at = 0;
        for (r = 0; r < R; r++) {
            dp->scounts[r] = (int)(dp->count * s->owned[r]);
            dp->sdispls[r] = at;
            at += dp->scounts[r];
        }
    }
    {
        /* right children wait in tmp: as many levels as this rank's deepest node has */
        int j, need = 0;
        for (j = 0; j < dp->count; j++) {
            int size = dp->nodes[dp->first + j].hi - dp->nodes[dp->first + j].lo, d = 0;
            while ((1 << d) < size) d++;
            if (d > need) need = d;
        }
        dp->tmp = alloc_floats((size_t)need * P);
    }
    dp->local = alloc_floats((size_t)dp->count * P);
    dp->send = alloc_floats((size_t)dp->count * P);
    dp->recv = alloc_floats((size_t)dp->n_nodes * mine);
    dp->ctmp = alloc_floats((size_t)(dp->depth + 1) * mine);
    if (!dp->local || !dp->tmp || !dp->send || !dp->recv || !dp->ctmp) goto nomem;
    return MUON_OK;
nomem:
    muon_dp_free(dp);
    return muon_error(MUON_ERR_NOMEM, "distributed training: out of memory for the gradient tree of %d sequences "
                      "(%lu parameters)", B, (unsigned long)P);
}

/* y += x, elementwise: the one addition of the tree */
static void add_into(float *restrict y, const float *restrict x, size_t n)
{
    long i, nn = (long)n;
MUON_OMP(omp parallel for schedule(static) if (nn >= 65536))
    for (i = 0; i < nn; i++) y[i] += x[i];
}

/* Sequence s alone through forward and backward: g_s in m->grads. */
static int leaf(muon_dp *dp, muon_model *m, const int *tokens, const int *targets, int s)
{
    size_t at = (size_t)s * (size_t)dp->T;
    int st;
    muon_model_zero_grad(m);
    if ((st = muon_model_forward(m, tokens + at, targets + at, 1, dp->T))) return st;
    dp->losses[s] = m->loss;
    /* a non-finite loss is not an error here: every rank must reach the
     * exchange, and the batch loss decides (train/train_step.c) */
    return muon_model_backward(m);
}

/* out(P) = the sum of tree node [a, b) over this rank's sequences */
static int sum_local(muon_dp *dp, muon_model *m, const int *tokens, const int *targets,
                     int a, int b, int level, float *out)
{
    int mid, st;
    if (b - a == 1) {
        if ((st = leaf(dp, m, tokens, targets, a))) return st;
        memcpy(out, m->grads, m->num_params * sizeof(float));
        return MUON_OK;
    }
    mid = muon_tree_split(a, b);
    if ((st = sum_local(dp, m, tokens, targets, a, mid, level + 1, out))) return st;
    if ((st = sum_local(dp, m, tokens, targets, mid, b, level + 1, dp->tmp + (size_t)level * m->num_params))) return st;
    add_into(out, dp->tmp + (size_t)level * m->num_params, m->num_params);
    return MUON_OK;
}

/* out(owned) = node [a, b) of the tree over every rank's node sums */
static void sum_global(muon_dp *dp, int a, int b, int level, float *out)
{
    size_t mine = dp->shard->owned[dp->shard->rank];
    int j, mid;
    for (j = 0; j < dp->n_nodes; j++)
        if (dp->nodes[j].lo == a && dp->nodes[j].hi == b) {
            memcpy(out, dp->recv + (size_t)j * mine, mine * sizeof(float));
            return;
        }
    mid = muon_tree_split(a, b);
    sum_global(dp, a, mid, level + 1, out);
    sum_global(dp, mid, b, level + 1, dp->ctmp + (size_t)(level + 1) * mine);
    add_into(out, dp->ctmp + (size_t)(level + 1) * mine, mine);
}

int muon_dp_gradient(muon_dp *dp, muon_model *m, const int *tokens, const int *targets)
{
    const muon_shard *s = dp->shard;
    size_t P = m->num_params, at = 0, k;
    double sum = 0.0;
    int j, i, q, st = MUON_OK;
    float *g, *out = dp->ctmp;

    for (j = 0; j < dp->count && !st; j++) {
        const muon_span *nd = &dp->nodes[dp->first + j];
        st = sum_local(dp, m, tokens, targets, nd->lo, nd->hi, 0, dp->local + (size_t)j * P);
    }
    if ((st = muon_dist_agree(st))) return st;
    /* pack: for each owner q, each of this rank's node sums restricted to q's tensors */
    for (q = 0; q < s->size; q++)
        for (j = 0; j < dp->count; j++)
            for (i = 0; i < s->n; i++) {
                const muon_param *p = &m->tensors[i];
                k = (size_t)p->rows * (size_t)p->cols;
                if (s->owner[i] != q) continue;
                memcpy(dp->send + at, dp->local + (size_t)j * P + p->offset, k * sizeof(float));
                at += k;
            }
    st = muon_dist_alltoallv(MUON_DIST_FLOAT, dp->send, dp->scounts, dp->sdispls, dp->recv, dp->rcounts, dp->rdispls);
    memcpy(dp->my_losses, dp->losses + dp->lo, (size_t)(dp->hi - dp->lo) * sizeof(double));
    if (!st) st = muon_dist_gatherv(MUON_DIST_DOUBLE, -1, dp->my_losses, dp->hi - dp->lo,
                                    dp->losses, dp->lcounts, dp->ldispls);
    if (st) return st;
    sum_global(dp, 0, dp->B, 0, out);
    /* unpack this rank's tensors, as the mean over the batch */
    g = out;
    for (i = 0; i < s->n; i++) {
        const muon_param *p = &m->tensors[i];
        float *dst = m->grads + p->offset;
        size_t e;
        k = (size_t)p->rows * (size_t)p->cols;
        if (s->owner[i] != s->rank) continue;
        for (e = 0; e < k; e++) dst[e] = g[e] / (float)dp->B;
        g += k;
    }
    for (j = 0; j < dp->B; j++) sum += dp->losses[j];
    m->loss = (float)(sum / dp->B);
    return MUON_OK;
}
