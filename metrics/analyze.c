/* Checkpoint analysis: the static metrics (docs/metrics.md) of every Muon-style
 * matrix in one or more safetensors checkpoints, from this tool or from
 * PyTorch; with a series of checkpoints, the alignment metrics use the
 * difference of consecutive checkpoints as the update dW.
 *
 * Matrices are found by name, then split or checked by shape:
 *   layers.{i}.<anything>.<part>.weight   ("layers" may also be "blocks",
 *   "layer" or "h"; any prefix before it, e.g. "model." or "_orig_mod.",
 *   is ignored), where <part> is
 *     q k v o up down gate           ours  (layers.3.attn.q.weight)
 *     q_proj k_proj v_proj o_proj    HF    (model.layers.3.self_attn.q_proj.weight)
 *     up_proj down_proj gate_proj    HF    (mlp.up_proj ...)
 *     wq wk wv wo, w1 (gate) w2 (down) w3 (up)   Meta's Llama
 *     query key value out_proj, fc1 (up) fc2 (down)
 *     qkvo   ours, merged [Q;K;V;O] (2C + 2*kv, C): split into four row slices
 *     qkv qkv_proj Wqkv   merged [Q;K;V] (C + 2*kv, C): split into three
 * Both conventions store [out_features, in_features], as the metrics assume.
 * Norm gains, embeddings, output heads and optimizer state ("optim.*") are
 * recognised and skipped silently, as is every tensor of fewer than two dimensions; any other
 * tensor with two or more dimensions is listed in muon_analysis.skipped.
 * (GPT-2's Conv1D layers store [in, out] and are deliberately not matched.) */
#include "metrics/metrics.h"
#include "metrics/log_atomic.h"
#include "linalg/omp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int layer;
    muon_matrix_kind kind;
    int rows, cols;
    const float *W;        /* (rows, cols) in the current checkpoint */
    const float *prev;     /* (rows, cols) in the previous one, or NULL */
    const char *source;
} found;

enum { PART_QKV = MUON_MAT_COUNT + 1, PART_SKIP = MUON_MAT_COUNT + 2 };

static const struct { const char *name; int kind; } parts[] = {
    {"q", MUON_MAT_Q}, {"q_proj", MUON_MAT_Q}, {"wq", MUON_MAT_Q}, {"query", MUON_MAT_Q},
    {"k", MUON_MAT_K}, {"k_proj", MUON_MAT_K}, {"wk", MUON_MAT_K}, {"key", MUON_MAT_K},
    {"v", MUON_MAT_V}, {"v_proj", MUON_MAT_V}, {"wv", MUON_MAT_V}, {"value", MUON_MAT_V},
    {"o", MUON_MAT_O}, {"o_proj", MUON_MAT_O}, {"wo", MUON_MAT_O}, {"out_proj", MUON_MAT_O},
    {"up", MUON_MAT_UP}, {"up_proj", MUON_MAT_UP}, {"w3", MUON_MAT_UP}, {"fc1", MUON_MAT_UP},
    {"down", MUON_MAT_DOWN}, {"down_proj", MUON_MAT_DOWN}, {"w2", MUON_MAT_DOWN}, {"fc2", MUON_MAT_DOWN},
    {"gate", MUON_MAT_GATE}, {"gate_proj", MUON_MAT_GATE}, {"w1", MUON_MAT_GATE},
    {"qkvo", MUON_MAT_QKVO}, {"qkv", PART_QKV}, {"qkv_proj", PART_QKV}, {"Wqkv", PART_QKV}
};

/* Components of a dotted name that mark a tensor we know and do not track. */
static int silent_component(const char *c, size_t len)
{
    static const char *names[] = {"wte", "wpe", "lm_head", "head", "output", "embed", "embedding"};
    size_t i, j;
    for (i = 0; i + 4 <= len; i++)
        if (!strncmp(c + i, "norm", 4)) return 1;
    for (i = 0; i + 5 <= len; i++)
        if (!strncmp(c + i, "embed", 5)) return 1;
    if (len >= 3 && !strncmp(c, "ln_", 3)) return 1;
    for (j = 0; j < sizeof names / sizeof names[0]; j++)
        if (strlen(names[j]) == len && !strncmp(c, names[j], len)) return 1;
    return 0;
}

/* Classifies a tensor name: returns a muon_matrix_kind, PART_QKV, PART_SKIP
 * (known, not tracked) or -1 (not recognised); *layer gets the layer index. */
static int classify(const char *name, int *layer)
{
    const char *comp[32];
    size_t len[32];
    int nc = 0, i, li = -1;
    const char *p = name;
    size_t j;
    while (nc < 32) {
        const char *dot = strchr(p, '.');
        comp[nc] = p;
        len[nc] = dot ? (size_t)(dot - p) : strlen(p);
        nc++;
        if (!dot) break;
        p = dot + 1;
    }
    /* optimizer state stored beside the weights ("optim.muon_momentum.<name>"
     * in our checkpoints) is known and not a weight */
    if ((len[0] == 5 && !strncmp(comp[0], "optim", 5)) || (len[0] == 9 && !strncmp(comp[0], "optimizer", 9)))
        return PART_SKIP;
    for (i = 0; i < nc; i++)
        if (silent_component(comp[i], len[i])) return PART_SKIP;
    for (i = 0; i + 1 < nc && li < 0; i++) {
        static const char *marks[] = {"layers", "blocks", "layer", "h"};
        size_t k, d;
        int is_mark = 0, digits = len[i + 1] > 0 && len[i + 1] < 7;
        for (k = 0; k < 4; k++)
            if (strlen(marks[k]) == len[i] && !strncmp(comp[i], marks[k], len[i])) is_mark = 1;
        for (d = 0; d < len[i + 1] && digits; d++) digits = isdigit((unsigned char)comp[i + 1][d]) != 0;
        if (is_mark && digits) li = i;
    }
    /* layers.{i}.<...>.<part>.weight: at least one component between */
    if (li < 0 || nc < li + 4 || len[nc - 1] != 6 || strncmp(comp[nc - 1], "weight", 6)) return -1;
    *layer = atoi(comp[li + 1]);
    for (j = 0; j < sizeof parts / sizeof parts[0]; j++)
        if (strlen(parts[j].name) == len[nc - 2] && !strncmp(comp[nc - 2], parts[j].name, len[nc - 2]))
            return parts[j].kind;
    return -1;
}

static int add_skipped(muon_analysis *a, int *cap, const char *fmt_path, int ckpt, const char *name,
                       const muon_tensor *t, const char *why)
{
    char shape[64];
    int d, n = 0;
    if (a->n_skipped == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        char (*ns)[192] = muon_alloc((size_t)nc * sizeof *ns);
        if (!ns) return MUON_ERR_NOMEM;
        if (a->skipped) memcpy(ns, a->skipped, (size_t)a->n_skipped * sizeof *ns);
        muon_free(a->skipped);
        a->skipped = ns;
        *cap = nc;
    }
    shape[0] = 0;
    for (d = 0; d < t->ndim && n < (int)sizeof shape - 24; d++)
        n += sprintf(shape + n, d ? "x%lld" : "%lld", (long long)t->shape[d]); /* int64: not long (32 bits on i386) */
    snprintf(a->skipped[a->n_skipped], sizeof a->skipped[0], "checkpoint %d (%.60s): %.60s (%s) %s, skipped",
             ckpt, fmt_path, name, shape, why);
    a->n_skipped++;
    return MUON_OK;
}

static int cmp_found(const void *x, const void *y)
{
    const found *a = x, *b = y;
    if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    return 0;
}

/* The sort order: cmp_found, then the tensor name, so the order (and which
 * of two duplicates is kept) never depends on qsort's instability. */
static int cmp_found_name(const void *x, const void *y)
{
    const found *a = x, *b = y;
    int c = cmp_found(x, y);
    return c ? c : strcmp(a->source, b->source);
}

/* Finds the matrices of one checkpoint into *out (n of them). */
static int find_matrices(const muon_safetensors *f, const char *path, int ckpt, muon_analysis *a,
                         int *skip_cap, found **out, int *n_out)
{
    found *fs = NULL;
    int i, n = 0, cap = 0, st = MUON_OK, k;
    *out = NULL;
    *n_out = 0;
    for (i = 0; i < f->count; i++) {
        const muon_tensor *t = &f->tensors[i];
        int layer = -1, kind, rows, cols, nsl = 1, r[4];
        if (t->ndim < 2) continue;
        kind = t->ndim == 2 ? classify(t->name, &layer) : -1;
        if (kind == PART_SKIP && t->ndim == 2) continue;
        if (kind < 0 || kind == PART_SKIP) {
            if ((st = add_skipped(a, skip_cap, path, ckpt, t->name, t,
                                  t->ndim == 2 ? "not a recognised matrix name" : "has more than 2 dimensions")))
                goto fail;
            continue;
        }
        if (t->shape[0] < 1 || t->shape[1] < 1 || t->shape[0] > (1 << 24) || t->shape[1] > (1 << 24)) {
            if ((st = add_skipped(a, skip_cap, path, ckpt, t->name, t, "has an empty or huge dimension"))) goto fail;
            continue;
        }
        rows = (int)t->shape[0];
        cols = (int)t->shape[1];
        r[0] = rows;
        if (kind == MUON_MAT_QKVO || kind == PART_QKV) {
            /* Q and O have C = cols rows; K and V share the rest equally */
            int whole = kind == MUON_MAT_QKVO ? 2 : 1, kv2 = rows - whole * cols;
            if (kv2 <= 0 || kv2 % 2) {
                if ((st = add_skipped(a, skip_cap, path, ckpt, t->name, t,
                                      "does not split into Q, K, V(, O) row slices"))) goto fail;
                continue;
            }
            nsl = whole + 2;
            r[0] = cols; r[1] = r[2] = kv2 / 2; r[3] = cols;
        }
        for (k = 0; k < nsl; k++) {
            size_t off = 0;
            int s;
            if (n == cap) {
                int nc = cap ? cap * 2 : 64;
                found *nf = muon_alloc((size_t)nc * sizeof *nf);
                if (!nf) { st = MUON_ERR_NOMEM; goto fail; }
                if (fs) memcpy(nf, fs, (size_t)n * sizeof *nf);
                muon_free(fs);
                fs = nf;
                cap = nc;
            }
            for (s = 0; s < k; s++) off += (size_t)r[s] * cols;
            fs[n].layer = layer;
            fs[n].kind = nsl > 1 ? (muon_matrix_kind)(MUON_MAT_Q + k) : (muon_matrix_kind)kind;
            fs[n].rows = r[k];
            fs[n].cols = cols;
            fs[n].W = t->data + off;
            fs[n].prev = NULL;
            fs[n].source = t->name;
            n++;
        }
    }
    if (n > 1) qsort(fs, (size_t)n, sizeof *fs, cmp_found_name);
    /* the same (layer, kind) twice: keep the first by name order */
    for (i = 1, k = n ? 1 : 0; i < n; i++) {
        if (!cmp_found(&fs[i], &fs[k - 1])) {
            const muon_tensor *t = muon_safetensors_find(f, fs[i].source);
            if ((st = add_skipped(a, skip_cap, path, ckpt, fs[i].source, t, "duplicates another matrix"))) goto fail;
            continue;
        }
        fs[k++] = fs[i];
    }
    *out = fs;
    *n_out = k;
    return MUON_OK;
fail:
    muon_free(fs);
    return st;
}

void muon_analysis_free(muon_analysis *a)
{
    if (!a) return;
    muon_free(a->entries);
    muon_free(a->skipped);
    memset(a, 0, sizeof *a);
}

int muon_analyze(const char *const *paths, int n, muon_analysis *a)
{
    muon_safetensors cur, prev;
    found *fc = NULL, *fp = NULL;
    int nfc = 0, nfp = 0, i, j, k, st = MUON_OK, cap = 0, skip_cap = 0;
    int *status = NULL;

    memset(&cur, 0, sizeof cur);
    memset(&prev, 0, sizeof prev);
    if (!a) return muon_error(MUON_ERR_ARG, "analyze: NULL result");
    memset(a, 0, sizeof *a);
    if (!paths || n < 1) return muon_error(MUON_ERR_ARG, "analyze: no checkpoint given");

    for (i = 0; i < n; i++) {
        if ((st = muon_safetensors_read(paths[i], &cur))) goto fail;
        if ((st = find_matrices(&cur, paths[i], i, a, &skip_cap, &fc, &nfc))) goto fail;
        if (nfc == 0) {
            st = muon_error(MUON_ERR_FORMAT, "%s: no weight matrix found (expected names like "
                            "layers.0.attn.q.weight or model.layers.0.self_attn.q_proj.weight)", paths[i]);
            goto fail;
        }
        /* the previous checkpoint's matrix of the same layer, kind and shape */
        for (j = 0, k = 0; j < nfc; j++) {
            while (k < nfp && cmp_found(&fp[k], &fc[j]) < 0) k++;
            if (k < nfp && !cmp_found(&fp[k], &fc[j]) && fp[k].rows == fc[j].rows && fp[k].cols == fc[j].cols)
                fc[j].prev = fp[k].W;
        }
        if (a->n_entries + nfc > cap) {
            int nc = cap * 2 > a->n_entries + nfc ? cap * 2 : a->n_entries + nfc;
            muon_analysis_entry *ne = muon_alloc((size_t)nc * sizeof *ne);
            if (!ne) { st = MUON_ERR_NOMEM; goto fail; }
            if (a->entries) memcpy(ne, a->entries, (size_t)a->n_entries * sizeof *ne);
            muon_free(a->entries);
            a->entries = ne;
            cap = nc;
        }
        status = muon_calloc((size_t)nfc, sizeof *status);
        if (!status) { st = MUON_ERR_NOMEM; goto fail; }
        {
            muon_analysis_entry *e = a->entries + a->n_entries;
            for (j = 0; j < nfc; j++) {
                e[j].ckpt = i;
                e[j].layer = fc[j].layer;
                e[j].kind = fc[j].kind;
                e[j].rows = fc[j].rows;
                e[j].cols = fc[j].cols;
                snprintf(e[j].source, sizeof e[j].source, "%s", fc[j].source);
            }
            /* independent matrices: parallel, each result thread-independent */
MUON_OMP(omp parallel for schedule(dynamic, 1))
            for (j = 0; j < nfc; j++) {
                size_t sz = (size_t)fc[j].rows * fc[j].cols, t;
                float *dW = NULL;
                if (fc[j].prev) {
                    dW = muon_alloc(sz * sizeof(float));
                    if (!dW) { status[j] = MUON_ERR_NOMEM; continue; }
                    for (t = 0; t < sz; t++) dW[t] = fc[j].W[t] - fc[j].prev[t];
                }
                status[j] = muon_metrics_compute(fc[j].rows, fc[j].cols, fc[j].W, dW, NULL, NULL, &e[j].mt);
                muon_free(dW);
            }
            for (j = 0; j < nfc; j++)
                if (status[j]) {
                    st = muon_error(status[j], "%s: %s: metrics failed (%s)", paths[i], fc[j].source, muon_status_name(status[j]));
                    goto fail;
                }
            a->n_entries += nfc;
        }
        muon_free(status);
        status = NULL;
        muon_safetensors_free(&prev);
        prev = cur;
        memset(&cur, 0, sizeof cur);
        muon_free(fp);
        fp = fc;
        nfp = nfc;
        fc = NULL;
        nfc = 0;
    }
    muon_safetensors_free(&prev);
    muon_free(fp);
    return MUON_OK;
fail:
    muon_free(status);
    muon_free(fc);
    muon_free(fp);
    muon_safetensors_free(&cur);
    muon_safetensors_free(&prev);
    muon_analysis_free(a);
    return st;
}

/* Refuses to replace an existing file unless it is a metric CSV itself, so
 * `muon analyze x.safetensors --out x.safetensors` (or any other slip) can
 * never destroy a checkpoint. Plain C99 has no stat(); the content decides. */
static int check_overwritable(const char *path)
{
    static const char header[] = "step,layer,matrix,metric,value";
    char line[sizeof header + 1];
    size_t n;
    FILE *fp = fopen(path, "rb");
    if (!fp) return MUON_OK; /* nothing there (or unreadable: the write will say) */
    n = fread(line, 1, sizeof header - 1, fp);
    fclose(fp);
    line[n] = 0;
    if (n == 0 || !strcmp(line, header)) return MUON_OK;
    return muon_error(MUON_ERR_ARG, "%s exists and is not a metrics CSV; refusing to overwrite it (choose another --out)", path);
}

int muon_analysis_write_csv(const muon_analysis *a, const char *path)
{
    muon_metric_log *lg;
    int i, st;
    if (!a || !path || !*path) return muon_error(MUON_ERR_ARG, "analyze: no output path");
    if ((st = check_overwritable(path))) return st;
    if ((st = muon_metric_log_create_atomic(&lg, path))) return st;
    for (i = 0; i < a->n_entries && !st; i++) {
        const muon_analysis_entry *e = &a->entries[i];
        st = muon_metric_log_metrics(lg, e->ckpt, e->layer, muon_matrix_name(e->kind), &e->mt);
    }
    if (st) muon_metric_log_discard(lg);
    else st = muon_metric_log_close(lg);
    return st;
}
