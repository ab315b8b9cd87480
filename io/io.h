/* io/io.h -- internal declarations of io/: the safetensors shape check and run.json. */
#ifndef MUON_IO_H
#define MUON_IO_H

#include "linalg/linalg.h"

/* The tensor called name with exactly the given shape (ndim dims), or NULL
 * with the last error saying what is missing or mismatched. */
const muon_tensor *muon_safetensors_expect(const muon_safetensors *f, const char *name,
                                     int ndim, const int64_t *shape);

/* What a run did, for run.json. */
typedef struct {
    long steps_done;
    long long tokens_seen;   /* steps * B * T: more than a 32-bit long holds */
    double seconds_total, seconds_train, seconds_orth, seconds_eval, seconds_track;
    double tokens_per_s;               /* training steps only */
    double final_loss, final_val_loss; /* NaN if none */
    double unigram_entropy;            /* of the training split, nats */
    int threads;
    int ranks;                         /* MPI ranks (1: one process) */
    int reduce;                        /* --reduce: MUON_REDUCE_TREE or _BATCH */
    double comm_bytes, comm_seconds;   /* rank 0's bytes sent and seconds in collectives */
    const char *status;                /* "completed", "stopped", "diverged" */
} muon_run_stats;

/* Writes run.json (settings, model, versions, threads, timings, losses)
 * atomically (temporary file + rename). MUON_ERR_IO naming the file. */
int muon_run_json_write(const char *path, const muon_train_config *c, const muon_run_stats *s);

/* Writes count F32 tensors (dtype ignored) and the metadata pairs meta_kv =
 * {key0, value0, ..., NULL} (may be NULL) to path atomically (temporary file,
 * then rename: a failure never leaves a partial file at path). */
int muon_safetensors_write(const char *path, const muon_tensor *t, int count,
                           const char *const *meta_kv);

#endif /* MUON_IO_H */
