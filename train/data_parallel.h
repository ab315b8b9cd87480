/* train/data_parallel.h -- the gradient of a batch as a fixed tree of
 * per-sequence gradients, computed by any number of ranks
 * (docs/distributed.md#the-reduction).
 *
 * Sequence s of the batch has its own gradient g_s (a forward and backward
 * pass of that sequence alone). The batch gradient is (1/B) times the sum
 * of the g_s in one fixed binary tree over [0, B): [a, b) with b - a >= 2 is
 * [a, m) + [m, b), m = a + the largest power of two below b - a. Rank r of R
 * holds sequences [rB/R, (r+1)B/R) and sums the largest tree nodes inside
 * its range; each tensor's owner (train/shard.h) receives those partial
 * sums and adds them up the same tree. Floating-point addition is
 * commutative, so the result depends on the tree alone: the same bits for
 * any rank count that divides B, and for one process. */
#ifndef MUON_DATA_PARALLEL_H
#define MUON_DATA_PARALLEL_H

#include "train/shard.h"

typedef struct { int lo, hi; } muon_span; /* sequences [lo, hi) */

/* Where the tree splits [a, b), b - a >= 2. */
int muon_tree_split(int a, int b);
/* The largest tree nodes of [0, n) that lie inside [lo, hi), left to right:
 * their count (at most 2 log2 n + 2); out[0..cap) receives them. */
int muon_tree_nodes(int n, int lo, int hi, muon_span *out, int cap);

typedef struct muon_dp {
    muon_shard *shard;
    int B, T;
    int lo, hi;             /* this rank's sequences */
    int n_nodes;            /* every rank's nodes, in order */
    muon_span *nodes;       /* (n_nodes) */
    int *node_rank;         /* (n_nodes) who computes each */
    int first, count;       /* this rank's nodes: nodes[first .. first+count) */
    int depth;              /* levels below the root */
    float *local;           /* (count, P) this rank's node sums */
    float *tmp;             /* (levels of this rank's deepest node, P) right children while summing */
    /* the exchange's buffers, with R > 1 only (else NULL) */
    float *send;            /* (count * P) node sums packed by owner */
    float *recv;            /* (n_nodes * owned) every node's sum of this rank's tensors */
    float *ctmp;            /* (depth + 1, owned) the batch's sum of this rank's tensors, then right children */
    int *scounts, *sdispls, *rcounts, *rdispls, *lcounts, *ldispls; /* (R) */
    double *losses;         /* (B) per-sequence losses */
    double *my_losses;      /* (B/R) this rank's, the send buffer of their all-gather */
    /* Threads split this rank's sequences as ranks split the batch: worker
     * w of W takes [lo + w n/W, lo + (w+1) n/W) (n = hi - lo), sums the
     * largest tree nodes inside it on a model of its own, and the rank's
     * nodes are then added up from those, along the same tree. W is the
     * thread count at creation, at most n; W = 1 leaves it all to the model
     * itself, whose GEMMs then take the threads. */
    int n_workers;
    muon_model *workers;    /* (W - 1) workers 1..W-1: activations of their own, m's parameters,
                             * gradients in the node buffers (params set to m's at every call,
                             * grads NULL between calls) */
    int n_wnodes;           /* every worker's nodes, in order */
    muon_span *wnodes;      /* (n_wnodes) */
    int *wfirst, *wcount;   /* (W) worker w's nodes: wnodes[wfirst[w] .. + wcount[w]) */
    size_t wlevels;         /* levels of the deepest worker node */
    float *wsum;            /* (n_wnodes, P) the workers' node sums */
    float *wtmp;            /* (W, wlevels, P) each worker's right children while summing */
    /* The linear weights packed for the GEMM once per gradient, read by
     * every pass (model/packed_weights.c), where a worker runs several
     * sequences; NULL otherwise. */
    muon_packed_weights *packed;
} muon_dp;

/* Plans the reduction of a batch of B sequences of T tokens over the ranks
 * of s (B a multiple of s->size: MUON_ERR_ARG otherwise) and over the
 * threads of this rank (muon_threads() now), and allocates every buffer of
 * it, the workers' models included: muon_dp_gradient allocates nothing.
 * Call after muon_model_set_bf16 (the workers round as m does). */
int muon_dp_create(muon_dp *dp, muon_shard *s, const muon_model *m, int B, int T);
void muon_dp_free(muon_dp *dp);
/* Packs m's linear weights as they are now into dp->packed and gives them
 * to m and the workers, for one-sequence passes until muon_dp_detach_packs
 * (which call before the weights change); nothing where dp has no packs. */
void muon_dp_attach_packs(muon_dp *dp, muon_model *m);
void muon_dp_detach_packs(muon_dp *dp, muon_model *m);
/* Sets m->loss (every rank) and, for the tensors this rank owns, m->grads to
 * the batch gradient of tokens/targets (B,T) -- the whole batch on every
 * rank. Other tensors' gradients are left undefined. Collective. */
int muon_dp_gradient(muon_dp *dp, muon_model *m, const int *tokens, const int *targets);

#endif
