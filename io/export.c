/* Weights-only export: a checkpoint without its optimizer state (optim.*),
 * which is most of its size with Muon + AdamW (momentum and two Adam moments)
 * and which PyTorch's strict load_state_dict would refuse as unexpected keys.
 * Tensor names are already PyTorch's (train/checkpoint.c), so nothing is
 * renamed. */
#include "io/export.h"

#include <stdlib.h>
#include <string.h>

int muon_export_weights(const char *ckpt, const char *out, int *n_written)
{
    muon_safetensors f;
    muon_tensor *keep = NULL;
    const char **kv = NULL;
    int i, n = 0, m = 0, st;
    if (n_written) *n_written = 0;
    if (!ckpt || !out) return muon_error(MUON_ERR_ARG, "export: no checkpoint or output path");
    st = muon_checkpoint_open(ckpt, &f);
    if (st) return st;
    keep = malloc(((size_t)f.count + 1) * sizeof *keep);
    kv = malloc(((size_t)f.meta_count * 2 + 3) * sizeof *kv);
    if (!keep || !kv) { st = muon_error(MUON_ERR_NOMEM, "export: out of memory"); goto done; }
    for (i = 0; i < f.count; i++)
        if (strncmp(f.tensors[i].name, "optim.", 6) != 0) keep[n++] = f.tensors[i];
    if (n == 0) { st = muon_error(MUON_ERR_FORMAT, "export: %s holds no model tensors", ckpt); goto done; }
    for (i = 0; i < f.meta_count; i++) {
        if (!strcmp(f.meta_keys[i], "export")) continue;
        kv[m++] = f.meta_keys[i];
        kv[m++] = f.meta_values[i];
    }
    kv[m++] = "export";
    kv[m++] = "weights-only";
    kv[m] = NULL;
    st = muon_safetensors_write(out, keep, n, kv);
    if (!st && n_written) *n_written = n;
done:
    free(keep);
    free(kv);
    muon_safetensors_free(&f);
    return st;
}
