/* Validation loss with its standard error (train/evaluate.c).
 *
 * Two estimators of the same quantity, the mean next-byte cross-entropy of
 * the validation split (docs/research.md, "Validation loss"):
 *   - sampled: the fixed batches 0..n-1 of muon_data_batch (random windows),
 *     cheap, used during training;
 *   - full: every non-overlapping window of T+1 bytes of the split, used at
 *     the end of training and whenever --eval-batches 0 asks for it.
 * Both report the standard error sd(window losses)/sqrt(windows), which
 * treats windows as independent draws of "text like the split". */
#ifndef MUON_TRAIN_EVALUATE_H
#define MUON_TRAIN_EVALUATE_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */
#include "train/shard.h"

typedef struct {
    double mean;   /* nats per byte, the mean over windows (= over tokens) */
    double se;     /* standard error of the mean over windows; NaN if 1 window */
    long windows;  /* windows evaluated, each of T predicted bytes */
} muon_eval_result;

/* Mean loss over the fixed validation batches 0..n_batches-1 (B windows each).
 * tok, tgt: (B,T) scratch. */
int muon_eval_sampled(muon_model *m, const muon_data *d, uint64_t seed, int n_batches,
                      int B, int T, int *tok, int *tgt, muon_eval_result *out);

/* Loss over the whole validation split in non-overlapping windows: window k
 * predicts bytes k*T+1 .. k*T+T from bytes k*T .. k*T+T-1; the tail shorter
 * than T+1 bytes is left out. Batches of up to B windows. tok, tgt: (B,T). */
int muon_eval_full(muon_model *m, const muon_data *d, int B, int T,
                   int *tok, int *tgt, muon_eval_result *out);

/* Either estimator with its batches spread over the ranks of sh (batch i on
 * rank i mod ranks; sh NULL: all here): each window's loss is computed by
 * one rank, and rank 0 adds them in window order, so *out (valid on rank 0)
 * has the same bits for any rank count. n_batches < 0: the full split.
 * extra(n_extra) (NULL, 0: none): models of m's config holding one
 * sequence, whose parameters are set to m's, that evaluate windows beside
 * m on the other threads when m too holds one (the tree's workers,
 * train/data_parallel.h); the same bits for any thread count.
 * Collective; allocates a loss and an owner per window. */
int muon_eval_spread(muon_model *m, const muon_data *d, uint64_t seed, int n_batches, int B, int T,
                     int *tok, int *tgt, muon_shard *sh, muon_model *extra, int n_extra,
                     muon_eval_result *out);

/* The flag value that asks for the full split at every evaluation. */
#define MUON_EVAL_FULL_SPLIT 0

#endif
