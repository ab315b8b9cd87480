/* The training loop: data -> forward -> backward -> clip -> Muon/AdamW ->
 * metric log, with evaluation, tracking, checkpoints, progress and resume.
 *
 * Everything that can go wrong with the user's input (settings, data file,
 * checkpoint, output directory) is checked before the first output file is
 * touched, so a refused run leaves nothing behind. A step is a pure function
 * of (parameters, optimizer state, seed, step), all of which a checkpoint
 * holds, so resuming continues bit for bit. */
#include "muon.h"
#include "io/atomic_file.h"

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

/* Mean loss over the fixed validation batches 0..n-1 (the same every eval). */
static int val_loss(muon_model *m, const muon_data *d, const muon_train_config *c,
                    int *tok, int *tgt, double *out)
{
    int i, st, B = c->model.batch_size, T = c->model.seq_len;
    double s = 0.0;
    for (i = 0; i < c->eval_batches; i++) {
        st = muon_data_batch(d, MUON_SPLIT_VAL, c->seed, i, B, T, tok, tgt);
        if (!st) st = muon_model_forward(m, tok, tgt, B, T);
        if (st) return st;
        s += m->loss;
    }
    *out = s / c->eval_batches;
    return MUON_OK;
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
static const char *kept_note(char *buf, size_t n, const char *ckpt_path, long ckpt_step,
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
    int have_model, have_opt;
} run_state;

static void run_free(run_state *r)
{
    muon_metric_log_close(r->log);
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
    char ckpt_path[640], log_path[640], json_path[640], msg[700];
    long start = 0, s, B, T, ckpt_step = 0;
    int st = MUON_OK, stop = 0, writing = 0;
    double t_begin = muon_seconds(), t_loop, last_loss = NAN, last_val = NAN;
    double t_train = 0, t_eval = 0, t_track = 0, orth0 = 0;
    const char *status = "completed";

    memset(&r, 0, sizeof r);
    memset(&stats, 0, sizeof stats);
    if (stopped) *stopped = 0;
    stop_requested = 0;

    /* ---- everything that can be refused, before any output ---- */
    st = muon_config_check(&c.model);
    if (st) return st;
    B = c.model.batch_size;
    T = c.model.seq_len;
    /* ceil without the overflow of tokens + B*T - 1 near LONG_MAX */
    if (c.tokens > 0) c.steps = c.tokens / (B * T) + (c.tokens % (B * T) != 0);
    if (c.steps < 1) return muon_error(MUON_ERR_ARG, "train: --steps must be >= 1");
    if (c.eval_every > 0 && c.eval_batches < 1) return muon_error(MUON_ERR_ARG, "train: --eval-batches must be >= 1");
    if (c.threads > 0) muon_set_threads(c.threads);
    st = muon_data_load(&r.data, c.data);
    if (st) return st;
    if (muon_data_split_size(&r.data, MUON_SPLIT_TRAIN) < (size_t)T + 1 ||
        (c.eval_every > 0 && muon_data_split_size(&r.data, MUON_SPLIT_VAL) < (size_t)T + 1)) {
        st = muon_error(MUON_ERR_FORMAT, "data file %s: %lu bytes is too short for seq_len %ld (each split needs seq_len+1 bytes)",
                        c.data, (unsigned long)r.data.n, T);
        goto fail;
    }
    {
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
    st = muon_model_create(&r.model, &c.model);
    if (st) goto fail;
    r.have_model = 1;
    muon_model_init(&r.model, c.seed);
    st = muon_optim_create(&r.opt, &c.optim, &r.model);
    if (st) goto fail;
    r.have_opt = 1;
    r.tok = muon_alloc((size_t)B * T * sizeof(int));
    r.tgt = muon_alloc((size_t)B * T * sizeof(int));
    if (!r.tok || !r.tgt) { st = MUON_ERR_NOMEM; goto fail; }
    if (c.resume[0]) {
        muon_st_file f;
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
        if (!st) st = muon_checkpoint_step(&f, &start);
        muon_st_free(&f);
        if (st) {
            st = muon_error_prefix(st, "resume %s: ", c.resume);
            goto fail;
        }
        if (start >= c.steps) {
            st = muon_error(MUON_ERR_ARG, "resume %s: the checkpoint is at step %ld, nothing to do for --steps %ld",
                            c.resume, start, c.steps);
            goto fail;
        }
    }
    st = prepare_out_dir(c.out);
    if (st) goto fail;
    writing = 1;

    /* ---- outputs ---- */
    snprintf(ckpt_path, sizeof ckpt_path, "%s/checkpoint.safetensors", c.out);
    snprintf(log_path, sizeof log_path, "%s/metrics.csv", c.out);
    snprintf(json_path, sizeof json_path, "%s/run.json", c.out);
    if (!c.resume[0]) remove(log_path); /* a fresh run starts a fresh log */
    st = muon_metric_log_open(&r.log, log_path, c.resume[0] ? start : -1);
    if (st) goto fail;
    if (!c.resume[0] && c.track_every > 0) {
        /* step 0: the initial weights, so plots start from the init */
        double t0 = muon_seconds();
        st = muon_metrics_track(r.log, 0, &r.model, NULL);
        if (!st) st = muon_metric_log_flush(r.log);
        if (st) goto fail;
        t_track += muon_seconds() - t0;
    }
    if (progress)
        fprintf(progress, "train %s: %lu params, %s%s%s, %ld steps x %ld tokens, %d thread%s, seed %llu%s%s\n",
                c.model_name, (unsigned long)r.model.num_params, muon_opt_name(c.optim.kind),
                c.optim.kind == MUON_OPT_MUON ? "/" : "",
                c.optim.kind == MUON_OPT_MUON ? muon_orth_name(c.optim.orth) : "",
                c.steps, B * T, muon_threads(), muon_threads() == 1 ? "" : "s", (unsigned long long)c.seed,
                c.resume[0] ? ", resumed at step " : "", c.resume[0] ? (sprintf(msg, "%ld", start), msg) : "");

    t_loop = muon_seconds();
    orth0 = r.opt.orth_seconds;
    for (s = start + 1; s <= c.steps; s++) {
        double t0 = muon_seconds(), mult, lr_now;
        muon_update_view view;
        st = muon_data_batch(&r.data, MUON_SPLIT_TRAIN, c.seed, s, (int)B, (int)T, r.tok, r.tgt);
        if (st) goto fail;
        muon_model_zero_grad(&r.model);
        st = muon_model_forward(&r.model, r.tok, r.tgt, (int)B, (int)T);
        if (st) goto fail;
        if (!isfinite(r.model.loss)) {
            status = "diverged";
            st = muon_error(MUON_ERR_NUMERIC, "loss is %g at step %ld: training diverged (try a smaller --lr); %s",
                            (double)r.model.loss, s, kept_note(msg, sizeof msg, ckpt_path, ckpt_step, &c));
            goto diverged;
        }
        st = muon_model_backward(&r.model);
        if (st) goto fail;
        mult = muon_lr_multiplier(c.schedule, s, c.warmup, c.steps, c.lr_floor);
        st = muon_optim_step(&r.opt, &r.model, mult);
        if (st == MUON_ERR_NUMERIC) {
            status = "diverged";
            st = muon_error_prefix(MUON_ERR_NUMERIC, "training diverged at step %ld (try a smaller --lr; %s): ", s,
                                   kept_note(msg, sizeof msg, ckpt_path, ckpt_step, &c));
            goto diverged;
        }
        if (st) goto fail;
        t_train += muon_seconds() - t0;
        last_loss = r.model.loss;
        lr_now = (c.optim.kind == MUON_OPT_MUON ? c.optim.lr : c.optim.adam_lr) * mult;
        st = muon_metric_log_row(r.log, s, -1, "model", "loss", r.model.loss);
        if (!st) st = muon_metric_log_row(r.log, s, -1, "model", "lr", lr_now);
        if (!st) st = muon_metric_log_row(r.log, s, -1, "model", "tokens", (double)s * (double)(B * T));
        if (!st) st = muon_metric_log_row(r.log, s, -1, "model", "grad_norm", r.opt.grad_norm);
        if (st) goto fail;
        if (stop_requested) stop = 1;
        else if (c.stop_after > 0 && s >= c.stop_after && s < c.steps) stop = 2;
        /* also at the last step, and where a stopped run ends: the plots'
         * "final" weights must be the trained ones */
        if (c.track_every > 0 && (s % c.track_every == 0 || s == c.steps || stop)) {
            double t1 = muon_seconds();
            view.delta = r.opt.delta;
            view.momentum = r.opt.momentum;
            view.orth_out = r.opt.orth_out;
            st = muon_metrics_track(r.log, s, &r.model, &view);
            if (st) goto fail;
            t_track += muon_seconds() - t1;
        }
        if (c.eval_every > 0 && (s % c.eval_every == 0 || s == c.steps)) {
            double t1 = muon_seconds();
            st = val_loss(&r.model, &r.data, &c, r.tok, r.tgt, &last_val);
            if (!st) st = muon_metric_log_row(r.log, s, -1, "model", "val_loss", last_val);
            if (st) goto fail;
            t_eval += muon_seconds() - t1;
        }
        st = muon_metric_log_flush(r.log);
        if (st) goto fail;
        if (progress && c.log_every > 0 && (s % c.log_every == 0 || s == start + 1 || s == c.steps || stop)) {
            double el = muon_seconds() - t_loop, done = (double)(s - start);
            char eta[32], val[32];
            fmt_duration(el / done * (double)(c.steps - s), eta, sizeof eta);
            if (isnan(last_val)) strcpy(val, "-");
            else snprintf(val, sizeof val, "%.4f", last_val);
            fprintf(progress, "step %6ld/%ld | loss %.4f | val %s | lr %.3e | %.0f tok/s | ETA %s\n",
                    s, c.steps, last_loss, val, lr_now, t_train > 0 ? done * B * T / t_train : 0.0, eta);
            fflush(progress);
        }
        if ((c.ckpt_every > 0 && s % c.ckpt_every == 0) || s == c.steps || stop) {
            st = muon_checkpoint_save(ckpt_path, &r.model, &r.opt, s, muon_train_config_meta(&c));
            if (st) goto fail;
            ckpt_step = s;
        }
        stats.steps_done = s;
        if (stop) break;
    }
    if (stop) {
        status = "stopped";
        if (stopped) *stopped = stop;
        if (progress) fprintf(progress, "stopped after step %ld: checkpoint %s (continue with --resume)\n",
                              stats.steps_done, ckpt_path);
    }
    goto finish;

diverged:
    /* keep the error message of the divergence; run.json records it */
    strncpy(msg, muon_last_error(), sizeof msg - 1);
    msg[sizeof msg - 1] = 0;

finish:
    stats.tokens_seen = (long long)stats.steps_done * (B * T); /* beyond a 32-bit long */
    stats.seconds_total = muon_seconds() - t_begin;
    stats.seconds_train = t_train;
    stats.seconds_orth = r.opt.orth_seconds - orth0;
    stats.seconds_eval = t_eval;
    stats.seconds_track = t_track;
    stats.tokens_per_s = t_train > 0 && stats.steps_done > start ? (double)(stats.steps_done - start) * B * T / t_train : 0;
    stats.final_loss = last_loss;
    stats.final_val_loss = last_val;
    stats.unigram_entropy = muon_data_unigram_entropy(&r.data);
    stats.threads = muon_threads();
    stats.status = status;
    {
        int st2 = muon_metric_log_close(r.log);
        r.log = NULL;
        if (!st && st2) { st = st2; goto fail; }
    }
    if (!strcmp(status, "diverged")) {
        muon_run_json_write(json_path, &c, &stats);
        run_free(&r);
        return muon_error(MUON_ERR_NUMERIC, "%s", msg);
    }
    st = muon_run_json_write(json_path, &c, &stats);
    if (st) goto fail;
    if (progress) {
        char val[32];
        if (isnan(last_val)) strcpy(val, "-"); /* --eval-every 0: never evaluated */
        else snprintf(val, sizeof val, "%.4f", last_val);
        fprintf(progress, "done: %ld steps, final loss %.4f, val loss %s (byte-unigram entropy %.4f nats), %.1f s, %.0f tok/s\n",
                stats.steps_done, last_loss, val, stats.unigram_entropy, stats.seconds_total, stats.tokens_per_s);
    }
    if ((st = muon_plot_run(c.out)) != MUON_OK) {
        /* a failed write (a full disk) is an error, not a footnote; the
         * checkpoint, metrics.csv and run.json are complete either way */
        if (st == MUON_ERR_IO) {
            st = muon_error_prefix(st, "plots not drawn: ");
            ckpt_step = stats.steps_done;
            goto fail;
        }
        st = MUON_OK;
        if (progress) fprintf(progress, "warning: plots not drawn: %s\n", muon_last_error());
    } else if (progress) {
        fprintf(progress, "plots: %s/research_plots/\n", c.out);
    }
    run_free(&r);
    return MUON_OK;

fail:
    {
        /* keep the message across the frees */
        char keep[512];
        strncpy(keep, muon_last_error(), sizeof keep - 1);
        keep[sizeof keep - 1] = 0;
        run_free(&r);
        /* a write failed (a full disk): every output is written atomically,
         * so say what is still there to resume from */
        if (st == MUON_ERR_IO && writing) {
            if (ckpt_step > 0)
                return muon_error(st, "%s; the earlier checkpoint was kept: %s (step %ld)", keep, ckpt_path, ckpt_step);
            if (c.resume[0])
                return muon_error(st, "%s; the earlier checkpoint was kept: %s (step %ld)", keep, c.resume, start);
            return muon_error(st, "%s; no checkpoint had been written yet", keep);
        }
        return muon_error(st, "%s", keep);
    }
}
