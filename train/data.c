/* The training corpus: byte-level tokens (token id = byte value, vocabulary
 * 256), a 95/5 train/validation split and stateless batch sampling.
 *
 * The corpus is used exactly as stored (data/kjv.txt keeps its chapter
 * headings, verse numbers and 80-column line breaks): a byte model has to learn
 * that layout too, and not cleaning means nothing to document or get wrong.
 *
 * The validation split is the last 5% of the file (not a random 5%), so no
 * validation window overlaps a training window except across the one seam.
 *
 * Batch sampling is a pure function of (seed, split, index): the RNG is reseeded
 * for every batch, so resuming at step s needs no saved RNG state and the batch
 * never depends on how many batches were drawn before. */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L /* stat */
#include <sys/stat.h>
#include <sys/types.h>
#endif
#include "train/train.h"
#include "model/experiments.h"
#include "metrics/metrics.h"
#include "plots/plots.h"

#include <errno.h>

#include <math.h>
#include <string.h>

int muon_data_load(muon_data *d, const char *path)
{
    FILE *f;
    long len;
    size_t got;
    memset(d, 0, sizeof *d);
#if defined(__unix__) || defined(__APPLE__)
    {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            return muon_error(MUON_ERR_IO, "data file %s is a directory, not a data file", path);
    }
#endif
    errno = 0;
    f = fopen(path, "rb");
    if (!f) return muon_error(MUON_ERR_IO, "data file %s: cannot open it (%s)", path, errno ? strerror(errno) : "unknown cause");
    /* elsewhere fopen may open a directory, whose "size" is then garbage
     * (LONG_MAX on glibc): a first byte that cannot be read catches it */
    if (getc(f) == EOF && ferror(f)) {
        fclose(f);
        return muon_error(MUON_ERR_IO, "data file %s: cannot read it (a directory?)", path);
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return muon_error(MUON_ERR_IO, "data file %s: cannot determine its size", path);
    }
    if (len == 0) {
        fclose(f);
        return muon_error(MUON_ERR_FORMAT, "data file %s is empty", path);
    }
    d->bytes = muon_alloc((size_t)len);
    if (!d->bytes) { fclose(f); return MUON_ERR_NOMEM; }
    got = fread(d->bytes, 1, (size_t)len, f);
    if (got != (size_t)len || ferror(f)) {
        fclose(f);
        muon_data_free(d);
        return muon_error(MUON_ERR_IO, "data file %s: read error", path);
    }
    fclose(f);
    d->n = (size_t)len;
    /* 95% train; integer arithmetic so the split is the same on every platform */
    d->n_train = d->n - d->n / 20;
    return MUON_OK;
}

void muon_data_free(muon_data *d)
{
    if (!d) return;
    muon_free(d->bytes);
    muon_free(d->ids);
    memset(d, 0, sizeof *d);
}

size_t muon_data_split_size(const muon_data *d, int split)
{
    return split == MUON_SPLIT_VAL ? d->n - d->n_train : d->n_train;
}

/* splitmix64's finaliser: a bijective mix, so distinct (seed, split, index)
 * give unrelated streams. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int muon_data_batch(const muon_data *d, int split, uint64_t seed, long index,
                    int B, int T,
                    int *tokens,  /* (B,T) */
                    int *targets) /* (B,T) */
{
    size_t base = split == MUON_SPLIT_VAL ? d->n_train : 0;
    size_t len = muon_data_split_size(d, split);
    muon_rng r;
    int b, t;
    if (B < 1 || T < 1) return muon_error(MUON_ERR_ARG, "data batch: bad shape B=%d T=%d", B, T);
    if (index < 0) return muon_error(MUON_ERR_ARG, "data batch: negative index %ld", index);
    if (len < (size_t)T + 1)
        return muon_error(MUON_ERR_ARG, "data: the %s split has %lu bytes, fewer than seq_len+1 = %d",
                          split == MUON_SPLIT_VAL ? "validation" : "training",
                          (unsigned long)len, T + 1);
    muon_rng_seed(&r, mix64(seed ^ mix64((uint64_t)index * 2u + (uint64_t)(split == MUON_SPLIT_VAL))));
    for (b = 0; b < B; b++) {
        size_t off = base + (size_t)muon_rng_below(&r, (uint64_t)(len - (size_t)T));
        if (d->ids) { /* a pre-tokenised corpus (model/token_file.c) */
            const uint32_t *w = d->ids + off;
            for (t = 0; t < T; t++) {
                tokens[(size_t)b * T + t] = (int)w[t];
                targets[(size_t)b * T + t] = (int)w[t + 1];
            }
            continue;
        }
        {
            const unsigned char *w = d->bytes + off;
            for (t = 0; t < T; t++) {
                tokens[(size_t)b * T + t] = w[t];
                targets[(size_t)b * T + t] = w[t + 1];
            }
        }
    }
    return MUON_OK;
}

double muon_data_unigram_entropy(const muon_data *d)
{
    double count[256] = {0}, h = 0.0;
    size_t i;
    if (d->ids) return muon_data_token_entropy(d);
    for (i = 0; i < d->n_train; i++) count[d->bytes[i]] += 1.0;
    for (i = 0; i < 256; i++)
        if (count[i] > 0) {
            double p = count[i] / (double)d->n_train;
            h -= p * log(p);
        }
    return h;
}
