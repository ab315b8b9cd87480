/* muon verify: a backend's RESULTS against the suite's expected tensors
 * (docs/conformance.md#verify).
 *
 * Per element the test is |got - want| <= atol + rtol |want|; an expected NaN
 * or infinity passes only when the result is the same non-finite value. Each
 * row reports the max abs error, the max relative error (over elements with
 * |want| > atol, where a relative error means something) and the worst
 * ratio of error to tolerance, the number to watch: PASS means <= 1.
 * The first failing case in pipeline order is named as the likely origin,
 * because every later case (the model step, the trajectory) consumes what
 * the earlier ones (orthogonaliser, Muon step, clipping) compute. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* opendir, stat */
#endif
#include "conformance/conformance.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <dirent.h>
#include <sys/stat.h>
#endif

typedef struct {
    int n;
    muon_safetensors *files;
    char (*paths)[600];
} results_set;

static void results_free(results_set *r)
{
    int i;
    for (i = 0; i < r->n; i++) muon_safetensors_free(&r->files[i]);
    free(r->files);
    free(r->paths);
    memset(r, 0, sizeof *r);
}

static int results_add(results_set *r, const char *path)
{
    muon_safetensors *nf = realloc(r->files, (size_t)(r->n + 1) * sizeof *nf);
    char (*np)[600];
    int st;
    if (!nf) return muon_error(MUON_ERR_NOMEM, "results: out of memory");
    r->files = nf;
    np = realloc(r->paths, (size_t)(r->n + 1) * sizeof *np);
    if (!np) return muon_error(MUON_ERR_NOMEM, "results: out of memory");
    r->paths = np;
    snprintf(r->paths[r->n], sizeof r->paths[r->n], "%s", path);
    st = muon_safetensors_read(path, &r->files[r->n]);
    if (st) return muon_error_prefix(st, "results %s: ", path);
    r->n++;
    return MUON_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every *.safetensors of a directory (sorted, so messages are stable). */
static int results_load(const char *path, results_set *r)
{
    int st = MUON_OK;
#if !defined(_WIN32)
    struct stat sb;
    memset(r, 0, sizeof *r);
    if (stat(path, &sb) != 0) return muon_error(MUON_ERR_IO, "results %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char **names = NULL;
        int n = 0, i;
        if (!d) return muon_error(MUON_ERR_IO, "results %s: %s", path, strerror(errno));
        while ((e = readdir(d))) {
            size_t L = strlen(e->d_name);
            char **nn;
            if (L < 12 || strcmp(e->d_name + L - 12, ".safetensors")) continue;
            nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
            if (!nn || !(nn[n] = malloc(L + 1))) { if (nn) names = nn; st = muon_error(MUON_ERR_NOMEM, "results: out of memory"); break; }
            names = nn;
            strcpy(names[n++], e->d_name);
        }
        closedir(d);
        if (!st && n == 0) st = muon_error(MUON_ERR_FORMAT, "results %s: a directory without .safetensors files", path);
        if (!st) qsort(names, (size_t)n, sizeof *names, cmp_str);
        for (i = 0; i < n; i++) {
            char full[600];
            if (!st) {
                snprintf(full, sizeof full, "%s/%s", path, names[i]);
                st = results_add(r, full);
            }
            free(names[i]);
        }
        free(names);
        if (st) results_free(r);
        return st;
    }
#else
    memset(r, 0, sizeof *r);
#endif
    st = results_add(r, path);
    if (st) results_free(r);
    return st;
}

/* The tensor called name in exactly one results file. */
static int results_find(const results_set *r, const char *name, const muon_tensor **t, const char **where)
{
    int i;
    *t = NULL;
    for (i = 0; i < r->n; i++) {
        const muon_tensor *x = muon_safetensors_find(&r->files[i], name);
        if (!x) continue;
        if (*t) return muon_error(MUON_ERR_FORMAT, "results: tensor '%s' is in both %s and %s", name, *where, r->paths[i]);
        *t = x;
        *where = r->paths[i];
    }
    return MUON_OK;
}

typedef struct {
    int case_index;
    const conf_expected *e;
    double max_abs, max_rel, ratio;
    size_t n_bad;
    int pass;
} row;

static void compare(const float *got, const float *want, size_t n, double rtol, double atol, row *rw)
{
    size_t i;
    rw->max_abs = rw->max_rel = rw->ratio = 0.0;
    rw->n_bad = 0;
    for (i = 0; i < n; i++) {
        double g = got[i], w = want[i], d, tol, q;
        if (!isfinite(w)) {
            int same = isnan(w) ? isnan(g) : g == w;
            if (!same) { rw->n_bad++; rw->max_abs = INFINITY; rw->ratio = INFINITY; }
            continue;
        }
        d = fabs(g - w);
        if (!isfinite(g)) d = INFINITY;
        tol = atol + rtol * fabs(w);
        if (!(d <= tol)) rw->n_bad++;
        q = d == 0 ? 0.0 : (tol > 0 ? d / tol : INFINITY);
        if (q > rw->ratio) rw->ratio = q;
        if (d > rw->max_abs) rw->max_abs = d;
        if (fabs(w) > atol && fabs(w) > 0 && d / fabs(w) > rw->max_rel) rw->max_rel = d / fabs(w);
    }
    rw->pass = rw->n_bad == 0;
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

static void json_num(FILE *out, double x)
{
    if (isfinite(x)) fprintf(out, "%.6g", x);
    else fputs("null", out);  /* JSON has no infinity: null means "unbounded" */
}

static void print_text(FILE *out, const conf_suite *s, const row *rows, int n, const conf_verdict *v)
{
    int i, c;
    fprintf(out, "%-40s %-34s %10s %10s %8s %8s %9s  %s\n", "case", "tensor", "max_abs", "max_rel",
            "rtol", "atol", "err/tol", "result");
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        fprintf(out, "%-40s %-34s %10.3e %10.3e %8.1e %8.1e %9.3g  %s", s->cases[r->case_index].id, r->e->name,
                r->max_abs, r->max_rel, r->e->rtol, r->e->atol, r->ratio, r->pass ? "PASS" : "FAIL");
        if (!r->pass) fprintf(out, " (%lu of %lu elements)", (unsigned long)r->n_bad, (unsigned long)r->e->numel);
        fputc('\n', out);
    }
    fprintf(out, "\nper case (worst err/tol):\n");
    for (c = 0, i = 0; c < s->n_cases; c++) {
        double worst = 0;
        int pass = 1;
        for (; i < n && rows[i].case_index == c; i++) {
            if (rows[i].ratio > worst) worst = rows[i].ratio;
            pass &= rows[i].pass;
        }
        fprintf(out, "  %-40s %9.3g  %s\n", s->cases[c].id, worst, pass ? "PASS" : "FAIL");
    }
    fprintf(out, "\n%d tensors in %d cases: %d PASS, %d FAIL\n", v->n_rows, s->n_cases, v->n_pass, v->n_fail);
    if (v->first_fail_case >= 0) {
        const conf_case *fc = &s->cases[v->first_fail_case];
        const row *r = rows;
        while (r->case_index != v->first_fail_case || r->pass) r++;
        fprintf(out, "likely origin: %s (the first failing case in pipeline order), tensor %s; see %s\n",
                fc->id, v->first_fail_tensor, r->e->doc);
    } else {
        fprintf(out, "all PASS\n");
    }
}

static void print_json(FILE *out, const conf_suite *s, const row *rows, int n, const conf_verdict *v)
{
    int i;
    fprintf(out, "{\"format\": \"%s\", \"tensors\": %d, \"pass\": %d, \"fail\": %d, \"likely_origin\": ",
            CONF_FORMAT, v->n_rows, v->n_pass, v->n_fail);
    if (v->first_fail_case >= 0) {
        fputs("{\"case\": ", out);
        json_str(out, s->cases[v->first_fail_case].id);
        fputs(", \"tensor\": ", out);
        json_str(out, v->first_fail_tensor);
        fputs("}", out);
    } else {
        fputs("null", out);
    }
    fputs(",\n \"rows\": [\n", out);
    for (i = 0; i < n; i++) {
        const row *r = &rows[i];
        fputs("  {\"case\": ", out);
        json_str(out, s->cases[r->case_index].id);
        fputs(", \"tensor\": ", out);
        json_str(out, r->e->name);
        fputs(", \"max_abs\": ", out); json_num(out, r->max_abs);
        fputs(", \"max_rel\": ", out); json_num(out, r->max_rel);
        fputs(", \"rtol\": ", out); json_num(out, r->e->rtol);
        fputs(", \"atol\": ", out); json_num(out, r->e->atol);
        fputs(", \"ratio\": ", out); json_num(out, r->ratio);
        fprintf(out, ", \"bad\": %lu, \"result\": \"%s\"}%s\n", (unsigned long)r->n_bad, r->pass ? "PASS" : "FAIL",
                i + 1 < n ? "," : "");
    }
    fputs(" ]}\n", out);
}

int conf_verify(const char *suite_dir, const char *results, int json, FILE *out, conf_verdict *v)
{
    conf_suite s;
    results_set r;
    row *rows = NULL;
    int st, c, j, n = 0, total = 0;
    memset(v, 0, sizeof *v);
    v->first_fail_case = -1;
    if ((st = conf_suite_load(suite_dir, &s))) return st;
    if ((st = results_load(results, &r))) { conf_suite_free(&s); return st; }
    for (c = 0; c < s.n_cases; c++) total += s.cases[c].n_expected;
    rows = calloc((size_t)total, sizeof *rows);
    if (!rows) { st = muon_error(MUON_ERR_NOMEM, "verify: out of memory"); goto done; }
    for (c = 0; c < s.n_cases; c++) {
        const conf_case *cs = &s.cases[c];
        muon_safetensors ef;
        if ((st = conf_case_read(&s, &cs->expected, &ef))) goto done;
        for (j = 0; j < cs->n_expected; j++) {
            const conf_expected *e = &cs->expected_t[j];
            const muon_tensor *want = muon_safetensors_expect(&ef, e->name, e->ndim, e->shape), *got;
            const char *where = NULL;
            char name[512];
            int k;
            if (!want) {
                st = muon_error_prefix(MUON_ERR_FORMAT, "suite %s/%s: ", suite_dir, cs->expected.path);
                break;
            }
            snprintf(name, sizeof name, "%s/%s", cs->id, e->name);
            if ((st = results_find(&r, name, &got, &where))) break;
            if (!got) { st = muon_error(MUON_ERR_FORMAT, "results %s: tensor '%s' is missing", results, name); break; }
            if (strcmp(got->dtype, e->dtype)) {
                st = muon_error(MUON_ERR_FORMAT, "results %s: tensor '%s' is %s, the suite asks for %s", where, name,
                                got->dtype, e->dtype);
                break;
            }
            for (k = 0; k < e->ndim && got->ndim == e->ndim; k++) if (got->shape[k] != e->shape[k]) break;
            if (got->ndim != e->ndim || k < e->ndim) {
                char gs[128] = "", ws[128] = "";
                for (k = 0; k < got->ndim; k++) snprintf(gs + strlen(gs), sizeof gs - strlen(gs), "%s%lld", k ? "," : "", (long long)got->shape[k]);
                for (k = 0; k < e->ndim; k++) snprintf(ws + strlen(ws), sizeof ws - strlen(ws), "%s%lld", k ? "," : "", (long long)e->shape[k]);
                st = muon_error(MUON_ERR_FORMAT, "results %s: tensor '%s' has shape (%s), the suite asks for (%s)", where,
                                name, gs, ws);
                break;
            }
            rows[n].case_index = c;
            rows[n].e = e;
            compare(got->data, want->data, e->numel, e->rtol, e->atol, &rows[n]);
            if (rows[n].pass) v->n_pass++;
            else {
                v->n_fail++;
                if (v->first_fail_case < 0) { v->first_fail_case = c; v->first_fail_tensor = e->name; }
            }
            n++;
        }
        muon_safetensors_free(&ef);
        if (st) goto done;
    }
    v->n_rows = n;
    if (json) print_json(out, &s, rows, n, v);
    else print_text(out, &s, rows, n, v);
    if (fflush(out) != 0 || ferror(out)) st = muon_error(MUON_ERR_IO, "verify: cannot write the report");
    if (v->first_fail_tensor) {
        /* the name lives in the suite, which is freed below: keep a copy */
        static char keep[256];
        snprintf(keep, sizeof keep, "%s", v->first_fail_tensor);
        v->first_fail_tensor = keep;
    }
done:
    free(rows);
    results_free(&r);
    conf_suite_free(&s);
    return st;
}
