/* A small strict JSON reader (RFC 8259) for the conformance manifest.
 *
 * Strict on purpose: a manifest that a lenient reader would half-accept
 * (trailing commas, NaN, comments, duplicate keys, a truncated file) must be
 * refused with the line and column of the problem, because verify's verdict
 * is only as good as the tolerances it read. Numbers go through strtod after
 * the grammar is checked, so "1e-7" means the nearest double, as in Python.
 * Nesting is limited to 64 levels so a hostile file cannot exhaust the stack. */
#include "conformance/conformance.h"

#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct {
    const char *s, *end, *p;
    const char *what;  /* the file name, for messages */
} parser;

static int fail(const parser *ps, const char *msg)
{
    int line = 1, col = 1;
    const char *q;
    for (q = ps->s; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') { line++; col = 1; } else col++;
    }
    if (ps->p >= ps->end)
        return muon_error(MUON_ERR_FORMAT, "%s: %s at the end of the file (line %d): truncated?", ps->what, msg, line);
    return muon_error(MUON_ERR_FORMAT, "%s:%d:%d: %s", ps->what, line, col, msg);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int put_utf8(char *out, size_t *n, unsigned long cp)
{
    if (cp < 0x80) { out[(*n)++] = (char)cp; }
    else if (cp < 0x800) { out[(*n)++] = (char)(0xC0 | (cp >> 6)); out[(*n)++] = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12)); out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18)); out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

static int hex4(parser *ps, unsigned long *v)
{
    int i;
    *v = 0;
    for (i = 0; i < 4; i++, ps->p++) {
        char c;
        if (ps->p >= ps->end) return fail(ps, "unterminated \\u escape");
        c = *ps->p;
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (unsigned long)(c - 'A' + 10);
        else return fail(ps, "bad \\u escape");
    }
    return MUON_OK;
}

/* A string starting at the opening quote; *out is a NUL-terminated copy. */
static int parse_string(parser *ps, char **out)
{
    const char *q;
    char *buf;
    size_t n = 0;
    int st;
    ps->p++;  /* the quote */
    for (q = ps->p; q < ps->end && *q != '"'; q++) if (*q == '\\') q++;
    if (q >= ps->end) { ps->p = ps->end; return fail(ps, "unterminated string"); }
    buf = malloc((size_t)(q - ps->p) + 1);  /* escapes only shrink */
    if (!buf) return muon_error(MUON_ERR_NOMEM, "%s: out of memory", ps->what);
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) { free(buf); return fail(ps, "control character in a string"); }
        if (c != '\\') { buf[n++] = (char)c; ps->p++; continue; }
        ps->p++;
        switch (*ps->p) {
        case '"': buf[n++] = '"'; ps->p++; break;
        case '\\': buf[n++] = '\\'; ps->p++; break;
        case '/': buf[n++] = '/'; ps->p++; break;
        case 'b': buf[n++] = '\b'; ps->p++; break;
        case 'f': buf[n++] = '\f'; ps->p++; break;
        case 'n': buf[n++] = '\n'; ps->p++; break;
        case 'r': buf[n++] = '\r'; ps->p++; break;
        case 't': buf[n++] = '\t'; ps->p++; break;
        case 'u': {
            unsigned long cp, lo;
            ps->p++;
            if ((st = hex4(ps, &cp))) { free(buf); return st; }
            if (cp >= 0xD800 && cp < 0xDC00) {  /* a surrogate pair */
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') { free(buf); return fail(ps, "lone surrogate"); }
                ps->p += 2;
                if ((st = hex4(ps, &lo))) { free(buf); return st; }
                if (lo < 0xDC00 || lo > 0xDFFF) { free(buf); return fail(ps, "bad surrogate pair"); }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) { free(buf); return fail(ps, "lone surrogate"); }
            if (cp == 0) { free(buf); return fail(ps, "\\u0000 in a string"); }
            put_utf8(buf, &n, cp);
            break;
        }
        default: free(buf); return fail(ps, "bad escape in a string");
        }
    }
    ps->p++;
    buf[n] = 0;
    *out = buf;
    return MUON_OK;
}

static int parse_number(parser *ps, double *v)
{
    const char *q = ps->p;
    char tmp[64];
    size_t n;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || !(*q >= '0' && *q <= '9')) return fail(ps, "bad number");
    if (*q == '0') q++; else while (q < ps->end && *q >= '0' && *q <= '9') q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) { ps->p = q; return fail(ps, "bad number"); }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) { ps->p = q; return fail(ps, "bad number"); }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    n = (size_t)(q - ps->p);
    if (n >= sizeof tmp) return fail(ps, "number too long");
    memcpy(tmp, ps->p, n);
    tmp[n] = 0;
    *v = strtod(tmp, NULL);
    ps->p = q;
    return MUON_OK;
}

static int parse_value(parser *ps, conf_json *v, int depth);

/* Appends one element to an array or object under construction. */
static int grow(parser *ps, conf_json *v, int *cap)
{
    if (v->n == *cap) {
        int nc = *cap ? 2 * *cap : 8;
        conf_json *ni = realloc(v->items, (size_t)nc * sizeof *ni);
        char **nk;
        if (!ni) return muon_error(MUON_ERR_NOMEM, "%s: out of memory", ps->what);
        v->items = ni;
        if (v->type == CONF_JSON_OBJECT) {
            nk = realloc(v->keys, (size_t)nc * sizeof *nk);
            if (!nk) return muon_error(MUON_ERR_NOMEM, "%s: out of memory", ps->what);
            v->keys = nk;
        }
        *cap = nc;
    }
    return MUON_OK;
}

static int parse_container(parser *ps, conf_json *v, int depth)
{
    int obj = *ps->p == '{', cap = 0, st;
    char close = obj ? '}' : ']';
    v->type = obj ? CONF_JSON_OBJECT : CONF_JSON_ARRAY;
    if (depth >= JSON_MAX_DEPTH) return fail(ps, "nested too deeply");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) { ps->p++; return MUON_OK; }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (obj) {
            int i;
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a key string");
            if ((st = parse_string(ps, &key))) return st;
            for (i = 0; i < v->n; i++)
                if (!strcmp(v->keys[i], key)) { free(key); return fail(ps, "duplicate key"); }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); return fail(ps, "expected ':'"); }
            ps->p++;
        }
        if ((st = grow(ps, v, &cap))) { free(key); return st; }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        if (obj) v->keys[v->n] = key;
        v->n++;
        if ((st = parse_value(ps, &v->items[v->n - 1], depth + 1))) return st;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) { ps->p++; return MUON_OK; }
        return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) return fail(ps, "unexpected character");
    ps->p += n;
    return MUON_OK;
}

static int parse_value(parser *ps, conf_json *v, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "expected a value");
    switch (*ps->p) {
    case '{': case '[': return parse_container(ps, v, depth);
    case '"': v->type = CONF_JSON_STRING; return parse_string(ps, &v->str);
    case 't': v->type = CONF_JSON_BOOL; v->num = 1; return literal(ps, "true");
    case 'f': v->type = CONF_JSON_BOOL; v->num = 0; return literal(ps, "false");
    case 'n': v->type = CONF_JSON_NULL; return literal(ps, "null");
    default: v->type = CONF_JSON_NUMBER; return parse_number(ps, &v->num);
    }
}

int conf_json_parse(const char *text, size_t len, const char *what, conf_json *out)
{
    parser ps;
    int st;
    ps.s = ps.p = text;
    ps.end = text + len;
    ps.what = what;
    memset(out, 0, sizeof *out);
    st = parse_value(&ps, out, 0);
    if (!st) {
        skip_ws(&ps);
        if (ps.p != ps.end) st = fail(&ps, "text after the JSON value");
    }
    if (st) conf_json_free(out);
    return st;
}

void conf_json_free(conf_json *v)
{
    int i;
    if (!v) return;
    for (i = 0; i < v->n; i++) {
        conf_json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const conf_json *conf_json_get(const conf_json *obj, const char *key)
{
    int i;
    if (!obj || obj->type != CONF_JSON_OBJECT) return NULL;
    for (i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}
