/* Pre-tokenised corpora for --data: the two uint16 token-file layouts of the
 * reference implementations, read as documented in docs/experiments.md
 * (layouts checked against the sources at these commits):
 *  - nanoGPT (github.com/karpathy/nanoGPT @ 3adf61e1, data/{shakespeare,openwebtext,...}/prepare.py):
 *    np.array(ids, dtype=np.uint16).tofile(path) -- raw little-endian
 *    uint16, no header; the vocabulary size lives in meta.pkl (a pickle) or
 *    is GPT-2's 50257, so it comes from --vocab-size.
 *  - llm.c (github.com/karpathy/llm.c @ f1e2ace6, dev/data/data_common.py
 *    write_datafile, llmc/dataloader.h): a header of 256 little-endian int32
 *    (magic 20240520, version 1, token count), then uint16 ids (GPT-2); or
 *    magic 20240801, version 7, uint32 ids (Llama 3). The magic implies the
 *    vocabulary: 50257 (GPT-2) or 128256 (Llama 3).
 * Ids are kept as uint32 whatever the file's width. Like the text path, the
 * last 5% of the ids validate. Everything is read byte by byte in little-
 * endian order, so a big-endian host reads the same ids. */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L /* stat */
#include <sys/stat.h>
#include <sys/types.h>
#endif
#include "model/experiments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLMC_MAGIC_GPT2 20240520L
#define LLMC_MAGIC_LLAMA3 20240801L
#define LLMC_HEADER_BYTES 1024

static const char *const fmt_names[4] = { "auto", "text", "nanogpt", "llmc" };

const char *muon_data_format_name(int f) { return f >= 0 && f < 4 ? fmt_names[f] : "unknown"; }

int muon_data_format_parse(const char *s, int *f)
{
    int i;
    for (i = 0; i < 4; i++)
        if (s && !strcmp(s, fmt_names[i])) { *f = i; return MUON_OK; }
    return muon_error(MUON_ERR_ARG, "unknown data format '%s' (auto|text|nanogpt|llmc)", s ? s : "");
}

static long le32(const unsigned char *p)
{
    unsigned long u = (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
    return u >= 0x80000000ul ? -(long)(0xfffffffful - u) - 1 : (long)u;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int muon_data_open(muon_data *d, const char *path, int fmt)
{
    muon_data raw;
    const unsigned char *p;
    size_t n_bytes, off = 0, width = 2, count, i;
    int st;
    memset(d, 0, sizeof *d);
    if (fmt < MUON_DATA_AUTO || fmt > MUON_DATA_LLMC) return muon_error(MUON_ERR_ARG, "data: bad format %d", fmt);
    /* the whole file as bytes: the text path as it always was */
    st = muon_data_load(&raw, path);
    if (st) return st;
    if (fmt == MUON_DATA_AUTO) {
        long magic = raw.n >= 4 ? le32(raw.bytes) : 0;
        if (raw.n >= LLMC_HEADER_BYTES && (magic == LLMC_MAGIC_GPT2 || magic == LLMC_MAGIC_LLAMA3)) fmt = MUON_DATA_LLMC;
        else if (ends_with(path, ".bin")) fmt = MUON_DATA_NANOGPT;
        else fmt = MUON_DATA_TEXT;
    }
    if (fmt == MUON_DATA_TEXT) {
        *d = raw;
        d->format = MUON_DATA_TEXT;
        return MUON_OK;
    }
    p = raw.bytes;
    n_bytes = raw.n;
    if (fmt == MUON_DATA_LLMC) {
        long magic, version, ntok;
        if (n_bytes < LLMC_HEADER_BYTES) {
            st = muon_error(MUON_ERR_FORMAT, "data file %s: %lu bytes, shorter than llm.c's 1024-byte header", path, (unsigned long)n_bytes);
            goto fail;
        }
        magic = le32(p);
        version = le32(p + 4);
        ntok = le32(p + 8);
        if (magic == LLMC_MAGIC_GPT2 && version == 1) { width = 2; d->vocab_hint = 50257; }
        else if (magic == LLMC_MAGIC_LLAMA3 && version == 7) { width = 4; d->vocab_hint = 128256; }
        else {
            st = muon_error(MUON_ERR_FORMAT, "data file %s: not an llm.c token file (magic %ld, version %ld; "
                            "want 20240520/1 or 20240801/7)", path, magic, version);
            goto fail;
        }
        if (ntok < 0 || (n_bytes - LLMC_HEADER_BYTES) % width != 0 ||
            (size_t)ntok != (n_bytes - LLMC_HEADER_BYTES) / width) {
            st = muon_error(MUON_ERR_FORMAT, "data file %s: its llm.c header says %ld tokens but %lu bytes follow it "
                            "(%lu-byte tokens)", path, ntok, (unsigned long)(n_bytes - LLMC_HEADER_BYTES), (unsigned long)width);
            goto fail;
        }
        off = LLMC_HEADER_BYTES;
    } else if (n_bytes % 2 != 0) {
        st = muon_error(MUON_ERR_FORMAT, "data file %s: %lu bytes is not a whole number of uint16 tokens (nanoGPT layout)",
                        path, (unsigned long)n_bytes);
        goto fail;
    }
    count = (n_bytes - off) / width;
    if (count == 0) {
        st = muon_error(MUON_ERR_FORMAT, "data file %s holds no tokens", path);
        goto fail;
    }
    d->ids = muon_alloc(count * sizeof *d->ids);
    if (!d->ids) { st = MUON_ERR_NOMEM; goto fail; }
    for (i = 0; i < count; i++) {
        const unsigned char *q = p + off + i * width;
        uint32_t v = (uint32_t)q[0] | (uint32_t)q[1] << 8;
        if (width == 4) v |= (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        d->ids[i] = v;
        if (v > d->max_id) d->max_id = v;
    }
    muon_data_free(&raw);
    d->n = count;
    d->n_train = count - count / 20; /* 95/5 as for text */
    d->format = fmt;
    return MUON_OK;
fail:
    muon_data_free(&raw);
    muon_data_free(d);
    return st;
}

double muon_data_token_entropy(const muon_data *d)
{
    double *count, h = 0.0;
    size_t i, k;
    if (!d->ids || d->max_id >= (1u << 24) || d->n_train == 0) return NAN;
    k = (size_t)d->max_id + 1;
    count = calloc(k, sizeof *count);
    if (!count) return NAN;
    for (i = 0; i < d->n_train; i++) count[d->ids[i]] += 1.0;
    for (i = 0; i < k; i++)
        if (count[i] > 0) {
            double q = count[i] / (double)d->n_train;
            h -= q * log(q);
        }
    free(count);
    return h;
}
