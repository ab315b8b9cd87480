/* Metrics: every metric of docs/metrics.md against NumPy float64 (golden cases:
 * random, graded, low-rank, zero and degenerate matrices), the singular-value
 * shortcuts against their slow definitions, the metric log (header, append,
 * resume, crash leftovers, I/O errors), tracking over a model, and
 * `muon analyze` with the real binary. */
#include "test.h"
#include "linalg/svd_gram.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- golden values ---------------------------------------------------- */

/* Tolerance per metric: |got - want| <= atol*scale + rtol*|want|, where scale
 * is 1 for dimensionless metrics, sigma_max(W) for W's singular values and
 * update_sv_max for O's. Inputs are float32; the reference is float64 LAPACK
 * on the same float32 numbers, so the budget is the float32 SVD's: relative
 * accuracy of the large singular values, absolute (times sigma_1) of the
 * small ones, and subspace angles of about eps/gap for the alignments. */
typedef struct { double rtol, atol; int scale; } metric_tol;
enum { SCALE_ONE = 0, SCALE_W = 1, SCALE_O = 2 };

static metric_tol tol_of(int id)
{
    /* about 10x the worst error measured (muon_svd works in double inside;
     * the reference passes through float32 in the golden file, 6e-8) */
    metric_tol t = {1e-6, 1e-7, SCALE_ONE};
    if (id >= MUON_METRIC_TOP_SV_1 && id <= MUON_METRIC_TOP_SV_10) t.scale = SCALE_W;
    switch (id) {
    case MUON_METRIC_SIGMA_MAX: case MUON_METRIC_STABLE_RANK: case MUON_METRIC_UPDATE_RANK: t.atol = 0; break;
    case MUON_METRIC_SPECTRAL_GAP: t.rtol = 2e-6; t.atol = 0; break; /* two relative errors */
    case MUON_METRIC_ALIGNMENT_LEFT: case MUON_METRIC_ALIGNMENT_RIGHT:
        /* subspace angles of about eps/gap; the small U^T U SVD is float32 */
        t.rtol = 0; t.atol = 1e-6; break;
    case MUON_METRIC_SUBSPACE_EFFICIENCY: t.rtol = 1e-5; t.atol = 1e-8; break;
    case MUON_METRIC_UPDATE_SV_MIN: case MUON_METRIC_UPDATE_SV_MAX: t.scale = SCALE_O; break;
    default: break;
    }
    return t;
}

/* Worst error over all cases per metric, for the summary lines. */
static double worst_abs[MUON_METRIC_COUNT], worst_rel[MUON_METRIC_COUNT];

static int same_special(double got, double want)
{
    if (want != want) return got != got;
    return got == want; /* +-inf */
}

static const float *opt_tensor(const muon_safetensors *f, const char *cas, const char *key, size_t n, int *bad)
{
    char name[256];
    const muon_tensor *t;
    snprintf(name, sizeof name, "%.100s.%.20s", cas, key);
    t = muon_safetensors_find(f, name);
    if (!t) return NULL;
    if (t->numel != n) { check(0, "golden %s has %lu values, expected %lu", name, (unsigned long)t->numel, (unsigned long)n); *bad = 1; }
    return t->data;
}

/* Checks every metric of got against the NumPy values want/have (as stored
 * in the golden files); one FAIL line per bad metric, returns their count. */
static int compare_metrics(const char *label, const muon_metrics *got, const float *want, const float *have)
{
    int i, nfail = 0;
    double scale_w = want[MUON_METRIC_SIGMA_MAX], scale_o = want[MUON_METRIC_UPDATE_SV_MAX];
    for (i = 0; i < MUON_METRIC_COUNT; i++) {
        metric_tol t = tol_of(i);
        double w = want[i], g = got->value[i], scale, lim, d;
        const char *mn = muon_metric_name(i);
        if ((int)have[i] != got->have[i]) {
            nfail++;
            check(0, "%s %s: logged %d, NumPy reference says %d", label, mn, got->have[i], (int)have[i]);
            continue;
        }
        if (!got->have[i]) continue;
        if (w != w || isinf(w)) {
            if (!same_special(g, w)) { nfail++; check(0, "%s %s: got %.9g want %g", label, mn, g, w); }
            else note("%s %s: %g as defined", label, mn, g);
            continue;
        }
        scale = t.scale == SCALE_W ? scale_w : t.scale == SCALE_O ? scale_o : 1.0;
        d = fabs(g - w);
        lim = t.atol * scale + t.rtol * fabs(w);
        if (d > worst_abs[i]) worst_abs[i] = d;
        if (fabs(w) > t.atol * scale && d / fabs(w) > worst_rel[i]) worst_rel[i] = d / fabs(w);
        if (!(d <= lim)) {
            nfail++;
            check(0, "%s %s: got %.9g want %.9g (abs err %.2e > %.2e = atol %.0e*%.3g + rtol %.0e)",
                  label, mn, g, w, d, lim, t.atol, scale, t.rtol);
        }
    }
    return nfail;
}

static void golden_case(const muon_safetensors *f, const char *cas)
{
    char name[256];
    const muon_tensor *tw;
    const float *W, *dW, *M, *O, *want, *have;
    muon_metrics got;
    int rows, cols, bad = 0, st;
    size_t n;

    snprintf(name, sizeof name, "%.100s.W", cas);
    tw = muon_safetensors_find(f, name);
    if (!check(tw && tw->ndim == 2, "golden %s present and 2-D", name)) return;
    rows = (int)tw->shape[0];
    cols = (int)tw->shape[1];
    n = tw->numel;
    W = tw->data;
    dW = opt_tensor(f, cas, "dW", n, &bad);
    M = opt_tensor(f, cas, "M", n, &bad);
    O = opt_tensor(f, cas, "O", n, &bad);
    snprintf(name, sizeof name, "%.100s.want", cas);
    want = golden_get(f, name, MUON_METRIC_COUNT);
    snprintf(name, sizeof name, "%.100s.have", cas);
    have = golden_get(f, name, MUON_METRIC_COUNT);
    if (bad || !want || !have) return;

    st = muon_metrics_compute(rows, cols, W, dW, M, O, &got);
    if (!check(st == MUON_OK, "%s (%dx%d): compute: %s", cas, rows, cols, st ? muon_last_error() : "ok")) return;
    if (!compare_metrics(cas, &got, want, have))
        note("%s (%dx%d%s%s%s): every metric within tolerance of NumPy", cas, rows, cols,
              dW ? ", dW" : "", M ? ", M" : "", O ? ", O" : "");
}

static void test_golden(void)
{
    muon_safetensors f;
    const char *names, *cases;
    char buf[4096], *tok;
    int i;
    if (golden_open("metrics.safetensors", &f)) return;
    /* the file's metric order is muon_metric_id's */
    names = muon_safetensors_meta(&f, "metrics");
    if (!check(names != NULL, "golden metadata lists the metrics")) { muon_safetensors_free(&f); return; }
    strncpy(buf, names, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    for (i = 0, tok = strtok(buf, ","); tok; tok = strtok(NULL, ","), i++)
        if (!muon_metric_name(i) || strcmp(tok, muon_metric_name(i))) break;
    check(i == MUON_METRIC_COUNT && !tok, "metric names and order match the NumPy script (%d metrics)", i);
    check(muon_metric_name(MUON_LOGGED_METRIC_COUNT) == NULL && muon_metric_name(-1) == NULL, "metric name out of range is NULL");

    cases = muon_safetensors_meta(&f, "cases");
    if (!check(cases != NULL, "golden metadata lists the cases")) { muon_safetensors_free(&f); return; }
    strncpy(buf, cases, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    {
        /* strtok is not reentrant and golden_case does not use it, but copy
         * the names out first anyway */
        char list[64][32];
        int nc = 0, c;
        for (tok = strtok(buf, ","); tok && nc < 64; tok = strtok(NULL, ","))
            { strncpy(list[nc], tok, 31); list[nc][31] = 0; nc++; }
        check(nc >= 10, "golden file has %d cases", nc);
        for (c = 0; c < nc; c++) golden_case(&f, list[c]);
    }
    muon_safetensors_free(&f);
}

/* ---- the shortcuts against their slow definitions ---------------------- */

/* ||Xh^T Xh - I||_F / sqrt(r) with Xh = X/s1, the Gram matrix formed on the
 * small side in double: the research code's literal definition. */
static double ortho_error_gram(int m, int n, const float *X, double s1)
{
    int small = m < n ? m : n, i, j, t;
    double acc = 0.0;
    for (i = 0; i < small; i++)
        for (j = 0; j < small; j++) {
            double g = 0.0;
            if (m >= n) for (t = 0; t < m; t++) g += (double)X[(size_t)t * n + i] * X[(size_t)t * n + j];
            else        for (t = 0; t < n; t++) g += (double)X[(size_t)i * n + t] * X[(size_t)j * n + t];
            g = g / (s1 * s1) - (i == j);
            acc += g * g;
        }
    return sqrt(acc) / sqrt((double)small);
}

/* O(m,n) = Gram-Schmidt of W's long-side vectors (in double) plus a
 * perturbation eps*N(0,1). */
static void near_orthogonal(int m, int n, const float *W, float *O, float eps, uint64_t seed)
{
    int small = m < n ? m : n, len = m < n ? n : m, i, j, t;
    double *q = malloc(sizeof(double) * (size_t)small * len);
    float *noise = malloc(sizeof(float) * (size_t)m * n);
    /* vector i is row i (wide) or column i (tall) */
    for (i = 0; i < small; i++) {
        double nrm = 0.0;
        for (t = 0; t < len; t++) q[(size_t)i * len + t] = m < n ? W[(size_t)i * n + t] : W[(size_t)t * n + i];
        for (j = 0; j < i; j++) {
            double d = 0.0;
            for (t = 0; t < len; t++) d += q[(size_t)i * len + t] * q[(size_t)j * len + t];
            for (t = 0; t < len; t++) q[(size_t)i * len + t] -= d * q[(size_t)j * len + t];
        }
        for (t = 0; t < len; t++) nrm += q[(size_t)i * len + t] * q[(size_t)i * len + t];
        for (t = 0; t < len; t++) q[(size_t)i * len + t] /= sqrt(nrm);
    }
    test_fill_random(noise, (size_t)m * n, seed);
    for (i = 0; i < small; i++)
        for (t = 0; t < len; t++) {
            size_t at = m < n ? (size_t)i * n + t : (size_t)t * n + i;
            O[at] = (float)q[(size_t)i * len + t] + eps * noise[at];
        }
    free(q);
    free(noise);
}

static void test_shortcuts(void)
{
    static const int shapes[][2] = {{40, 24}, {24, 40}, {33, 33}};
    int s;
    for (s = 0; s < 3; s++) {
        int m = shapes[s][0], n = shapes[s][1];
        float *W = malloc(sizeof(float) * m * n), *O = malloc(sizeof(float) * m * n);
        muon_metrics mt;
        test_fill_random(W, (size_t)m * n, 11 + s);
        /* O: an almost orthogonal matrix, where the error is small and the
         * cancellation in X^T X - I is worst */
        near_orthogonal(m, n, W, O, 1e-3f, 99 + s);
        if (!check(muon_metrics_compute(m, n, W, NULL, NULL, O, &mt) == MUON_OK, "compute %dx%d", m, n)) { free(W); free(O); continue; }
        /* rtol 1e-4: the Gram route loses digits to X^T X in double, the
         * singular-value route to the float32 SVD; both are well inside it */
        check_near("ortho_error_weight: singular values vs Gram matrix", mt.value[MUON_METRIC_ORTHO_ERROR_WEIGHT],
                   ortho_error_gram(m, n, W, mt.value[MUON_METRIC_SIGMA_MAX]), 1e-4, 1e-6);
        if (mt.have[MUON_METRIC_ORTHO_ERROR_UPDATE])
            check_near("ortho_error_update: singular values vs Gram matrix", mt.value[MUON_METRIC_ORTHO_ERROR_UPDATE],
                       ortho_error_gram(m, n, O, mt.value[MUON_METRIC_UPDATE_SV_MAX]), 1e-3, 2e-6);
        /* stable rank from the Frobenius norm vs sum of squared singular values */
        {
            double acc = 0.0, s1 = mt.value[MUON_METRIC_SIGMA_MAX];
            size_t i;
            for (i = 0; i < (size_t)m * n; i++) acc += (double)W[i] * W[i];
            check_near("stable_rank = ||W||_F^2 / sigma_1^2", mt.value[MUON_METRIC_STABLE_RANK], acc / (s1 * s1), 1e-12, 0);
        }
        free(W);
        free(O);
    }
}

/* The Jacobi standing in where the Gram path's QL does not converge (forced
 * here by the test hook, QL allowed no iteration): every metric still
 * computed, and equal to the Gram path's within rtol 1e-5 (the two SVDs
 * agree to a few float32 ulps on these well-conditioned matrices, suite
 * svd_gram; the alignments' cosines to 1e-5) -- with and without O's SVD
 * serving dW's. */
static void test_ql_fallback(void)
{
    enum { R = 48, C = 32 };
    static float W[R * C], O[R * C], D[R * C], Dwd[R * C], M[R * C];
    float s[C];
    muon_workspace ws = {0, 0};
    muon_metrics ref, got;
    int i, k, v, st1, st2, failed;
    const float *dws[2] = {D, Dwd};
    test_fill_random(W, R * C, 51);
    test_fill_random(M, R * C, 52);
    near_orthogonal(R, C, M, O, 1e-3f, 53);
    for (i = 0; i < R; i++)   /* clear gaps at the top, so the top-5 vectors are defined */
        for (k = 0; k < C; k++) O[i * C + k] *= (float)pow(10.0, -1.0 * k / C);
    for (i = 0; i < R * C; i++) {
        D[i] = (W[i] + (-0.01f) * O[i]) - W[i];
        Dwd[i] = (W[i] * 0.999f + (-0.01f) * O[i]) - W[i];
    }
    muon_svd_gram_test_max_iter(0);
    failed = muon_svd_gram_ws(&ws, R, C, W, s, 0, NULL, NULL) == MUON_ERR_NUMERIC;
    muon_svd_gram_test_max_iter(-1);
    muon_workspace_free(&ws);
    check(failed, "metrics fallback: the test hook makes the Gram path's QL fail");
    for (k = 0; k < 2; k++) {
        double worst = 0.0;
        int same_have = 1;
        st1 = muon_metrics_compute(R, C, W, dws[k], M, O, &ref);
        muon_svd_gram_test_max_iter(0);
        st2 = muon_metrics_compute(R, C, W, dws[k], M, O, &got);
        muon_svd_gram_test_max_iter(-1);
        for (v = 0; v < MUON_METRIC_COUNT; v++) {
            double d = fabs(got.value[v] - ref.value[v]) / (fabs(ref.value[v]) > 1.0 ? fabs(ref.value[v]) : 1.0);
            if (isnan(got.value[v]) && isnan(ref.value[v])) d = 0.0;
            if (got.have[v] != ref.have[v]) same_have = 0;
            if (ref.have[v] && (isnan(d) || d > worst)) worst = isnan(d) ? INFINITY : d;
        }
        check(st1 == MUON_OK && st2 == MUON_OK && same_have && ref.have[MUON_METRIC_ALIGNMENT_LEFT] && worst <= 1e-5,
              "metrics fallback (%s): the Jacobi where QL fails gives every metric of the Gram path (status %d, %d; max rel diff %.1e, rtol 1e-5)",
              k ? "dW with weight decay" : "dW through O's SVD", st1, st2, worst);
    }
}

/* ---- edge cases the golden file cannot hold --------------------------- */

static void test_edges(void)
{
    float W[12], dW[12];
    muon_metrics mt;
    int i, all_nan = 1, st;
    test_fill_random(W, 12, 5);
    test_fill_random(dW, 12, 6);
    check(muon_metrics_compute(0, 4, W, NULL, NULL, NULL, &mt) == MUON_ERR_ARG, "rows 0 rejected: %s", muon_last_error());
    check(muon_metrics_compute(3, 4, NULL, NULL, NULL, NULL, &mt) == MUON_ERR_ARG, "NULL W rejected");
    W[5] = NAN;
    st = muon_metrics_compute(3, 4, W, dW, NULL, NULL, &mt);
    for (i = 0; i <= MUON_METRIC_ALIGNMENT_RIGHT; i++) all_nan &= mt.have[i] && mt.value[i] != mt.value[i];
    check(st == MUON_OK && all_nan, "a NaN in W gives NaN for W's and the alignment metrics");
    W[5] = 1.0f;
    dW[0] = INFINITY;
    st = muon_metrics_compute(3, 4, W, dW, NULL, NULL, &mt);
    check(st == MUON_OK && mt.value[MUON_METRIC_SIGMA_MAX] == mt.value[MUON_METRIC_SIGMA_MAX] &&
          mt.value[MUON_METRIC_ALIGNMENT_LEFT] != mt.value[MUON_METRIC_ALIGNMENT_LEFT],
          "an Inf in dW gives NaN alignments, W's metrics stay finite");
    dW[0] = 0.5f;
    /* every allocation failure is reported, never a crash or a leak */
    {
        int k, ok = 1;
        for (k = 1; k <= 12; k++) {
            muon_alloc_fail_after(k);
            st = muon_metrics_compute(3, 4, W, dW, W, dW, &mt);
            muon_alloc_fail_after(0);
            if (st != MUON_OK && st != MUON_ERR_NOMEM) ok = 0;
        }
        check(ok, "allocation failures 1..12 give MUON_ERR_NOMEM or succeed");
    }
}

/* ---- the metric log ----------------------------------------------------- */

static const char *log_path = "build/test_metrics_log.csv";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *s;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    fputs(text, f);
    return fclose(f) != 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static void log_steps(long from, long to)
{
    muon_metric_log *lg;
    long s;
    if (muon_metric_log_open(&lg, log_path, -1)) { check(0, "open: %s", muon_last_error()); return; }
    for (s = from; s <= to; s++) {
        muon_metric_log_row(lg, s, -1, "model", "loss", 5.0 / (double)(s + 1));
        muon_metric_log_row(lg, s, 0, "q", "sigma_max", 1.0 + 0.001 * (double)s);
        muon_metric_log_flush(lg);
    }
    muon_metric_log_close(lg);
}

static void test_log(void)
{
    muon_metric_log *lg;
    char *s;
    int st;
    remove(log_path);

    st = muon_metric_log_open(&lg, log_path, -1);
    if (!check(st == MUON_OK, "open a new log: %s", st ? muon_last_error() : "ok")) return;
    muon_metric_log_row(lg, 0, 3, "q", "sigma_max", 0.123456789012);
    muon_metric_log_row(lg, 0, -1, "model", "loss", 5.5);
    muon_metric_log_row(lg, 0, 3, "q", "spectral_gap", INFINITY);
    muon_metric_log_row(lg, 0, 3, "q", "alignment_left", -NAN);
    check(muon_metric_log_row(lg, 0, 3, "q,k", "x", 1.0) == MUON_ERR_ARG, "a comma in a name is rejected: %s", muon_last_error());
    /* flushed rows are on disk while the log is still open */
    check(muon_metric_log_flush(lg) == MUON_OK, "flush");
    s = slurp(log_path);
    check(s && !strcmp(s, "step,layer,matrix,metric,value\n"
                          "0,3,q,sigma_max,0.123456789\n"
                          "0,-1,model,loss,5.5\n"
                          "0,3,q,spectral_gap,inf\n"
                          "0,3,q,alignment_left,nan\n"),
          "header and rows, %%.9g, inf and nan, on disk after flush");
    free(s);
    check(muon_metric_log_close(lg) == MUON_OK, "close");
    check(muon_metric_log_close(NULL) == MUON_OK, "close(NULL)");

    /* appending: the header is not repeated */
    remove(log_path);
    log_steps(0, 4);
    log_steps(5, 9);
    s = slurp(log_path);
    check(s && count_lines(s) == 1 + 20 && strstr(s, "9,0,q,sigma_max,1.009\n") &&
          strstr(s + 1, "step,layer") == NULL, "append after reopen: one header, 20 rows");
    free(s);

    /* resume at step 6: rows of steps 7..9 dropped, then steps 7..9 again */
    check(muon_metric_log_open(&lg, log_path, 6) == MUON_OK, "reopen with resume_step 6");
    muon_metric_log_close(lg);
    s = slurp(log_path);
    check(s && count_lines(s) == 1 + 14 && strstr(s, "6,0,q,sigma_max") && !strstr(s, "\n7,"),
          "resume 6: steps 0..6 kept, 7..9 dropped");
    free(s);
    {
        muon_metric_log *l2;
        long t;
        check(muon_metric_log_open(&l2, log_path, 6) == MUON_OK, "resume again (idempotent)");
        for (t = 7; t <= 9; t++) muon_metric_log_row(l2, t, -1, "model", "loss", 1.0);
        muon_metric_log_close(l2);
        s = slurp(log_path);
        check(s && count_lines(s) == 1 + 14 + 3 && strstr(s, "\n7,-1,model,loss,1\n") &&
              strstr(strstr(s, "\n7,") + 1, "\n7,") == NULL, "resumed run continues without duplicate rows");
        free(s);
    }
    check(muon_metric_log_open(&lg, log_path, 0) == MUON_OK, "resume at 0");
    muon_metric_log_close(lg);
    s = slurp(log_path);
    check(s && count_lines(s) == 3, "resume 0 keeps only step 0's rows");
    free(s);

    /* a crash mid-row: the partial last line is dropped on open */
    write_file(log_path, "step,layer,matrix,metric,value\n0,0,q,sigma_max,1\n1,0,q,sigma_ma");
    check(muon_metric_log_open(&lg, log_path, -1) == MUON_OK, "open a log with a partial last row");
    muon_metric_log_row(lg, 1, 0, "q", "sigma_max", 2.0);
    muon_metric_log_close(lg);
    s = slurp(log_path);
    check(s && !strcmp(s, "step,layer,matrix,metric,value\n0,0,q,sigma_max,1\n1,0,q,sigma_max,2\n"),
          "partial row dropped, new rows follow cleanly");
    free(s);

    /* resume over a malformed row names file and line; the file is unchanged */
    write_file(log_path, "step,layer,matrix,metric,value\n0,0,q,sigma_max,1\nxyz\n");
    st = muon_metric_log_open(&lg, log_path, 0);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), log_path) && strstr(muon_last_error(), ":3"),
          "malformed row on resume: %s", muon_last_error());
    s = slurp(log_path);
    check(s && strstr(s, "xyz"), "a failed resume leaves the file as it was");
    free(s);
    {
        FILE *t = fopen("build/test_metrics_log.csv.tmp", "rb");
        check(t == NULL, "and no temporary file behind");
        if (t) fclose(t);
    }

    /* a file that is not a metric log is never appended to */
    write_file(log_path, "hello,world\n1,2\n");
    st = muon_metric_log_open(&lg, log_path, -1);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), log_path), "foreign file refused: %s", muon_last_error());
    /* an empty file gets the header */
    write_file(log_path, "");
    check(muon_metric_log_open(&lg, log_path, 3) == MUON_OK, "open an empty file");
    muon_metric_log_close(lg);
    s = slurp(log_path);
    check(s && !strcmp(s, "step,layer,matrix,metric,value\n"), "empty file gets the header");
    free(s);

    /* unwritable paths */
    st = muon_metric_log_open(&lg, "build/no/such/dir/metrics.csv", -1);
    check(st == MUON_ERR_IO && lg == NULL && strstr(muon_last_error(), "build/no/such/dir/metrics.csv"),
          "missing directory: %s", muon_last_error());
    st = muon_metric_log_open(&lg, "build", -1);
    check(st != MUON_OK && lg == NULL && strstr(muon_last_error(), "build"), "a directory as the log: %s", muon_last_error());
    {
        FILE *full = fopen("/dev/full", "wb");
        if (full) {
            fclose(full);
            st = muon_metric_log_open(&lg, "/dev/full", -1);
            if (st == MUON_OK) {
                int i, rs = MUON_OK;
                for (i = 0; i < 100000 && rs == MUON_OK; i++) rs = muon_metric_log_row(lg, i, 0, "q", "sigma_max", 1.0);
                if (rs == MUON_OK) rs = muon_metric_log_flush(lg);
                check(rs == MUON_ERR_IO && strstr(muon_last_error(), "/dev/full"), "disk full reported with the path: %s", muon_last_error());
                muon_metric_log_close(lg);
            } else {
                check(st == MUON_ERR_IO && strstr(muon_last_error(), "/dev/full"), "disk full at open: %s", muon_last_error());
            }
        } else {
            skip("no /dev/full on this system");
        }
    }
    remove(log_path);
}


/* ---- tracking over a model ---------------------------------------------- */

static const char *track_path = "build/test_metrics_track.csv";

typedef struct { long step; int layer; char matrix[16], metric[32]; double value; } csv_row;

/* Parses a metric log written by us; returns the row count or -1. */
static int read_rows(const char *path, csv_row *rows, int cap)
{
    char line[256];
    int n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    if (!fgets(line, sizeof line, f) || strcmp(line, "step,layer,matrix,metric,value\n")) { fclose(f); return -1; }
    while (fgets(line, sizeof line, f)) {
        csv_row r;
        char *a = strtok(line, ","), *b = strtok(NULL, ","), *c = strtok(NULL, ","), *d = strtok(NULL, ","), *e = strtok(NULL, "\n");
        if (!a || !b || !c || !d || !e || strlen(c) >= sizeof r.matrix || strlen(d) >= sizeof r.metric) { fclose(f); return -1; }
        r.step = strtol(a, NULL, 10);
        r.layer = (int)strtol(b, NULL, 10);
        strcpy(r.matrix, c);
        strcpy(r.metric, d);
        r.value = strtod(e, NULL);
        if (n < cap) rows[n] = r;
        n++;
    }
    fclose(f);
    return n;
}

static int track_to_file(const muon_model *m, const muon_update_view *u, long step)
{
    muon_metric_log *lg;
    int st;
    remove(track_path);
    if ((st = muon_metric_log_open(&lg, track_path, -1))) return st;
    st = muon_metrics_track(lg, step, m, u);
    if (muon_metric_log_close(lg) && !st) st = MUON_ERR_IO;
    return st;
}

static void test_track_config(const char *what, const char *key, const char *value)
{
    muon_config cfg;
    muon_model m;
    muon_update_view u, partial;
    float *buf = NULL;
    muon_tracked tr[64];
    csv_row *rows = NULL;
    int n, nr, i, j, st, ok;
    size_t P;

    if (muon_config_named("tiny", &cfg) || (key && muon_config_set(&cfg, key, value)) ||
        muon_model_create(&m, &cfg)) {
        check(0, "%s: tiny model: %s", what, muon_last_error());
        return;
    }
    muon_model_init(&m, 3);
    P = m.num_params;
    buf = malloc(3 * P * sizeof(float));
    test_fill_random(buf, 3 * P, 21);
    for (i = 0; i < (int)P; i++) buf[i] *= 1e-3f;      /* delta */
    u.delta = buf;
    u.momentum = buf + P;
    u.orth_out = buf + 2 * P;
    n = muon_model_tracked(&m, tr, 64);
    rows = malloc(sizeof(csv_row) * (size_t)n * MUON_METRIC_COUNT);

    st = track_to_file(&m, &u, 7);
    nr = read_rows(track_path, rows, n * MUON_METRIC_COUNT);
    check(st == MUON_OK && nr == n * MUON_METRIC_COUNT, "%s: %d matrices x %d metrics = %d rows (got %d)",
          what, n, MUON_METRIC_COUNT, n * MUON_METRIC_COUNT, nr);
    /* every row is muon_metrics_compute of that matrix, in tracked order */
    ok = nr == n * MUON_METRIC_COUNT;
    for (i = 0; ok && i < n; i++) {
        muon_metrics mt;
        size_t off = tr[i].offset;
        muon_metrics_compute(tr[i].rows, tr[i].cols, m.params + off, u.delta + off, u.momentum + off,
                             u.orth_out + off, &mt);
        for (j = 0; j < MUON_METRIC_COUNT && ok; j++) {
            const csv_row *r = &rows[i * MUON_METRIC_COUNT + j];
            double w = mt.value[j];
            /* %.9g round trip: 1e-8 relative */
            ok = r->step == 7 && r->layer == tr[i].layer && !strcmp(r->matrix, muon_matrix_name(tr[i].kind)) &&
                 !strcmp(r->metric, muon_metric_name(j)) &&
                 (w != w ? r->value != r->value : fabs(r->value - w) <= 1e-8 * fabs(w) + 1e-300);
            if (!ok) check(0, "%s: row %d is %ld,%d,%s,%s,%.9g; want layer %d %s %s %.9g", what,
                           i * MUON_METRIC_COUNT + j, r->step, r->layer, r->matrix, r->metric, r->value,
                           tr[i].layer, muon_matrix_name(tr[i].kind), muon_metric_name(j), w);
        }
    }
    if (ok) note("%s: rows in tracked order (layer 0 %s first), values equal muon_metrics_compute", what,
                  muon_matrix_name(tr[0].kind));

    /* NULL buffers: their metrics are not logged */
    st = track_to_file(&m, NULL, 1);
    nr = read_rows(track_path, rows, n * MUON_METRIC_COUNT);
    check(st == MUON_OK && nr == n * (MUON_METRIC_ORTHO_ERROR_WEIGHT + 1), "%s: no view: %d static rows", what, nr);
    partial = u;
    partial.momentum = NULL;
    partial.orth_out = NULL;
    st = track_to_file(&m, &partial, 1);
    nr = read_rows(track_path, rows, n * MUON_METRIC_COUNT);
    check(st == MUON_OK && nr == n * (MUON_METRIC_ALIGNMENT_RIGHT + 1), "%s: delta only: static + alignment rows (%d)", what, nr);
    partial = u;
    partial.delta = NULL;
    st = track_to_file(&m, &partial, 1);
    nr = read_rows(track_path, rows, n * MUON_METRIC_COUNT);
    check(st == MUON_OK && nr == n * (MUON_METRIC_COUNT - 3), "%s: no delta: no alignment, no efficiency (%d rows)", what, nr);

    /* the same file whatever the thread count */
    if (threads_begin(what)) {
        char *one, *two;
        muon_set_threads(1);
        track_to_file(&m, &u, 2);
        one = slurp(track_path);
        muon_set_threads(2);
        track_to_file(&m, &u, 2);
        two = slurp(track_path);
        threads_end();
        check(one && two && !strcmp(one, two), "%s: log identical with 1 and 2 threads", what);
        free(one);
        free(two);
    }
    free(rows);
    free(buf);
    muon_model_free(&m);
}

static void test_track(void)
{
    muon_metrics out[4];
    muon_config cfg;
    muon_model m;
    test_track_config("tiny", NULL, NULL);
    test_track_config("tiny merged qkvo", "merged_qkvo", "1");
    test_track_config("tiny swiglu", "ffn", "swiglu");
    if (!muon_config_named("tiny", &cfg) && !muon_model_create(&m, &cfg)) {
        check(muon_metrics_model(&m, NULL, out, 4) == MUON_ERR_ARG, "metrics_model: too small output rejected: %s", muon_last_error());
        check(muon_metrics_track(NULL, 0, &m, NULL) == MUON_ERR_ARG, "track: NULL log rejected");
        muon_model_free(&m);
    }
    remove(track_path);
}


/* The conformance lines: worst error per metric over every golden check. */
static void golden_summary(void)
{
    int i;
    for (i = 0; i < MUON_METRIC_COUNT; i++) {
        metric_tol t = tol_of(i);
        note("%s vs NumPy, all golden cases: max abs %.2e, max rel %.2e (rtol %.0e, atol %.0e%s)",
              muon_metric_name(i), worst_abs[i], worst_rel[i], t.rtol, t.atol,
              t.scale == SCALE_W ? "*sigma_max" : t.scale == SCALE_O ? "*update_sv_max" : "");
    }
}

/* ---- checkpoint analysis ------------------------------------------------ */

static const char *kind_names[] = {"q", "k", "v", "o", "up", "down", "gate"};

static void test_analyze_hf(void)
{
    const char *paths[2];
    char p0[256], p1[256];
    muon_analysis a;
    muon_safetensors ex;
    int st, i, nfail = 0, router = 0;
    snprintf(p0, sizeof p0, "%s", golden_path("analyze_hf_0.safetensors"));
    snprintf(p1, sizeof p1, "%s", golden_path("analyze_hf_1.safetensors"));
    paths[0] = p0;
    paths[1] = p1;
    if (golden_open("analyze_expect.safetensors", &ex)) return;
    st = muon_analyze(paths, 2, &a);
    if (!check(st == MUON_OK, "analyze two HF-named checkpoints: %s", st ? muon_last_error() : "ok")) { muon_safetensors_free(&ex); return; }
    check(a.n_entries == 2 * 2 * 7, "found 2 checkpoints x 2 layers x 7 matrices (got %d)", a.n_entries);
    for (i = 0; i < a.n_skipped; i++) router += strstr(a.skipped[i], "model.layers.0.mlp.router.weight") != NULL;
    check(a.n_skipped == 2 && router == 2, "the unrecognised 2-D tensor reported once per checkpoint, norms/embedding/head silently skipped (%d lines%s%s)",
          a.n_skipped, a.n_skipped ? ": " : "", a.n_skipped ? a.skipped[0] : "");
    for (i = 0; i < a.n_entries; i++) {
        const muon_analysis_entry *e = &a.entries[i];
        char name[64], label[96];
        const float *want, *have;
        if (e->kind > MUON_MAT_GATE) { nfail++; check(0, "entry %d has kind %d", i, (int)e->kind); continue; }
        snprintf(name, sizeof name, "%d.%d.%s.want", e->ckpt, e->layer, kind_names[e->kind]);
        want = golden_get(&ex, name, MUON_METRIC_COUNT);
        snprintf(name, sizeof name, "%d.%d.%s.have", e->ckpt, e->layer, kind_names[e->kind]);
        have = golden_get(&ex, name, MUON_METRIC_COUNT);
        snprintf(label, sizeof label, "analyze ckpt %d layer %d %s", e->ckpt, e->layer, kind_names[e->kind]);
        if (!want || !have) { nfail++; continue; }
        nfail += compare_metrics(label, &e->mt, want, have);
        /* sorted: by checkpoint, layer, then kind (q, k, v, o, up, down, gate) */
        if (i && (a.entries[i - 1].ckpt * 1000 + a.entries[i - 1].layer * 10 + (int)a.entries[i - 1].kind >=
                  e->ckpt * 1000 + e->layer * 10 + (int)e->kind)) { nfail++; check(0, "entry %d out of order", i); }
    }
    if (a.n_entries == 28 && !nfail)
        note("analyze: every matrix's static metrics, and checkpoint 1's alignments from W1 - W0, match NumPy");
    /* the CSV: one row per present metric, steps are the checkpoint indices */
    {
        const char *csv = "build/test_analyze.csv";
        csv_row *rows = malloc(sizeof(csv_row) * 28 * MUON_METRIC_COUNT);
        int want_rows = 0, nr, j;
        for (i = 0; i < a.n_entries; i++)
            for (j = 0; j < MUON_METRIC_COUNT; j++) want_rows += a.entries[i].mt.have[j];
        remove(csv);
        st = muon_analysis_write_csv(&a, csv);
        nr = read_rows(csv, rows, 28 * MUON_METRIC_COUNT);
        check(st == MUON_OK && nr == want_rows && rows[0].step == 0 && rows[nr - 1].step == 1 &&
              !strcmp(rows[0].matrix, "q") && !strcmp(rows[0].metric, "sigma_max"),
              "analysis CSV: %d rows, steps 0 and 1 (got %d)", want_rows, nr);
        st = muon_analysis_write_csv(&a, "build/no/such/dir/a.csv");
        check(st == MUON_ERR_IO && strstr(muon_last_error(), "build/no/such/dir/a.csv"), "CSV to a missing directory: %s", muon_last_error());
        free(rows);
        remove(csv);
    }
    muon_analysis_free(&a);
    muon_safetensors_free(&ex);
}

/* Writes the parameters of m as a checkpoint with our names, plus optimizer
 * state like our checkpoints' ("optim.muon_momentum.<name>", other values),
 * which analyze must skip; returns status. */
static int write_model(const muon_model *m, const char *path)
{
    int n = m->n_tensors, i, st;
    muon_tensor *t = calloc((size_t)2 * n, sizeof *t);
    char (*names)[96] = calloc((size_t)n, sizeof *names);
    float *mom = malloc(m->num_params * sizeof(float));
    test_fill_random(mom, m->num_params, 77);
    for (i = 0; i < n; i++) {
        const muon_param *p = &m->tensors[i];
        t[i].name = (char *)p->name;
        t[i].ndim = 2;
        t[i].shape[0] = p->rows;
        t[i].shape[1] = p->cols;
        t[i].data = m->params + p->offset;
        t[n + i] = t[i];
        snprintf(names[i], sizeof names[i], "optim.muon_momentum.%s", p->name);
        t[n + i].name = names[i];
        t[n + i].data = mom + p->offset;
    }
    st = muon_safetensors_write(path, t, 2 * n, NULL);
    free(t);
    free(names);
    free(mom);
    return st;
}

static void test_analyze_ours(const char *what, const char *key, const char *value)
{
    muon_config cfg;
    muon_model m;
    muon_metrics res[64];
    muon_analysis a;
    const char *path = "build/test_analyze_ckpt.safetensors";
    int n, i, ok = 1;
    if (muon_config_named("tiny", &cfg) || (key && muon_config_set(&cfg, key, value)) || muon_model_create(&m, &cfg)) {
        check(0, "%s: model: %s", what, muon_last_error());
        return;
    }
    muon_model_init(&m, 5);
    n = muon_model_tracked(&m, NULL, 0);
    if (write_model(&m, path) || muon_metrics_model(&m, NULL, res, 64) || muon_analyze(&path, 1, &a)) {
        check(0, "%s: write/analyze: %s", what, muon_last_error());
        muon_model_free(&m);
        return;
    }
    check(a.n_entries == n && a.n_skipped == 0, "%s: analyze finds the %d tracked matrices; gains, embedding, optimizer state skipped silently (%d, %d)",
          what, n, a.n_entries, a.n_skipped);
    for (i = 0; ok && i < n && i < a.n_entries; i++)
        ok = !memcmp(a.entries[i].mt.value, res[i].value, sizeof res[i].value) &&
             !memcmp(a.entries[i].mt.have, res[i].have, sizeof res[i].have);
    check(ok, "%s: each matrix (slices included) has exactly the tracked metrics", what);
    muon_analysis_free(&a);
    muon_model_free(&m);
    remove(path);
}

static void test_analyze_cli(void)
{
    char cmd[1024], err[512];
    char *s;
    int rc;
    const char *out = "build/test_analyze_cli.csv";
    remove(out);
    snprintf(cmd, sizeof cmd, "%s analyze %s %s --out %s", muon_bin(), "tests/golden/analyze_hf_0.safetensors",
             "tests/golden/analyze_hf_1.safetensors", out);
    rc = run_cmd(cmd, err, sizeof err);
    s = slurp(out);
    check(rc == 0 && !err[0] && s && !strncmp(s, "step,layer,matrix,metric,value\n0,0,q,sigma_max,", 47),
          "muon analyze CKPT CKPT --out FILE: exit 0, CSV written, stderr empty (exit %d; stderr: %s)", rc, err);
    free(s);

    snprintf(cmd, sizeof cmd, "%s analyze build/no_such_ckpt.safetensors --out %s", muon_bin(), out);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "no_such_ckpt.safetensors"), "missing checkpoint: exit 2, one line: %s", err);

    {
        FILE *f = fopen("build/test_corrupt.safetensors", "wb");
        if (f) { fputs("this is not a safetensors file at all", f); fclose(f); }
    }
    remove(out);
    snprintf(cmd, sizeof cmd, "%s analyze tests/golden/analyze_hf_0.safetensors build/test_corrupt.safetensors --out %s", muon_bin(), out);
    rc = run_cmd(cmd, err, sizeof err);
    s = slurp(out);
    check(rc == 2 && strstr(err, "test_corrupt.safetensors") && !s, "corrupt checkpoint: exit 2, no CSV: %s", err);
    free(s);
    remove("build/test_corrupt.safetensors");

    {
        float g[4] = {1, 1, 1, 1};
        muon_tensor t;
        memset(&t, 0, sizeof t);
        t.name = "model.norm.weight";
        t.ndim = 1;
        t.shape[0] = 4;
        t.data = g;
        muon_safetensors_write("build/test_nomat.safetensors", &t, 1, NULL);
    }
    snprintf(cmd, sizeof cmd, "%s analyze build/test_nomat.safetensors --out %s", muon_bin(), out);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "no weight matrix") && strstr(err, "test_nomat"), "no matrices: exit 2: %s", err);
    remove("build/test_nomat.safetensors");

    snprintf(cmd, sizeof cmd, "%s analyze", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "no checkpoint"), "no checkpoint given: exit 2: %s", err);
    snprintf(cmd, sizeof cmd, "%s analyze tests/golden/analyze_hf_0.safetensors --bogus", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "--bogus"), "unknown option: exit 2: %s", err);
    snprintf(cmd, sizeof cmd, "%s analyze tests/golden/analyze_hf_0.safetensors --out build/no/such/dir/x.csv", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, "build/no/such/dir/x.csv"), "unwritable --out: exit 2: %s", err);
    {   /* --out naming the input checkpoint must not destroy it */
        const char *ck = "build/test_analyze_self.safetensors";
        muon_safetensors after;
        int same = 0;
        float w[6] = {1, 2, 3, 4, 5, 7};
        muon_tensor t;
        memset(&t, 0, sizeof t);
        t.name = "layers.0.attn.q.weight";
        t.ndim = 2;
        t.shape[0] = 2;
        t.shape[1] = 3;
        t.data = w;
        muon_safetensors_write(ck, &t, 1, NULL);
        snprintf(cmd, sizeof cmd, "%s analyze %s --out %s", muon_bin(), ck, ck);
        rc = run_cmd(cmd, err, sizeof err);
        if (muon_safetensors_read(ck, &after) == MUON_OK) {
            same = after.count == 1 && !memcmp(after.tensors[0].data, w, sizeof w);
            muon_safetensors_free(&after);
        }
        check(rc == 2 && strstr(err, "refusing to overwrite") && same,
              "--out naming the input checkpoint: exit 2, checkpoint intact: %s", err);
        remove(ck);
    }
    {   /* --plots DIR: the research plots of the analysis, x = checkpoint index */
        static const char *const pngs[] = {"spectral_norm_vs_depth.png", "entropy_mri.png", "update_alignment.png"};
        int k, all = 1;
        FILE *f;
        remove(out);
        snprintf(cmd, sizeof cmd, "rm -rf build/test_analyze_plots && %s analyze tests/golden/analyze_hf_0.safetensors "
                 "tests/golden/analyze_hf_1.safetensors --out %s --plots build/test_analyze_plots", muon_bin(), out);
        rc = run_cmd(cmd, err, sizeof err);
        for (k = 0; k < 3; k++) {
            char png[256];
            snprintf(png, sizeof png, "build/test_analyze_plots/%s", pngs[k]);
            f = fopen(png, "rb");
            all &= f != NULL;
            if (f) fclose(f);
        }
        check(rc == 0 && all, "analyze --plots DIR draws the plots there (exit %d; %s)", rc, err);
        /* like train's --out, --plots creates missing parents (mkdir -p) */
        run_cmd("rm -rf build/test_analyze_plots_deep", NULL, 0);
        snprintf(cmd, sizeof cmd, "%s analyze tests/golden/analyze_hf_0.safetensors --out %s --plots build/test_analyze_plots_deep/a/b",
                 muon_bin(), out);
        rc = run_cmd(cmd, err, sizeof err);
        f = fopen("build/test_analyze_plots_deep/a/b/loss.png", "rb");
        check(rc == 0 && f, "analyze --plots creates missing parents (exit %d; %s)", rc, err);
        if (f) fclose(f);
        snprintf(cmd, sizeof cmd, "%s analyze tests/golden/analyze_hf_0.safetensors --out %s --plots tests/golden/st.py/plots",
                 muon_bin(), out);
        rc = run_cmd(cmd, err, sizeof err);
        check(rc == 2 && strstr(err, "tests/golden/st.py") && strstr(err, "Not a directory"),
              "analyze --plots under a regular file: exit 2 with the reason: %s", err);
        run_cmd("rm -rf build/test_analyze_plots build/test_analyze_plots_deep", NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "%s analyze --help", muon_bin());
    check(run_cmd(cmd, NULL, 0) == 0, "muon analyze --help: exit 0");
    remove(out);
}

static void test_analyze(void)
{
    const char *none[1] = {NULL};
    muon_analysis a;
    test_analyze_hf();
    test_analyze_ours("tiny", NULL, NULL);
    test_analyze_ours("tiny merged qkvo", "merged_qkvo", "1");
    test_analyze_ours("tiny swiglu", "ffn", "swiglu");
    check(muon_analyze(none, 0, &a) == MUON_ERR_ARG && a.n_entries == 0, "analyze: no paths rejected");
    test_analyze_cli();
}

/* ---- a real training run against NumPy ---------------------------------- */

/* Re-runs the three `muon train` commands of gen_metrics.py's run check (a
 * three-step tiny run with checkpoints after each step) and compares the
 * metrics.csv it logs with NumPy's recomputation from the golden run's
 * checkpoints. This checks the wiring: that training hands tracking the right
 * W, dW, M and O. Tolerances allow for another compiler's rounding in the
 * run itself (the same build as the golden run agrees to 1e-7), and for O: NumPy runs the polar-express iteration in float64,
 * the trainer in float32 (measured 7.5e-6 relative on ortho_error_update). */
static void test_run(void)
{
    static const char *kinds[] = {"q", "k", "v", "o", "up", "down"};
    const char *args = "--model tiny --steps 3 --track-every 1 --ckpt-every 1 --eval-every 0 "
                       "--log-every 0 --seed 5 --orth polar-express --momentum 0.95 --lr 0.02 --warmup 20 --schedule cosine "
                       "--clip 1 --out build/test_metrics_run";
    char cmd[1024], err[512];
    muon_safetensors ex;
    csv_row *rows;
    int rc, t, nr, i, j, l, k, compared = 0, nfail = 0;
    double worst[MUON_METRIC_COUNT] = {0};
    if (golden_open("metrics_run.safetensors", &ex)) return;
    run_cmd("rm -rf build/test_metrics_run", NULL, 0);
    for (t = 1; t <= 3; t++) {
        snprintf(cmd, sizeof cmd, "%s train %s%s%s%s", muon_bin(), args,
                 t > 1 ? " --resume build/test_metrics_run/checkpoint.safetensors" : "",
                 t < 3 ? " --stop-after " : "", t == 1 ? "1" : t == 2 ? "2" : "");
        rc = run_cmd(cmd, err, sizeof err);
        if (!check(rc == 0, "muon train, part %d of the 3-step tiny run: exit %d %s", t, rc, err)) { muon_safetensors_free(&ex); return; }
    }
    rows = malloc(sizeof(csv_row) * 4000);
    nr = read_rows("build/test_metrics_run/metrics.csv", rows, 4000);
    if (!check(nr > 0 && nr <= 4000, "the run's metrics.csv parses (%d rows)", nr)) { free(rows); muon_safetensors_free(&ex); return; }
    for (t = 1; t <= 3; t++)
        for (l = 0; l < 2; l++)
            for (k = 0; k < 6; k++) {
                char name[64];
                const float *want, *have;
                snprintf(name, sizeof name, "%d.%d.%s.want", t, l, kinds[k]);
                want = golden_get(&ex, name, MUON_METRIC_COUNT);
                snprintf(name, sizeof name, "%d.%d.%s.have", t, l, kinds[k]);
                have = golden_get(&ex, name, MUON_METRIC_COUNT);
                if (!want || !have) { nfail++; continue; }
                for (j = 0; j < MUON_METRIC_COUNT; j++) {
                    const csv_row *r = NULL;
                    double w = want[j], rtol = 1e-5, atol = 1e-6, d;
                    if (!have[j]) continue;
                    for (i = 0; i < nr && !r; i++)
                        if (rows[i].step == t && rows[i].layer == l && !strcmp(rows[i].matrix, kinds[k]) &&
                            !strcmp(rows[i].metric, muon_metric_name(j))) r = &rows[i];
                    if (!r) { nfail++; check(0, "run step %d layer %d %s: %s not logged", t, l, kinds[k], muon_metric_name(j)); continue; }
                    if (j >= MUON_METRIC_TOP_SV_1 && j <= MUON_METRIC_TOP_SV_10) atol = 1e-6 * want[MUON_METRIC_SIGMA_MAX];
                    if (j == MUON_METRIC_ORTHO_ERROR_UPDATE) rtol = 1e-4;
                    /* dW = -lr*O has its top singular values clustered near
                     * polar express's 1.14, so its top-5 subspace moves with
                     * the run's rounding: up to 4e-5 measured between gcc,
                     * clang and -march=native or not */
                    if (j == MUON_METRIC_ALIGNMENT_LEFT || j == MUON_METRIC_ALIGNMENT_RIGHT ||
                        j == MUON_METRIC_SUBSPACE_EFFICIENCY) { rtol = 0; atol = 2e-4; }
                    if (j == MUON_METRIC_UPDATE_SV_MIN || j == MUON_METRIC_UPDATE_SV_MAX) { rtol = 1e-4; atol = 2e-5 * want[MUON_METRIC_UPDATE_SV_MAX]; }
                    compared++;
                    if (w != w || isinf(w)) { if (!same_special(r->value, w)) { nfail++; check(0, "run %d.%d.%s %s: got %g want %g", t, l, kinds[k], muon_metric_name(j), r->value, w); } continue; }
                    d = fabs(r->value - w);
                    if (d > worst[j]) worst[j] = d;
                    if (!(d <= atol + rtol * fabs(w))) {
                        nfail++;
                        check(0, "run step %d layer %d %s %s: logged %.9g, NumPy %.9g (abs err %.2e; rtol %.0e, atol %.1e)",
                              t, l, kinds[k], muon_metric_name(j), r->value, w, d, rtol, atol);
                    }
                }
            }
    if (!nfail)
        check(compared > 500, "tiny run: %d logged metric values (steps 1-3) match NumPy from the checkpoints; largest errors: "
              "sigma_max %.1e, alignment_left %.1e, update_rank %.1e, ortho_error_update %.1e, update_sv_min %.1e",
              compared, worst[MUON_METRIC_SIGMA_MAX], worst[MUON_METRIC_ALIGNMENT_LEFT], worst[MUON_METRIC_UPDATE_RANK],
              worst[MUON_METRIC_ORTHO_ERROR_UPDATE], worst[MUON_METRIC_UPDATE_SV_MIN]);
    free(rows);
    muon_safetensors_free(&ex);
    run_cmd("rm -rf build/test_metrics_run", NULL, 0);
}

void suite_metrics(void)
{
    test_golden();
    test_shortcuts();
    test_ql_fallback();
    test_edges();
    test_log();
    test_track();
    test_analyze();
    test_run();
    golden_summary();
}
