/* The training settings: one table of options drives the command-line flags,
 * `muon train --help`, the checkpoint metadata (so --resume restores the run's
 * settings) and run.json. Model config flags are handed to muon_config_set
 * ("--d-model 64" -> key "d_model"), so the model keeps the one place that
 * validates its config. */
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"
#include "model/experiments.h"
#include "metrics/events.h"
#include "io/parse.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum {
    K_INT, K_LONG, K_U64, K_FLOAT, K_STR, K_SWITCH_OFF, /* fields of muon_train_config */
    K_MODEL, K_OPT, K_ORTH, K_MSCALE, K_SCHED,        /* named choices */
    K_CFG_INT, K_CFG_FLOAT, K_CFG_SWITCH, K_CFG_FFN,  /* muon_config fields */
    K_INIT, K_DATAFMT, K_PREC,                                /* experiments (docs/experiments.md) */
    K_REDUCE                                          /* docs/distributed.md */
};

typedef struct {
    const char *name;  /* the flag without "--" */
    const char *arg;   /* value placeholder for --help, NULL for switches */
    int kind;
    size_t off;        /* offset of the field in muon_train_config */
    double lo, hi;     /* inclusive range of numbers */
    int meta;          /* 1: recorded in checkpoints and restored by --resume;
                        * 2: the same, but absent from older checkpoints (default kept) */
    const char *help;
} opt_t;

#define OFF(f) offsetof(muon_train_config, f)
static const opt_t opts[] = {
    {"model", "NAME", K_MODEL, 0, 0, 0, 1, "model config: nano|tiny|blueberry-nano|deep (applied before the other flags)"},
    {"steps", "N", K_LONG, OFF(steps), 1, 1e12, 1, "optimizer steps (total, counting resumed ones)"},
    {"tokens", "N", K_LONG, OFF(tokens), 1, 1e15, 0, "train on N tokens instead: steps = ceil(N / (batch*seq))"},
    {"out", "DIR", K_STR, OFF(out), 0, 0, 1, "output directory (created)"},
    {"data", "FILE", K_STR, OFF(data), 0, 0, 1, "corpus: text (byte tokens) or a nanoGPT/llm.c token file (--data-format); last 5% validation"},
    {"resume", "CKPT", K_STR, OFF(resume), 0, 0, 0, "continue the run of this checkpoint exactly (its settings are the defaults)"},
    {"seed", "S", K_U64, OFF(seed), 0, 0, 1, "seed of init and batch order"},
    {"threads", "T", K_INT, OFF(threads), 0, 1024, 0, "OpenMP threads, 0 = default (results never depend on it)"},
    {"optimizer", "NAME", K_OPT, 0, 0, 0, 1, "muon (Muon for hidden matrices, AdamW for the rest) | adamw (AdamW for all)"},
    {"orth", "NAME", K_ORTH, 0, 0, 0, 1, "orthogonaliser: polar-express|polar-express-nanogpt|keller|newton-schulz|svd"},
    {"ns-steps", "N", K_INT, OFF(optim.ns_steps), 0, 100, 1, "newton-schulz iterations (0 = its default, 5)"},
    {"lr", "X", K_FLOAT, OFF(optim.lr), 0, 1e30, 1, "Muon learning rate"},
    {"adam-lr", "X", K_FLOAT, OFF(optim.adam_lr), 0, 1e30, 1, "AdamW learning rate"},
    {"wd", "X", K_FLOAT, OFF(optim.wd), 0, 1e30, 1, "decoupled weight decay (never on gains)"},
    {"momentum", "X", K_FLOAT, OFF(optim.momentum), 0, 0.999999, 1, "Muon momentum mu"},
    {"no-nesterov", NULL, K_SWITCH_OFF, OFF(optim.nesterov), 0, 0, 1, "Muon without Nesterov: U = M"},
    {"muon-scale", "NAME", K_MSCALE, 0, 0, 0, 1, "default: sqrt(max(1,rows/cols)) | moonlight: 0.2*sqrt(max(rows,cols))"},
    {"beta1", "X", K_FLOAT, OFF(optim.beta1), 0, 0.999999, 1, "AdamW beta1"},
    {"beta2", "X", K_FLOAT, OFF(optim.beta2), 0, 0.999999, 1, "AdamW beta2"},
    {"adam-eps", "X", K_FLOAT, OFF(optim.eps), 1e-30, 1, 1, "AdamW epsilon"},
    {"clip", "X", K_FLOAT, OFF(optim.clip), 0, 1e30, 1, "global gradient-norm clip, 0 = off"},
    {"schedule", "NAME", K_SCHED, 0, 0, 0, 1, "lr schedule after warmup: constant|cosine"},
    {"warmup", "N", K_LONG, OFF(warmup), 0, 1e12, 1, "linear warmup steps (step 1 already at lr/N)"},
    {"lr-floor", "X", K_FLOAT, OFF(lr_floor), 0, 1, 1, "cosine ends at this fraction of the lr"},
    {"eval-every", "N", K_INT, OFF(eval_every), 0, 1e9, 1, "validation loss every N steps and at the end, 0 = off"},
    {"eval-batches", "N", K_INT, OFF(eval_batches), 0, 1e6, 1, "fixed validation batches per evaluation, 0 = the whole split (always at the end)"},
    {"log-every", "N", K_INT, OFF(log_every), 0, 1e9, 1, "progress line every N steps, 0 = quiet"},
    {"ckpt-every", "N", K_INT, OFF(ckpt_every), 0, 1e9, 1, "checkpoint every N steps (always at the end), 0 = end only"},
    {"track-every", "K", K_INT, OFF(track_every), 0, 1e9, 1, "spectral metrics every K steps, 0 = off"},
    {"reduce", "NAME", K_REDUCE, OFF(reduce), 0, 0, 2, "batch gradient: tree (per-sequence gradients summed in a fixed tree: the same bits for any MPI rank count) | batch (one pass over the whole batch; one process only)"},
    {"stop-after", "N", K_LONG, OFF(stop_after), 0, 1e12, 0, "stop after step N as Ctrl-C would (checkpoint; resume later)"},
    /* experiments (docs/experiments.md) */
    {"update-noise", "X", K_FLOAT, OFF(optim.update_noise), 0, 1e30, 2, "Gaussian noise of X times the Frobenius norm added to Muon's orthogonalised update"},
    {"data-format", "NAME", K_DATAFMT, OFF(data_format), 0, 0, 2, "--data layout: auto|text|nanogpt (raw uint16)|llmc (1024-byte header + uint16)"},
    {"event-k", "K", K_FLOAT, OFF(event_k), 0, 1e30, 2, "events.csv: tracked steps whose alignment/entropy change is K robust SDs (MAD) off its history, 0 = off"},
    {"event-window", "N", K_INT, OFF(event_window), 5, 1e6, 2, "changes of history for --event-k"},
    {"precision", "NAME", K_PREC, OFF(optim.bf16), 0, 0, 2, "fp32 | bf16: bf16 parameters, bf16 matmul inputs, bf16 orthogonaliser (docs/precision.md)"},
    {"init", "NAME", K_INIT, OFF(init_stretch), 0, 0, 2, "normal | stretched[:F]: layer l's matrices scaled by 1+F*l/(L-1) (F default 0.25)"},
    /* model config overrides */
    {"vocab-size", "N", K_CFG_INT, OFF(model.vocab_size), 0, 0, 1, "vocabulary (256: bytes)"},
    {"d-model", "N", K_CFG_INT, OFF(model.d_model), 0, 0, 1, "model width C"},
    {"n-layers", "N", K_CFG_INT, OFF(model.n_layers), 0, 0, 1, "transformer blocks"},
    {"n-heads", "N", K_CFG_INT, OFF(model.n_heads), 0, 0, 1, "attention heads"},
    {"n-kv-heads", "N", K_CFG_INT, OFF(model.n_kv_heads), 0, 0, 1, "key/value heads (grouped-query attention)"},
    {"d-ff", "N", K_CFG_INT, OFF(model.d_ff), 0, 0, 1, "feed-forward hidden width"},
    {"seq-len", "N", K_CFG_INT, OFF(model.seq_len), 0, 0, 1, "sequence length T"},
    {"batch-size", "N", K_CFG_INT, OFF(model.batch_size), 0, 0, 1, "batch size B"},
    {"ffn", "NAME", K_CFG_FFN, OFF(model.ffn), 0, 0, 1, "feed-forward: relu2|swiglu"},
    {"untied-head", NULL, K_CFG_SWITCH, OFF(model.untied_head), 0, 0, 1, "separate output head (else tied to the embedding)"},
    {"merged-qkvo", NULL, K_CFG_SWITCH, OFF(model.merged_qkvo), 0, 0, 1, "one [Q;K;V;O] matrix per layer, orthogonalised whole"},
    {"rope-base", "X", K_CFG_FLOAT, OFF(model.rope_base), 0, 0, 1, "RoPE base"},
    {"norm-eps", "X", K_CFG_FLOAT, OFF(model.norm_eps), 0, 0, 1, "RMSNorm epsilon"},
    {"init-std", "X", K_CFG_FLOAT, OFF(model.init_std), 0, 0, 1, "init standard deviation"},
};
#undef OFF
#define N_OPTS ((int)(sizeof opts / sizeof opts[0]))


void muon_train_defaults(muon_train_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->model_name, "nano");
    if (muon_config_named("nano", &c->model) != MUON_OK) memset(&c->model, 0, sizeof c->model);
    muon_optim_defaults(&c->optim);
    c->schedule = MUON_SCHED_COSINE;
    c->warmup = 20;
    c->lr_floor = 0.1f;
    c->steps = 500;
    c->tokens = 0;
    c->seed = 1337;
    c->threads = 0;
    c->eval_every = 50;
    c->eval_batches = 8;
    c->log_every = 10;
    c->ckpt_every = 100;
    c->track_every = MUON_DEFAULT_TRACK_EVERY;
    c->stop_after = 0;
    c->event_k = (float)MUON_EVENT_K_DEFAULT;
    c->event_window = MUON_EVENT_WINDOW_DEFAULT;
    strcpy(c->data, "data/kjv.txt");
    strcpy(c->out, "runs/nano");
}

static const opt_t *find_opt(const char *name)
{
    int i;
    for (i = 0; i < N_OPTS; i++)
        if (!strcmp(opts[i].name, name)) return &opts[i];
    return NULL;
}

int muon_train_flag_kind(const char *name)
{
    const opt_t *o = find_opt(name);
    if (!o) return -1;
    return o->arg == NULL;
}

static int bad(const opt_t *o, const char *value, const char *want)
{
    return muon_error(MUON_ERR_ARG, "--%s: expected %s, not '%s'", o->name, want, value);
}

static int parse_number(const opt_t *o, const char *value, double *out)
{
    /* a learning rate of exactly 0 trains nothing: refuse it */
    int positive = !strcmp(o->name, "lr") || !strcmp(o->name, "adam-lr");
    char *end;
    double x;
    char want[96];
    if (positive) sprintf(want, "a number > 0");
    else if (o->hi >= 1e30) sprintf(want, "a number >= %g", o->lo);
    else sprintf(want, "a number in [%g, %g]", o->lo, o->hi);
    if (!*value) return bad(o, value, want);
    /* ERANGE: "1e-400" would otherwise quietly become 0 */
    errno = 0;
    x = strtod(value, &end);
    if (*end || errno == ERANGE || end == value || !isfinite(x) || x < o->lo || x > o->hi) return bad(o, value, want);
    if (positive && x <= 0) return bad(o, value, want);
    *out = x;
    return MUON_OK;
}

static void cfg_key(const char *flag, char *key)
{
    size_t i;
    for (i = 0; flag[i]; i++) key[i] = flag[i] == '-' ? '_' : flag[i];
    key[i] = 0;
}

int muon_train_set(muon_train_config *c, const char *name, const char *value)
{
    const opt_t *o = find_opt(name);
    char *base = (char *)c;
    double x = 0;
    int st;
    char key[64];
    if (!o) return muon_error(MUON_ERR_ARG, "unknown flag '--%s' (see muon train --help)", name);
    if (!o->arg) {
        /* switches: no value from the command line; "0"/"1" from metadata */
        int on = !value || strcmp(value, "0") != 0;
        if (o->kind == K_SWITCH_OFF) *(int *)(base + o->off) = !on;
        else {
            cfg_key(o->name, key);
            st = muon_config_set(&c->model, key, on ? "1" : "0");
            if (st) return muon_error_prefix(MUON_ERR_ARG, "--%s: ", o->name);
        }
        return MUON_OK;
    }
    if (!value) return muon_error(MUON_ERR_ARG, "--%s needs a value (%s)", o->name, o->arg);
    switch (o->kind) {
    case K_INT: case K_LONG: {
        /* the table's range, narrowed to what the field holds (a 32-bit
         * long cannot count 1e12 steps: refused, not wrapped) */
        long long v, hi = (long long)o->hi, lim = o->kind == K_INT ? INT_MAX : LONG_MAX;
        char what[64];
        snprintf(what, sizeof what, "--%s", o->name);
        if (hi > lim) hi = lim;
        st = muon_parse_ll(what, value, (long long)o->lo, hi, &v);
        if (st) return st;
        if (o->kind == K_INT) *(int *)(base + o->off) = (int)v;
        else *(long *)(base + o->off) = (long)v;
        if (!strcmp(o->name, "steps")) c->tokens = 0;
        if (!strcmp(o->name, "tokens")) c->steps = 0;
        return MUON_OK;
    }
    case K_FLOAT:
        st = parse_number(o, value, &x);
        if (st) return st;
        *(float *)(base + o->off) = (float)x;
        return MUON_OK;
    case K_U64: {
        char what[64];
        snprintf(what, sizeof what, "--%s", o->name);
        return muon_parse_u64(what, value, UINT64_MAX, (uint64_t *)(base + o->off));
    }
    case K_STR:
        if (!*value) return bad(o, value, "a path");
        if (strlen(value) >= sizeof c->out) return muon_error(MUON_ERR_ARG, "--%s: path too long", o->name);
        strcpy(base + o->off, value);
        return MUON_OK;
    case K_MODEL:
        st = muon_config_named(value, &c->model);
        if (st) return muon_error_prefix(MUON_ERR_ARG, "--model: ");
        if (strlen(value) >= sizeof c->model_name) return bad(o, value, "a model name");
        strcpy(c->model_name, value);
        return MUON_OK;
    case K_OPT:
        st = muon_opt_parse(value, &c->optim.kind);
        return st ? muon_error_prefix(st, "--optimizer: ") : MUON_OK;
    case K_ORTH:
        st = muon_orth_parse(value, &c->optim.orth);
        return st ? muon_error_prefix(st, "--orth: ") : MUON_OK;
    case K_MSCALE:
        st = muon_mscale_parse(value, &c->optim.scale);
        return st ? muon_error_prefix(st, "--muon-scale: ") : MUON_OK;
    case K_SCHED:
        st = muon_sched_parse(value, &c->schedule);
        return st ? muon_error_prefix(st, "--schedule: ") : MUON_OK;
    case K_INIT:
        return muon_init_parse(value, (float *)(base + o->off));
    case K_PREC:
        if (!strcmp(value, "fp32")) c->optim.bf16 = 0;
        else if (!strcmp(value, "bf16")) c->optim.bf16 = 1;
        else return bad(o, value, "fp32 or bf16");
        return MUON_OK;
    case K_REDUCE:
        if (!strcmp(value, "tree")) c->reduce = MUON_REDUCE_TREE;
        else if (!strcmp(value, "batch")) c->reduce = MUON_REDUCE_BATCH;
        else return bad(o, value, "tree or batch");
        return MUON_OK;
    case K_DATAFMT:
        st = muon_data_format_parse(value, (int *)(base + o->off));
        return st ? muon_error_prefix(st, "--data-format: ") : MUON_OK;
    default: /* K_CFG_*: the model validates its own values */
        cfg_key(o->name, key);
        st = muon_config_set(&c->model, key, value);
        if (st) return muon_error_prefix(MUON_ERR_ARG, "--%s: ", o->name);
        return MUON_OK;
    }
}

/* The shortest decimal that reads back as the same float ("0.02", not
 * "0.0199999996"): readable in --help and run.json, and still exact. */
static void fmt_float(float v, char *buf, size_t n)
{
    int p;
    for (p = 6; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)v);
        if ((float)strtod(buf, NULL) == v) return;
    }
}

/* The current value of an option as text (floats exact, see fmt_float). */
static void opt_value(const muon_train_config *c, const opt_t *o, char *buf, size_t n)
{
    const char *base = (const char *)c;
    switch (o->kind) {
    case K_INT: case K_CFG_INT: snprintf(buf, n, "%d", *(const int *)(base + o->off)); break;
    case K_LONG: snprintf(buf, n, "%ld", *(const long *)(base + o->off)); break;
    case K_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)(base + o->off)); break;
    case K_FLOAT: case K_CFG_FLOAT: fmt_float(*(const float *)(base + o->off), buf, n); break;
    case K_STR: snprintf(buf, n, "%s", base + o->off); break;
    case K_SWITCH_OFF: snprintf(buf, n, "%d", !*(const int *)(base + o->off)); break;
    case K_CFG_SWITCH: snprintf(buf, n, "%d", *(const int *)(base + o->off) != 0); break;
    case K_MODEL: snprintf(buf, n, "%s", c->model_name); break;
    case K_OPT: snprintf(buf, n, "%s", muon_opt_name(c->optim.kind)); break;
    case K_ORTH: snprintf(buf, n, "%s", muon_orth_name(c->optim.orth)); break;
    case K_MSCALE: snprintf(buf, n, "%s", muon_mscale_name(c->optim.scale)); break;
    case K_SCHED: snprintf(buf, n, "%s", muon_sched_name(c->schedule)); break;
    case K_CFG_FFN: snprintf(buf, n, "%s", muon_ffn_name(c->model.ffn)); break;
    case K_PREC: snprintf(buf, n, "%s", c->optim.bf16 ? "bf16" : "fp32"); break;
    case K_REDUCE: snprintf(buf, n, "%s", c->reduce == MUON_REDUCE_BATCH ? "batch" : "tree"); break;
    case K_DATAFMT: snprintf(buf, n, "%s", muon_data_format_name(*(const int *)(base + o->off))); break;
    case K_INIT:
        if (c->init_stretch == 0.0f) snprintf(buf, n, "normal");
        else { char f[32]; fmt_float(c->init_stretch, f, sizeof f); snprintf(buf, n, "stretched:%s", f); }
        break;
    default: snprintf(buf, n, "?");
    }
}

void muon_train_help(FILE *out, const muon_train_config *c)
{
    int i;
    char val[600], flag[64];
    for (i = 0; i < N_OPTS; i++) {
        const opt_t *o = &opts[i];
        if (i == 0) fprintf(out, "training:\n");
        if (!strcmp(o->name, "vocab-size")) fprintf(out, "model config (override the --model preset):\n");
        opt_value(c, o, val, sizeof val);
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (!o->arg) fprintf(out, "  %-22s %s (default %s)\n", flag, o->help, strcmp(val, "0") ? "on" : "off");
        else if (o->kind == K_STR && !val[0]) fprintf(out, "  %-22s %s\n", flag, o->help);
        else if (!strcmp(o->name, "tokens") || !strcmp(o->name, "stop-after")) fprintf(out, "  %-22s %s\n", flag, o->help);
        else fprintf(out, "  %-22s %s (default %s)\n", flag, o->help, val);
    }
}

int muon_train_config_from_meta(muon_train_config *c, const muon_safetensors *f)
{
    int i, st;
    char key[80];
    /* "model" first: it resets every config field the later keys then set */
    for (i = 0; i < N_OPTS; i++) {
        const char *v;
        if (!opts[i].meta) continue;
        snprintf(key, sizeof key, "train.%s", opts[i].name);
        v = muon_safetensors_meta(f, key);
        /* a newer option: the checkpoint predates it and ran with the old
         * behaviour -- the default, except that the batch gradient was one pass */
        if (!v && opts[i].meta == 2 && opts[i].kind == K_REDUCE) v = "batch";
        if (!v && opts[i].meta == 2) continue;
        if (!v) return muon_error(MUON_ERR_FORMAT, "checkpoint: metadata lacks \"%s\" (not written by muon train?)", key);
        st = muon_train_set(c, opts[i].name, v);
        if (st) return muon_error_prefix(MUON_ERR_FORMAT, "checkpoint: metadata %s: ", key);
    }
    return MUON_OK;
}

const char *const *muon_train_config_meta(const muon_train_config *c)
{
    static char keys[N_OPTS][48], vals[N_OPTS][520];
    static const char *kv[2 * N_OPTS + 1];
    int i, j = 0;
    for (i = 0; i < N_OPTS; i++) {
        if (!opts[i].meta) continue;
        snprintf(keys[i], sizeof keys[i], "train.%s", opts[i].name);
        opt_value(c, &opts[i], vals[i], sizeof vals[i]);
        kv[j++] = keys[i];
        kv[j++] = vals[i];
    }
    kv[j] = NULL;
    return kv;
}
