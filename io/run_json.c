/* run.json: everything needed to know what a run was, next to its metrics:
 * every setting (the same table as the flags), the model shape, versions,
 * thread count, timings and final losses. Written to a temporary file and
 * renamed, like checkpoints. */
#include "io/io.h"
#include "train/train.h"

#include <math.h>
#include <string.h>

static void put_num(FILE *f, const char *key, double v, int last)
{
    /* JSON has no NaN/Inf: null says "not measured" */
    if (isfinite(v)) fprintf(f, "    \"%s\": %.9g%s\n", key, v, last ? "" : ",");
    else fprintf(f, "    \"%s\": null%s\n", key, last ? "" : ",");
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

int muon_run_json_write(const char *path, const muon_train_config *c, const muon_run_stats *s)
{
    char tmp[700];
    const char *const *kv = muon_train_config_meta(c);
    FILE *f;
    int i, err;
    size_t n_params = muon_config_param_count(&c->model);
    if (strlen(path) > sizeof tmp - 8) return muon_error(MUON_ERR_ARG, "run.json: path too long");
    sprintf(tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) return muon_error(MUON_ERR_IO, "%s: cannot write", tmp);
    fprintf(f, "{\n  \"program\": \"muon train\",\n  \"muon_version\": \"%s\",\n", MUON_VERSION);
    fprintf(f, "  \"status\": ");
    put_str(f, s->status ? s->status : "unknown");
    fprintf(f, ",\n  \"settings\": {\n");
    for (i = 0; kv[i]; i += 2) {
        fprintf(f, "    ");
        put_str(f, kv[i] + 6); /* drop "train." */
        fprintf(f, ": ");
        put_str(f, kv[i + 1]);
        fprintf(f, "%s\n", kv[i + 2] ? "," : "");
    }
    fprintf(f, "  },\n  \"model\": {\n");
    fprintf(f, "    \"name\": ");
    put_str(f, c->model_name);
    fprintf(f, ",\n    \"params\": %lu,\n", (unsigned long)n_params);
    fprintf(f, "    \"vocab_size\": %d, \"d_model\": %d, \"n_layers\": %d, \"n_heads\": %d, \"n_kv_heads\": %d,\n",
            c->model.vocab_size, c->model.d_model, c->model.n_layers, c->model.n_heads, c->model.n_kv_heads);
    fprintf(f, "    \"d_ff\": %d, \"seq_len\": %d, \"batch_size\": %d, \"ffn\": \"%s\", \"untied_head\": %d, \"merged_qkvo\": %d\n",
            c->model.d_ff, c->model.seq_len, c->model.batch_size,
            muon_ffn_name(c->model.ffn), c->model.untied_head, c->model.merged_qkvo);
    fprintf(f, "  },\n  \"optimizer\": {\n");
    fprintf(f, "    \"kind\": \"%s\", \"orth\": \"%s\", \"muon_lr\": %.9g, \"adam_lr\": %.9g, \"momentum\": %.9g,\n",
            muon_opt_name(c->optim.kind), muon_orth_name(c->optim.orth), (double)c->optim.lr,
            (double)c->optim.adam_lr, (double)c->optim.momentum);
    fprintf(f, "    \"nesterov\": %s, \"muon_scale\": \"%s\", \"weight_decay\": %.9g, \"adam_betas\": [%.9g, %.9g], \"adam_eps\": %.9g,\n",
            c->optim.nesterov ? "true" : "false", muon_mscale_name(c->optim.scale), (double)c->optim.wd,
            (double)c->optim.beta1, (double)c->optim.beta2, (double)c->optim.eps);
    fprintf(f, "    \"clip\": %.9g, \"schedule\": \"%s\", \"warmup\": %ld, \"lr_floor\": %.9g\n",
            (double)c->optim.clip, muon_sched_name(c->schedule), c->warmup, (double)c->lr_floor);
    fprintf(f, "  },\n  \"seed\": %llu,\n", (unsigned long long)c->seed);
    fprintf(f, "  \"build\": {\n    \"threads\": %d,\n    \"openmp\": %s,\n", s->threads,
#ifdef _OPENMP
            "true"
#else
            "false"
#endif
    );
    fprintf(f, "    \"compiler\": ");
#if defined(__VERSION__)
    put_str(f, __VERSION__);
#else
    put_str(f, "unknown");
#endif
    fprintf(f, "\n  },\n  \"results\": {\n");
    fprintf(f, "    \"steps_done\": %ld,\n    \"tokens_seen\": %ld,\n", s->steps_done, s->tokens_seen);
    put_num(f, "final_loss", s->final_loss, 0);
    put_num(f, "final_val_loss", s->final_val_loss, 0);
    put_num(f, "unigram_entropy_nats", s->unigram_entropy, 0);
    put_num(f, "seconds_total", s->seconds_total, 0);
    put_num(f, "seconds_train", s->seconds_train, 0);
    put_num(f, "seconds_muon_update", s->seconds_orth, 0);
    put_num(f, "seconds_eval", s->seconds_eval, 0);
    put_num(f, "seconds_track", s->seconds_track, 0);
    put_num(f, "tokens_per_s", s->tokens_per_s, 1);
    fprintf(f, "  }\n}\n");
    err = ferror(f);
    if (fclose(f) != 0 || err) {
        remove(tmp);
        return muon_error(MUON_ERR_IO, "%s: write error", tmp);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return muon_error(MUON_ERR_IO, "%s: cannot rename to %s", tmp, path);
    }
    return MUON_OK;
}
