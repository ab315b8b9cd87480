/* One training step, in the order of the model diagram (docs/walkthrough.md
 * follows it line by line): the batch of this step, the gradient of the
 * batch, the learning rate of this step, the optimizer step. Everything else
 * a run does (metric rows, tracking, evaluation, progress, checkpoints) is
 * bookkeeping around it, in train/train.c.
 *
 * The gradient is either one forward and backward pass of the whole batch
 * (--reduce batch) or the fixed tree of per-sequence gradients of
 * train/data_parallel.h (--reduce tree, the default): the same bits for any
 * number of MPI ranks, or none (docs/distributed.md).
 *
 * Nothing here allocates: the model's activations, the optimizer's state and
 * its orthogonaliser workspaces, and the tree's buffers were sized at creation. */
#include "train/train.h"
#include "train/data_parallel.h"
#include "dist/dist.h"

#include <math.h>

int muon_train_step(muon_model *m, muon_optim *o, muon_dp *dp, const muon_data *d,
                    const muon_train_config *c, long step,
                    int *tokens,   /* (B,T) scratch */
                    int *targets,  /* (B,T) scratch */
                    double *lr_mult)
{
    const int B = c->model.batch_size, T = c->model.seq_len;
    int st;
    if ((st = muon_data_batch(d, MUON_SPLIT_TRAIN, c->seed, step, B, T, tokens, targets))) return st;
    if (!dp) {
        if ((st = muon_model_forward(m, tokens, targets, B, T))) return st;
        if (!isfinite(m->loss))
            return muon_error(MUON_ERR_NUMERIC, "loss is %g", (double)m->loss);
        if ((st = muon_model_backward_set(m))) return st;
        *lr_mult = muon_lr_multiplier(c->schedule, step, c->warmup, c->steps, c->lr_floor);
        return muon_optim_step(o, m, *lr_mult);
    }
    /* every rank knows the whole batch loss: all of them stop here, or
     * none; agreed, so one of them says so */
    if ((st = muon_dp_gradient(dp, m, tokens, targets))) return st;
    if ((st = muon_dist_agree(isfinite(m->loss) ? MUON_OK : muon_error(MUON_ERR_NUMERIC, "loss is %g", (double)m->loss))))
        return st;
    *lr_mult = muon_lr_multiplier(c->schedule, step, c->warmup, c->steps, c->lr_floor);
    st = muon_dist_agree(muon_optim_step_shard(o, m, *lr_mult, dp->shard));
    if (st) return st;
    return muon_shard_share_tensors(dp->shard, m, m->params, -1);
}
