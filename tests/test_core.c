/* Core helpers: status/errors, aligned allocation and failure injection, RNG,
 * vector helpers. */
#include "test.h"
#include "linalg/omp.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static void test_alloc(void)
{
    void *p = muon_alloc(100), *q;
    check(p != NULL && (uintptr_t)p % 64 == 0, "muon_alloc returns 64-byte aligned memory");
    muon_free(p);
    q = muon_calloc(1000, sizeof(float));
    if (check(q != NULL, "muon_calloc(1000, 4)")) {
        size_t i, nz = 0;
        for (i = 0; i < 1000; i++) nz += ((float *)q)[i] != 0.0f;
        check(nz == 0, "muon_calloc zero-fills");
    }
    muon_free(q);
    muon_free(NULL);
    check(muon_calloc((size_t)-1 / 2, 4) == NULL && strstr(muon_last_error(), "overflow") != NULL,
          "muon_calloc rejects a size that overflows: %s", muon_last_error());
    muon_alloc_fail_after(2);
    p = muon_alloc(8);
    q = muon_alloc(8);
    check(p != NULL && q == NULL, "failure injection fails exactly the 2nd allocation");
    muon_free(p);
    p = muon_alloc(8);
    check(p != NULL, "failure injection is one-shot");
    muon_free(p);
}

static void test_rng(void)
{
    muon_rng a, b;
    double sum = 0, sum2 = 0;
    int i, same = 1, hist[10] = {0}, hist_ok = 1;
    const int n = 200000;
    muon_rng_seed(&a, 42);
    muon_rng_seed(&b, 42);
    for (i = 0; i < 1000; i++) same &= muon_rng_next(&a) == muon_rng_next(&b);
    check(same, "rng: same seed, same stream");
    muon_rng_seed(&b, 43);
    check(muon_rng_next(&a) != muon_rng_next(&b), "rng: different seeds differ");
    /* moments of N(0,1): standard errors are 1/sqrt(n) and sqrt(2/n) */
    for (i = 0; i < n; i++) {
        double x = muon_rng_normal(&a);
        sum += x;
        sum2 += x * x;
    }
    check(fabs(sum / n) < 5.0 / sqrt(n) && fabs(sum2 / n - 1.0) < 5.0 * sqrt(2.0 / n),
          "rng: normal mean %.4f, variance %.4f within 5 standard errors of 0, 1", sum / n, sum2 / n);
    /* muon_rng_below(10): each bucket within 5 sd of n/10 */
    for (i = 0; i < n; i++) hist[muon_rng_below(&a, 10)]++;
    for (i = 0; i < 10; i++) hist_ok &= fabs(hist[i] - n / 10.0) < 5.0 * sqrt(n * 0.09);
    check(hist_ok, "rng: below(10) is uniform (chi-square-free bucket check)");
}

static void test_vec(void)
{
    float x[37], y[37], t[37], tt[37];
    double dot = 0;
    int i;
    for (i = 0; i < 37; i++) { x[i] = (float)(i - 18) / 7.0f; y[i] = (float)(i % 5) - 2.0f; }
    for (i = 0; i < 37; i++) dot += (double)x[i] * y[i];
    check_near("dot vs loop", muon_dot(x, y, 37), dot, 1e-12, 0);
    check_near("norm2 of (3,4)", muon_norm2((const float[]){3, 4}, 2), 5.0, 1e-12, 0);
    muon_transpose(x, t, 1, 37);
    check(memcmp(t, x, sizeof x) == 0, "transpose of a row vector is itself in memory");
    /* (37 = 37x1) -> round trip through a 37-long odd shape */
    muon_transpose(x, t, 37, 1);
    muon_transpose(t, tt, 1, 37);
    check(memcmp(tt, x, sizeof x) == 0, "transpose round trip");
    {
        float a[6] = {1, 2, 3, 4, 5, 6}, at[6], want[6] = {1, 4, 2, 5, 3, 6};
        muon_transpose(a, at, 2, 3);
        check(memcmp(at, want, sizeof at) == 0, "transpose 2x3");
    }
    check(muon_all_finite(x, 37), "all_finite on finite data");
    x[17] = NAN;
    check(!muon_all_finite(x, 37), "all_finite catches NaN");
    x[17] = INFINITY;
    check(!muon_all_finite(x, 37), "all_finite catches Inf");
    {   /* past its 4096-element blocks: the first, a boundary, the last */
        static float big[10000];
        static const size_t at[] = {0, 4095, 4096, 8191, 9999};
        size_t i, k, caught = 0;
        for (i = 0; i < 10000; i++) big[i] = i % 2 ? FLT_MAX : -FLT_MAX;
        check(muon_all_finite(big, 10000), "all_finite on 10000 values of +-FLT_MAX (finite)");
        for (k = 0; k < sizeof at / sizeof at[0]; k++) {
            float keep = big[at[k]];
            big[at[k]] = k % 2 ? -INFINITY : NAN;
            caught += !muon_all_finite(big, 10000);
            big[at[k]] = keep;
        }
        check(caught == sizeof at / sizeof at[0], "all_finite catches NaN or -Inf at 0, 4095, 4096, 8191, 9999 of "
              "10000 (%lu of 5)", (unsigned long)caught);
    }
}

static void test_errors(void)
{
    int st = muon_error(MUON_ERR_ARG, "thing %d is bad", 7);
    check(st == MUON_ERR_ARG && !strcmp(muon_last_error(), "thing 7 is bad"), "muon_error keeps status and message");
    check(!strcmp(muon_status_name(MUON_ERR_NOMEM), "out of memory"), "status names");
    st = muon_error_prefix(MUON_ERR_FORMAT, "file %s: ", "a.st");
    check(st == MUON_ERR_FORMAT && !strcmp(muon_last_error(), "file a.st: thing 7 is bad"),
          "muon_error_prefix keeps the old message after the new text: %s", muon_last_error());
}

/* Errors raised on worker threads stay there; the caller reports the
 * lowest-index failure of a parallel loop through muon_failure. */
static void test_thread_errors(void)
{
    muon_failure f = {0};
    int i, raised = 0;
    muon_error(MUON_ERR_ARG, "caller's message");
    if (threads_begin("thread-private errors")) {
MUON_OMP(omp parallel num_threads(2) reduction(+:raised))
        {
            if (muon_thread_id() == 1) {
                muon_error(MUON_ERR_IO, "worker's message");
                raised++;
            }
        }
        threads_end();
        check(raised == 1 && !strcmp(muon_last_error(), "caller's message"),
              "an error raised on a worker thread leaves the caller's message alone (%s)", muon_last_error());
    }
MUON_OMP(omp parallel for schedule(dynamic, 1))
    for (i = 0; i < 8; i++) {
        int st = i == 5 || i == 2 ? muon_error(MUON_ERR_NUMERIC, "item %d failed", i) : MUON_OK;
        muon_failure_note(&f, i, st);
    }
    check(muon_failure_raise(&f) == MUON_ERR_NUMERIC && !strcmp(muon_last_error(), "item 2 failed"),
          "muon_failure: the lowest failing index's status and message reach the caller (%s)", muon_last_error());
    f.status = 0;
    check(muon_failure_raise(&f) == MUON_OK, "muon_failure: nothing noted is MUON_OK");
}

/* One name table per enum: every value round-trips, unknown names list the table. */
static void test_names(void)
{
    static const char *const names[] = {"alpha", "beta"};
    int v = -1, i, ok = 1;
    muon_orth_kind ok_kind;
    muon_sched_kind sk;
    muon_opt_kind opk;
    muon_mscale_kind mk;
    muon_ffn_kind fk;
    check(muon_name_parse("letter", names, 2, "beta", &v) == MUON_OK && v == 1 &&
          !strcmp(muon_name_of(names, 2, 0), "alpha") && !strcmp(muon_name_of(names, 2, 2), "unknown"),
          "names: parse and name from one table");
    check(muon_name_parse("letter", names, 2, "gamma", &v) == MUON_ERR_ARG &&
          !strcmp(muon_last_error(), "unknown letter 'gamma' (valid: alpha, beta)"),
          "names: an unknown name lists the valid ones: %s", muon_last_error());
    for (i = 0; i < 4; i++)
        if (muon_orth_parse(muon_orth_name((muon_orth_kind)i), &ok_kind) || (int)ok_kind != i) ok = 0;
    for (i = 0; i < 2; i++) {
        if (muon_sched_parse(muon_sched_name((muon_sched_kind)i), &sk) || (int)sk != i) ok = 0;
        if (muon_opt_parse(muon_opt_name((muon_opt_kind)i), &opk) || (int)opk != i) ok = 0;
        if (muon_mscale_parse(muon_mscale_name((muon_mscale_kind)i), &mk) || (int)mk != i) ok = 0;
        if (muon_ffn_parse(muon_ffn_name((muon_ffn_kind)i), &fk) || (int)fk != i) ok = 0;
    }
    for (i = 0; i < MUON_MAT_COUNT; i++)
        if (muon_matrix_index(muon_matrix_name((muon_matrix_kind)i)) != i) ok = 0;
    for (i = 0; i < MUON_METRIC_COUNT; i++)
        if (muon_metric_index(muon_metric_name(i)) != i) ok = 0;
    for (i = 0; i < MUON_MODEL_METRIC_COUNT; i++)
        if (muon_model_metric_index(muon_model_metric_name((muon_model_metric)i)) != i) ok = 0;
    check(ok, "names: orth, schedule, optimizer, Muon scale, ffn, matrix kind, metric and model metric names round-trip");
    check(muon_ffn_parse("gelu", &fk) == MUON_ERR_ARG && strstr(muon_last_error(), "relu2, swiglu"),
          "ffn: unknown kind lists the valid ones: %s", muon_last_error());
}

void suite_core(void)
{
    test_errors();
    test_thread_errors();
    test_names();
    test_alloc();
    test_rng();
    test_vec();
}
