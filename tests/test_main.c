/* The test runner: `muon_tests [SUITE...]` runs the named suites (all by
 * default), one line per check, and ends with "N passed, N failed". Exit
 * status 1 on any failure. */
#include "test.h"
#include "linalg/gemm_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE(name) void suite_##name(void);
#include "suites.h"
#undef SUITE

static int n_pass, n_fail, n_skip;
static const char *current_suite = "";

static void vreport(const char *status, const char *fmt, va_list ap)
{
    printf("%-4s %-11s ", status, current_suite);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
}

int check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cond ? "ok" : "FAIL", fmt, ap);
    va_end(ap);
    if (cond) n_pass++; else n_fail++;
    return cond;
}

void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("info", fmt, ap);
    va_end(ap);
}

static int threads_saved;

int threads_begin(const char *what)
{
    threads_saved = muon_threads();
    muon_set_threads(2);
    if (muon_threads() < 2) {
        muon_set_threads(threads_saved);
        skip("%s: 1 vs 2 threads needs OpenMP (built without)", what);
        return 0;
    }
    muon_gemm_guard_enable(0);   /* 2 threads really run, even on a busy machine */
    return 1;
}

void threads_end(void)
{
    muon_gemm_guard_enable(1);
    muon_set_threads(threads_saved);
}

void skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("skip", fmt, ap);
    va_end(ap);
    n_skip++;
}

static int close_impl(const char *what, const float *got, const float *wf,
                      const double *wd, size_t n, double rtol, double atol)
{
    double max_abs = 0.0, max_rel = 0.0;
    size_t i, bad = 0, first_bad = 0;
    for (i = 0; i < n; i++) {
        double w = wf ? (double)wf[i] : wd[i];
        double g = got[i];
        double d = fabs(g - w);
        double r = d / (fabs(w) > 1e-30 ? fabs(w) : 1e-30);
        if (!(d <= atol + rtol * fabs(w))) { /* NaN fails too */
            if (!bad) first_bad = i;
            bad++;
        }
        if (d > max_abs || d != d) max_abs = d;
        if (fabs(w) > atol && (r > max_rel || r != r)) max_rel = r;
    }
    if (bad)
        return check(0, "%s: %lu of %lu outside tol (rtol %.1e, atol %.1e); max abs %.3e, max rel %.3e; first at [%lu]: got %.8g want %.8g",
                     what, (unsigned long)bad, (unsigned long)n, rtol, atol, max_abs, max_rel,
                     (unsigned long)first_bad, (double)got[first_bad],
                     wf ? (double)wf[first_bad] : wd[first_bad]);
    return check(1, "%s: n=%lu max abs %.3e, max rel %.3e (rtol %.1e, atol %.1e)",
                 what, (unsigned long)n, max_abs, max_rel, rtol, atol);
}

int check_close(const char *what, const float *got, const float *want, size_t n,
                double rtol, double atol)
{
    return close_impl(what, got, want, NULL, n, rtol, atol);
}

int check_close_d(const char *what, const float *got, const double *want, size_t n,
                  double rtol, double atol)
{
    return close_impl(what, got, NULL, want, n, rtol, atol);
}

int check_near(const char *what, double got, double want, double rtol, double atol)
{
    double d = fabs(got - want);
    return check(d <= atol + rtol * fabs(want), "%s: got %.8g want %.8g (abs err %.2e; rtol %.1e, atol %.1e)",
                 what, got, want, d, rtol, atol);
}

int float_is(float got, float want) { return got == want; }

const char *golden_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "tests/golden/%s", name);
    return buf;
}

int golden_open(const char *name, muon_safetensors *f)
{
    int st = muon_safetensors_read(golden_path(name), f);
    if (st) {
        check(0, "golden file %s: %s (run `make golden`)", golden_path(name), muon_last_error());
        return 1;
    }
    return 0;
}

const float *golden_get(const muon_safetensors *f, const char *name, size_t n)
{
    const muon_tensor *t = muon_safetensors_find(f, name);
    if (!t) { check(0, "golden tensor '%s' missing", name); return NULL; }
    if (t->numel != n) {
        check(0, "golden tensor '%s' has %lu values, expected %lu", name,
              (unsigned long)t->numel, (unsigned long)n);
        return NULL;
    }
    return t->data;
}

const char *muon_bin(void)
{
    const char *b = getenv("MUON_BIN");
    return b && *b ? b : "./muon";
}

int run_cmd(const char *cmd, char *err, size_t errlen)
{
    /* stderr goes to a file so the test can check its one line */
    char full[4096];
    const char *errfile = "build/test_stderr.txt";
    FILE *f;
    int rc;
    snprintf(full, sizeof full, "%s 2>%s >/dev/null", cmd, errfile);
    rc = system(full);
    if (err && errlen) {
        err[0] = 0;
        f = fopen(errfile, "r");
        if (f) {
            if (fgets(err, (int)errlen, f)) err[strcspn(err, "\n")] = 0;
            fclose(f);
        }
    }
    if (rc == -1) return -1;
    /* system() returns a wait status; POSIX shells give (code << 8) */
    return rc > 255 ? rc >> 8 : rc;
}

void test_fill_random(float *x, size_t n, uint64_t seed)
{
    muon_rng r;
    muon_rng_seed(&r, seed);
    muon_rng_fill_normal(&r, x, n, 1.0f);
}

int main(int argc, char **argv)
{
    struct { const char *name; void (*fn)(void); } suites[] = {
#define SUITE(name) { #name, suite_##name },
#include "suites.h"
#undef SUITE
    };
    size_t i, ns = sizeof suites / sizeof suites[0];
    int a, unknown = 0;
    for (a = 1; a < argc; a++) {
        for (i = 0; i < ns; i++) if (!strcmp(argv[a], suites[i].name)) break;
        if (i == ns) { fprintf(stderr, "muon_tests: unknown suite '%s'\n", argv[a]); unknown = 1; }
    }
    if (unknown) return 2;
    for (i = 0; i < ns; i++) {
        int want = argc == 1;
        for (a = 1; a < argc; a++) if (!strcmp(argv[a], suites[i].name)) want = 1;
        if (!want) continue;
        current_suite = suites[i].name;
        suites[i].fn();
    }
    current_suite = "";
    if (n_skip) printf("%d skipped\n", n_skip);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}

int test_stderr_lines(void)
{
    FILE *f = fopen("build/test_stderr.txt", "r");
    int c, n = 0, last = '\n';
    if (!f) return -1;
    while ((c = fgetc(f)) != EOF) { if (c == '\n') n++; last = c; }
    fclose(f);
    return n + (last != '\n');
}

int test_path_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) { fclose(f); return 1; }
    return 0;
}
