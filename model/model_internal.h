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

#endif /* MUON_MODEL_INTERNAL_H */
