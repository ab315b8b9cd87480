/* Phase transitions ("use sudden drops in alignment to detect when a model
 * has learned a circuit"): a tracked step whose change in alignment or
 * spectral entropy is far outside the recent changes of the same matrix.
 *
 * Changes, not values, are tested: entropy falls steadily for thousands of
 * steps, and a value test would flag the trend itself; a change test flags
 * only a break in it. The spread is the median absolute deviation scaled by
 * 1.4826 (the standard deviation for Gaussian data; Hampel's robust scale),
 * so the outliers being looked for do not inflate the threshold that should
 * catch them. Detection runs on metrics.csv after training, so it is a pure
 * function of the log: a resumed run and `muon plot` see the same events. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include "metrics/events.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const watched[3] = { "alignment_left", "alignment_right", "spectral_entropy" };

static const char *metric_label(int m)
{
    int w;
    for (w = 0; w < 3; w++)
        if (muon_metric_index(watched[w]) == m) return watched[w];
    return "?";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median of x(n), n >= 1, sorting scratch s(n) */
static double median(const double *x, int n, double *s)
{
    memcpy(s, x, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static int cmp_event(const void *a, const void *b)
{
    const muon_event *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->metric < y->metric ? -1 : x->metric > y->metric;
}

static int push(muon_event **ev, int *n, int *cap, const muon_event *e)
{
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        muon_event *p = muon_alloc(sizeof *p * (size_t)nc);
        if (!p) return MUON_ERR_NOMEM;
        if (*n) memcpy(p, *ev, sizeof *p * (size_t)*n);
        muon_free(*ev);
        *ev = p;
        *cap = nc;
    }
    (*ev)[(*n)++] = *e;
    return MUON_OK;
}

int muon_events_detect(const muon_metrics_table *t, double K, int window, muon_event **ev, int *n)
{
    double *val = NULL, *d = NULL, *dev = NULL, *s = NULL;
    long *stp = NULL;
    int w, k, l, i, cap = 0, st = MUON_OK;
    *ev = NULL;
    *n = 0;
    if (window < MUON_EVENT_MIN_HISTORY) return muon_error(MUON_ERR_ARG, "events: window %d < %d", window, MUON_EVENT_MIN_HISTORY);
    if (!(K > 0) || t->n_tracked < MUON_EVENT_MIN_HISTORY + 2) return MUON_OK;
    val = muon_alloc(sizeof *val * (size_t)t->n_tracked);
    d = muon_alloc(sizeof *d * (size_t)t->n_tracked);
    dev = muon_alloc(sizeof *dev * (size_t)window);
    s = muon_alloc(sizeof *s * (size_t)window);
    stp = muon_alloc(sizeof *stp * (size_t)t->n_tracked);
    if (!val || !d || !dev || !s || !stp) { st = MUON_ERR_NOMEM; goto done; }
    for (w = 0; w < 3; w++) {
        int m = muon_metric_index(watched[w]);
        if (m < 0) continue;
        for (k = 0; k < MUON_CSV_NKINDS; k++) {
            const float *tab = t->mat[m][k];
            if (!tab) continue;
            for (l = 0; l < t->n_layers; l++) {
                int nv = 0, j;
                /* the finite values of this series, in step order */
                for (i = 0; i < t->n_tracked; i++) {
                    float v = tab[(size_t)l * (size_t)t->n_tracked + (size_t)i];
                    if (!isfinite(v)) continue;
                    val[nv] = v;
                    stp[nv] = t->tracked[i];
                    nv++;
                }
                for (j = 1; j < nv; j++) d[j] = val[j] - val[j - 1];
                for (j = 1 + MUON_EVENT_MIN_HISTORY; j < nv; j++) {
                    int h0 = j - window > 1 ? j - window : 1, nh = j - h0, q;
                    double med, mad, sigma, score;
                    med = median(d + h0, nh, s);
                    for (q = 0; q < nh; q++) dev[q] = fabs(d[h0 + q] - med);
                    mad = median(dev, nh, s);
                    sigma = 1.4826 * mad;
                    if (sigma < MUON_EVENT_SIGMA_FLOOR) sigma = MUON_EVENT_SIGMA_FLOOR;
                    score = (d[j] - med) / sigma;
                    if (fabs(score) > K) {
                        muon_event e;
                        e.step = stp[j]; e.layer = l; e.kind = k; e.metric = m;
                        e.value = val[j]; e.change = d[j]; e.median = med; e.sigma = sigma; e.score = score;
                        if ((st = push(ev, n, &cap, &e))) goto done;
                    }
                }
            }
        }
    }
    if (*n > 1) qsort(*ev, (size_t)*n, sizeof **ev, cmp_event);
done:
    muon_free(val); muon_free(d); muon_free(dev); muon_free(s); muon_free(stp);
    if (st) { muon_free(*ev); *ev = NULL; *n = 0; }
    return st;
}

int muon_events_write(const char *path, const muon_event *ev, int n)
{
    char tmp[4200];
    FILE *f;
    int i, bad;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) return muon_error(MUON_ERR_ARG, "events: path too long");
    f = fopen(tmp, "w");
    if (!f) return muon_error(MUON_ERR_IO, "%s: cannot open for writing (%s)", tmp, strerror(errno));
    bad = fprintf(f, "step,layer,matrix,metric,value,change,median,sigma,score\n") < 0;
    for (i = 0; i < n && !bad; i++)
        bad = fprintf(f, "%ld,%d,%s,%s,%.9g,%.9g,%.9g,%.9g,%.6g\n", ev[i].step, ev[i].layer, muon_matrix_name(ev[i].kind),
                      metric_label(ev[i].metric),
                      ev[i].value, ev[i].change, ev[i].median, ev[i].sigma, ev[i].score) < 0;
    if (fflush(f) != 0) bad = 1;
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return muon_error(MUON_ERR_IO, "%s: write failed", path);
    }
    return MUON_OK;
}

int muon_events_run(const char *run_dir, double K, int window, int *n)
{
    char csv[4096], out[4096];
    muon_metrics_table t;
    muon_event *ev = NULL;
    int st;
    *n = 0;
    if ((size_t)snprintf(csv, sizeof csv, "%s/metrics.csv", run_dir) >= sizeof csv ||
        (size_t)snprintf(out, sizeof out, "%s/events.csv", run_dir) >= sizeof out)
        return muon_error(MUON_ERR_ARG, "events: path too long");
    st = muon_metrics_table_read(csv, &t);
    if (st) return st;
    st = muon_events_detect(&t, K, window, &ev, n);
    if (!st) st = muon_events_write(out, ev, *n);
    muon_free(ev);
    muon_metrics_table_free(&t);
    return st;
}

int muon_events_read(const char *path, muon_event **ev, int *n)
{
    FILE *f;
    char line[512];
    int cap = 0, st = MUON_OK, first = 1;
    *ev = NULL;
    *n = 0;
    f = fopen(path, "r");
    if (!f) return MUON_OK; /* no events file: nothing to mark */
    while (fgets(line, sizeof line, f)) {
        muon_event e;
        char mat[32], met[40];
        int k;
        if (first) { first = 0; continue; } /* header */
        if (sscanf(line, "%ld,%d,%31[^,],%39[^,],%lf,%lf,%lf,%lf,%lf", &e.step, &e.layer, mat, met, &e.value, &e.change,
                   &e.median, &e.sigma, &e.score) != 9)
            continue; /* a partial last line of a file being written */
        e.metric = muon_metric_index(met);
        for (e.kind = -1, k = 0; k < MUON_CSV_NKINDS; k++)
            if (!strcmp(mat, muon_matrix_name(k))) e.kind = k;
        if (e.metric < 0 || e.kind < 0) continue;
        if ((st = push(ev, n, &cap, &e))) break;
    }
    fclose(f);
    if (st) { muon_free(*ev); *ev = NULL; *n = 0; }
    return st;
}
