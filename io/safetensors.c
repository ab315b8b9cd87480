/* Safetensors files: the checkpoint and golden-data format.
 *
 * Layout: 8-byte little-endian header length N; N bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
 *    ..., "__metadata__": {"key": "value", ...}}
 * then the tensor bytes, little-endian, offsets relative to the data start.
 *
 * The reader checks everything a hostile or truncated file could get wrong
 * (lengths, offsets against the file size, byte counts against shapes,
 * duplicate names) and converts every supported dtype to float32, so callers
 * see one representation. Bytes are assembled explicitly, so the code is
 * correct on big-endian hosts too.
 *
 * Integrity: muon's writer records the CRC-32C of the data section (every
 * byte after the header) as __metadata__ "muon.crc32c" (8 hex digits); the
 * reader verifies it when present, so a flipped bit is an error, while files
 * of other tools (no such key) still load. Bytes after the last tensor are
 * rejected: the format defines the data's length. */
#include "io/io.h"
#include "io/atomic_file.h"
#include "io/crc32c.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The format's own limit on header size (100 MB). */
#define ST_MAX_HEADER 100000000ULL
#define MUON_ST_CRC_KEY "muon.crc32c"

/* ---- small JSON reader, just enough for the safetensors header ---------- */

typedef struct {
    const char *s, *end;
    const char *path;
    int status;         /* first error, sticky */
} json_in;

static int json_fail(json_in *j, const char *what)
{
    if (!j->status)
        j->status = muon_error(MUON_ERR_FORMAT, "%s: malformed safetensors header: %s", j->path, what);
    return j->status;
}

static void json_ws(json_in *j)
{
    while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')) j->s++;
}

static int json_peek(json_in *j)
{
    json_ws(j);
    return j->s < j->end ? (unsigned char)*j->s : -1;
}

static int json_expect(json_in *j, char c)
{
    if (json_peek(j) != (unsigned char)c) {
        char msg[32];
        sprintf(msg, "expected '%c'", c);
        return json_fail(j, msg);
    }
    j->s++;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a JSON string into a new muon_alloc'ed UTF-8 buffer (*out). */
static int json_string(json_in *j, char **out)
{
    const char *p;
    char *buf, *w;
    *out = NULL;
    if (json_expect(j, '"')) return j->status;
    /* the decoded string is never longer than the encoded one */
    for (p = j->s; p < j->end && *p != '"'; p++)
        if (*p == '\\') p++;
    if (p >= j->end) return json_fail(j, "unterminated string");
    buf = muon_alloc((size_t)(p - j->s) + 1);
    if (!buf) return j->status = MUON_ERR_NOMEM;
    w = buf;
    while (*j->s != '"') {
        unsigned char c = (unsigned char)*j->s++;
        if (c < 0x20) { muon_free(buf); return json_fail(j, "control character in string"); }
        if (c != '\\') { *w++ = (char)c; continue; }
        c = (unsigned char)*j->s++;
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '/': *w++ = '/'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            int i;
            if (j->end - j->s < 4) { muon_free(buf); return json_fail(j, "short \\u escape"); }
            for (i = 0; i < 4; i++) {
                int h = hexval((unsigned char)*j->s++);
                if (h < 0) { muon_free(buf); return json_fail(j, "bad \\u escape"); }
                cp = cp * 16 + (unsigned)h;
            }
            /* surrogate pairs are not needed for tensor names; keep the code
             * point as 3-byte UTF-8 (each half separately) */
            if (cp < 0x80) *w++ = (char)cp;
            else if (cp < 0x800) { *w++ = (char)(0xC0 | (cp >> 6)); *w++ = (char)(0x80 | (cp & 0x3F)); }
            else {
                *w++ = (char)(0xE0 | (cp >> 12));
                *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *w++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: muon_free(buf); return json_fail(j, "bad escape in string");
        }
    }
    j->s++; /* closing quote */
    *w = 0;
    *out = buf;
    return 0;
}

/* A non-negative integer that fits in 64 bits. */
static int json_uint(json_in *j, uint64_t *v)
{
    uint64_t x = 0;
    int digits = 0;
    json_ws(j);
    while (j->s < j->end && *j->s >= '0' && *j->s <= '9') {
        unsigned d = (unsigned)(*j->s - '0');
        if (x > (UINT64_MAX - d) / 10) return json_fail(j, "integer too large");
        x = x * 10 + d;
        j->s++;
        digits++;
    }
    if (!digits) return json_fail(j, "expected a non-negative integer");
    *v = x;
    return 0;
}

/* Skips any JSON value (for header fields we do not use). */
static int json_skip(json_in *j, int depth)
{
    int c = json_peek(j);
    if (depth > 64) return json_fail(j, "nesting too deep");
    if (c == '"') {
        char *s;
        if (json_string(j, &s)) return j->status;
        muon_free(s);
        return 0;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->s++;
        if (json_peek(j) == (unsigned char)close) { j->s++; return 0; }
        for (;;) {
            if (c == '{') {
                char *k;
                if (json_string(j, &k)) return j->status;
                muon_free(k);
                if (json_expect(j, ':')) return j->status;
            }
            if (json_skip(j, depth + 1)) return j->status;
            if (json_peek(j) == ',') { j->s++; continue; }
            return json_expect(j, close);
        }
    }
    /* numbers, true, false, null */
    if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
        while (j->s < j->end && strchr("+-.0123456789eEtrufalsn", *j->s)) j->s++;
        return 0;
    }
    return json_fail(j, "unexpected character");
}

/* ---- dtypes ------------------------------------------------------------- */

static int dtype_size(const char *d)
{
    static const struct { const char *name; int size; } tab[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
        {"I16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}
    };
    size_t i;
    for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(d, tab[i].name)) return tab[i].size;
    return 0;
}

static uint64_t load_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;
    for (i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static float half_to_float(unsigned h)
{
    unsigned sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    float v;
    if (exp == 0) v = (float)mant * (1.0f / 16777216.0f);           /* subnormal: mant * 2^-24 */
    else if (exp == 31) v = mant ? NAN : INFINITY;
    else {
        uint32_t bits = ((exp - 15 + 127) << 23) | (mant << 13);
        memcpy(&v, &bits, 4);
    }
    return sign ? -v : v;
}

static void convert(const char *dtype, const unsigned char *src, size_t n, float *dst)
{
    size_t i;
    if (!strcmp(dtype, "F32")) {
        for (i = 0; i < n; i++) {
            uint32_t b = (uint32_t)load_le(src + 4 * i, 4);
            memcpy(&dst[i], &b, 4);
        }
    } else if (!strcmp(dtype, "F64")) {
        for (i = 0; i < n; i++) {
            uint64_t b = load_le(src + 8 * i, 8);
            double d;
            memcpy(&d, &b, 8);
            dst[i] = (float)d;
        }
    } else if (!strcmp(dtype, "BF16")) {
        for (i = 0; i < n; i++) {
            uint32_t b = (uint32_t)load_le(src + 2 * i, 2) << 16;
            memcpy(&dst[i], &b, 4);
        }
    } else if (!strcmp(dtype, "F16")) {
        for (i = 0; i < n; i++) dst[i] = half_to_float((unsigned)load_le(src + 2 * i, 2));
    } else {
        int size = dtype_size(dtype);
        int is_signed = dtype[0] == 'I';
        for (i = 0; i < n; i++) {
            uint64_t b = load_le(src + (size_t)size * i, size);
            if (is_signed && size < 8 && (b >> (8 * size - 1)) & 1)
                b |= ~(uint64_t)0 << (8 * size); /* sign-extend */
            dst[i] = is_signed ? (float)(int64_t)b : (float)b;
        }
    }
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    uint64_t begin, end;
} byte_range;

/* Parses one tensor entry {"dtype":..., "shape":[...], "data_offsets":[b,e]}. */
static int parse_tensor(json_in *j, muon_tensor *t, byte_range *r)
{
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (json_expect(j, '{')) return j->status;
    if (json_peek(j) == '}') return json_fail(j, "empty tensor entry");
    for (;;) {
        char *key;
        if (json_string(j, &key)) return j->status;
        if (json_expect(j, ':')) { muon_free(key); return j->status; }
        if (!strcmp(key, "dtype")) {
            char *d;
            if (json_string(j, &d) == 0) {
                if (strlen(d) >= sizeof t->dtype || !dtype_size(d)) {
                    muon_free(key); muon_free(d);
                    return json_fail(j, "unsupported dtype");
                }
                strcpy(t->dtype, d);
                muon_free(d);
                have_dtype = 1;
            }
        } else if (!strcmp(key, "shape")) {
            if (json_expect(j, '[') == 0) {
                t->ndim = 0;
                if (json_peek(j) == ']') j->s++;
                else for (;;) {
                    uint64_t d;
                    if (t->ndim == MUON_TENSOR_MAXDIM) { muon_free(key); return json_fail(j, "too many dimensions"); }
                    if (json_uint(j, &d)) break;
                    if (d > (uint64_t)INT64_MAX) { muon_free(key); return json_fail(j, "dimension too large"); }
                    t->shape[t->ndim++] = (int64_t)d;
                    if (json_peek(j) == ',') { j->s++; continue; }
                    json_expect(j, ']');
                    break;
                }
                have_shape = 1;
            }
        } else if (!strcmp(key, "data_offsets")) {
            if (json_expect(j, '[') == 0 && json_uint(j, &r->begin) == 0 &&
                json_expect(j, ',') == 0 && json_uint(j, &r->end) == 0)
                json_expect(j, ']');
            have_offsets = 1;
        } else {
            json_skip(j, 1);
        }
        muon_free(key);
        if (j->status) return j->status;
        if (json_peek(j) == ',') { j->s++; continue; }
        if (json_expect(j, '}')) return j->status;
        break;
    }
    if (!have_dtype || !have_shape || !have_offsets)
        return json_fail(j, "tensor entry lacks dtype, shape or data_offsets");
    return 0;
}

static int parse_metadata(json_in *j, muon_safetensors *f)
{
    if (json_expect(j, '{')) return j->status;
    if (json_peek(j) == '}') { j->s++; return 0; }
    for (;;) {
        char *k, *v, **nk, **nv;
        if (json_string(j, &k)) return j->status;
        if (json_expect(j, ':') || json_string(j, &v)) { muon_free(k); return j->status ? j->status : json_fail(j, "metadata values must be strings"); }
        nk = muon_alloc(sizeof(char *) * (size_t)(f->meta_count + 1));
        nv = muon_alloc(sizeof(char *) * (size_t)(f->meta_count + 1));
        if (!nk || !nv) { muon_free(nk); muon_free(nv); muon_free(k); muon_free(v); return j->status = MUON_ERR_NOMEM; }
        if (f->meta_count) {
            memcpy(nk, f->meta_keys, sizeof(char *) * (size_t)f->meta_count);
            memcpy(nv, f->meta_values, sizeof(char *) * (size_t)f->meta_count);
        }
        muon_free(f->meta_keys);
        muon_free(f->meta_values);
        f->meta_keys = nk;
        f->meta_values = nv;
        nk[f->meta_count] = k;
        nv[f->meta_count] = v;
        f->meta_count++;
        if (json_peek(j) == ',') { j->s++; continue; }
        return json_expect(j, '}');
    }
}

/* Counts top-level entries so the tensor array is allocated once: -1 for
 * malformed JSON, -2 when out of memory. */
static int count_entries(json_in j)
{
    int n = 0, c;
    if (json_expect(&j, '{')) return -1;
    if (json_peek(&j) == '}') return 0;
    for (;;) {
        char *k;
        if (json_string(&j, &k)) return j.status == MUON_ERR_NOMEM ? -2 : -1;
        muon_free(k);
        if (json_expect(&j, ':') || json_skip(&j, 0)) return j.status == MUON_ERR_NOMEM ? -2 : -1;
        n++;
        c = json_peek(&j);
        if (c == ',') { j.s++; continue; }
        return c == '}' ? n : -1;
    }
}

static int read_exact(FILE *fp, void *buf, size_t n, const char *path, const char *what)
{
    errno = 0;
    if (n && fread(buf, 1, n, fp) != n) {
        if (ferror(fp)) /* e.g. a directory: errno says "Is a directory" */
            return muon_error(MUON_ERR_IO, "%s: read error while reading %s (%s)", path, what,
                              errno ? strerror(errno) : "unknown cause");
        return muon_error(MUON_ERR_FORMAT, "%s: file is truncated while reading %s", path, what);
    }
    return 0;
}

int muon_safetensors_read(const char *path, muon_safetensors *f)
{
    FILE *fp;
    unsigned char lenbuf[8];
    uint64_t hlen, data_len;
    long fsize;
    char *header = NULL;
    unsigned char *data = NULL;
    byte_range *ranges = NULL;
    json_in j;
    int n, i, k, st = 0;

    memset(f, 0, sizeof *f);
    fp = fopen(path, "rb");
    if (!fp) return muon_error(MUON_ERR_IO, "%s: cannot open for reading (%s)", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) || (fsize = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
        fclose(fp);
        return muon_error(MUON_ERR_IO, "%s: cannot determine the file size", path);
    }
    if (fsize < 8) {
        fclose(fp);
        return muon_error(MUON_ERR_FORMAT, "%s: not a safetensors file (%ld bytes, shorter than the 8-byte header length)", path, fsize);
    }
    if ((st = read_exact(fp, lenbuf, 8, path, "the header length"))) goto done;
    hlen = load_le(lenbuf, 8);
    if (hlen < 2 || hlen > ST_MAX_HEADER || hlen > (uint64_t)fsize - 8) {
        st = muon_error(MUON_ERR_FORMAT, "%s: not a safetensors file or truncated (header length %llu, file size %ld)",
                        path, (unsigned long long)hlen, fsize);
        goto done;
    }
    header = muon_alloc((size_t)hlen + 1);
    if (!header) { st = MUON_ERR_NOMEM; goto done; }
    if ((st = read_exact(fp, header, (size_t)hlen, path, "the header"))) goto done;
    header[hlen] = 0;
    data_len = (uint64_t)fsize - 8 - hlen;

    j.s = header; j.end = header + hlen; j.path = path; j.status = 0;
    n = count_entries(j);
    if (n == -2) { st = MUON_ERR_NOMEM; goto done; }
    if (n < 0) { st = muon_error(MUON_ERR_FORMAT, "%s: malformed safetensors header (not a JSON object of entries)", path); goto done; }
    f->tensors = muon_calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    ranges = muon_calloc((size_t)(n ? n : 1), sizeof *ranges);
    if (!f->tensors || !ranges) { st = MUON_ERR_NOMEM; goto done; }

    json_expect(&j, '{');
    if (json_peek(&j) == '}') j.s++;
    else for (;;) {
        char *key;
        if (json_string(&j, &key) || json_expect(&j, ':')) { muon_free(key); break; }
        if (!strcmp(key, "__metadata__")) {
            muon_free(key);
            if (parse_metadata(&j, f)) break;
        } else {
            muon_tensor *t = &f->tensors[f->count];
            t->name = key;
            f->count++;
            if (parse_tensor(&j, t, &ranges[f->count - 1])) break;
        }
        if (json_peek(&j) == ',') { j.s++; continue; }
        json_expect(&j, '}');
        break;
    }
    if (j.status) { st = j.status; goto done; }
    json_ws(&j);
    if (j.s != j.end && *j.s) { st = muon_error(MUON_ERR_FORMAT, "%s: malformed safetensors header: trailing bytes after the JSON object", path); goto done; }

    /* shapes, byte counts and offsets must agree with each other and the file */
    for (i = 0; i < f->count; i++) {
        muon_tensor *t = &f->tensors[i];
        uint64_t numel = 1, nbytes;
        for (k = 0; k < t->ndim; k++) {
            if (t->shape[k] && numel > UINT64_MAX / (uint64_t)t->shape[k]) {
                st = muon_error(MUON_ERR_FORMAT, "%s: tensor '%s': shape overflows", path, t->name);
                goto done;
            }
            numel *= (uint64_t)t->shape[k];
        }
        if (numel > UINT64_MAX / 8 || numel > (uint64_t)((size_t)-1 / sizeof(float))) {
            st = muon_error(MUON_ERR_FORMAT, "%s: tensor '%s': too large", path, t->name);
            goto done;
        }
        nbytes = numel * (uint64_t)dtype_size(t->dtype);
        if (ranges[i].end < ranges[i].begin || ranges[i].end - ranges[i].begin != nbytes) {
            st = muon_error(MUON_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] do not match its %s shape (%llu bytes)",
                            path, t->name, (unsigned long long)ranges[i].begin, (unsigned long long)ranges[i].end,
                            t->dtype, (unsigned long long)nbytes);
            goto done;
        }
        if (ranges[i].end > data_len) {
            st = muon_error(MUON_ERR_FORMAT, "%s: file is truncated: tensor '%s' ends at byte %llu of a %llu-byte data section",
                            path, t->name, (unsigned long long)ranges[i].end, (unsigned long long)data_len);
            goto done;
        }
        t->numel = (size_t)numel;
        for (k = 0; k < i; k++)
            if (!strcmp(f->tensors[k].name, t->name)) {
                st = muon_error(MUON_ERR_FORMAT, "%s: tensor '%s' appears twice", path, t->name);
                goto done;
            }
    }

    {
        uint64_t used = 0;
        for (i = 0; i < f->count; i++)
            if (ranges[i].end > used) used = ranges[i].end;
        if (used != data_len) {
            st = muon_error(MUON_ERR_FORMAT, "%s: %llu bytes after the last tensor's data (the file is damaged or was appended to)",
                            path, (unsigned long long)(data_len - used));
            goto done;
        }
    }
    if (data_len > (uint64_t)((size_t)-1)) { st = muon_error(MUON_ERR_FORMAT, "%s: tensor data too large for this machine", path); goto done; }
    data = muon_alloc((size_t)data_len);
    if (!data) { st = MUON_ERR_NOMEM; goto done; }
    if ((st = read_exact(fp, data, (size_t)data_len, path, "tensor data"))) goto done;
    {
        const char *want = muon_safetensors_meta(f, MUON_ST_CRC_KEY);
        if (want) {
            char got[16];
            sprintf(got, "%08lx", (unsigned long)muon_crc32c_update(0, data, (size_t)data_len));
            if (strlen(want) != 8 || strspn(want, "0123456789abcdef") != 8) {
                st = muon_error(MUON_ERR_FORMAT, "%s: __metadata__ %s is not 8 lowercase hex digits", path, MUON_ST_CRC_KEY);
                goto done;
            }
            if (strcmp(got, want) != 0) {
                st = muon_error(MUON_ERR_FORMAT, "%s: tensor data is corrupted (CRC-32C %s, recorded %s)", path, got, want);
                goto done;
            }
        }
    }
    for (i = 0; i < f->count; i++) {
        muon_tensor *t = &f->tensors[i];
        t->data = muon_alloc(t->numel * sizeof(float));
        if (!t->data) { st = MUON_ERR_NOMEM; goto done; }
        convert(t->dtype, data + ranges[i].begin, t->numel, t->data);
    }

done:
    fclose(fp);
    muon_free(header);
    muon_free(data);
    muon_free(ranges);
    if (st) {
        char msg[512];
        /* muon_safetensors_free may not touch the error message: keep it */
        strncpy(msg, muon_last_error(), sizeof msg - 1);
        msg[sizeof msg - 1] = 0;
        muon_safetensors_free(f);
        muon_error(st, "%s", msg);
    }
    return st;
}

const muon_tensor *muon_safetensors_find(const muon_safetensors *f, const char *name)
{
    int i;
    for (i = 0; i < f->count; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const muon_tensor *muon_safetensors_expect(const muon_safetensors *f, const char *name,
                                     int ndim, const int64_t *shape)
{
    const muon_tensor *t = muon_safetensors_find(f, name);
    int k, same;
    if (!t) {
        muon_error(MUON_ERR_FORMAT, "tensor '%s' is missing", name);
        return NULL;
    }
    same = t->ndim == ndim;
    for (k = 0; same && k < ndim; k++) same = t->shape[k] == shape[k];
    if (!same) {
        /* a dimension prints as up to 19 digits (it is < 2^63) plus a comma */
        char want[MUON_TENSOR_MAXDIM * 21 + 1] = "", got[MUON_TENSOR_MAXDIM * 21 + 1] = "";
        for (k = 0; k < ndim && k < MUON_TENSOR_MAXDIM; k++)
            sprintf(want + strlen(want), "%s%lld", k ? "," : "", (long long)shape[k]);
        for (k = 0; k < t->ndim && k < MUON_TENSOR_MAXDIM; k++)
            sprintf(got + strlen(got), "%s%lld", k ? "," : "", (long long)t->shape[k]);
        muon_error(MUON_ERR_FORMAT, "tensor '%s' has shape (%s), expected (%s)", name, got, want);
        return NULL;
    }
    return t;
}

const char *muon_safetensors_meta(const muon_safetensors *f, const char *key)
{
    int i;
    for (i = 0; i < f->meta_count; i++)
        if (!strcmp(f->meta_keys[i], key)) return f->meta_values[i];
    return NULL;
}

void muon_safetensors_free(muon_safetensors *f)
{
    int i;
    if (!f) return;
    for (i = 0; i < f->count; i++) {
        muon_free(f->tensors[i].name);
        muon_free(f->tensors[i].data);
    }
    for (i = 0; i < f->meta_count; i++) {
        muon_free(f->meta_keys[i]);
        muon_free(f->meta_values[i]);
    }
    muon_free(f->tensors);
    muon_free(f->meta_keys);
    muon_free(f->meta_values);
    memset(f, 0, sizeof *f);
}

/* ---- writing ------------------------------------------------------------ */

/* A growable text buffer for the JSON header. */
typedef struct { char *s; size_t len, cap; int failed; } text_buf;

static void tb_put(text_buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *ns;
        while (cap < b->len + n + 1) cap *= 2;
        ns = muon_alloc(cap);
        if (!ns) { b->failed = 1; return; }
        if (b->len) memcpy(ns, b->s, b->len);
        muon_free(b->s);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void tb_str(text_buf *b, const char *s) { tb_put(b, s, strlen(s)); }

static void tb_json_string(text_buf *b, const char *s)
{
    tb_str(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; tb_put(b, esc, 2); }
        else if (c < 0x20) { sprintf(esc, "\\u%04x", c); tb_str(b, esc); }
        else tb_put(b, s, 1);
    }
    tb_str(b, "\"");
}

/* The tensors' bytes as the file holds them (little-endian float32), in
 * chunks: to the checksum (a NULL file) or to the file. */
static int put_data(muon_afile *a, uint32_t *crc, const muon_tensor *t, int count)
{
    unsigned char chunk[4096];
    int i, k, st = MUON_OK;
    for (i = 0; i < count && !st; i++) {
        size_t numel = 1, e, c = 0;
        for (k = 0; k < t[i].ndim; k++) numel *= (size_t)t[i].shape[k];
        for (e = 0; e < numel && !st; e++) {
            uint32_t bits;
            memcpy(&bits, &t[i].data[e], 4);
            for (k = 0; k < 4; k++) chunk[c++] = (unsigned char)(bits >> (8 * k));
            if (c == sizeof chunk || e + 1 == numel) {
                if (a) st = muon_afile_write(a, chunk, c);
                else *crc = muon_crc32c_update(*crc, chunk, c);
                c = 0;
            }
        }
    }
    return st;
}

int muon_safetensors_write(const char *path, const muon_tensor *t, int count,
                  const char *const *meta_kv)
{
    text_buf hb = {NULL, 0, 0, 0};
    char num[64];
    unsigned char lenbuf[8];
    uint64_t offset = 0, hlen;
    uint32_t crc = 0;
    muon_afile a;
    int i, k, st;

    if (count < 0 || (count > 0 && !t)) return muon_error(MUON_ERR_ARG, "%s: bad tensor list", path);

    tb_str(&hb, "{");
    for (i = 0; i < count; i++) {
        uint64_t numel = 1;
        if (!t[i].name || !*t[i].name || !strcmp(t[i].name, "__metadata__") || t[i].ndim < 0 || t[i].ndim > MUON_TENSOR_MAXDIM) {
            muon_free(hb.s);
            return muon_error(MUON_ERR_ARG, "%s: tensor %d has no valid name or rank", path, i);
        }
        for (k = 0; k < t[i].ndim; k++) {
            if (t[i].shape[k] < 0 || (t[i].shape[k] && numel > ((uint64_t)((size_t)-1) / 4) / (uint64_t)t[i].shape[k])) {
                muon_free(hb.s);
                return muon_error(MUON_ERR_ARG, "%s: tensor '%s' has a negative or too large shape", path, t[i].name);
            }
            numel *= (uint64_t)t[i].shape[k];
        }
        if (i) tb_str(&hb, ",");
        tb_json_string(&hb, t[i].name);
        tb_str(&hb, ":{\"dtype\":\"F32\",\"shape\":[");
        for (k = 0; k < t[i].ndim; k++) {
            sprintf(num, "%s%lld", k ? "," : "", (long long)t[i].shape[k]);
            tb_str(&hb, num);
        }
        sprintf(num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                (unsigned long long)(offset + 4 * numel));
        tb_str(&hb, num);
        offset += 4 * numel;
    }
    put_data(NULL, &crc, t, count);
    tb_str(&hb, count ? ",\"__metadata__\":{" : "\"__metadata__\":{");
    sprintf(num, "\"%s\":\"%08lx\"", MUON_ST_CRC_KEY, (unsigned long)crc);
    tb_str(&hb, num);
    for (k = 0; meta_kv && meta_kv[k]; k += 2) {
        if (!meta_kv[k + 1]) { muon_free(hb.s); return muon_error(MUON_ERR_ARG, "%s: metadata key '%s' has no value", path, meta_kv[k]); }
        if (!strcmp(meta_kv[k], MUON_ST_CRC_KEY)) continue; /* ours, computed above */
        tb_str(&hb, ",");
        tb_json_string(&hb, meta_kv[k]);
        tb_str(&hb, ":");
        tb_json_string(&hb, meta_kv[k + 1]);
    }
    tb_str(&hb, "}");
    tb_str(&hb, "}");
    while (!hb.failed && hb.len % 8) tb_str(&hb, " "); /* data starts 8-aligned */
    if (hb.failed) { muon_free(hb.s); return MUON_ERR_NOMEM; }

    if ((st = muon_afile_open(&a, path))) { muon_free(hb.s); return st; }
    hlen = hb.len;
    for (k = 0; k < 8; k++) lenbuf[k] = (unsigned char)(hlen >> (8 * k));
    muon_afile_write(&a, lenbuf, 8);
    muon_afile_write(&a, hb.s, hb.len);
    muon_free(hb.s);
    put_data(&a, NULL, t, count);
    return muon_afile_commit(&a);
}
