/* io/export.h -- weights-only export of a checkpoint (io/export.c). */
#ifndef MUON_IO_EXPORT_H
#define MUON_IO_EXPORT_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

/* Writes the model tensors of checkpoint ckpt (every tensor but optim.*) with
 * their names and shapes, and its metadata plus "export" = "weights-only", to
 * out atomically, so PyTorch's load_state_dict(strict=True) on
 * tests/golden/torch_model.py's Model takes it and `muon sample/analyze`
 * still read it. *n_written (may be NULL) gets the tensor count.
 * MUON_ERR_IO/FORMAT naming the file; nothing is written on failure. */
int muon_export_weights(const char *ckpt, const char *out, int *n_written);

#endif
