/* Safetensors reader/writer: dtype conversion against a file written by an
 * independent writer (NumPy/PyTorch), round trips, and every kind of
 * malformed or truncated file. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_golden_dtypes(void)
{
    muon_safetensors f;
    static const char *pairs[][2] = {
        {"F32", "expect_F32"}, {"F64", "expect_F64"}, {"F16", "expect_F16"},
        {"BF16", "expect_BF16"}, {"I64", "expect_I"}, {"I32", "expect_I"},
        {"I8", "expect_I"}, {"U8", "expect_U8"}};
    size_t i;
    const muon_tensor *t;
    if (golden_open("safetensors_dtypes.safetensors", &f)) return;
    for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const muon_tensor *got = muon_safetensors_find(&f, pairs[i][0]);
        const muon_tensor *want = muon_safetensors_find(&f, pairs[i][1]);
        char what[64];
        if (!check(got && want && got->numel == want->numel, "%s present with %s", pairs[i][0], pairs[i][1])) continue;
        sprintf(what, "%s converted to float32", pairs[i][0]);
        /* exact: every stored value is representable in float32 after the
         * reference rounding (F64 rounds once, to nearest, like the reader) */
        check_close(what, got->data, want->data, got->numel, 0, 0);
    }
    t = muon_safetensors_find(&f, "I64");
    check(t && t->ndim == 3 && t->shape[0] == 7 && t->shape[1] == 1 && t->shape[2] == 1, "I64 shape (7,1,1)");
    t = muon_safetensors_find(&f, "scalar");
    check(t && t->ndim == 0 && t->numel == 1 && t->data[0] == 3.5f, "0-d tensor");
    t = muon_safetensors_find(&f, "empty");
    check(t && t->ndim == 2 && t->numel == 0, "empty (0,3) tensor");
    check(muon_safetensors_meta(&f, "note") && !strcmp(muon_safetensors_meta(&f, "note"), "name with \"quotes\" and \\ backslash"),
          "metadata string with escapes");
    check(muon_safetensors_meta(&f, "numpy") != NULL, "metadata records the numpy version");
    {
        int64_t shape[2] = {1, 17}, bad[2] = {17, 1};
        check(muon_safetensors_expect(&f, "F32", 2, shape) != NULL, "expect: right shape");
        check(muon_safetensors_expect(&f, "F32", 2, bad) == NULL && strstr(muon_last_error(), "(1,17)"),
              "expect: wrong shape names both shapes: %s", muon_last_error());
        check(muon_safetensors_expect(&f, "nope", 2, shape) == NULL && strstr(muon_last_error(), "missing"),
              "expect: missing tensor: %s", muon_last_error());
    }
    muon_safetensors_free(&f);
}

static const char *tmp_path = "build/test_st.safetensors";

static void test_round_trip(void)
{
    float a[6] = {1, -2, 3.25f, 1e-30f, -0.0f, 6e20f}, b[3] = {7, 8, 9};
    muon_tensor t[2];
    const char *meta[] = {"step", "12", "config", "{\"d_model\": 128}", NULL};
    muon_safetensors f;
    memset(t, 0, sizeof t);
    t[0].name = "layers.0.attn.q.weight"; t[0].ndim = 2; t[0].shape[0] = 2; t[0].shape[1] = 3; t[0].data = a;
    t[1].name = "norm.weight"; t[1].ndim = 1; t[1].shape[0] = 3; t[1].data = b;
    check(muon_safetensors_write(tmp_path, t, 2, meta) == MUON_OK, "write two tensors and metadata");
    if (!check(muon_safetensors_read(tmp_path, &f) == MUON_OK, "read them back: %s", muon_last_error())) return;
    /* the two given and the writer's own checksum of the data */
    check(f.count == 2 && f.meta_count == 3 && muon_safetensors_meta(&f, "muon.crc32c") &&
          strlen(muon_safetensors_meta(&f, "muon.crc32c")) == 8, "count 2 tensors, 2 metadata pairs + muon.crc32c");
    check(muon_safetensors_find(&f, "layers.0.attn.q.weight") &&
          memcmp(muon_safetensors_find(&f, "layers.0.attn.q.weight")->data, a, sizeof a) == 0, "matrix bit-exact");
    check(muon_safetensors_find(&f, "norm.weight") && memcmp(muon_safetensors_find(&f, "norm.weight")->data, b, sizeof b) == 0, "vector bit-exact");
    check(muon_safetensors_meta(&f, "config") && !strcmp(muon_safetensors_meta(&f, "config"), "{\"d_model\": 128}"), "metadata JSON string survives");
    muon_safetensors_free(&f);
}

/* Writes raw bytes as a file. */
static void put_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp) { fwrite(p, 1, n, fp); fclose(fp); }
}

static void put_header(const char *path, const char *json, size_t data_bytes)
{
    unsigned char buf[1024];
    size_t n = strlen(json), i;
    for (i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, json, n);
    memset(buf + 8 + n, 0, data_bytes);
    put_file(path, buf, 8 + n + data_bytes);
}

static void expect_bad(const char *what, const char *must_contain)
{
    muon_safetensors f;
    int st = muon_safetensors_read(tmp_path, &f);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), must_contain) && f.count == 0 && f.tensors == NULL,
          "%s -> format error: %s", what, muon_last_error());
}

static void test_malformed(void)
{
    unsigned char *good;
    long n;
    FILE *fp;
    muon_safetensors f;
    float a[4] = {1, 2, 3, 4};
    muon_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 2; t.data = a;

    check(muon_safetensors_read("build/does-not-exist.safetensors", &f) == MUON_ERR_IO &&
          strstr(muon_last_error(), "does-not-exist"), "missing file -> I/O error naming it: %s", muon_last_error());

    check(muon_safetensors_read("build", &f) != MUON_OK && strstr(muon_last_error(), "build") && f.count == 0,
          "a directory -> error naming it: %s", muon_last_error());

    put_file(tmp_path, "", 0);
    expect_bad("empty file", "not a safetensors file");
    put_file(tmp_path, "\x10\x00\x00", 3);
    expect_bad("3-byte file", "not a safetensors file");
    put_header(tmp_path, "", 0);
    expect_bad("zero header length", "not a safetensors file");
    {   /* header length pointing past the end */
        unsigned char buf[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
        put_file(tmp_path, buf, 10);
        expect_bad("header length past the end", "truncated");
    }
    put_header(tmp_path, "[1,2]   ", 0);
    expect_bad("header not an object", "malformed");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]", 16);
    expect_bad("unterminated JSON", "malformed");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    expect_bad("unknown dtype", "unsupported dtype");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16);
    expect_bad("offsets disagree with shape", "do not match");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8);
    expect_bad("data section too short", "truncated");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    expect_bad("duplicate tensor name", "twice");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
    expect_bad("negative dimension", "non-negative");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8);
    expect_bad("shape that overflows", "overflow");
    put_header(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4);
    expect_bad("entry without data_offsets", "lacks");
    put_header(tmp_path, "{\"__metadata__\":{\"a\":1}}", 0);
    expect_bad("non-string metadata", "malformed");

    /* every truncation of a good file is rejected cleanly */
    if (muon_safetensors_write(tmp_path, &t, 1, NULL)) { check(0, "write for truncation test: %s", muon_last_error()); return; }
    fp = fopen(tmp_path, "rb");
    if (!fp) { check(0, "reopen"); return; }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    good = malloc((size_t)n);
    if (good && fread(good, 1, (size_t)n, fp) == (size_t)n) {
        long cut, rejected = 0;
        fclose(fp);
        for (cut = 0; cut < n; cut++) {
            put_file(tmp_path, good, (size_t)cut);
            rejected += muon_safetensors_read(tmp_path, &f) == MUON_ERR_FORMAT;
        }
        check(rejected == n, "all %ld truncations of a %ld-byte file rejected (%ld were)", n, n, rejected);
    } else fclose(fp);
    free(good);
    remove(tmp_path);
}

static void test_write_errors(void)
{
    float a[1] = {1};
    muon_tensor t;
    muon_safetensors f;
    int k, ok = 1;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.ndim = 1; t.shape[0] = 1; t.data = a;
    check(muon_safetensors_write("build/no/such/dir/x.safetensors", &t, 1, NULL) == MUON_ERR_IO,
          "write into a missing directory -> I/O error: %s", muon_last_error());
    check(fopen("build/no/such/dir/x.safetensors.tmp", "rb") == NULL, "no temporary file left behind");
    /* out of memory at every allocation of a read: clean failure, no leak */
    muon_safetensors_write(tmp_path, &t, 1, (const char *const[]){"k", "v", NULL});
    for (k = 1; k < 64; k++) {
        int st;
        muon_alloc_fail_after(k);
        st = muon_safetensors_read(tmp_path, &f);
        muon_alloc_fail_after(0);
        if (st == MUON_OK) { muon_safetensors_free(&f); break; }
        ok &= st == MUON_ERR_NOMEM && f.count == 0;
    }
    check(ok && k > 1, "allocation failure at each of the first %d allocations -> out of memory, nothing kept", k - 1);
    remove(tmp_path);
}

/* Writes header JSON hdr (padded) and nbytes of data bytes `fill` to path. */
static void write_raw(const char *path, const char *hdr, size_t nbytes, int fill)
{
    FILE *f = fopen(path, "wb");
    size_t n = strlen(hdr), k;
    unsigned char len[8];
    for (k = 0; k < 8; k++) len[k] = (unsigned char)((uint64_t)n >> (8 * k));
    if (!f) return;
    fwrite(len, 1, 8, f);
    fwrite(hdr, 1, n, f);
    for (k = 0; k < nbytes; k++) fputc(fill, f);
    fclose(f);
}

/* issue 15: integrity and the reader's fixed-size buffers */
static void test_integrity(void)
{
    float a[6] = {1, 2, 3, 4, 5, 6};
    muon_tensor t;
    muon_safetensors f;
    FILE *fp;
    long size;
    int st;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = a;
    muon_safetensors_write(tmp_path, &t, 1, NULL);
    /* flip one bit of the last float (its byte 2: a mantissa bit) */
    fp = fopen(tmp_path, "r+b");
    if (fp && fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 4 && fseek(fp, size - 2, SEEK_SET) == 0) {
        int c = fgetc(fp);
        fseek(fp, size - 2, SEEK_SET);
        fputc(c ^ 0x04, fp);
    }
    if (fp) fclose(fp);
    st = muon_safetensors_read(tmp_path, &f);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), "corrupted") && strstr(muon_last_error(), "CRC-32C"),
          "one flipped bit in the tensor data is detected (CRC-32C in __metadata__): %s", muon_last_error());
    if (!st) muon_safetensors_free(&f);

    muon_safetensors_write(tmp_path, &t, 1, NULL);
    fp = fopen(tmp_path, "ab");
    if (fp) { fputc(0, fp); fclose(fp); }
    st = muon_safetensors_read(tmp_path, &f);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), "1 bytes after the last tensor"),
          "a byte appended after the data is rejected: %s", muon_last_error());
    if (!st) muon_safetensors_free(&f);

    /* a foreign file (no checksum) still loads; a malformed checksum does not */
    write_raw(tmp_path, "{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, 7);
    st = muon_safetensors_read(tmp_path, &f);
    check(st == 0 && f.count == 1 && f.tensors[0].data[1] == 7.0f && !muon_safetensors_meta(&f, "muon.crc32c"),
          "a file without muon.crc32c (another tool's) loads: %s", st ? muon_last_error() : "ok");
    if (!st) muon_safetensors_free(&f);
    write_raw(tmp_path, "{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        "\"__metadata__\":{\"muon.crc32c\":\"xyz\"}}", 2, 7);
    st = muon_safetensors_read(tmp_path, &f);
    check(st == MUON_ERR_FORMAT && strstr(muon_last_error(), "muon.crc32c"), "a malformed muon.crc32c is rejected: %s", muon_last_error());
    if (!st) muon_safetensors_free(&f);

    /* 8 dimensions of 19 digits with a zero one: numel 0, so it passes the
     * size checks; the shape message of muon_safetensors_expect needs 159 characters
     * (its 128-byte buffer overflowed on the stack) */
    write_raw(tmp_path, "{\"w\":{\"dtype\":\"F32\",\"shape\":[0,1000000000000000000,1000000000000000000,"
                        "1000000000000000000,1000000000000000000,1000000000000000000,1000000000000000000,"
                        "1000000000000000000],\"data_offsets\":[0,0]}}", 0, 0);
    st = muon_safetensors_read(tmp_path, &f);
    if (check(st == 0 && f.count == 1 && f.tensors[0].ndim == 8 && f.tensors[0].numel == 0,
              "8-dimensional shape with a zero dimension reads (numel 0): %s", st ? muon_last_error() : "ok")) {
        int64_t want[2] = {2, 3};
        const muon_tensor *got = muon_safetensors_expect(&f, "w", 2, want);
        check(!got && strstr(muon_last_error(), "(0,1000000000000000000,1000000000000000000,1000000000000000000,"
                                                "1000000000000000000,1000000000000000000,1000000000000000000,"
                                                "1000000000000000000), expected (2,3)"),
              "muon_safetensors_expect names the whole 8-dimensional shape: %s", muon_last_error());
        muon_safetensors_free(&f);
    }
}

void suite_safetensors(void)
{
    test_golden_dtypes();
    test_round_trip();
    test_malformed();
    test_write_errors();
    test_integrity();
}
