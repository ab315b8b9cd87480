/* Harness: the safetensors reader (every checkpoint, golden file and
 * `muon analyze` input goes through it), then the accessors a loader uses on
 * what it returns, including the shape-mismatch message of muon_st_expect
 * (a 128-byte buffer once overflowed there on 8 long dimensions). */
#include "tests/fuzz/fuzz.h"
#include "muon.h"

#include <string.h>

int fuzz_safetensors(const uint8_t *data, size_t size)
{
    muon_st_file f;
    const char *path = fuzz_input_file("safetensors", data, size);
    int i, k;
    if (!path || muon_st_read(path, &f)) return 0;
    for (i = 0; i < f.count; i++) {
        const muon_st_tensor *t = &f.tensors[i];
        int64_t other[MUON_ST_MAXDIM];
        volatile float sink = 0.0f;
        size_t e;
        for (e = 0; e < t->numel; e++) sink += t->data[e];
        for (k = 0; k < t->ndim; k++) other[k] = t->shape[k] + 1;
        (void)muon_st_expect(&f, t->name, t->ndim, t->shape);
        (void)muon_st_expect(&f, t->name, t->ndim, other);
        (void)muon_st_expect(&f, t->name, MUON_ST_MAXDIM, t->shape);
        (void)muon_st_find(&f, t->name);
        (void)sink;
    }
    for (i = 0; i < f.meta_count; i++) (void)muon_st_meta(&f, f.meta_keys[i]);
    muon_st_free(&f);
    return 0;
}
