/* model/model_internal.h -- internal declarations of model/: tracked matrices, lookup by name. */
#ifndef MUON_MODEL_INTERNAL_H
#define MUON_MODEL_INTERNAL_H

#include "linalg/linalg.h"

/* A matrix whose metrics are tracked: every Muon matrix, and for a merged
 * [Q;K;V;O] its four row slices (contiguous in row-major storage). */
typedef struct {
    int layer;
    muon_matrix_kind kind;   /* Q, K, V, O, UP, DOWN or GATE */
    int rows, cols;
    size_t offset;           /* first element in params[] (and any buffer laid out like it) */
} muon_tracked;


/* "relu2", "swiglu"; parse: MUON_ERR_ARG listing the valid names. */
const char *muon_ffn_name(muon_ffn_kind k);
int muon_ffn_parse(const char *name, muon_ffn_kind *k);
/* The muon_matrix_kind called name ("q", ..., "none"), or -1. */
int muon_matrix_index(const char *name);
/* The residual stream (B,T,C) leaving block l (0..L-1) in the last forward
 * (what a conformance check compares layer by layer); NULL if l is out of range. */
const float *muon_model_block_output(const muon_model *m, int l);
/* The tensor called name, or NULL. */
const muon_param *muon_model_find(const muon_model *m, const char *name);
/* Writes the tracked matrices into out (capacity cap), returns how many
 * there are (which may exceed cap: call with cap 0 to count). */
int muon_model_tracked(const muon_model *m, muon_tracked *out, int cap);
/* muon_model_create with activations for max_batch (1..cfg->batch_size)
 * sequences only: the forward pass then takes at most max_batch. What
 * --reduce tree needs, which runs one sequence at a time (the activations
 * grow with the sequences held, and dominate memory at large B*T). */
int muon_model_create_rows(muon_model *m, const muon_config *cfg, int max_batch);
/* The most sequences one forward pass of m takes. */
int muon_model_max_batch(const muon_model *m);

/* A linear layer's weight W(O,I) at params + offset, as forward and
 * backward multiply by it. */
typedef struct {
    size_t offset;
    int I, O;
} muon_linear_weight;
/* Writes m's linear weights into out (capacity cap) in forward order and
 * returns how many there are (call with cap 0 to count). */
int muon_model_linears(const muon_model *m, muon_linear_weight *out, int cap);

/* ---- pre-packed weights (model/packed_weights.c) ---- */

/* Allocates the packs of every linear weight of m (MUON_ERR_NOMEM). */
int muon_packed_weights_create(muon_packed_weights **pw, const muon_model *m);
/* Packs params' linear weights, on up to muon_threads() threads; the packs
 * are valid until params change. */
void muon_packed_weights_fill(muon_packed_weights *pw, const float *params);
void muon_packed_weights_free(muon_packed_weights *pw);
/* W's pack from the last fill, W(O,I) a weight of it: with op MUON_TRANS
 * op(B) = W^T (I,O), the forward's; MUON_NOTRANS W (O,I), the input
 * gradient's. NULL for pw NULL or any other matrix. */
const float *muon_packed_weights_find(const muon_packed_weights *pw, const float *W, int I, int O, muon_op op);

#endif /* MUON_MODEL_INTERNAL_H */
