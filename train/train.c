/* A training run: checks, resume, then the loop of muon_train_step (the
 * step itself, train/train_step.c) and the bookkeeping after each step
 * (metric rows, tracking, evaluation, progress, checkpoints).
 *
 * Everything that can go wrong with the user's input (settings, data file,
 * checkpoint, output directory) is checked before the first output file is
 * touched, so a refused run leaves nothing behind. A step is a pure function
 * of (parameters, optimizer state, seed, step), all of which a checkpoint
 * holds, so resuming continues bit for bit.
 *
 * With MPI ranks (docs/distributed.md) every rank runs this same code: the
 * step's work is split by train/data_parallel.h and train/shard.h, tracking
 * and evaluation by matrix and by batch, and rank 0 alone writes files and
 * progress. Every point where one rank can fail meets muon_dist_agree
 * before the next collective (sync below), so a failure ends every rank
 * together, with one message. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* mkdir */
#endif
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "train/evaluate.h"
#include "metrics/esd.h"
#include "model/experiments.h"
#include "metrics/events.h"
#include "io/atomic_file.h"
#include "train/data_parallel.h"
#include "dist/dist.h"
#include "metrics/spectral.h"
#include "linalg/omp.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

void muon_train_stop(void) { stop_requested = 1; }


/* mkdir -p, then a probe file: "writable" is decided by actually writing. */
static int prepare_out_dir(const char *out)
{
    char probe[640];
    FILE *f;
    int st;
    if (!*out || strlen(out) >= sizeof probe - 20) return muon_error(MUON_ERR_ARG, "output directory: bad path '%s'", out);
    if ((st = muon_mkdir_p(out))) return muon_error_prefix(st, "output directory: ");
    snprintf(probe, sizeof probe, "%s/.muon_write_probe", out);
    errno = 0;
    f = fopen(probe, "wb");
    if (!f) return muon_error(MUON_ERR_IO, "output directory %s is not writable (%s)", out, strerror(errno));
    fclose(f);
    remove(probe);
    return MUON_OK;
}

static int config_equal(const muon_config *a, const muon_config *b)
{
    return a->vocab_size == b->vocab_size && a->d_model == b->d_model && a->n_layers == b->n_layers &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads && a->d_ff == b->d_ff &&
           a->seq_len == b->seq_len && a->batch_size == b->batch_size && a->ffn == b->ffn &&
           a->untied_head == b->untied_head && a->merged_qkvo == b->merged_qkvo &&
           a->rope_base == b->rope_base && a->norm_eps == b->norm_eps && a->init_std == b->init_std;
}

static void fmt_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

/* What a diverged run leaves to go back to: the last checkpoint this run
 * wrote, else the one it resumed from, else nothing. */
static const char *last_good_checkpoint(char *buf, size_t n, const char *ckpt_path, long ckpt_step,
                                        const muon_train_config *c)
{
    if (ckpt_step > 0) snprintf(buf, n, "last good checkpoint kept: %s, step %ld", ckpt_path, ckpt_step);
    else if (c->resume[0]) snprintf(buf, n, "no checkpoint written since resuming from %s", c->resume);
    else snprintf(buf, n, "no checkpoint was written yet");
    return buf;
}

typedef struct {
    muon_data data;
    muon_model model;
    muon_optim opt;
    muon_metric_log *log;
    int *tok, *tgt;
    int have_model, have_opt, have_shard, have_dp;
    muon_shard shard;               /* who owns which tensor (one rank: rank 0 owns all) */
    muon_dp dp;                     /* --reduce tree: the per-sequence gradient tree */
    muon_tracker_pool pool;         /* the tracker's scratch, on every rank */
    int root;                       /* this rank writes the outputs */
    int failed_together;            /* the last failure was agreed by every rank */
    /* bookkeeping */
    FILE *progress;
    char ckpt_path[640];
    long start, ckpt_step;          /* first step - 1; step of the last checkpoint written */
    double t_loop, t_train, t_eval, t_track;
    double last_loss, last_val, last_val_se;
} run_state;

/* Every rank's status, agreed (dist/dist.h): a failure anywhere is a
 * failure everywhere, before the next collective. */
static int sync(run_state *r, int st)
{
    st = muon_dist_agree(st);
    if (st) r->failed_together = 1;
    return st;
}

/* One tracking pass (u NULL at step 0): each rank computes the metrics and
 * the ESD fit of the matrices whose tensors it owns, rank 0 logs them all in
 * muon_model_tracked's order: every matrix's metric rows (those
 * muon_metrics_track writes), then every matrix's esd_alpha row. Collective. */
static int track(run_state *r, long s, const muon_update_view *u)
{
    const muon_model *m = &r->model;
    int n = muon_model_tracked(m, NULL, 0), i, st = MUON_OK;
    muon_tracked *tr = muon_alloc((size_t)(n > 0 ? n : 1) * sizeof *tr);
    muon_metrics *res = muon_calloc((size_t)(n > 0 ? n : 1), sizeof *res);
    muon_esd_fit *fit = muon_calloc((size_t)(n > 0 ? n : 1), sizeof *fit);
    int *owner = muon_alloc((size_t)(n > 0 ? n : 1) * sizeof *owner);
    unsigned char *mine = muon_alloc((size_t)(n > 0 ? n : 1));
    if (!tr || !res || !fit || !owner || !mine) st = muon_error(MUON_ERR_NOMEM, "tracking: out of memory");
    if (!st) {
        muon_model_tracked(m, tr, n);
        for (i = 0; i < n; i++) {
            owner[i] = muon_shard_owner_at(&r->shard, m, tr[i].offset);
            mine[i] = owner[i] == r->shard.rank;
        }
        /* the ESD fits from the metrics' own SVD of W */
        st = muon_metrics_model_subset(&r->pool, m, u, mine, res, fit, n);
    }
    st = sync(r, st);
    if (!st) st = muon_shard_share_items(&r->shard, res, sizeof *res, n, owner, 0);
    if (!st) st = muon_shard_share_items(&r->shard, fit, sizeof *fit, n, owner, 0);
    if (st) r->failed_together = 1; /* muon_shard_share_items agrees on its own failures */
    if (!st && r->root) {
        for (i = 0; i < n && !st; i++)
            st = muon_metric_log_metrics(r->log, s, tr[i].layer, muon_matrix_name(tr[i].kind), &res[i]);
        if (!st) st = muon_metric_log_flush(r->log);
        for (i = 0; i < n && !st; i++)
            st = muon_metric_log_row(r->log, s, tr[i].layer, muon_matrix_name(tr[i].kind), "esd_alpha", fit[i].alpha);
    }
    if (!r->failed_together) st = sync(r, st);
    muon_free(tr);
    muon_free(res);
    muon_free(fit);
    muon_free(owner);
    muon_free(mine);
    return st;
}

/* Everything after step s that is not the step: the model-wide metric rows,
 * tracking, evaluation, the flush, progress, checkpoints. stop != 0: the
 * run ends after this step (tracked and checkpointed like the last one).
 * Collective: each part's failure is agreed before the next part. */
static int after_step(run_state *r, const muon_train_config *c, long s, double mult, int stop)
{
    const long B = c->model.batch_size, T = c->model.seq_len;
    double lr_now = (c->optim.kind == MUON_OPT_MUON ? c->optim.lr : c->optim.adam_lr) * mult;
    int st = MUON_OK;
    r->last_loss = r->model.loss;
    if (r->root) {
        st = muon_metric_log_row(r->log, s, -1, "model", muon_model_metric_name(MUON_MODEL_LOSS), r->model.loss);
        if (!st) st = muon_metric_log_row(r->log, s, -1, "model", muon_model_metric_name(MUON_MODEL_LR), lr_now);
        if (!st) st = muon_metric_log_row(r->log, s, -1, "model", muon_model_metric_name(MUON_MODEL_TOKENS), (double)s * (double)(B * T));
        if (!st) st = muon_metric_log_row(r->log, s, -1, "model", muon_model_metric_name(MUON_MODEL_GRAD_NORM), r->opt.grad_norm);
    }
    if ((st = sync(r, st))) return st;
    /* also at the last step, and where a stopped run ends: the plots'
     * "final" weights must be the trained ones */
    if (c->track_every > 0 && (s % c->track_every == 0 || s == c->steps || stop)) {
        double t1 = muon_seconds();
        muon_update_view view;
        view.delta = r->opt.delta;
        view.momentum = r->opt.momentum;
        view.orth_out = r->opt.orth_out;
        if ((st = track(r, s, &view))) return st;
        r->t_track += muon_seconds() - t1;
    }
    if (c->eval_every > 0 && (s % c->eval_every == 0 || s == c->steps)) {
        double t1 = muon_seconds();
        muon_eval_result ev;
        /* the whole split at the end (runs are compared on it) or when asked */
        int full = s == c->steps || c->eval_batches == MUON_EVAL_FULL_SPLIT;
        /* its one-sequence passes read the weights packed, as the tree's do */
        if (r->have_dp) muon_dp_attach_packs(&r->dp, &r->model);
        st = muon_eval_spread(&r->model, &r->data, c->seed, full ? -1 : c->eval_batches, (int)B, (int)T,
                              r->tok, r->tgt, &r->shard, r->have_dp ? r->dp.workers : NULL,
                              r->have_dp ? r->dp.n_workers - 1 : 0, &ev);
        if (r->have_dp) muon_dp_detach_packs(&r->dp, &r->model);
        if (st) { r->failed_together = 1; return st; } /* agreed inside */
        if (r->root) {
            r->last_val = ev.mean;
            r->last_val_se = ev.se;
            st = muon_metric_log_row(r->log, s, -1, "model", muon_model_metric_name(MUON_MODEL_VAL_LOSS), r->last_val);
            if (!st) st = muon_metric_log_row(r->log, s, -1, "model", muon_model_metric_name(MUON_MODEL_VAL_LOSS_SE), r->last_val_se);
        }
        if ((st = sync(r, st))) return st;
        r->t_eval += muon_seconds() - t1;
    }
    if (r->root) st = muon_metric_log_flush(r->log);
    if ((st = sync(r, st))) return st;
    if (r->root && r->progress && c->log_every > 0 && (s % c->log_every == 0 || s == r->start + 1 || s == c->steps || stop)) {
        double el = muon_seconds() - r->t_loop, done = (double)(s - r->start);
        char eta[32], val[64];
        fmt_duration(el / done * (double)(c->steps - s), eta, sizeof eta);
        if (isnan(r->last_val)) strcpy(val, "-");
        else snprintf(val, sizeof val, "%.4f \xc2\xb1 %.4f", r->last_val, r->last_val_se);
        fprintf(r->progress, "step %6ld/%ld | loss %.4f | val %s | lr %.3e | %.0f tok/s | ETA %s\n",
                s, c->steps, r->last_loss, val, lr_now, r->t_train > 0 ? done * B * T / r->t_train : 0.0, eta);
        fflush(r->progress);
    }
    if ((c->ckpt_every > 0 && s % c->ckpt_every == 0) || s == c->steps || stop) {
        /* the owners' optimizer state to rank 0, which writes the whole of it */
        st = muon_shard_share_tensors(&r->shard, &r->model, r->opt.momentum, 0);
        if (!st) st = muon_shard_share_tensors(&r->shard, &r->model, r->opt.adam_v, 0);
        if (!st && r->root) st = muon_checkpoint_save(r->ckpt_path, &r->model, &r->opt, s, muon_train_config_meta(c));
        if ((st = sync(r, st))) return st;
        r->ckpt_step = s;
    }
    return MUON_OK;
}

static void run_free(run_state *r)
{
    muon_metric_log_close(r->log);
    muon_tracker_pool_free(&r->pool);
    if (r->have_dp) muon_dp_free(&r->dp);
    if (r->have_shard) muon_shard_free(&r->shard);
    muon_free(r->tok);
    muon_free(r->tgt);
    if (r->have_opt) muon_optim_free(&r->opt);
    if (r->have_model) muon_model_free(&r->model);
    muon_data_free(&r->data);
}

int muon_train(const muon_train_config *cin, FILE *progress, int *stopped)
{
    muon_train_config c = *cin;
    run_state r;
    muon_run_stats stats;
    char log_path[640], json_path[640], msg[700];
    long s, B, T;
    int st = MUON_OK, stop = 0, writing = 0;
    double t_begin = muon_seconds(), orth0 = 0;
    const char *status = "completed";

    memset(&r, 0, sizeof r);
    r.root = muon_dist_rank() == 0;
    r.progress = r.root ? progress : NULL;
    r.last_loss = NAN;
    r.last_val = NAN;
    r.last_val_se = NAN;
    memset(&stats, 0, sizeof stats);
    if (stopped) *stopped = 0;
    stop_requested = 0;

    /* ---- everything that can be refused, before any output ---- */
    st = muon_config_check(&c.model);
    if (st) goto fail;
    B = c.model.batch_size;
    T = c.model.seq_len;
    /* ceil without the overflow of tokens + B*T - 1 near LONG_MAX */
    if (c.tokens > 0) c.steps = c.tokens / (B * T) + (c.tokens % (B * T) != 0);
    if (c.steps < 1) { st = muon_error(MUON_ERR_ARG, "train: --steps must be >= 1"); goto fail; }
    if (c.eval_every > 0 && c.eval_batches < 0) {
        st = muon_error(MUON_ERR_ARG, "train: --eval-batches must be >= 0");
        goto fail;
    }
    if (c.threads > 0) muon_set_threads(c.threads);
    st = muon_data_open(&r.data, c.data, c.data_format); /* text, or a token file (model/token_file.c) */
    if (st) goto fail;
    c.data_format = r.data.format; /* checkpoints record the format actually read */
    if (muon_data_split_size(&r.data, MUON_SPLIT_TRAIN) < (size_t)T + 1 ||
        (c.eval_every > 0 && muon_data_split_size(&r.data, MUON_SPLIT_VAL) < (size_t)T + 1)) {
        st = muon_error(MUON_ERR_FORMAT, "data file %s: %lu bytes is too short for seq_len %ld (each split needs seq_len+1 bytes)",
                        c.data, (unsigned long)r.data.n, T);
        goto fail;
    }
    if (r.data.ids) {
        /* a token file: its ids must fit the vocabulary; llm.c's header
         * implies one (GPT-2's), used when --vocab-size keeps the byte default */
        if (c.model.vocab_size == 256 && r.data.vocab_hint > 0 && !c.resume[0]) c.model.vocab_size = r.data.vocab_hint;
        if (r.data.max_id >= (uint32_t)c.model.vocab_size) {
            st = muon_error(MUON_ERR_FORMAT, "data file %s holds token id %lu, outside the vocabulary of %d (set --vocab-size)",
                            c.data, (unsigned long)r.data.max_id, c.model.vocab_size);
            goto fail;
        }
    } else {
        /* byte tokens: every byte value in the corpus must be a vocabulary id */
        size_t i;
        int top = 0;
        for (i = 0; i < r.data.n; i++) if (r.data.bytes[i] > top) top = r.data.bytes[i];
        if (top >= c.model.vocab_size) {
            st = muon_error(MUON_ERR_ARG, "vocab_size %d is too small for data file %s (it holds byte value %d)",
                            c.model.vocab_size, c.data, top);
            goto fail;
        }
    }
    /* --reduce tree runs one sequence at a time: activations for one */
    st = muon_model_create_rows(&r.model, &c.model, c.reduce == MUON_REDUCE_TREE ? 1 : c.model.batch_size);
    if (st) goto fail;
    r.have_model = 1;
    muon_model_init(&r.model, c.seed);
    muon_model_stretch(&r.model, c.init_stretch); /* --init stretched:F; 0: no-op */
    c.optim.noise_seed = c.seed;
    if (c.optim.bf16 && (st = muon_model_set_bf16(&r.model))) goto fail; /* --precision bf16 */
    st = muon_optim_create(&r.opt, &c.optim, &r.model);
    if (st) goto fail;
    r.have_opt = 1;
    if (c.reduce == MUON_REDUCE_BATCH && muon_dist_size() > 1) {
        st = muon_error(MUON_ERR_ARG, "train: --reduce batch runs on one process only; with %d ranks use --reduce tree "
                        "(the default)", muon_dist_size());
        goto fail;
    }
    if ((st = muon_shard_create(&r.shard, &r.model))) goto fail;
    r.have_shard = 1;
    if (c.reduce == MUON_REDUCE_TREE) {
        if ((st = muon_dp_create(&r.dp, &r.shard, &r.model, (int)B, (int)T))) goto fail;
        r.have_dp = 1;
    }
    r.tok = muon_alloc((size_t)B * T * sizeof(int));
    r.tgt = muon_alloc((size_t)B * T * sizeof(int));
    if (!r.tok || !r.tgt) { st = MUON_ERR_NOMEM; goto fail; }
    if (c.resume[0]) {
        muon_safetensors f;
        muon_config cc;
        st = muon_checkpoint_open(c.resume, &f);
        if (st) goto fail;
        st = muon_checkpoint_config(&f, &cc);
        if (!st && !config_equal(&cc, &c.model)) {
            /* c.model = the checkpoint's train.* settings + the model flags
             * given; tell a changed flag from a checkpoint at odds with itself */
            muon_train_config own;
            muon_train_defaults(&own);
            if (muon_train_config_from_meta(&own, &f) == MUON_OK && !config_equal(&cc, &own.model))
                st = muon_error(MUON_ERR_FORMAT, "the checkpoint contradicts itself: its model config "
                                "(config.*) and its training settings (train.*) describe different models");
            else
                st = muon_error(MUON_ERR_FORMAT, "its model config differs from the requested one "
                                "(leave out the model flags to continue the run as it was)");
        }
        if (!st) {
            /* the model was built from the checkpoint's own config */
            st = muon_checkpoint_load_model(&f, &r.model);
            if (st) st = muon_error_prefix(st, "its tensors do not match its own model config: ");
        }
        if (!st) st = muon_checkpoint_load_optim(&f, &r.model, &r.opt);
        if (!st) st = muon_checkpoint_step(&f, &r.start);
        muon_safetensors_free(&f);
        if (st) {
            st = muon_error_prefix(st, "resume %s: ", c.resume);
            goto fail;
        }
        if (r.start >= c.steps) {
            st = muon_error(MUON_ERR_ARG, "resume %s: the checkpoint is at step %ld, nothing to do for --steps %ld",
                            c.resume, r.start, c.steps);
            goto fail;
        }
    }
    if ((st = sync(&r, st))) goto fail; /* every rank has its model, data and state */
    if (r.root) st = prepare_out_dir(c.out);
    if ((st = sync(&r, st))) goto fail;
    writing = 1;

    /* ---- outputs ---- */
    snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s/checkpoint.safetensors", c.out);
    snprintf(log_path, sizeof log_path, "%s/metrics.csv", c.out);
    snprintf(json_path, sizeof json_path, "%s/run.json", c.out);
    if (r.root) {
        if (!c.resume[0]) remove(log_path); /* a fresh run starts a fresh log */
        st = muon_metric_log_open(&r.log, log_path, c.resume[0] ? r.start : -1);
    }
    if ((st = sync(&r, st))) goto fail;
    if (!c.resume[0] && c.track_every > 0) {
        /* step 0: the initial weights, so plots start from the init */
        double t0 = muon_seconds();
        st = track(&r, 0, NULL);
        if (!st && r.root) st = muon_metric_log_flush(r.log);
        if ((st = sync(&r, st))) goto fail;
        r.t_track += muon_seconds() - t0;
    }
    if (r.progress && muon_dist_size() > 1)
        fprintf(progress, "distributed: %d ranks x %d thread%s, %d sequences per rank, gradient tree of %d node%s per rank\n",
                muon_dist_size(), muon_threads(), muon_threads() == 1 ? "" : "s", (int)B / muon_dist_size(),
                r.dp.count, r.dp.count == 1 ? "" : "s");
    if (r.progress)
        fprintf(progress, "train %s: %lu params, %s%s%s, %ld steps x %ld tokens, %d thread%s, seed %llu%s%s\n",
                c.model_name, (unsigned long)r.model.num_params, muon_opt_name(c.optim.kind),
                c.optim.kind == MUON_OPT_MUON ? "/" : "",
                c.optim.kind == MUON_OPT_MUON ? muon_orth_name(c.optim.orth) : "",
                c.steps, B * T, muon_threads(), muon_threads() == 1 ? "" : "s", (unsigned long long)c.seed,
                c.resume[0] ? ", resumed at step " : "", c.resume[0] ? (sprintf(msg, "%ld", r.start), msg) : "");

    r.t_loop = muon_seconds();
    orth0 = r.opt.orth_seconds;
    for (s = r.start + 1; s <= c.steps; s++) {
        double t0 = muon_seconds(), mult = 1.0;
        st = muon_train_step(&r.model, &r.opt, r.have_dp ? &r.dp : NULL, &r.data, &c, s, r.tok, r.tgt, &mult);
        if (st && muon_dist_size() > 1) r.failed_together = 1; /* the step agrees on its own failures */
        if (st == MUON_ERR_NUMERIC) {
            status = "diverged";
            st = muon_error_prefix(MUON_ERR_NUMERIC, "training diverged at step %ld (try a smaller --lr; %s): ", s,
                                   last_good_checkpoint(msg, sizeof msg, r.ckpt_path, r.ckpt_step, &c));
            goto diverged;
        }
        if (st) goto fail;
        r.t_train += muon_seconds() - t0;
        if (muon_dist_any(stop_requested)) stop = 1; /* a signal seen by any rank stops all at this step */
        else if (c.stop_after > 0 && s >= c.stop_after && s < c.steps) stop = 2;
        st = after_step(&r, &c, s, mult, stop);
        if (st) goto fail;
        stats.steps_done = s;
        if (stop) break;
    }
    if (stop) {
        status = "stopped";
        if (stopped) *stopped = stop;
        if (r.progress) fprintf(r.progress, "stopped after step %ld: checkpoint %s (continue with --resume)\n",
                              stats.steps_done, r.ckpt_path);
    }
    goto finish;

diverged:
    /* keep the error message of the divergence; run.json records it */
    strncpy(msg, muon_last_error(), sizeof msg - 1);
    msg[sizeof msg - 1] = 0;

finish:
    stats.tokens_seen = (long long)stats.steps_done * (B * T); /* beyond a 32-bit long */
    stats.seconds_total = muon_seconds() - t_begin;
    stats.seconds_train = r.t_train;
    stats.seconds_orth = r.opt.orth_seconds - orth0;
    stats.seconds_eval = r.t_eval;
    stats.seconds_track = r.t_track;
    stats.tokens_per_s = r.t_train > 0 && stats.steps_done > r.start ? (double)(stats.steps_done - r.start) * B * T / r.t_train : 0;
    stats.final_loss = r.last_loss;
    stats.final_val_loss = r.last_val;
    stats.unigram_entropy = muon_data_unigram_entropy(&r.data);
    stats.threads = muon_threads();
    stats.ranks = muon_dist_size();
    stats.reduce = c.reduce;
    muon_dist_traffic(&stats.comm_bytes, &stats.comm_seconds);
    stats.status = status;
    {
        int st2 = muon_metric_log_close(r.log);
        r.log = NULL;
        st2 = sync(&r, st2);
        if (!st && st2) { st = st2; goto fail; }
    }
    r.failed_together = 1; /* from here rank 0 works alone: nothing left to agree on */
    if (!r.root) {
        /* the other ranks' work ends here: rank 0 writes run.json and draws */
        run_free(&r);
        return strcmp(status, "diverged") ? MUON_OK : muon_error(MUON_ERR_NUMERIC, "%s", msg);
    }
    if (!strcmp(status, "diverged")) {
        muon_run_json_write(json_path, &c, &stats);
        run_free(&r);
        return muon_error(MUON_ERR_NUMERIC, "%s", msg);
    }
    st = muon_run_json_write(json_path, &c, &stats);
    if (st) goto fail;
    if (r.progress) {
        char val[64];
        if (isnan(r.last_val)) strcpy(val, "-"); /* --eval-every 0: never evaluated */
        else snprintf(val, sizeof val, "%.4f \xc2\xb1 %.4f%s", r.last_val, r.last_val_se,
                      stats.steps_done == c.steps ? " (whole split)" : "");
        fprintf(r.progress, "done: %ld steps, final loss %.4f, val loss %s (%s-unigram entropy %.4f nats), %.1f s, %.0f tok/s\n",
                stats.steps_done, r.last_loss, val, r.data.ids ? "token" : "byte", stats.unigram_entropy,
                stats.seconds_total, stats.tokens_per_s);
    }
    if (c.event_k > 0 && c.track_every > 0) {
        /* events.csv before the plots, which mark its events */
        int n_ev = 0;
        if (muon_events_run(c.out, c.event_k, c.event_window, &n_ev) != MUON_OK) {
            if (r.progress) fprintf(r.progress, "warning: events.csv not written: %s\n", muon_last_error());
        } else if (r.progress && n_ev > 0) {
            fprintf(r.progress, "events: %d phase-transition candidate%s in %s/events.csv\n", n_ev, n_ev == 1 ? "" : "s", c.out);
        }
    }
    if ((st = muon_plot_run(c.out)) != MUON_OK) {
        /* a failed write (a full disk) is an error, not a footnote; the
         * checkpoint, metrics.csv and run.json are complete either way */
        if (st == MUON_ERR_IO) {
            st = muon_error_prefix(st, "plots not drawn: ");
            r.ckpt_step = stats.steps_done;
            goto fail;
        }
        st = MUON_OK;
        if (r.progress) fprintf(r.progress, "warning: plots not drawn: %s\n", muon_last_error());
    } else if (r.progress) {
        fprintf(r.progress, "plots: %s/research_plots/\n", c.out);
    }
    run_free(&r);
    return MUON_OK;

fail:
    {
        /* keep the message across the frees */
        char keep[512];
        strncpy(keep, muon_last_error(), sizeof keep - 1);
        keep[sizeof keep - 1] = 0;
        /* a failure of this rank alone: the others learn of it at their next sync */
        if (!r.failed_together) muon_dist_agree(st);
        run_free(&r);
        /* a write failed (a full disk): every output is written atomically,
         * so say what is still there to resume from */
        if (st == MUON_ERR_IO && writing) {
            if (r.ckpt_step > 0)
                return muon_error(st, "%s; the earlier checkpoint was kept: %s (step %ld)", keep, r.ckpt_path, r.ckpt_step);
            if (c.resume[0])
                return muon_error(st, "%s; the earlier checkpoint was kept: %s (step %ld)", keep, c.resume, r.start);
            return muon_error(st, "%s; no checkpoint had been written yet", keep);
        }
        return muon_error(st, "%s", keep);
    }
}
