/* run.json: everything needed to know what a run was, next to its metrics:
 * every setting (the same table as the flags), the model shape, versions,
 * thread count, timings and final losses. Written atomically (io/atomic_file.c),
 * like checkpoints. */
#include "io/io.h"
#include "train/train.h"
#include "io/atomic_file.h"

#include <math.h>
#include <string.h>

static void put_num(muon_afile *f, const char *key, double v, int last)
{
    /* JSON has no NaN/Inf: null says "not measured" */
    if (isfinite(v)) muon_afile_printf(f, "    \"%s\": %.9g%s\n", key, v, last ? "" : ",");
    else muon_afile_printf(f, "    \"%s\": null%s\n", key, last ? "" : ",");
}

static void put_str(muon_afile *f, const char *s)
{
    muon_afile_write(f, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') muon_afile_printf(f, "\\%c", ch);
        else if (ch < 0x20) muon_afile_printf(f, "\\u%04x", ch);
        else muon_afile_write(f, s, 1);
    }
    muon_afile_write(f, "\"", 1);
}

int muon_run_json_write(const char *path, const muon_train_config *c, const muon_run_stats *s)
{
    const char *const *kv = muon_train_config_meta(c);
    muon_afile af, *f = &af;
    int i, st;
    size_t n_params = muon_config_param_count(&c->model);
    if ((st = muon_afile_open(f, path))) return st;
    muon_afile_printf(f, "{\n  \"program\": \"muon train\",\n  \"muon_version\": \"%s\",\n", MUON_VERSION);
    muon_afile_printf(f, "  \"status\": ");
    put_str(f, s->status ? s->status : "unknown");
    muon_afile_printf(f, ",\n  \"settings\": {\n");
    for (i = 0; kv[i]; i += 2) {
        muon_afile_printf(f, "    ");
        put_str(f, kv[i] + 6); /* drop "train." */
        muon_afile_printf(f, ": ");
        put_str(f, kv[i + 1]);
        muon_afile_printf(f, "%s\n", kv[i + 2] ? "," : "");
    }
    muon_afile_printf(f, "  },\n  \"model\": {\n");
    muon_afile_printf(f, "    \"name\": ");
    put_str(f, c->model_name);
    muon_afile_printf(f, ",\n    \"params\": %lu,\n", (unsigned long)n_params);
    muon_afile_printf(f, "    \"vocab_size\": %d, \"d_model\": %d, \"n_layers\": %d, \"n_heads\": %d, \"n_kv_heads\": %d,\n",
            c->model.vocab_size, c->model.d_model, c->model.n_layers, c->model.n_heads, c->model.n_kv_heads);
    muon_afile_printf(f, "    \"d_ff\": %d, \"seq_len\": %d, \"batch_size\": %d, \"ffn\": \"%s\", \"untied_head\": %d, \"merged_qkvo\": %d\n",
            c->model.d_ff, c->model.seq_len, c->model.batch_size,
            muon_ffn_name(c->model.ffn), c->model.untied_head, c->model.merged_qkvo);
    muon_afile_printf(f, "  },\n  \"optimizer\": {\n");
    muon_afile_printf(f, "    \"kind\": \"%s\", \"orth\": \"%s\", \"muon_lr\": %.9g, \"adam_lr\": %.9g, \"momentum\": %.9g,\n",
            muon_opt_name(c->optim.kind), muon_orth_name(c->optim.orth), (double)c->optim.lr,
            (double)c->optim.adam_lr, (double)c->optim.momentum);
    muon_afile_printf(f, "    \"nesterov\": %s, \"muon_scale\": \"%s\", \"weight_decay\": %.9g, \"adam_betas\": [%.9g, %.9g], \"adam_eps\": %.9g,\n",
            c->optim.nesterov ? "true" : "false", muon_mscale_name(c->optim.scale), (double)c->optim.wd,
            (double)c->optim.beta1, (double)c->optim.beta2, (double)c->optim.eps);
    muon_afile_printf(f, "    \"clip\": %.9g, \"schedule\": \"%s\", \"warmup\": %ld, \"lr_floor\": %.9g\n",
            (double)c->optim.clip, muon_sched_name(c->schedule), c->warmup, (double)c->lr_floor);
    muon_afile_printf(f, "  },\n  \"seed\": %llu,\n", (unsigned long long)c->seed);
    muon_afile_printf(f, "  \"distributed\": {\"ranks\": %d, \"reduce\": \"%s\", \"rank0_bytes_sent\": %.0f, \"rank0_comm_seconds\": %.6f},\n",
            s->ranks < 1 ? 1 : s->ranks, s->reduce == MUON_REDUCE_BATCH ? "batch" : "tree", s->comm_bytes, s->comm_seconds);
    muon_afile_printf(f, "  \"build\": {\n    \"threads\": %d,\n    \"openmp\": %s,\n", s->threads,
#ifdef _OPENMP
            "true"
#else
            "false"
#endif
    );
    muon_afile_printf(f, "    \"compiler\": ");
#if defined(__VERSION__)
    put_str(f, __VERSION__);
#else
    put_str(f, "unknown");
#endif
    muon_afile_printf(f, "\n  },\n  \"results\": {\n");
    muon_afile_printf(f, "    \"steps_done\": %ld,\n    \"tokens_seen\": %lld,\n", s->steps_done, s->tokens_seen);
    put_num(f, "final_loss", s->final_loss, 0);
    put_num(f, "final_val_loss", s->final_val_loss, 0);
    put_num(f, "unigram_entropy_nats", s->unigram_entropy, 0);
    put_num(f, "seconds_total", s->seconds_total, 0);
    put_num(f, "seconds_train", s->seconds_train, 0);
    put_num(f, "seconds_muon_update", s->seconds_orth, 0);
    put_num(f, "seconds_eval", s->seconds_eval, 0);
    put_num(f, "seconds_track", s->seconds_track, 0);
    put_num(f, "tokens_per_s", s->tokens_per_s, 1);
    muon_afile_printf(f, "  }\n}\n");
    return muon_afile_commit(f);
}
