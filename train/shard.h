/* train/shard.h -- which rank owns which parameter tensor (docs/distributed.md).
 *
 * Each tensor has exactly one owner: it alone combines the tensor's
 * gradient, keeps its optimizer state current, runs its Muon or AdamW update
 * and its tracking metrics; afterwards the owners' results are copied to the
 * ranks that need them. With one rank, rank 0 owns everything and every
 * "copy" is local. */
#ifndef MUON_SHARD_H
#define MUON_SHARD_H

#include "train/train.h"

typedef struct {
    int rank, size;        /* this rank, ranks (dist/dist.h) */
    int n;                 /* tensors of the model */
    int *owner;            /* (n) owning rank of each tensor */
    size_t *owned;         /* (size) floats each rank owns */
    size_t total;          /* floats of the model (= num_params) */
    int *counts, *displs;  /* (size) scratch of the collectives */
    float *send, *recv;    /* (owned[rank]), (total): scratch of muon_shard_share_tensors */
    unsigned char *isend, *irecv; /* (n doubles) each: muon_shard_share_items without allocating */
    size_t *per;           /* (size) */
} muon_shard;

/* Assigns every tensor of m an owner among muon_dist_size() ranks, balancing
 * the work each rank does per step (an estimate in FLOPs: orthogonalising
 * and tracking a (r,c) matrix ~ r c min(r,c), elementwise updates ~ r c),
 * largest first, each to the least-loaded rank (the lowest on a tie): the
 * same assignment on every rank. MUON_ERR_NOMEM, or MUON_ERR_ARG if a rank's
 * share exceeds MPI's int counts. */
int muon_shard_create(muon_shard *s, const muon_model *m);
void muon_shard_free(muon_shard *s);
/* 1 if this rank owns tensor i. */
int muon_shard_owns(const muon_shard *s, int i);
/* The owner of the tensor holding params[offset]. */
int muon_shard_owner_at(const muon_shard *s, const muon_model *m, size_t offset);
/* Every owner's tensors of base (laid out like m->params) copied to all ranks
 * (root < 0) or to root alone. Allocates nothing. */
int muon_shard_share_tensors(muon_shard *s, const muon_model *m, float *base, int root);
/* n records of item_bytes each, record i valid on rank owner[i]: copied to
 * every rank (root < 0) or to root. Allocates nothing for up to one double
 * per tensor (the step's gradient norm), else buffers of the records' size;
 * agrees on that allocation between the ranks before the exchange. */
int muon_shard_share_items(muon_shard *s, void *items, size_t item_bytes, int n, const int *owner, int root);

/* muon_optim_step with the work split by ownership: the gradient norm from
 * every owner's sums of squares (shared), then only this rank's tensors
 * clipped and updated (sh NULL: every tensor, as muon_optim_step). Only the
 * owned tensors' parameters, state and deltas change; muon_shard_share_tensors
 * then spreads the parameters. Collective when sh has several ranks. */
int muon_optim_step_shard(muon_optim *o, muon_model *m, double lr_mult, muon_shard *sh);

#endif
