/* Reading metrics.csv, the tidy metric log (docs/formats.md), into dense
 * per-(metric, kind) tables for the plots.
 *
 * The whole file is read into memory first and parsed twice: once to check
 * every line and learn the steps and layers, once to fill the tables. So a
 * malformed file is rejected before anything is drawn, and a log that grows
 * while we read it (a run still training) cannot make the passes disagree. */
#include "plots/plots.h"
#include "metrics/metrics.h"
#include "io/parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYER 4095


void muon_metrics_table_free(muon_metrics_table *t)
{
    int m, k;
    if (!t) return;
    muon_free(t->steps);
    muon_free(t->model);
    muon_free(t->tracked);
    for (m = 0; m < MUON_CSV_NMETRICS; m++)
        for (k = 0; k < MUON_CSV_NKINDS; k++) muon_free(t->mat[m][k]);
    memset(t, 0, sizeof *t);
}

/* A growable list of steps; consecutive repeats are skipped on the way in
 * (rows of one step are written together), sorted and deduplicated after. */
typedef struct { long *v; int n, cap; } steplist;

static int steps_push(steplist *s, long step)
{
    if (s->n > 0 && s->v[s->n - 1] == step) return MUON_OK;
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 256;
        long *nv = muon_alloc(sizeof(long) * (size_t)nc);
        if (!nv) return MUON_ERR_NOMEM;
        if (s->n) memcpy(nv, s->v, sizeof(long) * (size_t)s->n);
        muon_free(s->v);
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = step;
    return MUON_OK;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void steps_finish(steplist *s)
{
    int i, m = 0;
    if (s->n == 0) return;
    qsort(s->v, (size_t)s->n, sizeof(long), cmp_long);
    for (i = 0; i < s->n; i++)
        if (m == 0 || s->v[i] != s->v[m - 1]) s->v[m++] = s->v[i];
    s->n = m;
}

static int find_step(const long *v, int n, long step)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] == step) return mid;
        if (v[mid] < step) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *len = 0;
    if (!f) return muon_error(MUON_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    for (;;) {
        size_t got;
        if (cap - n < 65536) {
            size_t nc = cap ? 2 * cap : 1 << 20;
            char *nb = muon_alloc(nc + 1);
            if (!nb) { muon_free(buf); fclose(f); return MUON_ERR_NOMEM; }
            if (n) memcpy(nb, buf, n);
            muon_free(buf);
            buf = nb;
            cap = nc;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        muon_free(buf);
        fclose(f);
        return muon_error(MUON_ERR_IO, "%s: read error", path);
    }
    fclose(f);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return MUON_OK;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* One parsed data row. kind: 0..6, or -1 for "model"; idx: the metric's
 * index, or -1 if its name (or the matrix kind) is unknown: skipped. */
typedef struct { long step; int layer, kind, idx; double value; } row;

static int parse_row(const char *path, long lineno, char *line, row *r)
{
    char *f[5], *p = line, *end;
    int nf = 0;
    f[nf++] = p;
    for (; *p; p++)
        if (*p == ',') {
            *p = 0;
            if (nf == 5) { nf++; break; }
            f[nf++] = p + 1;
        }
    if (nf != 5)
        return muon_error(MUON_ERR_FORMAT, "%s:%ld: expected 5 comma-separated fields, found %s%d",
                          path, lineno, nf > 5 ? "more than " : "", nf > 5 ? 5 : nf);
    /* a step is a long: where that is 32 bits, a larger one is refused, not wrapped */
    if (!all_digits(f[0]) || strlen(f[0]) > 15 || muon_parse_long("step", f[0], 0, LONG_MAX, &r->step))
        return muon_error(MUON_ERR_FORMAT, "%s:%ld: step '%s' is not a whole number in [0, %ld]", path, lineno, f[0], LONG_MAX);
    if (!strcmp(f[1], "-1")) r->layer = -1;
    else if (all_digits(f[1]) && strlen(f[1]) <= 6) r->layer = (int)strtol(f[1], NULL, 10);
    else return muon_error(MUON_ERR_FORMAT, "%s:%ld: layer '%s' is not a layer index (0, 1, ...) or -1", path, lineno, f[1]);
    if (r->layer > MAX_LAYER)
        return muon_error(MUON_ERR_FORMAT, "%s:%ld: layer %d is beyond the supported %d", path, lineno, r->layer, MAX_LAYER);
    if (!strcmp(f[2], "model")) {
        if (r->layer != -1)
            return muon_error(MUON_ERR_FORMAT, "%s:%ld: matrix 'model' needs layer -1, not %d", path, lineno, r->layer);
        r->kind = -1;
        r->idx = muon_model_metric_index(f[3]);
    } else {
        if (r->layer < 0)
            return muon_error(MUON_ERR_FORMAT, "%s:%ld: layer -1 is only for matrix 'model', not '%s'", path, lineno, f[2]);
        r->kind = muon_matrix_index(f[2]);
        if (r->kind >= MUON_CSV_NKINDS) r->kind = -1;   /* qkvo, none: not tracked kinds */
        r->idx = r->kind < 0 ? -1 : muon_metric_index(f[3]);
    }
    if (!*f[3])
        return muon_error(MUON_ERR_FORMAT, "%s:%ld: empty metric name", path, lineno);
    errno = 0;
    r->value = strtod(f[4], &end);
    if (!*f[4] || *end || isspace((unsigned char)*f[4]))
        return muon_error(MUON_ERR_FORMAT, "%s:%ld: value '%s' is not a number", path, lineno, f[4]);
    return MUON_OK;
}

/* Calls back on every data row; pass 2 fills the table. */
static int parse_all(const char *path, char *buf, size_t len, muon_metrics_table *t,
                     steplist *ms, steplist *ts, int *max_layer,
                     unsigned char present[MUON_CSV_NMETRICS][MUON_CSV_NKINDS], int fill)
{
    char *p = buf, *stop = buf + len, line[1024];
    long lineno = 0;
    int st;
    while (p < stop) {
        char *nl = memchr(p, '\n', (size_t)(stop - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(stop - p);
        row r;
        memset(&r, 0, sizeof r);
        lineno++;
        if (n > 0 && p[n - 1] == '\r') n--;
        if (n >= sizeof line)
            return muon_error(MUON_ERR_FORMAT, "%s:%ld: line longer than %d characters", path, lineno, (int)sizeof line - 1);
        memcpy(line, p, n);
        line[n] = 0;
        p = nl ? nl + 1 : stop;
        /* muon ends every row with '\n' and writes whole rows; a last row
         * without one was cut short (a full disk, a crash, a copy in
         * progress): even when it parses, its value may have lost digits */
        if (!nl && lineno > 1 && n > 0) {
            t->partial_line = lineno;
            break;
        }
        if (lineno == 1) {
            if (strcmp(line, "step,layer,matrix,metric,value"))
                return muon_error(MUON_ERR_FORMAT, "%s:1: header is '%.60s', expected 'step,layer,matrix,metric,value'", path, line);
            continue;
        }
        if (n == 0) continue; /* blank lines carry nothing */
        if (memchr(line, 0, n))
            return muon_error(MUON_ERR_FORMAT, "%s:%ld: NUL byte in line", path, lineno);
        st = parse_row(path, lineno, line, &r);
        if (st) return st;
        if (r.idx < 0) continue;
        if (!fill) {
            if (r.kind < 0) st = steps_push(ms, r.step);
            else {
                st = steps_push(ts, r.step);
                present[r.idx][r.kind] = 1;
                if (r.layer > *max_layer) *max_layer = r.layer;
            }
            if (st) return st;
        } else {
            /* logged non-finite values become +inf: a known gap, not absence */
            double v = isfinite(r.value) ? r.value : INFINITY;
            if (r.kind < 0) {
                int i = find_step(t->steps, t->n_steps, r.step);
                t->model[(size_t)r.idx * (size_t)t->n_steps + (size_t)i] = v;
            } else {
                int i = find_step(t->tracked, t->n_tracked, r.step);
                float fv = (float)v;
                if (isfinite(v) && !isfinite(fv)) fv = (float)INFINITY;
                t->mat[r.idx][r.kind][(size_t)r.layer * (size_t)t->n_tracked + (size_t)i] = fv;
            }
        }
    }
    if (lineno == 0)
        return muon_error(MUON_ERR_FORMAT, "%s:1: empty file (no header)", path);
    return MUON_OK;
}

int muon_metrics_table_read(const char *path, muon_metrics_table *t)
{
    char *buf;
    size_t len, i, n;
    steplist ms = { NULL, 0, 0 }, ts = { NULL, 0, 0 };
    unsigned char present[MUON_CSV_NMETRICS][MUON_CSV_NKINDS];
    int st, m, k, max_layer = -1;
    memset(t, 0, sizeof *t);
    memset(present, 0, sizeof present);
    st = read_all(path, &buf, &len);
    if (st) return st;
    st = parse_all(path, buf, len, t, &ms, &ts, &max_layer, present, 0);
    if (st) goto fail;
    if (ms.n == 0 && ts.n == 0) {
        /* twelve empty frames would pass for a result: say there is none */
        st = muon_error(MUON_ERR_FORMAT, "%s: no metric rows to plot (only a header, or only unknown metrics)", path);
        goto fail;
    }
    steps_finish(&ms);
    steps_finish(&ts);
    t->n_steps = ms.n;
    t->steps = ms.v;
    ms.v = NULL;
    t->n_tracked = ts.n;
    t->tracked = ts.v;
    ts.v = NULL;
    t->n_layers = max_layer + 1;
    n = (size_t)MUON_CSV_NMODEL * (size_t)t->n_steps;
    t->model = muon_alloc(sizeof(double) * (n ? n : 1));
    if (!t->model) { st = MUON_ERR_NOMEM; goto fail; }
    for (i = 0; i < n; i++) t->model[i] = NAN;
    for (m = 0; m < MUON_CSV_NMETRICS; m++)
        for (k = 0; k < MUON_CSV_NKINDS; k++) {
            if (!present[m][k]) continue;
            n = (size_t)t->n_layers * (size_t)t->n_tracked;
            t->mat[m][k] = muon_alloc(sizeof(float) * n);
            if (!t->mat[m][k]) { st = MUON_ERR_NOMEM; goto fail; }
            for (i = 0; i < n; i++) t->mat[m][k][i] = (float)NAN;
        }
    st = parse_all(path, buf, len, t, NULL, NULL, &max_layer, present, 1);
    if (st) goto fail;
    muon_free(buf);
    return MUON_OK;
fail:
    muon_free(buf);
    muon_free(ms.v);
    muon_free(ts.v);
    muon_metrics_table_free(t);
    return st;
}
