/* Loading runs for comparison: metrics.csv through muon_metrics_table_read, and
 * the flat "settings" object of run.json (every training flag, as a string),
 * which is all a label or a group needs. Everything is read and checked
 * before the caller writes anything. */
#include "metrics/run_set.h"
#include "plots/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Settings that never make runs different experiments: where they were
 * written, how often they logged or saved. */
static int ignored_key(const char *k)
{
    static const char *const ign[] = { "out", "log-every", "ckpt-every", "threads", "resume", "stop-after", NULL };
    int i;
    for (i = 0; ign[i]; i++)
        if (!strcmp(k, ign[i])) return 1;
    return 0;
}

const char *muon_run_setting(const muon_run *r, const char *key)
{
    int i;
    for (i = 0; i < r->nset; i++)
        if (!strcmp(r->key[i], key)) return r->val[i];
    return NULL;
}

static char *slurp(const char *path, int *st)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long n;
    if (!f) { *st = muon_error(MUON_ERR_IO, "%s: cannot open (%s)", path, strerror(errno)); return NULL; }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        *st = muon_error(MUON_ERR_IO, "%s: cannot read", path);
        return NULL;
    }
    if (n > (1L << 24)) { fclose(f); *st = muon_error(MUON_ERR_FORMAT, "%s: %ld bytes is too large for a run.json", path, n); return NULL; }
    b = muon_alloc((size_t)n + 1);
    if (!b) { fclose(f); *st = MUON_ERR_NOMEM; return NULL; }
    if (fread(b, 1, (size_t)n, f) != (size_t)n || ferror(f)) {
        fclose(f);
        muon_free(b);
        *st = muon_error(MUON_ERR_IO, "%s: read error", path);
        return NULL;
    }
    fclose(f);
    b[n] = 0;
    *st = MUON_OK;
    return b;
}

/* A JSON string at *p (after the opening quote) into out; escapes other
 * than \" and \\ are kept as written (settings are plain flag values). */
static int json_string(const char **p, char *out, size_t cap)
{
    size_t n = 0;
    const char *s = *p;
    while (*s && *s != '"') {
        char ch = *s++;
        if (ch == '\\' && (*s == '"' || *s == '\\')) ch = *s++;
        if (n + 1 >= cap) return 1;
        out[n++] = ch;
    }
    if (*s != '"') return 1;
    out[n] = 0;
    *p = s + 1;
    return 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return s;
}

/* The "settings": { "key": "value", ... } object of a muon run.json. */
static int parse_settings(muon_run *r, const char *path, const char *json)
{
    const char *p = strstr(json, "\"settings\"");
    if (!strstr(json, "\"program\": \"muon train\"") || !p)
        return muon_error(MUON_ERR_FORMAT, "%s: not a run.json of muon train (no \"settings\")", path);
    p = skip_ws(p + 10);
    if (*p++ != ':') goto bad;
    p = skip_ws(p);
    if (*p++ != '{') goto bad;
    for (;;) {
        p = skip_ws(p);
        if (*p == '}') break;
        if (r->nset >= MUON_RUN_MAXSET) return muon_error(MUON_ERR_FORMAT, "%s: more than %d settings", path, MUON_RUN_MAXSET);
        if (*p++ != '"' || json_string(&p, r->key[r->nset], sizeof r->key[0])) goto bad;
        p = skip_ws(p);
        if (*p++ != ':') goto bad;
        p = skip_ws(p);
        if (*p++ != '"' || json_string(&p, r->val[r->nset], sizeof r->val[0])) goto bad;
        r->nset++;
        p = skip_ws(p);
        if (*p == ',') p++;
        else if (*p != '}') goto bad;
    }
    return MUON_OK;
bad:
    return muon_error(MUON_ERR_FORMAT, "%s: malformed \"settings\" object", path);
}

static int int_setting(const muon_run *r, const char *key, const char *path, long *out)
{
    const char *v = muon_run_setting(r, key);
    char *end;
    if (!v) return muon_error(MUON_ERR_FORMAT, "%s: setting \"%s\" missing", path, key);
    errno = 0;
    *out = strtol(v, &end, 10);
    if (errno || end == v || *end) return muon_error(MUON_ERR_FORMAT, "%s: setting \"%s\" is '%s', not a whole number", path, key, v);
    return MUON_OK;
}

/* muon writes metrics.csv in whole lines: a last line without its newline
 * is a cut-off file, refused rather than read as a shorter run. */
static int check_complete(const char *path, long steps_done)
{
    FILE *f = fopen(path, "rb");
    long n;
    int c;
    (void)steps_done;
    if (!f) return muon_error(MUON_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) { fclose(f); return muon_error(MUON_ERR_IO, "%s: cannot read", path); }
    if (n == 0) { fclose(f); return muon_error(MUON_ERR_FORMAT, "%s: empty file", path); }
    if (fseek(f, n - 1, SEEK_SET) != 0 || (c = fgetc(f)) == EOF) { fclose(f); return muon_error(MUON_ERR_IO, "%s: read error", path); }
    fclose(f);
    if (c != '\n') return muon_error(MUON_ERR_FORMAT, "%s: the last line has no newline: the file is truncated", path);
    return MUON_OK;
}

static int load_run(muon_run *r, const char *dir)
{
    char path[600];
    char *json;
    long v[7], steps_done;
    int st, i;
    static const char *const keys[7] = { "n-layers", "d-model", "n-heads", "n-kv-heads", "d-ff", "merged-qkvo", "seed" };
    const char *opt, *sc;
    memset(r, 0, sizeof *r);
    if (strlen(dir) >= sizeof r->dir - 20) return muon_error(MUON_ERR_ARG, "%s: path too long", dir);
    strcpy(r->dir, dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    json = slurp(path, &st);
    if (!json) return muon_error_prefix(st, "run %s: ", dir);
    st = parse_settings(r, path, json);
    {
        /* "results": {"steps_done": N}: what metrics.csv must reach */
        const char *p = strstr(json, "\"steps_done\":");
        steps_done = p ? strtol(p + 13, NULL, 10) : -1;
    }
    muon_free(json);
    for (i = 0; !st && i < 7; i++) st = int_setting(r, keys[i], path, &v[i]);
    if (st) return st;
    r->n_layers = (int)v[0]; r->d_model = (int)v[1]; r->n_heads = (int)v[2];
    r->n_kv_heads = (int)v[3]; r->d_ff = (int)v[4]; r->merged_qkvo = (int)v[5]; r->seed = v[6];
    if (r->n_layers < 1 || r->d_model < 1 || r->n_heads < 1 || r->n_kv_heads < 1 || r->d_ff < 1 ||
        r->d_model % r->n_heads)
        return muon_error(MUON_ERR_FORMAT, "%s: impossible model shape in the settings", path);
    opt = muon_run_setting(r, "optimizer");
    sc = muon_run_setting(r, "muon-scale");
    r->adamw = opt && !strcmp(opt, "adamw");
    r->moonlight_scale = sc && !strcmp(sc, "moonlight");
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    st = check_complete(path, steps_done);
    if (st) return st;
    st = muon_metrics_table_read(path, &r->t);
    if (st) return st;
    if (steps_done >= 0 && (r->t.n_steps == 0 || r->t.steps[r->t.n_steps - 1] != steps_done)) {
        long got = r->t.n_steps ? r->t.steps[r->t.n_steps - 1] : -1;
        muon_metrics_table_free(&r->t);
        return muon_error(MUON_ERR_FORMAT, "%s: ends at step %ld but run.json says %ld steps were done (truncated?)",
                          path, got, steps_done);
    }
    if (r->t.n_layers != 0 && r->t.n_layers != r->n_layers) {
        muon_metrics_table_free(&r->t);
        return muon_error(MUON_ERR_FORMAT, "%s: %d layers logged, run.json says %d (a metrics.csv of another run?)",
                          path, r->t.n_layers, r->n_layers);
    }
    return MUON_OK;
}

void muon_run_set_free(muon_run_set *s)
{
    int i;
    if (!s) return;
    for (i = 0; s->runs && i < s->n; i++) muon_metrics_table_free(&s->runs[i].t);
    muon_free(s->runs);
    memset(s, 0, sizeof *s);
}

/* Same settings apart from the seed (and the ignored ones). */
static int same_but_seed(const muon_run *a, const muon_run *b)
{
    int i;
    for (i = 0; i < a->nset; i++) {
        const char *bv;
        if (ignored_key(a->key[i]) || !strcmp(a->key[i], "seed")) continue;
        bv = muon_run_setting(b, a->key[i]);
        if (!bv || strcmp(bv, a->val[i])) return 0;
    }
    for (i = 0; i < b->nset; i++)
        if (!ignored_key(b->key[i]) && strcmp(b->key[i], "seed") && !muon_run_setting(a, b->key[i])) return 0;
    return 1;
}

static void append(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    while (*s && n + 1 < cap) dst[n++] = *s++;
    dst[n] = 0;
}

/* "optimizer=adamw, orth=keller": the settings whose values differ between
 * groups, then the seeds of the group. */
static void make_labels(muon_run_set *s)
{
    int g, i, j;
    for (g = 0; g < s->n_groups; g++) {
        const muon_run *r = &s->runs[s->members[g][0]];
        char *pl = s->label_plain[g], *mk = s->label[g], buf[200];
        int any = 0;
        pl[0] = mk[0] = 0;
        for (i = 0; i < r->nset; i++) {
            int differs = 0;
            if (ignored_key(r->key[i]) || !strcmp(r->key[i], "seed")) continue;
            for (j = 0; j < s->n_groups && !differs; j++) {
                const char *v = muon_run_setting(&s->runs[s->members[j][0]], r->key[i]);
                differs = !v || strcmp(v, r->val[i]);
            }
            if (!differs) continue;
            snprintf(buf, sizeof buf, "%s%s=%s", any ? ", " : "", r->key[i], r->val[i]);
            append(pl, sizeof s->label_plain[0], buf);
            any = 1;
        }
        if (s->group_size[g] > 1) {
            append(pl, sizeof s->label_plain[0], any ? " (seeds " : "seeds ");
            for (j = 0; j < s->group_size[g]; j++) {
                snprintf(buf, sizeof buf, "%s%ld", j ? "," : "", s->runs[s->members[g][j]].seed);
                append(pl, sizeof s->label_plain[0], buf);
            }
            if (any) append(pl, sizeof s->label_plain[0], ")");
        } else {
            snprintf(buf, sizeof buf, "%sseed=%ld", any ? ", " : "", r->seed);
            append(pl, sizeof s->label_plain[0], buf);
        }
        muon_text_escape(mk, sizeof s->label[0], pl);
    }
}

int muon_run_set_load(muon_run_set *s, const char *const *dirs, int n, int min_runs, const char *labels)
{
    int i, j, st = MUON_OK;
    memset(s, 0, sizeof *s);
    if (n < min_runs)
        return muon_error(MUON_ERR_ARG, "%d run director%s given: this needs at least %d", n, n == 1 ? "y" : "ies", min_runs);
    if (n > MUON_RUNS_MAX) return muon_error(MUON_ERR_ARG, "%d runs given: at most %d can be compared", n, MUON_RUNS_MAX);
    s->runs = muon_alloc(sizeof *s->runs * (size_t)n);
    if (!s->runs) return MUON_ERR_NOMEM;
    memset(s->runs, 0, sizeof *s->runs * (size_t)n);
    for (i = 0; i < n; i++) {
        st = load_run(&s->runs[i], dirs[i]);
        if (st) goto fail;
        s->n = i + 1;
    }
    for (i = 1; i < n; i++) {
        const muon_run *a = &s->runs[0], *b = &s->runs[i];
        if (a->n_layers != b->n_layers || a->d_model != b->d_model || a->n_heads != b->n_heads ||
            a->n_kv_heads != b->n_kv_heads || a->d_ff != b->d_ff || a->merged_qkvo != b->merged_qkvo) {
            st = muon_error(MUON_ERR_ARG,
                            "runs %s and %s differ in model shape (%d vs %d layers, d_model %d vs %d, d_ff %d vs %d): "
                            "they are compared layer by layer, so the shapes must match",
                            a->dir, b->dir, a->n_layers, b->n_layers, a->d_model, b->d_model, a->d_ff, b->d_ff);
            goto fail;
        }
        for (j = 0; j < i; j++)
            if (!strcmp(s->runs[j].dir, b->dir)) {
                st = muon_error(MUON_ERR_ARG, "run %s is given twice", b->dir);
                goto fail;
            }
    }
    for (i = 0; i < n; i++) {
        int g;
        for (g = 0; g < s->n_groups; g++)
            if (same_but_seed(&s->runs[s->members[g][0]], &s->runs[i])) break;
        if (g == s->n_groups) s->n_groups++;
        for (j = 0; j < s->group_size[g]; j++)
            if (s->runs[s->members[g][j]].seed == s->runs[i].seed) {
                st = muon_error(MUON_ERR_ARG, "runs %s and %s have the same settings and seed: the same run twice?",
                                s->runs[s->members[g][j]].dir, s->runs[i].dir);
                goto fail;
            }
        s->members[g][s->group_size[g]++] = i;
        s->runs[i].group = g;
    }
    make_labels(s);
    if (labels) {
        const char *p = labels;
        int commas = 0;
        for (i = 0; labels[i]; i++) commas += labels[i] == ',';
        if (commas + 1 != s->n_groups) {
            st = muon_error(MUON_ERR_ARG, "--labels: %d given, but the runs form %d groups (runs differing only in seed are one)",
                            commas + 1, s->n_groups);
            goto fail;
        }
        for (i = 0; i < s->n_groups; i++) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len == 0 || len >= sizeof s->label_plain[0]) {
                st = muon_error(MUON_ERR_ARG, "--labels: label %d is empty or too long", i + 1);
                goto fail;
            }
            memcpy(s->label_plain[i], p, len);
            s->label_plain[i][len] = 0;
            muon_text_escape(s->label[i], sizeof s->label[0], s->label_plain[i]);
            p = e ? e + 1 : p + len;
        }
    }
    return MUON_OK;
fail:
    muon_run_set_free(s);
    return st;
}
