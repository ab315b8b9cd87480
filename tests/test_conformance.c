/* The conformance kit (docs/conformance.md): the C backend runs through the
 * committed suite (muon conform, then muon verify: every tensor PASS), and
 * verify refuses corrupted or truncated copies of the suite and of RESULTS
 * with one line on stderr and exit 2, or fails (exit 1) naming the case when
 * a result is wrong. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* mkdir */
#endif
#include "test.h"
#include "conformance/conformance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <sys/stat.h>
#include <sys/types.h>
#endif

#define SUITE_DIR "conformance/suite"
#define WORK "build/conformance_test"

static void mkdir_p(const char *path)
{
    char buf[800];
    size_t i, n = strlen(path);
    snprintf(buf, sizeof buf, "%s", path);
    for (i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
#if !defined(_WIN32)
            mkdir(buf, 0777);
#endif
            buf[i] = c;
        }
}

static long copy_file(const char *from, const char *to, long limit /* -1: all */)
{
    FILE *in = fopen(from, "rb"), *out;
    char buf[65536];
    size_t n;
    long total = 0;
    if (!in) return -1;
    out = fopen(to, "wb");
    if (!out) { fclose(in); return -1; }
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (limit >= 0 && total + (long)n > limit) n = (size_t)(limit - total);
        if (fwrite(buf, 1, n, out) != n) { total = -1; break; }
        total += (long)n;
        if (limit >= 0 && total >= limit) break;
    }
    fclose(in);
    if (fclose(out) != 0) return -1;
    return total;
}

/* A copy of the suite under dst (manifest and every case file). */
static int copy_suite(const conf_suite *s, const char *dst)
{
    int i;
    char a[700], b[700];
    mkdir_p(dst);
    snprintf(a, sizeof a, "%s/manifest.json", s->dir);
    snprintf(b, sizeof b, "%s/manifest.json", dst);
    if (copy_file(a, b, -1) < 0) return 1;
    for (i = 0; i < s->n_cases; i++) {
        const conf_case *c = &s->cases[i];
        snprintf(b, sizeof b, "%s/%s", dst, c->id);
        mkdir_p(b);
        snprintf(a, sizeof a, "%s/%s", s->dir, c->expected.path);
        snprintf(b, sizeof b, "%s/%s", dst, c->expected.path);
        if (copy_file(a, b, -1) < 0) return 1;
        if (c->has_inputs) {
            snprintf(a, sizeof a, "%s/%s", s->dir, c->inputs.path);
            snprintf(b, sizeof b, "%s/%s", dst, c->inputs.path);
            if (copy_file(a, b, -1) < 0) return 1;
        }
    }
    return 0;
}

/* Flips one byte of path at offset (from the end when negative). */
static int flip_byte(const char *path, long offset)
{
    FILE *f = fopen(path, "r+b");
    int c;
    if (!f) return 1;
    if (fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET) != 0) { fclose(f); return 1; }
    c = fgetc(f);
    if (c == EOF || fseek(f, -1, SEEK_CUR) != 0) { fclose(f); return 1; }
    fputc(c ^ 0x5a, f);
    return fclose(f) != 0;
}

/* Replaces the first occurrence of `from` in path by `to` (same length). */
static int patch_text(const char *path, const char *from, const char *to)
{
    FILE *f = fopen(path, "rb");
    char *buf, *p;
    long n;
    size_t got;
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (!buf) { fclose(f); return 1; }
    got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    /* a safetensors file starts with binary length bytes: search past NULs */
    for (p = buf; p + strlen(from) <= buf + got && memcmp(p, from, strlen(from)); p++) {}
    if (p + strlen(from) > buf + got || strlen(from) != strlen(to)) { free(buf); return 1; }
    memcpy(p, to, strlen(to));
    f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, got, f) != got) { if (f) fclose(f); free(buf); return 1; }
    free(buf);
    return fclose(f) != 0;
}

/* Runs verify on (suite, results): want exit 2, exactly one stderr line
 * containing `word`, and nothing on stdout. */
static void expect_bad(const char *what, const char *suite, const char *results, const char *word)
{
    char cmd[1200], err[512];
    long out_size;
    FILE *f;
    int rc;
    snprintf(cmd, sizeof cmd, "sh -c '%s verify %s %s > " WORK "/stdout.txt'", muon_bin(), suite, results);
    rc = run_cmd(cmd, err, sizeof err);
    f = fopen(WORK "/stdout.txt", "rb");
    out_size = -1;
    if (f) { fseek(f, 0, SEEK_END); out_size = ftell(f); fclose(f); }
    check(rc == 2 && test_stderr_lines() == 1 && strstr(err, word) && out_size == 0,
          "verify on %s: exit %d (want 2), one stderr line naming '%s', no report: \"%s\"", what, rc, word, err);
}

/* RESULTS with tensor `name` removed or given another shape. */
static int rewrite_results(const char *from, const char *to, const char *name, int reshape)
{
    muon_safetensors f;
    muon_tensor *t;
    int i, n = 0, st;
    if (muon_safetensors_read(from, &f)) return 1;
    t = calloc((size_t)f.count, sizeof *t);
    if (!t) { muon_safetensors_free(&f); return 1; }
    for (i = 0; i < f.count; i++) {
        if (!strcmp(f.tensors[i].name, name)) {
            if (!reshape) continue;
            t[n] = f.tensors[i];
            t[n].ndim = 1;
            t[n].shape[0] = (int64_t)f.tensors[i].numel;
            n++;
            continue;
        }
        t[n++] = f.tensors[i];
    }
    st = muon_safetensors_write(to, t, n, NULL);
    free(t);
    muon_safetensors_free(&f);
    return st;
}

/* RESULTS with one value of tensor `name` moved by delta. */
static int perturb_results(const char *from, const char *to, const char *name, float delta)
{
    muon_safetensors f;
    int i, st, found = 0;
    if (muon_safetensors_read(from, &f)) return 1;
    for (i = 0; i < f.count; i++)
        if (!strcmp(f.tensors[i].name, name)) { f.tensors[i].data[f.tensors[i].numel / 2] += delta; found = 1; }
    st = found ? muon_safetensors_write(to, f.tensors, f.count, NULL) : 1;
    muon_safetensors_free(&f);
    return st;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int ca, cb, same = fa && fb;
    while (same) {
        ca = fgetc(fa);
        cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* GitHub's heading anchor: lower case, spaces to '-', other punctuation dropped. */
static void slug(const char *h, char *out, size_t n)
{
    size_t k = 0;
    for (; *h && k + 1 < n; h++) {
        unsigned char c = (unsigned char)*h;
        if (c >= 'A' && c <= 'Z') out[k++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80) out[k++] = (char)c;
        else if (c == ' ') out[k++] = '-';
    }
    out[k] = 0;
}

/* Every docs pointer of the manifest names an existing heading, once the
 * docs are in the tree (a file not yet there is skipped, saying so). */
static void doc_pointers(const conf_suite *s)
{
    int i, j, k, n_ok = 0, n_bad = 0, n_skip = 0;
    char first_bad[256] = "";
    for (i = 0; i < s->n_cases; i++)
        for (j = 0; j < s->cases[i].n_expected; j++) {
            const char *doc = s->cases[i].expected_t[j].doc, *hash = strchr(doc, '#');
            char file[256], line[512], sl[512];
            FILE *f;
            int found = 0, seen = 0;
            for (k = 0; k < j; k++)  /* each pointer once per case */
                if (!strcmp(s->cases[i].expected_t[k].doc, doc)) { seen = 1; break; }
            if (seen) continue;
            snprintf(file, sizeof file, "%.*s", hash ? (int)(hash - doc) : (int)strlen(doc), doc);
            if (!(f = fopen(file, "r"))) { n_skip++; continue; }
            while (hash && fgets(line, sizeof line, f)) {
                if (line[0] != '#') continue;
                line[strcspn(line, "\r\n")] = 0;
                slug(line + strspn(line, "# "), sl, sizeof sl);
                if (!strcmp(sl, hash + 1)) { found = 1; break; }
            }
            fclose(f);
            if (found || !hash) n_ok++;
            else if (!n_bad++) snprintf(first_bad, sizeof first_bad, "%s (case %s)", doc, s->cases[i].id);
        }
    if (n_ok + n_bad == 0) skip("manifest docs pointers: none of the docs/ files is in this tree yet (%d pointers)", n_skip);
    else check(n_bad == 0, "manifest docs pointers: %d name an existing heading, %d do not%s%s, %d in files not in this tree",
               n_ok, n_bad, n_bad ? ", first " : "", first_bad, n_skip);
}

/* The manifest's JSON reader: strict, with positions in its messages. */
static void json_cases(void)
{
    static const struct { const char *text; int ok; const char *word; } t[] = {
        {"{\"a\": [1, -2.5e-3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"]}", 1, ""},
        {"{\"a\": 1,}", 0, "1:9: expected a key"},
        {"[1, 2,]", 0, "1:7"},
        {"{\"a\": NaN}", 0, "bad number"},
        {"{\"a\": 1, \"a\": 2}", 0, "duplicate"},
        {"{\"a\": [1, 2", 0, "truncated"},
        {"{\"a\": \"abc", 0, "unterminated"},
        {"{\"a\": 01}", 0, "expected"},
        {"{\"a\": 1.}", 0, "bad number"},
        {"{\"a\": \"\\ud800\"}", 0, "surrogate"},
        {"{\"a\": 1} x", 0, "after"},
        {"", 0, "expected a value"},
    };
    char deep[300];
    conf_json v;
    size_t i;
    int st;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        st = conf_json_parse(t[i].text, strlen(t[i].text), "m.json", &v);
        check(t[i].ok ? st == 0 : st == MUON_ERR_FORMAT && strstr(muon_last_error(), t[i].word) != NULL,
              "json: '%s' %s (%s)", t[i].text, t[i].ok ? "parses" : "is refused", st ? muon_last_error() : "ok");
        if (!st && i == 0) {
            const conf_json *a = conf_json_get(&v, "a");
            check(a && a->n == 6 && a->items[1].num == (double)-2.5e-3 && /* the cast drops x87's extra precision of the literal */ a->items[2].num == 1 &&
                  !strcmp(a->items[5].str, "x\xc3\xa9\xf0\x9f\x98\x80\n"),
                  "json: numbers, booleans and \\u escapes (a surrogate pair) decode to UTF-8");
        }
        conf_json_free(&v);
    }
    memset(deep, '[', 200);
    st = conf_json_parse(deep, 200, "deep.json", &v);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), "deeply"), "json: 200 nested arrays refused (%s)",
          muon_last_error());
    check(conf_crc32(0, "123456789", 9) == 0xCBF43926u, "crc32('123456789') = cbf43926 (the check value of CRC-32/IEEE)");
}

void suite_conformance(void)
{
    const char *results = WORK "/results.safetensors";
    char cmd[1200], err[512], path[700];
    conf_suite s;
    conf_verdict v;
    FILE *devnull;
    int rc, st;

    json_cases();
    mkdir_p(WORK);
    if (conf_suite_load(SUITE_DIR, &s)) {
        check(0, "conformance suite %s: %s", SUITE_DIR, muon_last_error());
        return;
    }
    check(s.n_cases >= 50, "suite %s: %d cases in pipeline order", SUITE_DIR, s.n_cases);

    /* the C backend, exactly as any other: conform, then verify */
    snprintf(cmd, sizeof cmd, "%s conform %s --out %s", muon_bin(), SUITE_DIR, results);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0, "muon conform %s --out RESULTS: exit %d %s", SUITE_DIR, rc, err);
    snprintf(cmd, sizeof cmd, "%s verify %s %s", muon_bin(), SUITE_DIR, results);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0, "muon verify SUITE RESULTS: exit %d (0 = every tensor PASS) %s", rc, err);
    devnull = fopen(WORK "/report.txt", "w");
    st = devnull ? conf_verify(SUITE_DIR, results, 0, devnull, &v) : MUON_ERR_IO;
    if (devnull) fclose(devnull);
    check(st == 0 && v.n_fail == 0 && v.n_pass == v.n_rows && v.n_rows > 600,
          "conf_verify: %d tensors, %d PASS, %d FAIL %s", v.n_rows, v.n_pass, v.n_fail, st ? muon_last_error() : "");
    snprintf(cmd, sizeof cmd, "%s verify %s %s --json", muon_bin(), SUITE_DIR, results);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0, "muon verify --json: exit %d", rc);
    /* the same RESULTS, byte for byte, from one thread */
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s conform %s --out %s", muon_bin(), SUITE_DIR, WORK "/results_1thread.safetensors");
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0 && same_bytes(results, WORK "/results_1thread.safetensors"),
          "muon conform with 1 thread writes the same RESULTS byte for byte (exit %d)", rc);
    doc_pointers(&s);

    /* a wrong value: exit 1, the case named */
    snprintf(path, sizeof path, WORK "/perturbed.safetensors");
    if (!perturb_results(results, path, "muon.nesterov.default.tall/U", 1e-3f)) {
        devnull = fopen(WORK "/report.txt", "w");
        st = devnull ? conf_verify(SUITE_DIR, path, 0, devnull, &v) : MUON_ERR_IO;
        if (devnull) fclose(devnull);
        check(st == 0 && v.n_fail == 1 && v.first_fail_case >= 0 &&
              !strcmp(s.cases[v.first_fail_case].id, "muon.nesterov.default.tall") && !strcmp(v.first_fail_tensor, "U"),
              "one value of muon.nesterov.default.tall/U moved by 1e-3: 1 FAIL, origin %s/%s",
              v.first_fail_case >= 0 ? s.cases[v.first_fail_case].id : "-", v.first_fail_tensor ? v.first_fail_tensor : "-");
        snprintf(cmd, sizeof cmd, "%s verify %s %s", muon_bin(), SUITE_DIR, path);
        rc = run_cmd(cmd, err, sizeof err);
        check(rc == 1, "muon verify on a wrong result: exit %d (want 1)", rc);
    } else check(0, "could not write a perturbed RESULTS");
    /* a perturbation within tolerance passes: the check is not a bit comparison */
    if (!perturb_results(results, path, "orth.keller.square.fp32/O", 1e-6f)) {
        devnull = fopen(WORK "/report.txt", "w");
        st = devnull ? conf_verify(SUITE_DIR, path, 0, devnull, &v) : MUON_ERR_IO;
        if (devnull) fclose(devnull);
        check(st == 0 && v.n_fail == 0, "orth.keller.square.fp32/O moved by 1e-6 (atol 1e-5): still all PASS");
    }

    /* bad RESULTS: exit 2, one line */
    expect_bad("a missing RESULTS file", SUITE_DIR, WORK "/nonexistent.safetensors", "nonexistent");
    snprintf(path, sizeof path, WORK "/truncated.safetensors");
    copy_file(results, path, 5000);
    expect_bad("RESULTS truncated to 5000 bytes", SUITE_DIR, path, "truncated.safetensors");
    copy_file(results, path, 6);
    expect_bad("RESULTS truncated to 6 bytes", SUITE_DIR, path, "truncated.safetensors");
    snprintf(path, sizeof path, WORK "/missing.safetensors");
    if (!rewrite_results(results, path, "model.tiny/logits", 0))
        expect_bad("RESULTS without model.tiny/logits", SUITE_DIR, path, "model.tiny/logits");
    snprintf(path, sizeof path, WORK "/reshaped.safetensors");
    if (!rewrite_results(results, path, "orth.keller.tall.fp32/X2", 1))
        expect_bad("RESULTS with orth.keller.tall.fp32/X2 flattened", SUITE_DIR, path, "shape");
    snprintf(path, sizeof path, WORK "/dtype.safetensors");
    copy_file(results, path, -1);
    if (!patch_text(path, "\"F32\"", "\"I32\""))
        expect_bad("RESULTS with one tensor stored as I32", SUITE_DIR, path, "I32");
    else check(0, "could not patch a dtype");

    /* bad suites: exit 2, one line */
    if (copy_suite(&s, WORK "/suite")) { check(0, "could not copy the suite"); conf_suite_free(&s); return; }
    expect_bad("a suite directory without manifest", WORK, results, "manifest.json");
    snprintf(path, sizeof path, WORK "/suite/manifest.json");
    copy_file(SUITE_DIR "/manifest.json", path, 40000);
    expect_bad("a truncated manifest", WORK "/suite", results, "truncated");
    copy_file(SUITE_DIR "/manifest.json", path, -1);
    patch_text(path, "\"muon-conformance/1\"", "\"muon-conformance/9\"");
    expect_bad("a manifest of another format version", WORK "/suite", results, "muon-conformance/9");
    copy_file(SUITE_DIR "/manifest.json", path, -1);
    patch_text(path, "\"rtol\": ", "\"rtol\":[");
    expect_bad("a malformed manifest", WORK "/suite", results, "manifest.json:");
    copy_file(SUITE_DIR "/manifest.json", path, -1);
    snprintf(path, sizeof path, WORK "/suite/%s", s.cases[3].expected.path);
    flip_byte(path, -3);
    expect_bad("a suite with one flipped byte in an expected value", WORK "/suite", results, "CRC-32");
    snprintf(cmd, sizeof cmd, "%s/%s", SUITE_DIR, s.cases[3].expected.path);
    copy_file(cmd, path, s.cases[3].expected.bytes - 100);
    expect_bad("a suite with a truncated expected file", WORK "/suite", results, "truncated");
    copy_file(cmd, path, -1);
    snprintf(cmd, sizeof cmd, "%s verify %s %s", muon_bin(), WORK "/suite", results);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 0, "the restored copy of the suite verifies again: exit %d", rc);

    /* bad command lines */
    snprintf(cmd, sizeof cmd, "%s verify %s", muon_bin(), SUITE_DIR);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && test_stderr_lines() == 1, "muon verify without RESULTS: exit %d, \"%s\"", rc, err);
    snprintf(cmd, sizeof cmd, "%s conform %s", muon_bin(), SUITE_DIR);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && test_stderr_lines() == 1, "muon conform without --out: exit %d, \"%s\"", rc, err);
    snprintf(cmd, sizeof cmd, "%s conform %s --out %s/nodir/x.safetensors", muon_bin(), WORK "/suite", WORK);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && test_stderr_lines() == 1, "muon conform into a missing directory: exit %d, \"%s\"", rc, err);
    conf_suite_free(&s);
}
