/* The batch gradient as a fixed tree of per-sequence gradients
 * (train/data_parallel.h, docs/distributed.md#the-reduction). */
#include "train/data_parallel.h"
#include "dist/dist.h"
#include "linalg/omp.h"
#include "model/experiments.h"     /* muon_model_set_bf16 */
#include "model/model_internal.h"  /* muon_model_create_rows */

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
    if (dp->workers) {
        int w;
        for (w = 0; w + 1 < dp->n_workers; w++) {
            dp->workers[w].params = NULL;       /* m's, not theirs */
            muon_model_free(&dp->workers[w]);
        }
    }
    muon_free(dp->workers);
    muon_free(dp->wnodes);
    muon_free(dp->wfirst);
    muon_free(dp->wcount);
    muon_free(dp->wsum);
    muon_free(dp->wtmp);
    muon_packed_weights_free(dp->packed);
    memset(dp, 0, sizeof *dp);
}

static void *alloc_floats(size_t n) { return muon_alloc((n ? n : 1) * sizeof(float)); }

/* levels below the deepest of nodes(n) */
static int deepest(const muon_span *nodes, int n)
{
    int j, need = 0;
    for (j = 0; j < n; j++) {
        int size = nodes[j].hi - nodes[j].lo, d = 0;
        while ((1 << d) < size) d++;
        if (d > need) need = d;
    }
    return need;
}

/* The workers of this rank (train/data_parallel.h): their sequence ranges
 * and tree nodes, their buffers, and models 1..W-1 sharing m's parameters.
 * W = 1 needs none of it. */
static int create_workers(muon_dp *dp, const muon_model *m)
{
    int n = dp->hi - dp->lo, W = muon_threads(), cap = 2 * dp->depth + 2, w, st;
    size_t P = m->num_params;
    if (W > n) W = n;
    if (W < 1) W = 1;
    dp->n_workers = W;
    if (W == 1) return MUON_OK;
    dp->wnodes = muon_alloc((size_t)W * cap * sizeof *dp->wnodes);
    dp->wfirst = muon_alloc((size_t)W * sizeof(int));
    dp->wcount = muon_alloc((size_t)W * sizeof(int));
    dp->workers = muon_calloc((size_t)(W - 1), sizeof *dp->workers);
    if (!dp->wnodes || !dp->wfirst || !dp->wcount || !dp->workers) return MUON_ERR_NOMEM;
    for (w = 0; w < W; w++) {
        int lo = dp->lo + (int)((long)w * n / W), hi = dp->lo + (int)((long)(w + 1) * n / W);
        dp->wfirst[w] = dp->n_wnodes;
        dp->wcount[w] = muon_tree_nodes(dp->B, lo, hi, dp->wnodes + dp->n_wnodes, cap);
        dp->n_wnodes += dp->wcount[w];
    }
    dp->wlevels = (size_t)deepest(dp->wnodes, dp->n_wnodes);
    dp->wsum = alloc_floats((size_t)dp->n_wnodes * P);
    dp->wtmp = alloc_floats((size_t)W * dp->wlevels * P);
    if (!dp->wsum || !dp->wtmp) return MUON_ERR_NOMEM;
    for (w = 0; w + 1 < W; w++) {
        muon_model *x = &dp->workers[w];
        /* one sequence at a time, as the tree runs; bf16 rounding scratch if m has it */
        if ((st = muon_model_create_rows(x, &m->cfg, 1))) return st;
        if (m->bf16_x) st = muon_model_set_bf16(x);
        /* it reads m's parameters (set at every gradient) and writes its
         * gradients into the tree's node buffers (leaf): its own arrays go */
        muon_free(x->params);
        muon_free(x->grads);
        x->params = x->grads = NULL;
        if (st) return st;
    }
    return MUON_OK;
}

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
    /* right children wait in tmp: as many levels as this rank's deepest node has */
    dp->tmp = alloc_floats((size_t)deepest(dp->nodes + dp->first, dp->count) * P);
    dp->local = alloc_floats((size_t)dp->count * P);
    if (!dp->local || !dp->tmp) goto nomem;
    if (R > 1) { /* the exchange's buffers; one process takes the root's sum from local */
        dp->send = alloc_floats((size_t)dp->count * P);
        dp->recv = alloc_floats((size_t)dp->n_nodes * mine);
        dp->ctmp = alloc_floats((size_t)(dp->depth + 1) * mine);
        if (!dp->send || !dp->recv || !dp->ctmp) goto nomem;
    }
    {
        int st = create_workers(dp, m);
        if (st == MUON_ERR_NOMEM) goto nomem;
        if (st) return muon_dp_free(dp), st;
        /* a worker running one pass per step would pack each weight as
         * often either way, into memory of its own. Without the memory
         * (twice the linear weights) every pass packs its own: the same
         * bits, a little slower. */
        if (dp->hi - dp->lo > dp->n_workers && muon_packed_weights_create(&dp->packed, m))
            dp->packed = NULL;
    }
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

/* Sequence s alone through forward and backward: g_s in out(P), or with
 * add, out + g_s. The backward writes m->grads, which points at out
 * meanwhile: a copy of every leaf's gradient would cost as much memory
 * traffic as the tree's additions. It overwrites out (backward_set):
 * zeroing it first, and reading those zeros back in every weight-gradient
 * GEMM, was two more passes over P floats per sequence. With add it adds
 * (muon_model_backward), which the caller asks for only where that is the
 * bits of g_s added afterwards (leaf_adds). */
static int leaf(muon_dp *dp, muon_model *m, const int *tokens, const int *targets, int s, float *out, int add)
{
    size_t at = (size_t)s * (size_t)dp->T;
    float *own = m->grads;
    int st;
    m->grads = out;
    st = muon_model_forward(m, tokens + at, targets + at, 1, dp->T);
    if (!st) {
        dp->losses[s] = m->loss;
        /* a non-finite loss is not an error here: every rank must reach the
         * exchange, and the batch loss decides (train/train_step.c) */
        st = add ? muon_model_backward(m) : muon_model_backward_set(m);
    }
    m->grads = own;
    return st;
}

/* Whether a right child that is one sequence may add its gradient straight
 * onto its left sibling's sum: muon_model_backward adds with one rounding
 * per element where the T tokens of a pass fit one GEMM K block (model.c),
 * which saves writing g_s out and the tree's pass that adds it (reading
 * g_s and the sum, writing the sum) for every such pair. */
static int leaf_adds(const muon_dp *dp) { return dp->T <= muon_gemm_k_block(); }

/* out(P) = the sum of tree node [a, b) over its sequences, on model m,
 * right children waiting in tmp(levels, P) */
static int sum_local(muon_dp *dp, muon_model *m, float *tmp, const int *tokens, const int *targets,
                     int a, int b, int level, float *out)
{
    int mid, st;
    if (b - a == 1) return leaf(dp, m, tokens, targets, a, out, 0);
    mid = muon_tree_split(a, b);
    if ((st = sum_local(dp, m, tmp, tokens, targets, a, mid, level + 1, out))) return st;
    if (b - mid == 1 && leaf_adds(dp)) return leaf(dp, m, tokens, targets, mid, out, 1);
    if ((st = sum_local(dp, m, tmp, tokens, targets, mid, b, level + 1, tmp + (size_t)level * m->num_params))) return st;
    add_into(out, tmp + (size_t)level * m->num_params, m->num_params);
    return MUON_OK;
}

/* out(n) = tree node [a, b) added up along the tree from node sums
 * sums(n_nodes, n) of the nodes nodes(n_nodes), which are whole subtrees
 * covering [a, b): the tree of sum_local, so the same bits as one pass.
 * Right children wait in tmp(levels, n). It joins the workers' nodes into
 * the rank's, and every rank's into the batch's. */
static void sum_nodes(const muon_span *nodes, int n_nodes, const float *sums, size_t n, float *tmp,
                      int a, int b, int level, float *out)
{
    int j, mid;
    for (j = 0; j < n_nodes; j++)
        if (nodes[j].lo == a && nodes[j].hi == b) {
            memcpy(out, sums + (size_t)j * n, n * sizeof(float));
            return;
        }
    mid = muon_tree_split(a, b);
    sum_nodes(nodes, n_nodes, sums, n, tmp, a, mid, level + 1, out);
    sum_nodes(nodes, n_nodes, sums, n, tmp, mid, b, level + 1, tmp + (size_t)level * n);
    add_into(out, tmp + (size_t)level * n, n);
}

void muon_dp_attach_packs(muon_dp *dp, muon_model *m)
{
    int w;
    if (!dp->packed) return;
    muon_packed_weights_fill(dp->packed, m->params);
    m->packed = dp->packed;
    for (w = 0; w + 1 < dp->n_workers; w++) dp->workers[w].packed = dp->packed;
}

void muon_dp_detach_packs(muon_dp *dp, muon_model *m)
{
    int w;
    m->packed = NULL;
    for (w = 0; w + 1 < dp->n_workers; w++) dp->workers[w].packed = NULL;
}

/* dp->local = this rank's node sums: on m alone, or on the workers side
 * by side (one thread each; their GEMMs then run on that thread) */
static int rank_nodes(muon_dp *dp, muon_model *m, const int *tokens, const int *targets)
{
    size_t P = m->num_params;
    muon_failure f = {0};
    int j, w, st = MUON_OK;
    /* the packs hold this step's weights only while the passes run */
    muon_dp_attach_packs(dp, m);
    if (dp->n_workers == 1) {
        for (j = 0; j < dp->count && !st; j++) {
            const muon_span *nd = &dp->nodes[dp->first + j];
            st = sum_local(dp, m, dp->tmp, tokens, targets, nd->lo, nd->hi, 0, dp->local + (size_t)j * P);
        }
        muon_dp_detach_packs(dp, m);
        return st;
    }
    for (w = 0; w + 1 < dp->n_workers; w++) dp->workers[w].params = m->params;
    /* fewer threads than workers now (muon_set_threads since creation):
     * a thread runs several workers in turn, to the same sums */
MUON_OMP(omp parallel for schedule(static, 1) num_threads(muon_threads_upto(dp->n_workers)))
    for (w = 0; w < dp->n_workers; w++) {
        muon_model *wm = w == 0 ? m : &dp->workers[w - 1];
        int k, s1 = MUON_OK;
        for (k = 0; k < dp->wcount[w] && !s1; k++) {
            const muon_span *nd = &dp->wnodes[dp->wfirst[w] + k];
            s1 = sum_local(dp, wm, dp->wtmp + (size_t)w * dp->wlevels * P, tokens, targets, nd->lo, nd->hi, 0,
                           dp->wsum + (size_t)(dp->wfirst[w] + k) * P);
        }
        if (s1) muon_failure_note(&f, w, s1);
    }
    muon_dp_detach_packs(dp, m);
    if ((st = muon_failure_raise(&f))) return st;
    for (j = 0; j < dp->count; j++)
        sum_nodes(dp->wnodes, dp->n_wnodes, dp->wsum, P, dp->tmp, dp->nodes[dp->first + j].lo,
                  dp->nodes[dp->first + j].hi, 0, dp->local + (size_t)j * P);
    return MUON_OK;
}

int muon_dp_gradient(muon_dp *dp, muon_model *m, const int *tokens, const int *targets)
{
    const muon_shard *s = dp->shard;
    size_t P = m->num_params, at = 0, k;
    double sum = 0.0;
    int j, i, q, st = MUON_OK;
    float *g, *out;

    if ((st = muon_dist_agree(rank_nodes(dp, m, tokens, targets)))) return st;
    if (s->size == 1) {
        /* one process, whose one node is the root: the batch's sum is
         * dp->local already, its tensors in model order as packed below
         * (they lie back to back), and the exchange would copy it three
         * times to the same bits (muon_dp_create allocates it no buffers) */
        out = dp->local;
    } else {
        out = dp->ctmp;
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
        st = muon_dist_alltoallv(MUON_DIST_FLOAT, dp->send, dp->scounts, dp->sdispls, dp->recv, dp->rcounts,
                                 dp->rdispls);
        memcpy(dp->my_losses, dp->losses + dp->lo, (size_t)(dp->hi - dp->lo) * sizeof(double));
        if (!st) st = muon_dist_gatherv(MUON_DIST_DOUBLE, -1, dp->my_losses, dp->hi - dp->lo,
                                        dp->losses, dp->lcounts, dp->ldispls);
        if (st) return st;
        {
            /* the batch's node from every rank's node sums of this rank's tensors;
             * the root goes to ctmp's first row, right children below it */
            size_t mine = s->owned[s->rank];
            sum_nodes(dp->nodes, dp->n_nodes, dp->recv, mine, dp->ctmp + mine, 0, dp->B, 0, out);
        }
    }
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
