/* Harness: the safetensors reader (every checkpoint, golden file and
 * `muon analyze` input goes through it), then the accessors a loader uses on
 * what it returns, including the shape-mismatch message of muon_safetensors_expect
 * (a 128-byte buffer once overflowed there on 8 long dimensions). */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

#include <string.h>

int fuzz_safetensors(const uint8_t *data, size_t size)
{
    muon_safetensors f;
    const char *path = fuzz_input_file("safetensors", data, size);
    int i, k;
    if (!path || muon_safetensors_read(path, &f)) return 0;
    for (i = 0; i < f.count; i++) {
        const muon_tensor *t = &f.tensors[i];
        int64_t other[MUON_TENSOR_MAXDIM];
        volatile float sink = 0.0f;
        size_t e;
        for (e = 0; e < t->numel; e++) sink += t->data[e];
        for (k = 0; k < t->ndim; k++) other[k] = t->shape[k] + 1;
        (void)muon_safetensors_expect(&f, t->name, t->ndim, t->shape);
        (void)muon_safetensors_expect(&f, t->name, t->ndim, other);
        (void)muon_safetensors_expect(&f, t->name, MUON_TENSOR_MAXDIM, t->shape);
        (void)muon_safetensors_find(&f, t->name);
        (void)sink;
    }
    for (i = 0; i < f.meta_count; i++) (void)muon_safetensors_meta(&f, f.meta_keys[i]);
    muon_safetensors_free(&f);
    return 0;
}
