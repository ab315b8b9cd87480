/* Tensor ownership and the copies between owners (train/shard.h). */
#include "train/shard.h"
#include "dist/dist.h"

#include <limits.h>
#include <string.h>

/* The work a rank does per step for tensor p, in FLOPs up to a constant: the
 * orthogonaliser's (and the tracking SVD's) GEMMs for a hidden matrix, the
 * elementwise update for everything. Only the ratios matter. */
static double tensor_cost(const muon_param *p)
{
    double r = p->rows, c = p->cols, n = r * c;
    return p->role == MUON_ROLE_MATRIX ? 30.0 * n * (r < c ? r : c) + 10.0 * n : 10.0 * n;
}

void muon_shard_free(muon_shard *s)
{
    if (!s) return;
    muon_free(s->owner);
    muon_free(s->owned);
    muon_free(s->counts);
    muon_free(s->displs);
    muon_free(s->send);
    muon_free(s->recv);
    muon_free(s->isend);
    muon_free(s->irecv);
    muon_free(s->per);
    memset(s, 0, sizeof *s);
}

int muon_shard_create(muon_shard *s, const muon_model *m)
{
    int i, j, r, *order = NULL;
    double *load = NULL;
    memset(s, 0, sizeof *s);
    s->rank = muon_dist_rank();
    s->size = muon_dist_size();
    s->n = m->n_tensors;
    s->total = m->num_params;
    s->owner = muon_alloc((size_t)s->n * sizeof *s->owner);
    s->owned = muon_calloc((size_t)s->size, sizeof *s->owned);
    s->counts = muon_alloc((size_t)s->size * sizeof *s->counts);
    s->displs = muon_alloc((size_t)s->size * sizeof *s->displs);
    order = muon_alloc((size_t)s->n * sizeof *order);
    load = muon_calloc((size_t)s->size, sizeof *load);
    if (!s->owner || !s->owned || !s->counts || !s->displs || !order || !load) goto nomem;
    /* largest first, ties in model order (insertion sort: tens to hundreds of tensors) */
    for (i = 0; i < s->n; i++) {
        double ci = tensor_cost(&m->tensors[i]);
        for (j = i; j > 0 && tensor_cost(&m->tensors[order[j - 1]]) < ci; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    for (i = 0; i < s->n; i++) {
        const muon_param *p = &m->tensors[order[i]];
        int best = 0;
        for (r = 1; r < s->size; r++)
            if (load[r] < load[best]) best = r;
        s->owner[order[i]] = best;
        load[best] += tensor_cost(p);
        s->owned[best] += (size_t)p->rows * (size_t)p->cols;
    }
    if (s->size > 1 && s->total > (size_t)INT_MAX) {
        muon_free(order);
        muon_free(load);
        muon_shard_free(s);
        return muon_error(MUON_ERR_ARG, "distributed training: %lu parameters exceed MPI's int counts",
                          (unsigned long)m->num_params);
    }
    s->send = muon_alloc((s->owned[s->rank] ? s->owned[s->rank] : 1) * sizeof(float));
    s->recv = muon_alloc((s->total ? s->total : 1) * sizeof(float));
    s->isend = muon_alloc((size_t)(s->n + 1) * sizeof(double));
    s->irecv = muon_alloc((size_t)(s->n + 1) * sizeof(double));
    s->per = muon_alloc((size_t)s->size * sizeof *s->per);
    if (!s->send || !s->recv || !s->isend || !s->irecv || !s->per) goto nomem;
    muon_free(order);
    muon_free(load);
    return MUON_OK;
nomem:
    muon_free(order);
    muon_free(load);
    muon_shard_free(s);
    return muon_error(MUON_ERR_NOMEM, "distributed training: out of memory for the ownership tables");
}

int muon_shard_owns(const muon_shard *s, int i) { return s->owner[i] == s->rank; }

int muon_shard_owner_at(const muon_shard *s, const muon_model *m, size_t offset)
{
    int i;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        if (offset >= p->offset && offset < p->offset + (size_t)p->rows * (size_t)p->cols) return s->owner[i];
    }
    return 0;
}

/* counts/displs of a gather whose rank r contributes per[r] elements */
static void layout_counts(muon_shard *s, const size_t *per)
{
    int r, at = 0;
    for (r = 0; r < s->size; r++) {
        s->counts[r] = (int)per[r];
        s->displs[r] = at;
        at += (int)per[r];
    }
}

int muon_shard_share_tensors(muon_shard *s, const muon_model *m, float *base, int root)
{
    size_t at = 0;
    int i, r, st;
    if (s->size == 1) return MUON_OK; /* the one owner already holds everything */
    for (i = 0; i < s->n; i++) {
        const muon_param *p = &m->tensors[i];
        size_t k = (size_t)p->rows * (size_t)p->cols;
        if (s->owner[i] != s->rank) continue;
        memcpy(s->send + at, base + p->offset, k * sizeof(float));
        at += k;
    }
    layout_counts(s, s->owned);
    st = muon_dist_gatherv(MUON_DIST_FLOAT, root, s->send, (int)at, s->recv, s->counts, s->displs);
    if (st || (root >= 0 && root != s->rank)) return st;
    /* rank r's part holds its tensors in model order */
    for (r = 0; r < s->size; r++) {
        const float *src = s->recv + s->displs[r];
        if (r == s->rank) continue;
        for (i = 0; i < s->n; i++) {
            const muon_param *p = &m->tensors[i];
            size_t k = (size_t)p->rows * (size_t)p->cols;
            if (s->owner[i] != r) continue;
            memcpy(base + p->offset, src, k * sizeof(float));
            src += k;
        }
    }
    return MUON_OK;
}

int muon_shard_share_items(muon_shard *s, void *items, size_t item_bytes, int n, const int *owner, int root)
{
    unsigned char *all = items, *send = s->isend, *recv = s->irecv;
    size_t bytes = (size_t)n * item_bytes, *per = s->per;
    int i, r, st = MUON_OK, mine = 0, own = 0;
    if (s->size == 1) return MUON_OK;
    if (bytes > (size_t)(s->n + 1) * sizeof(double)) {
        /* tracking and evaluation records: larger than the scratch */
        own = 1;
        send = muon_alloc(bytes + 1);
        recv = muon_alloc(bytes + 1);
        if (!send || !recv || bytes > (size_t)INT_MAX)
            st = muon_error(MUON_ERR_NOMEM, "distributed training: out of memory sharing %d records", n);
    }
    /* every rank reaches the exchange, or none */
    if ((st = muon_dist_agree(st))) goto done;
    for (r = 0; r < s->size; r++) per[r] = 0;
    for (i = 0; i < n; i++) per[owner[i]] += item_bytes;
    /* this rank's records, in order: the send buffer (MPI forbids it to alias recv) */
    for (i = 0; i < n; i++)
        if (owner[i] == s->rank) memcpy(send + (size_t)mine++ * item_bytes, all + (size_t)i * item_bytes, item_bytes);
    layout_counts(s, per);
    st = muon_dist_gatherv(MUON_DIST_BYTE, root, send, (int)((size_t)mine * item_bytes), recv, s->counts, s->displs);
    if (!st && (root < 0 || root == s->rank)) {
        for (r = 0; r < s->size; r++) {
            const unsigned char *src = recv + s->displs[r];
            for (i = 0; i < n; i++) {
                if (owner[i] != r) continue;
                if (r != s->rank) memcpy(all + (size_t)i * item_bytes, src, item_bytes);
                src += item_bytes;
            }
        }
    }
done:
    if (own) {
        muon_free(send);
        muon_free(recv);
    }
    return st;
}
