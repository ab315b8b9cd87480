/* train/train.h -- internal declarations of train/: data, schedule, the optimizers' kernels, checkpoint metadata. */
#ifndef MUON_TRAIN_H
#define MUON_TRAIN_H

#include "linalg/linalg.h"
#include "io/io.h"
#include "model/model_internal.h"

/* ---- Data (train/data.c): byte-level tokens, token id = byte value -------- */

typedef struct {
    unsigned char *bytes;  /* (n) the whole corpus, used as is */
    size_t n;
    size_t n_train;        /* [0, n_train) trains; [n_train, n), the last 5%, validates */
    /* a pre-tokenised corpus (model/token_file.c): ids(n) instead of bytes */
    uint32_t *ids;         /* NULL for byte-level text */
    int format;            /* muon_data_format of model/experiments.h */
    uint32_t max_id;       /* the largest id in ids */
    int vocab_hint;        /* vocabulary the file's header implies (llm.c GPT-2: 50257), 0 if none */
} muon_data;

enum { MUON_SPLIT_TRAIN = 0, MUON_SPLIT_VAL = 1 };

/* Reads a whole corpus file; MUON_ERR_IO naming a missing/unreadable file,
 * MUON_ERR_FORMAT if it is empty. *d is zeroed on failure. */
int muon_data_load(muon_data *d, const char *path);
void muon_data_free(muon_data *d);
/* Bytes in a split. */
size_t muon_data_split_size(const muon_data *d, int split);
/* Batch `index` of a split (the step for training, 0.. for the fixed validation
 * batches): B windows of T+1 bytes at offsets drawn from an RNG seeded by
 * (seed, split, index) alone, so a resumed run needs no RNG state.
 * tokens(B,T) = window[0..T-1], targets(B,T) = window[1..T]. MUON_ERR_ARG if
 * the split is shorter than T+1 bytes. */
int muon_data_batch(const muon_data *d, int split, uint64_t seed, long index,
                    int B, int T, int *tokens, int *targets);
/* Byte-unigram entropy of the training split in nats (the loss of a model that
 * knows only byte frequencies). */
double muon_data_unigram_entropy(const muon_data *d);

/* ---- LR schedule (train/schedule.c) -------------------------------------- */

/* "constant", "cosine"; parse gives MUON_ERR_ARG naming an unknown name. */
const char *muon_sched_name(muon_sched_kind k);
int muon_sched_parse(const char *name, muon_sched_kind *k);
/* LR multiplier of step (1-based) out of total: step/warmup while step <= warmup
 * (never 0: no lr-0 first step), then 1 (constant) or a half cosine from 1 at
 * the end of warmup to floor at step == total. */
double muon_lr_multiplier(muon_sched_kind kind, long step, long warmup, long total,
                          double floor);

/* "muon", "adamw"; parse: MUON_ERR_ARG naming an unknown name. */
const char *muon_opt_name(muon_opt_kind k);
int muon_opt_parse(const char *name, muon_opt_kind *k);
/* "default", "moonlight"; parse: MUON_ERR_ARG naming an unknown name. */
const char *muon_mscale_name(muon_mscale_kind k);
int muon_mscale_parse(const char *name, muon_mscale_kind *k);
/* Muon's update scale for a (rows,cols) matrix. */
float muon_update_scale(muon_mscale_kind k, int rows, int cols);

/* Muon's momentum part alone: M(n) <- mu M + (1-mu) G(n); U(n) = (1-mu) G + mu M
 * (Nesterov) or M. muon_orthogonal_update starts with it. */
void muon_momentum_update(const muon_optim_config *c, size_t n, const float *G, float *M,
                          float *U);
/* Global-norm clipping of g(n) in place, as torch.nn.utils.clip_grad_norm_:
 * when clip > 0 and the norm exceeds it, g *= clip/(norm + 1e-6). Returns the
 * norm before clipping (a non-finite norm leaves g untouched). */
double muon_clip_grads(float *g, size_t n, float clip);

/* One Muon step on W(rows,cols) with gradient G(rows,cols) at learning rate lr:
 * M(rows,cols) <- mu M + (1-mu) G; O(rows,cols) = orth(U); W <- W (1 - lr wd)
 * - lr scale O; delta(rows,cols) = W after - W before. MUON_ERR_ARG/NOMEM. */
int muon_orthogonal_update(const muon_optim_config *c, float lr, int rows, int cols,
                           float *W, const float *G, float *M, float *O, float *delta);
/* The same with the orthogonaliser's scratch in ws (allocates nothing when ws
 * was reserved with muon_orth_workspace_bytes for this shape). */
int muon_orthogonal_update_ws(muon_workspace *ws, const muon_optim_config *c, float lr,
                              int rows, int cols, float *W, const float *G, float *M,
                              float *O, float *delta, uint64_t noise_key);
/* One AdamW step, as torch.optim.AdamW, on n values: t is the 1-based step
 * (bias correction), wd the decoupled weight decay; m(n), v(n) the moments;
 * delta(n) = W after - W before. */
void muon_adamw_update(const muon_optim_config *c, float lr, float wd, long t, size_t n,
                       float *W, const float *G, float *m, float *v, float *delta);
/* Global L2 norm of g(n): one double accumulator in index order, so the value
 * is defined by the data alone (thread-count independent). */
double muon_grad_norm(const float *g, size_t n);

/* 1 if the parameter is trained by Muon under cfg. */
int muon_optim_uses_muon(const muon_optim_config *cfg, const muon_param *p);

/* The settings as NULL-terminated key/value pairs for metadata (static storage,
 * valid until the next call). */
const char *const *muon_train_config_meta(const muon_train_config *c);

/* ---- Checkpoints (train/checkpoint.c) ---- */

/* The step recorded in a checkpoint (>= 0). */
int muon_checkpoint_step(const muon_safetensors *f, long *step);
/* Restores o's state (created for m with the same optimizer kind) from f. */
int muon_checkpoint_load_optim(const muon_safetensors *f, const muon_model *m, muon_optim *o);

/* ---- The training step (train/train_step.c) ---- */

struct muon_dp; /* train/data_parallel.h */

/* One step: batch `step` of the training split into tokens/targets (B,T),
 * the gradient (dp NULL, --reduce batch: zero_grad, one forward and backward
 * of the whole batch; else the per-sequence tree of train/data_parallel.h,
 * over dp's ranks), *lr_mult from the schedule, the optimizer step (with
 * ranks: each on the tensors it owns, then the parameters shared).
 * Allocates nothing. MUON_ERR_NUMERIC when the loss or the gradient norm is
 * not finite (the parameters are then untouched). Collective with ranks. */
int muon_train_step(muon_model *m, muon_optim *o, struct muon_dp *dp, const muon_data *d,
                    const muon_train_config *c, long step, int *tokens, int *targets,
                    double *lr_mult);

#endif /* MUON_TRAIN_H */
