/* Tracking: the metrics (docs/metrics.md) of every tracked matrix of a model,
 * appended to the metric log for one step.
 *
 * The matrices are independent, so they are computed in parallel (one matrix
 * per OpenMP iteration; the SVDs inside then run single-threaded, nested
 * parallelism being off) and the rows are written afterwards in
 * muon_model_tracked's order: the log is the same byte for byte whatever the
 * thread count. Work inside the parallel loop can fail only by running out of
 * memory; a failed matrix is recomputed on the calling thread, so the error
 * message is set by one thread and names the matrix.
 *
 * Cost: see MUON_DEFAULT_TRACK_EVERY in metrics/metrics.h and `muon_bench_metrics`
 * (metrics/track_bench.c). */
#include "metrics/metrics.h"
#include "metrics/spectral.h"
#include "linalg/omp.h"

#include <string.h>

static int compute_one(muon_workspace ws[2], const muon_model *m, const muon_update_view *u,
                       const muon_tracked *t, muon_metrics *out, muon_esd_fit *esd)
{
    size_t off = t->offset;
    return muon_metrics_compute_ws(ws, t->rows, t->cols, m->params + off,
                                u && u->delta ? u->delta + off : NULL,
                                u && u->momentum ? u->momentum + off : NULL,
                                u && u->orth_out ? u->orth_out + off : NULL, out, esd);
}

void muon_tracker_pool_free(muon_tracker_pool *p)
{
    int i;
    if (!p) return;
    for (i = 0; i < p->n; i++) muon_workspace_free(&p->ws[i]);
    muon_free(p->ws);
    p->ws = NULL;
    p->n = 0;
}

int muon_metrics_model(const muon_model *m, const muon_update_view *u,
                       muon_metrics *out, int cap)
{
    muon_tracker_pool pool = {NULL, 0};
    int st = muon_metrics_model_pool(&pool, m, u, out, cap);
    muon_tracker_pool_free(&pool);
    return st;
}

int muon_metrics_model_pool(muon_tracker_pool *pool, const muon_model *m,
                            const muon_update_view *u, muon_metrics *out, int cap)
{
    return muon_metrics_model_subset(pool, m, u, NULL, out, NULL, cap);
}

int muon_metrics_model_subset(muon_tracker_pool *pool, const muon_model *m, const muon_update_view *u,
                              const unsigned char *mine, muon_metrics *out, muon_esd_fit *esd, int cap)
{
    muon_tracked *tr = NULL;
    muon_workspace *ws = NULL;
    int *status = NULL, *order = NULL;
    int n, i, j, nt = muon_threads(), st = MUON_OK;

    if (!m || (cap > 0 && !out)) return muon_error(MUON_ERR_ARG, "metrics: NULL model or output");
    n = muon_model_tracked(m, NULL, 0);
    if (n > cap)
        return muon_error(MUON_ERR_ARG, "metrics: the model has %d tracked matrices, output holds %d", n, cap);
    if (n <= 0) return MUON_OK;
    tr = muon_alloc((size_t)n * sizeof *tr);
    status = muon_calloc((size_t)n, sizeof *status);
    order = muon_alloc((size_t)n * sizeof *order);
    /* two workspaces per thread (metric buffers, SVD scratch), grown by the
     * first matrices and reused by the rest and by later passes */
    if (!tr || !status || !order) { st = MUON_ERR_NOMEM; goto done; }
    if (pool->n < 2 * nt) {
        muon_workspace *grown = muon_calloc((size_t)2 * nt, sizeof *grown);
        if (!grown) { st = MUON_ERR_NOMEM; goto done; }
        for (i = 0; i < pool->n; i++) grown[i] = pool->ws[i];
        muon_free(pool->ws);
        pool->ws = grown;
        pool->n = 2 * nt;
    }
    ws = pool->ws;
    muon_model_tracked(m, tr, n);
    /* largest first (ties in model order): with dynamic scheduling the big
     * matrices start early and the small ones fill the gaps at the end, so
     * two threads finish together instead of one waiting on a last big one */
    for (i = 0; i < n; i++) {
        size_t sz = (size_t)tr[i].rows * tr[i].cols;
        for (j = i; j > 0 && (size_t)tr[order[j - 1]].rows * tr[order[j - 1]].cols < sz; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }

    /* each result is independent of the thread that computes it */
MUON_OMP(omp parallel for schedule(dynamic, 1))
    for (i = 0; i < n; i++) {
        int t = muon_thread_id();
        if (mine && !mine[order[i]]) continue;
        /* (a team larger than muon_threads() cannot happen; if it did, the
         * matrix is left to the serial pass below rather than share a workspace) */
        status[order[i]] = t < nt ? compute_one(ws + 2 * t, m, u, &tr[order[i]], &out[order[i]], esd ? &esd[order[i]] : NULL) : MUON_ERR_ARG;
    }

    for (i = 0; i < n && !st; i++) {
        if (!status[i]) continue;
        if ((st = compute_one(ws, m, u, &tr[i], &out[i], esd ? &esd[i] : NULL)))
            st = muon_error_prefix(st, "metrics of layer %d %s (%dx%d): ", tr[i].layer,
                                   muon_matrix_name(tr[i].kind), tr[i].rows, tr[i].cols);
    }
done:
    muon_free(order);
    muon_free(tr);
    muon_free(status);
    return st;
}

int muon_metrics_track(muon_metric_log *log, long step, const muon_model *m,
                       const muon_update_view *u)
{
    muon_tracked *tr = NULL;
    muon_metrics *res = NULL;
    int n, i, st = MUON_OK;

    if (!log || !m) return muon_error(MUON_ERR_ARG, "metrics track: NULL log or model");
    n = muon_model_tracked(m, NULL, 0);
    if (n <= 0) return muon_metric_log_flush(log);
    tr = muon_alloc((size_t)n * sizeof *tr);
    res = muon_alloc((size_t)n * sizeof *res);
    if (!tr || !res) { st = MUON_ERR_NOMEM; goto done; }
    muon_model_tracked(m, tr, n);
    if ((st = muon_metrics_model_pool(muon_metric_log_pool(log), m, u, res, n))) goto done;
    for (i = 0; i < n; i++)
        if ((st = muon_metric_log_metrics(log, step, tr[i].layer, muon_matrix_name(tr[i].kind), &res[i]))) goto done;
    st = muon_metric_log_flush(log);
done:
    muon_free(tr);
    muon_free(res);
    return st;
}
