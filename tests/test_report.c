/* report suite: every number of `muon report` against NumPy/SciPy
 * (tests/golden/gen_report.py) on the committed fixture runs
 * (tests/golden/report_runs/: real short `tiny` runs, Muon and AdamW, two
 * seeds each), the statistics helpers, the alignment chance level, and the
 * compare/report commands on good and bad input. */
#include "test.h"
#include "metrics/claims.h"
#include "plots/compare.h"
#include "metrics/events.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb_image.h>

#define RR "tests/golden/report_runs"
#define TD "build/test_report"

static const char *const run_names[4] = { "muon_s1", "muon_s2", "adamw_s1", "adamw_s2" };

/* got(n) against want(n): both NaN, or |got - want| <= atol + rtol |want|. */
static int close_nan(const char *what, const double *got, const float *want, size_t n, double rtol, double atol)
{
    size_t i, bad = 0, nn = 0;
    double worst = 0;
    for (i = 0; i < n; i++) {
        double w = want[i], g = got[i];
        if (w != w || g != g) {
            if ((w != w) != (g != g)) bad++;
            else nn++;
            continue;
        }
        if (fabs(g - w) > atol + rtol * fabs(w)) bad++;
        if (fabs(g - w) > worst) worst = fabs(g - w);
    }
    return check(bad == 0, "%s: %lu values (%lu NaN on both sides), max abs err %.2e, %lu off (rtol %.0e, atol %.0e)",
                 what, (unsigned long)n, (unsigned long)nn, worst, (unsigned long)bad, rtol, atol);
}

static const float *want(const muon_safetensors *f, const char *run, const char *name, size_t n)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", run, name);
    return golden_get(f, key, n);
}

/* Runs of the fixture set against the golden claims. Tolerances: the C side
 * reads the same float32 values and computes in double; the golden file
 * stores float32 (rel 6e-8), so rtol 1e-6; atol covers values near 0. */
static void golden_claims(const muon_safetensors *f, const muon_run_set *s)
{
    int r, k, l;
    for (r = 0; r < 4; r++) {
        const char *rn = run_names[r];
        const muon_run *run = NULL;
        muon_claims c;
        const float *w;
        double buf[2 * MUON_CL_NK * 8];
        char what[160];
        int i;
        for (i = 0; i < s->n; i++)
            if (strstr(s->runs[i].dir, rn)) run = &s->runs[i];
        if (!check(run != NULL, "%s loaded", rn)) continue;
        if (!check(muon_claims_run(run, &c) == MUON_OK, "%s: claims computed", rn)) continue;
#define CMP(name, arr, n, rtol, atol) do { \
            snprintf(what, sizeof what, "%s: %s vs NumPy/SciPy", rn, name); \
            if ((w = want(f, rn, name, (n))) != NULL) close_nan(what, (arr), w, (n), (rtol), (atol)); } while (0)
        buf[0] = (double)c.first; buf[1] = (double)c.third_a; buf[2] = (double)c.third_b; buf[3] = (double)c.last;
        CMP("thirds", buf, 4, 0, 0);
        for (k = 0; k < MUON_CL_NK; k++) { buf[k] = c.growth_raw[0][k]; buf[MUON_CL_NK + k] = c.growth_raw[1][k]; }
        CMP("growth_raw", buf, 2 * MUON_CL_NK, 1e-6, 1e-9);
        for (k = 0; k < MUON_CL_NK; k++) { buf[k] = c.growth_norm[0][k]; buf[MUON_CL_NK + k] = c.growth_norm[1][k]; }
        CMP("growth_norm", buf, 2 * MUON_CL_NK, 1e-6, 1e-9);
        CMP("ratio_raw", c.ratio_raw, MUON_CL_NK, 1e-5, 1e-8);
        CMP("ratio_norm", c.ratio_norm, MUON_CL_NK, 1e-5, 1e-8);
        for (k = 0; k < MUON_CL_NK; k++) for (l = 0; l < 8; l++) buf[k * 8 + l] = c.final_sigma[k][l];
        CMP("final_sigma", buf, MUON_CL_NK * 8, 1e-6, 0);
        CMP("slope", c.slope, MUON_CL_NK, 1e-5, 1e-9);
        CMP("slope_se", c.slope_se, MUON_CL_NK, 1e-5, 1e-9);
        CMP("qv", c.qv, 8, 1e-6, 0);
        CMP("t90", c.t90, 8, 1e-6, 1e-9);
        CMP("rho_t90", &c.rho_t90, 1, 1e-6, 1e-9);
        CMP("rho_sigma_entropy", c.rho_sigma_entropy, MUON_CL_NK, 1e-6, 1e-9);
        CMP("align", c.align, 8, 1e-6, 0);
        buf[0] = c.align_mean; buf[1] = c.align_slope; buf[2] = c.align_slope_se;
        CMP("align_stats", buf, 3, 1e-5, 1e-9);
        for (k = 0; k < MUON_CL_NK; k++) for (l = 0; l < 8; l++) buf[k * 8 + l] = c.bound_frac[k][l];
        CMP("bound_frac", buf, MUON_CL_NK * 8, 1e-6, 1e-9);
        for (k = 0; k < MUON_CL_NK; k++) {
            buf[k] = c.bound_frac_mean[k]; buf[MUON_CL_NK + k] = c.bound_frac_max[k]; buf[2 * MUON_CL_NK + k] = c.naive_frac_mean[k];
        }
        CMP("bound_stats", buf, 3 * MUON_CL_NK, 1e-6, 1e-9);
        buf[0] = c.possible; buf[1] = c.max_update_sv; buf[2] = c.bound_violations;
        CMP("bound_misc", buf, 3, 1e-6, 0);
        buf[0] = c.val; buf[1] = c.val_se; buf[2] = c.roughness;
        CMP("val", buf, 3, 1e-6, 0);
#undef CMP
    }
}

static void golden_groups(const muon_safetensors *f, const muon_run_set *s)
{
    int g, k;
    muon_claims c[MUON_RUNS_MAX];
    for (g = 0; g < s->n; g++) muon_claims_run(&s->runs[g], &c[g]);
    for (g = 0; g < s->n_groups; g++) {
        const char *name = s->runs[s->members[g][0]].adamw ? "adamw.slope_est" : "muon.slope_est";
        const float *w = golden_get(f, name, 4 * MUON_CL_NK);
        double got[4 * MUON_CL_NK], sl[MUON_RUNS_MAX], se[MUON_RUNS_MAX];
        int j;
        if (!w) continue;
        for (k = 0; k < MUON_CL_NK; k++) {
            muon_est e;
            for (j = 0; j < s->group_size[g]; j++) { sl[j] = c[s->members[g][j]].slope[k]; se[j] = c[s->members[g][j]].slope_se[k]; }
            e = muon_est_slope(sl, se, s->group_size[g], s->runs[0].n_layers);
            got[k] = e.m; got[MUON_CL_NK + k] = e.se; got[2 * MUON_CL_NK + k] = e.lo; got[3 * MUON_CL_NK + k] = e.hi;
        }
        close_nan(name, got, w, 4 * MUON_CL_NK, 1e-5, 1e-9);
    }
    {
        /* one run alone: its OLS interval with L-2 degrees of freedom */
        const float *w = golden_get(f, "muon_s1.slope_ci", 2 * MUON_CL_NK);
        double got[2 * MUON_CL_NK];
        const muon_claims *c1 = NULL;
        for (g = 0; g < s->n; g++) if (strstr(s->runs[g].dir, "muon_s1")) c1 = &c[g];
        if (w && c1) {
            for (k = 0; k < MUON_CL_NK; k++) {
                muon_est e = muon_est_slope(&c1->slope[k], &c1->slope_se[k], 1, s->runs[0].n_layers);
                got[k] = e.lo; got[MUON_CL_NK + k] = e.hi;
            }
            close_nan("one run: slope interval from its own residuals (t with L-2 df)", got, w, 2 * MUON_CL_NK, 1e-5, 1e-9);
        }
    }
}

static void golden_stats(const muon_safetensors *f)
{
    const float *df = golden_get(f, "t_quantile.df", 7), *q975 = golden_get(f, "t_quantile.p975", 7);
    const float *q90 = golden_get(f, "t_quantile.p90", 7), *x = golden_get(f, "spearman_ties.x", 8);
    const float *y = golden_get(f, "spearman_ties.y", 8), *rho = golden_get(f, "spearman_ties.rho", 1);
    double a[7], b[7], xd[8], yd[8], r;
    int i, m;
    if (df && q975 && q90) {
        for (i = 0; i < 7; i++) { a[i] = muon_t_quantile(0.975, df[i]); b[i] = muon_t_quantile(0.90, df[i]); }
        close_nan("Student t quantile 0.975, df 1..100 vs scipy.stats.t.ppf", a, q975, 7, 1e-6, 0);
        close_nan("Student t quantile 0.90 vs scipy.stats.t.ppf", b, q90, 7, 1e-6, 0);
    }
    if (x && y && rho) {
        for (i = 0; i < 8; i++) { xd[i] = x[i]; yd[i] = y[i]; }
        r = muon_spearman(xd, yd, 8);
        close_nan("Spearman with ties (average ranks) vs scipy.stats.spearmanr", &r, rho, 1, 1e-6, 0);
    }
    for (m = 32; m <= 128; m *= 4) {
        char name[32];
        const float *w;
        double mu, se;
        snprintf(name, sizeof name, "chance.m%d", m);
        w = golden_get(f, name, 2);
        if (!w || muon_alignment_chance(m, 5, 4000, 20240901u, &mu, &se) != MUON_OK) continue;
        /* two independent Monte Carlo estimates: within 4 combined standard errors */
        check(fabs(mu - w[0]) <= 4 * sqrt(se * se + (double)w[1] * w[1]),
              "alignment chance level, k=5 in R^%d: %.5f +- %.5f here (4000 trials) vs NumPy QR/SVD %.5f +- %.5f (20000)",
              m, mu, se, w[0], w[1]);
    }
}

static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    static char b[1 << 16];
    size_t n;
    if (!f) return 0;
    n = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    b[n] = 0;
    return strstr(b, needle) != NULL;
}

static void refused(const char *what, const char *args, const char *out, const char *want_msg)
{
    char cmd[1024], err[512];
    int rc;
    snprintf(cmd, sizeof cmd, "%s %s", muon_bin(), args);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && !strncmp(err, "muon: ", 6) && (!want_msg || strstr(err, want_msg)) && !test_path_exists(out),
          "%s: exit %d, one line, nothing written: %s", what, rc, err);
}

static void cli(void)
{
    char cmd[1024], err[512];
    int rc, w = 0, h = 0, n = 0, i;
    unsigned char *img;
    run_cmd("rm -rf " TD " && mkdir -p " TD, NULL, 0);
    snprintf(cmd, sizeof cmd, "%s compare " RR "/muon_s1 " RR "/muon_s2 " RR "/adamw_s1 " RR "/adamw_s2 --out " TD "/cmp", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0, "compare on 4 fixture runs: exit %d %s", rc, err);
    for (i = 0, n = 0; i < MUON_COMPARE_NFIG; i++) {
        char p[256];
        snprintf(p, sizeof p, TD "/cmp/%s", muon_compare_files[i]);
        n += test_path_exists(p);
    }
    check(n == MUON_COMPARE_NFIG, "compare wrote all %d figures (%d)", MUON_COMPARE_NFIG, n);
    img = stbi_load(TD "/cmp/compare_sigma_max_q.png", &w, &h, &n, 3);
    if (check(img && w == 1200 && h == 750, "compare_sigma_max_q.png decodes, 1200x750")) {
        /* both groups' colours appear: Okabe-Ito blue (Muon) and vermillion (AdamW) */
        long blue = 0, verm = 0, p;
        for (p = 0; p < (long)w * h; p++) {
            const unsigned char *q = img + 3 * p;
            if (abs(q[0] - 0x00) < 12 && abs(q[1] - 0x72) < 12 && abs(q[2] - 0xB2) < 12) blue++;
            if (abs(q[0] - 0xD5) < 12 && abs(q[1] - 0x5E) < 12 && abs(q[2] - 0x00) < 12) verm++;
        }
        check(blue > 500 && verm > 500, "both groups drawn in their colours (%ld, %ld pixels)", blue, verm);
    }
    if (img) stbi_image_free(img);
    snprintf(cmd, sizeof cmd, "%s report " RR "/muon_s1 " RR "/muon_s2 " RR "/adamw_s1 " RR "/adamw_s2 --out " TD "/rep", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0 && file_has(TD "/rep/report.md", "optimizer=muon (seeds 1,2)") &&
          file_has(TD "/rep/report.md", "optimizer=adamw (seeds 1,2)") && file_has(TD "/rep/report.md", "![") &&
          file_has(TD "/rep/report.md", "## 7. The norm bound") && test_path_exists(TD "/rep/compare_depth.png") &&
          !test_path_exists(TD "/rep/report.md.tmp"),
          "report: report.md with seed groups labelled by what differs, figures linked and written, no temporary left");
    check(file_has(TD "/rep/report.md", "## 9. Phase transitions") &&
          file_has(TD "/rep/report.md", "Not testable with these runs: none has an `events.csv`"),
          "report: phase transitions section, not testable without events.csv");
    /* a run with an events.csv (as muon train writes it) gets its events listed, largest |score| first */
    run_cmd("rm -rf " TD "/ev1 && cp -r " RR "/muon_s1 " TD "/ev1", NULL, 0);
    {
        muon_event ev[2];
        memset(ev, 0, sizeof ev);
        ev[0].step = 20; ev[0].layer = 1; ev[0].kind = MUON_MAT_V; ev[0].metric = muon_metric_index("spectral_entropy");
        ev[0].value = 0.75; ev[0].change = -0.125; ev[0].sigma = 0.01; ev[0].score = -12.5;
        ev[1].step = 10; ev[1].layer = 0; ev[1].kind = MUON_MAT_Q; ev[1].metric = muon_metric_index("alignment_left");
        ev[1].value = 0.5; ev[1].change = 0.0625; ev[1].sigma = 0.01; ev[1].score = 6.25;
        check(muon_events_write(TD "/ev1/events.csv", ev, 2) == MUON_OK, "events.csv for a copied fixture run");
    }
    snprintf(cmd, sizeof cmd, "%s report " TD "/ev1 " RR "/muon_s2 " RR "/adamw_s1 " RR "/adamw_s2 --out " TD "/rep2", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0 && file_has(TD "/rep2/report.md", "2 events.") &&
          file_has(TD "/rep2/report.md", "| 20 | 1 | v | spectral_entropy | 0.75 | -0.125 | -12.5 |") &&
          file_has(TD "/rep2/report.md", "| 10 | 0 | q | alignment_left | 0.5 | +0.0625 | +6.2 |"),
          "report lists a run's events.csv rows (exit %d %s)", rc, err);
    {
        /* the larger |score| comes first */
        FILE *f = fopen(TD "/rep2/report.md", "r");
        char line[512];
        int first = 0;
        while (f && fgets(line, sizeof line, f))
            if (!first && !strncmp(line, "| 20 | 1 |", 10)) first = 1;
            else if (!first && !strncmp(line, "| 10 | 0 |", 10)) first = 2;
        if (f) fclose(f);
        check(first == 1, "events listed by |score|, largest first");
    }
    /* bad input */
    refused("compare with one run", "compare " RR "/muon_s1 --out " TD "/o1", TD "/o1", "at least 2");
    run_cmd("mkdir -p " TD "/nocsv && cp " RR "/muon_s1/run.json " TD "/nocsv/", NULL, 0);
    refused("a run directory without metrics.csv", "report " TD "/nocsv " RR "/muon_s1 --out " TD "/o2", TD "/o2", "metrics.csv");
    refused("a directory that is not a run", "report " TD " --out " TD "/o3", TD "/o3", "run.json");
    run_cmd("mkdir -p " TD "/trunc && cp " RR "/muon_s1/run.json " TD "/trunc/ && head -c 5003 " RR "/muon_s1/metrics.csv > " TD "/trunc/metrics.csv; true", NULL, 0);
    refused("a truncated metrics.csv (cut inside a row)", "report " TD "/trunc --out " TD "/o4", TD "/o4", "truncated");
    run_cmd("mkdir -p " TD "/trunc2 && cp " RR "/muon_s1/run.json " TD "/trunc2/ && head -n 300 " RR "/muon_s1/metrics.csv > " TD "/trunc2/metrics.csv; true", NULL, 0);
    refused("a metrics.csv cut at a line boundary (short of run.json's steps)", "report " TD "/trunc2 --out " TD "/o4b", TD "/o4b", "truncated");
    run_cmd("mkdir -p " TD "/foreign && cp " RR "/muon_s1/run.json " TD "/foreign/ && printf 'date,open,close\\n1,2,3\\n' > " TD "/foreign/metrics.csv; true", NULL, 0);
    refused("a foreign CSV", "compare " TD "/foreign " RR "/muon_s1 --out " TD "/o5", TD "/o5", "header");
    run_cmd("mkdir -p " TD "/shallow && sed 's/\"n-layers\": \"4\"/\"n-layers\": \"2\"/' " RR "/muon_s1/run.json > " TD "/shallow/run.json && "
            "grep -v -E '^[0-9]+,[23],' " RR "/muon_s1/metrics.csv > " TD "/shallow/metrics.csv; true", NULL, 0);
    refused("runs of different depths", "compare " TD "/shallow " RR "/muon_s2 --out " TD "/o6", TD "/o6", "model shape");
    run_cmd("mkdir -p " TD "/badjson && cp " RR "/muon_s1/metrics.csv " TD "/badjson/ && printf '{\"x\": 1}' > " TD "/badjson/run.json; true", NULL, 0);
    refused("a run.json of something else", "report " TD "/badjson --out " TD "/o7", TD "/o7", "run.json");
    refused("the same run twice", "compare " RR "/muon_s1 " RR "/muon_s1 --out " TD "/o8", TD "/o8", "twice");
    refused("--labels of the wrong count", "compare " RR "/muon_s1 " RR "/adamw_s1 --labels a --out " TD "/o9", TD "/o9", "labels");
    refused("unknown option", "report " RR "/muon_s1 --bogus --out " TD "/o10", TD "/o10", "unknown option");
}

void suite_report(void)
{
    muon_safetensors f;
    muon_run_set s;
    const char *dirs[4] = { RR "/muon_s1", RR "/muon_s2", RR "/adamw_s1", RR "/adamw_s2" };
    int st;
    if (golden_open("report_expect.safetensors", &f)) return;
    st = muon_run_set_load(&s, dirs, 4, 2, NULL);
    if (check(st == MUON_OK, "fixture runs load: %s", st ? muon_last_error() : "ok")) {
        check(s.n_groups == 2 && s.group_size[0] == 2 && s.group_size[1] == 2 &&
              !strcmp(s.label_plain[0], "optimizer=muon (seeds 1,2)") && !strcmp(s.label_plain[1], "optimizer=adamw (seeds 1,2)"),
              "runs differing only in seed grouped; labels name what differs: '%s', '%s'", s.label_plain[0], s.label_plain[1]);
        golden_claims(&f, &s);
        golden_groups(&f, &s);
        muon_run_set_free(&s);
    }
    golden_stats(&f);
    muon_safetensors_free(&f);
    cli();
}
