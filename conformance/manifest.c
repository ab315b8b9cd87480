/* The suite's manifest (docs/conformance.md#the-manifest): read, checked
 * field by field, and turned into cases in pipeline order. Every problem is
 * bad input (exit 2 in muon.c) named in one line: the file, the case, the
 * field. */
#include "conformance/conformance.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The whole file in a malloc'd buffer (*len bytes, NUL-terminated). */
static int read_all(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0, got;
    *buf = NULL;
    if (!f) return muon_error(MUON_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    for (;;) {
        if (cap - n < 65536) {
            char *nb = realloc(b, cap + 65536 + 1);
            if (!nb) { free(b); fclose(f); return muon_error(MUON_ERR_NOMEM, "%s: out of memory", path); }
            b = nb;
            cap += 65536;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) { free(b); fclose(f); return muon_error(MUON_ERR_IO, "%s: read error", path); }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return MUON_OK;
}

static const char *str_of(const conf_json *o, const char *key)
{
    const conf_json *v = conf_json_get(o, key);
    return v && v->type == CONF_JSON_STRING ? v->str : NULL;
}

static int num_of(const conf_json *o, const char *key, double *x)
{
    const conf_json *v = conf_json_get(o, key);
    if (!v || v->type != CONF_JSON_NUMBER) return 0;
    *x = v->num;
    return 1;
}

static int load_file(const char *what, const char *id, const conf_json *o, conf_file *f)
{
    const char *crc = str_of(o, "crc32");
    double bytes;
    char *end;
    unsigned long v;
    f->path = str_of(o, "path");
    if (!f->path || !num_of(o, "bytes", &bytes) || !crc)
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s': files need path, bytes and crc32", what, id);
    if (strstr(f->path, "..") || f->path[0] == '/')
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s': file path '%s' leaves the suite", what, id, f->path);
    v = strtoul(crc, &end, 16);
    if (strlen(crc) != 8 || *end || bytes < 0 || bytes > 2e9)
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s': bad bytes or crc32 of %s", what, id, f->path);
    f->bytes = (long)bytes;
    f->crc32 = (uint32_t)v;
    return MUON_OK;
}

static int load_expected(const char *what, const char *id, const conf_json *o, conf_expected *e)
{
    const conf_json *shape = conf_json_get(o, "shape");
    const char *dtype = str_of(o, "dtype");
    int k;
    e->name = str_of(o, "name");
    e->reason = str_of(o, "reason");
    e->doc = str_of(o, "doc");
    if (!e->name || !*e->name)
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s': an expected tensor has no name", what, id);
    if (!dtype || strlen(dtype) >= sizeof e->dtype || !shape || shape->type != CONF_JSON_ARRAY ||
        !num_of(o, "rtol", &e->rtol) || !num_of(o, "atol", &e->atol) || !e->reason || !e->doc)
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s', tensor '%s': needs dtype, shape, rtol, atol, reason, doc",
                          what, id, e->name);
    if (strcmp(dtype, "F32"))
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s', tensor '%s': dtype %s (this verifier compares F32)",
                          what, id, e->name, dtype);
    strcpy(e->dtype, dtype);
    if (!(e->rtol >= 0 && e->atol >= 0))
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s', tensor '%s': negative tolerance", what, id, e->name);
    if (strncmp(e->doc, "docs/", 5) || !strstr(e->doc, ".md"))
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s', tensor '%s': doc '%s' is not docs/<file>.md#<anchor>",
                          what, id, e->name, e->doc);
    if (shape->n > MUON_TENSOR_MAXDIM)
        return muon_error(MUON_ERR_FORMAT, "%s: case '%s', tensor '%s': too many dimensions", what, id, e->name);
    e->ndim = shape->n;
    e->numel = 1;
    for (k = 0; k < shape->n; k++) {
        double d = shape->items[k].num;
        if (shape->items[k].type != CONF_JSON_NUMBER || d < 0 || d > 1e9 || d != (double)(int64_t)d)
            return muon_error(MUON_ERR_FORMAT, "%s: case '%s', tensor '%s': bad shape", what, id, e->name);
        e->shape[k] = (int64_t)d;
        e->numel *= (size_t)d;
    }
    return MUON_OK;
}

int conf_suite_load(const char *dir, conf_suite *s)
{
    char path[600], *text = NULL;
    size_t len;
    const conf_json *cases;
    const char *fmt;
    int st, i, j;
    memset(s, 0, sizeof *s);
    if (strlen(dir) >= sizeof s->dir) return muon_error(MUON_ERR_ARG, "suite path too long");
    strcpy(s->dir, dir);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if ((st = read_all(path, &text, &len))) return st;
    st = conf_json_parse(text, len, path, &s->root);
    free(text);
    if (st) return st;
    fmt = str_of(&s->root, "format");
    if (!fmt) { st = muon_error(MUON_ERR_FORMAT, "%s: no \"format\" (not a conformance manifest?)", path); goto fail; }
    if (strcmp(fmt, CONF_FORMAT)) {
        st = muon_error(MUON_ERR_FORMAT, "%s: format '%s', this muon reads '%s'", path, fmt, CONF_FORMAT);
        goto fail;
    }
    cases = conf_json_get(&s->root, "cases");
    if (!cases || cases->type != CONF_JSON_ARRAY || cases->n == 0) {
        st = muon_error(MUON_ERR_FORMAT, "%s: \"cases\" must be a non-empty array", path);
        goto fail;
    }
    s->cases = calloc((size_t)cases->n, sizeof *s->cases);
    if (!s->cases) { st = muon_error(MUON_ERR_NOMEM, "%s: out of memory", path); goto fail; }
    s->n_cases = cases->n;
    for (i = 0; i < cases->n; i++) {
        const conf_json *o = &cases->items[i], *files, *exp, *f;
        conf_case *c = &s->cases[i];
        c->id = str_of(o, "id");
        c->op = str_of(o, "op");
        c->params = conf_json_get(o, "params");
        files = conf_json_get(o, "files");
        exp = conf_json_get(o, "expected");
        if (!c->id || !*c->id || strchr(c->id, '/') || !c->op || !c->params || c->params->type != CONF_JSON_OBJECT ||
            !files || files->type != CONF_JSON_OBJECT || !exp || exp->type != CONF_JSON_ARRAY || exp->n == 0) {
            st = muon_error(MUON_ERR_FORMAT, "%s: case %d ('%s'): needs id, op, params, files and expected",
                            path, i + 1, c->id ? c->id : "?");
            goto fail;
        }
        for (j = 0; j < i; j++)
            if (!strcmp(s->cases[j].id, c->id)) { st = muon_error(MUON_ERR_FORMAT, "%s: case '%s' twice", path, c->id); goto fail; }
        if ((f = conf_json_get(files, "inputs"))) {
            c->has_inputs = 1;
            if ((st = load_file(path, c->id, f, &c->inputs))) goto fail;
        }
        if (!(f = conf_json_get(files, "expected"))) {
            st = muon_error(MUON_ERR_FORMAT, "%s: case '%s': no expected file", path, c->id);
            goto fail;
        }
        if ((st = load_file(path, c->id, f, &c->expected))) goto fail;
        c->expected_t = calloc((size_t)exp->n, sizeof *c->expected_t);
        if (!c->expected_t) { st = muon_error(MUON_ERR_NOMEM, "%s: out of memory", path); goto fail; }
        c->n_expected = exp->n;
        for (j = 0; j < exp->n; j++) {
            int k;
            if ((st = load_expected(path, c->id, &exp->items[j], &c->expected_t[j]))) goto fail;
            for (k = 0; k < j; k++)
                if (!strcmp(c->expected_t[k].name, c->expected_t[j].name)) {
                    st = muon_error(MUON_ERR_FORMAT, "%s: case '%s': tensor '%s' twice", path, c->id, c->expected_t[j].name);
                    goto fail;
                }
        }
    }
    return MUON_OK;
fail:
    conf_suite_free(s);
    return st;
}

void conf_suite_free(conf_suite *s)
{
    int i;
    if (!s) return;
    for (i = 0; i < s->n_cases; i++) free(s->cases[i].expected_t);
    free(s->cases);
    conf_json_free(&s->root);
    memset(s, 0, sizeof *s);
}

int conf_case_read(const conf_suite *s, const conf_file *file, muon_safetensors *f)
{
    char path[1200], *buf;
    size_t len;
    uint32_t crc;
    int st;
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/%s", s->dir, file->path);
    if ((st = read_all(path, &buf, &len))) return st;
    crc = conf_crc32(0, buf, len);
    free(buf);
    if ((long)len != file->bytes)
        return muon_error(MUON_ERR_FORMAT, "%s: %lu bytes, the manifest says %ld (truncated or replaced)",
                          path, (unsigned long)len, file->bytes);
    if (crc != file->crc32)
        return muon_error(MUON_ERR_FORMAT, "%s: CRC-32 %08lx, the manifest says %08lx (corrupted)",
                          path, (unsigned long)crc, (unsigned long)file->crc32);
    return muon_safetensors_read(path, f);
}

int conf_param_num(const conf_case *c, const conf_json *obj, const char *key, double *v)
{
    const conf_json *x = conf_json_get(obj ? obj : c->params, key);
    if (!x || x->type != CONF_JSON_NUMBER)
        return muon_error(MUON_ERR_FORMAT, "case '%s': parameter '%s' must be a number", c->id, key);
    *v = x->num;
    return MUON_OK;
}

int conf_param_bool(const conf_case *c, const conf_json *obj, const char *key, int *v)
{
    const conf_json *x = conf_json_get(obj ? obj : c->params, key);
    if (!x || x->type != CONF_JSON_BOOL)
        return muon_error(MUON_ERR_FORMAT, "case '%s': parameter '%s' must be true or false", c->id, key);
    *v = x->num != 0;
    return MUON_OK;
}

int conf_param_str(const conf_case *c, const conf_json *obj, const char *key, const char **v)
{
    const conf_json *x = conf_json_get(obj ? obj : c->params, key);
    if (!x || x->type != CONF_JSON_STRING)
        return muon_error(MUON_ERR_FORMAT, "case '%s': parameter '%s' must be a string", c->id, key);
    *v = x->str;
    return MUON_OK;
}
