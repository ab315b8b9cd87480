/* One training step, in the order of the model diagram (docs/walkthrough.md
 * follows it line by line): the batch of this step, zero the gradients,
 * forward, backward, the learning rate of this step, the optimizer step.
 * Everything else a run does (metric rows, tracking, evaluation, progress,
 * checkpoints) is bookkeeping around it, in train/train.c.
 *
 * Nothing here allocates: the model's activations, the optimizer's state and
 * its orthogonaliser workspaces were sized at creation. */
#include "train/train.h"

#include <math.h>

int muon_train_step(muon_model *m, muon_optim *o, const muon_data *d,
                    const muon_train_config *c, long step,
                    int *tokens,   /* (B,T) scratch */
                    int *targets,  /* (B,T) scratch */
                    double *lr_mult)
{
    const int B = c->model.batch_size, T = c->model.seq_len;
    int st;
    if ((st = muon_data_batch(d, MUON_SPLIT_TRAIN, c->seed, step, B, T, tokens, targets))) return st;
    muon_model_zero_grad(m);
    if ((st = muon_model_forward(m, tokens, targets, B, T))) return st;
    if (!isfinite(m->loss))
        return muon_error(MUON_ERR_NUMERIC, "loss is %g", (double)m->loss);
    if ((st = muon_model_backward(m))) return st;
    *lr_mult = muon_lr_multiplier(c->schedule, step, c->warmup, c->steps, c->lr_floor);
    return muon_optim_step(o, m, *lr_mult);
}
