/* train suite: data split and batches, checkpoints, the options table, and
 * whole training runs of the tiny model: exact resume, thread-count
 * independence, divergence handling, sampling. */
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR "build/test_train"

static int write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    if (n && fwrite(b, 1, n, f) != n) { fclose(f); return 1; }
    return fclose(f) != 0;
}

/* Reads a whole file into a malloc'd, NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = 0; if (len) *len = (size_t)n; }
    return b;
}

static void data_tests(void)
{
    unsigned char buf[1000];
    muon_data d;
    int tok[4 * 16], tgt[4 * 16], tok2[4 * 16], tgt2[4 * 16], i, ok;
    size_t k;
    /* 950 train bytes alternating 'A','C' (entropy ln 2), 50 validation 'B's */
    for (k = 0; k < 1000; k++) buf[k] = k < 950 ? (k % 2 ? 'C' : 'A') : 'B';
    if (write_file(DIR "/data.txt", buf, 1000) || write_file(DIR "/empty.txt", buf, 0)) {
        check(0, "cannot write test data in " DIR);
        return;
    }
    check(muon_data_load(&d, DIR "/missing.txt") == MUON_ERR_IO && d.bytes == NULL,
          "missing data file: MUON_ERR_IO: %s", muon_last_error());
    check(muon_data_load(&d, DIR) != MUON_OK && d.bytes == NULL && strstr(muon_last_error(), "directory"),
          "a directory as data file: refused as such: %s", muon_last_error());
    check(muon_data_load(&d, DIR "/empty.txt") == MUON_ERR_FORMAT, "empty data file: MUON_ERR_FORMAT: %s", muon_last_error());
    if (!check(muon_data_load(&d, DIR "/data.txt") == MUON_OK, "load a 1000-byte corpus")) return;
    check(d.n == 1000 && d.n_train == 950 && muon_data_split_size(&d, MUON_SPLIT_VAL) == 50,
          "95/5 split: validation is the last 50 of 1000 bytes");
    check_near("byte-unigram entropy of 'ACAC...' is ln 2", muon_data_unigram_entropy(&d), log(2.0), 1e-12, 0);
    muon_data_batch(&d, MUON_SPLIT_TRAIN, 7, 3, 4, 16, tok, tgt);
    for (i = 0, ok = 1; i < 64; i++) {
        if (tok[i] != 'A' && tok[i] != 'C') ok = 0;
        if (tgt[i] != (tok[i] == 'A' ? 'C' : 'A')) ok = 0; /* the next byte */
    }
    check(ok, "training batch: bytes from the training split only, targets = tokens shifted by one");
    muon_data_batch(&d, MUON_SPLIT_VAL, 7, 0, 4, 16, tok, tgt);
    for (i = 0, ok = 1; i < 64; i++) if (tok[i] != 'B' || tgt[i] != 'B') ok = 0;
    check(ok, "validation batch: bytes from the last 5%% only");
    muon_data_free(&d);

    if (muon_data_load(&d, "data/kjv.txt")) { check(0, "data/kjv.txt: %s", muon_last_error()); return; }
    muon_data_batch(&d, MUON_SPLIT_TRAIN, 7, 12, 4, 16, tok, tgt);
    muon_data_batch(&d, MUON_SPLIT_TRAIN, 7, 11, 4, 16, tok2, tgt2); /* another batch drawn in between */
    muon_data_batch(&d, MUON_SPLIT_TRAIN, 7, 12, 4, 16, tok2, tgt2);
    check(!memcmp(tok, tok2, sizeof tok) && !memcmp(tgt, tgt2, sizeof tgt),
          "batch of step s is a pure function of (seed, s)");
    muon_data_batch(&d, MUON_SPLIT_TRAIN, 7, 13, 4, 16, tok2, tgt2);
    check(memcmp(tok, tok2, sizeof tok) != 0, "steps 12 and 13 get different batches");
    muon_data_batch(&d, MUON_SPLIT_TRAIN, 8, 12, 4, 16, tok2, tgt2);
    check(memcmp(tok, tok2, sizeof tok) != 0, "seeds 7 and 8 get different batches");
    check(muon_data_batch(&d, MUON_SPLIT_VAL, 7, 0, 1, (int)d.n, tok, tgt) == MUON_ERR_ARG,
          "a window longer than the split is refused: %s", muon_last_error());
    muon_data_free(&d);
}

/* The runs below check the training loop's plumbing (exact resume, logs,
 * thread independence, divergence), and each ends with a whole-split
 * evaluation: on data/kjv.txt's 215 kB validation split that evaluation would
 * be nearly all of a run's work (make test-cross emulates it). They train on
 * the corpus's first 100 kB instead: the same text, its 5 kB validation split
 * still evaluated whole. data_tests() above covers data/kjv.txt itself. */
#define HEAD_CORPUS DIR "/kjv_head.txt"
#define HEAD_BYTES 100000

static int write_head_corpus(void)
{
    size_t len = 0;
    char *kjv = slurp("data/kjv.txt", &len);
    int st = !kjv || len < HEAD_BYTES || write_file(HEAD_CORPUS, (unsigned char *)kjv, HEAD_BYTES);
    free(kjv);
    return st;
}

static muon_train_config tiny_config(const char *out)
{
    muon_train_config c;
    muon_train_defaults(&c);
    muon_train_set(&c, "model", "tiny");
    strcpy(c.data, HEAD_CORPUS);
    c.steps = 20;
    c.warmup = 4;
    c.eval_every = 5;
    c.eval_batches = 2;
    c.track_every = 5;
    c.ckpt_every = 0;
    c.log_every = 0;
    strcpy(c.out, out);
    return c;
}

static void options_tests(void)
{
    muon_train_config c, d;
    const char *const *kv;
    muon_safetensors f;
    muon_tensor t;
    int64_t one = 1;
    float zero = 0;
    int n, i, same;
    muon_train_defaults(&c);
    check(muon_train_set(&c, "bogus", "1") == MUON_ERR_ARG, "unknown flag refused: %s", muon_last_error());
    check(muon_train_set(&c, "steps", "abc") == MUON_ERR_ARG, "--steps abc refused: %s", muon_last_error());
    check(muon_train_set(&c, "lr", "-1") == MUON_ERR_ARG, "--lr -1 refused: %s", muon_last_error());
    check(muon_train_set(&c, "lr", "0") == MUON_ERR_ARG, "--lr 0 refused");
    check(muon_train_set(&c, "steps", "1.5") == MUON_ERR_ARG, "--steps 1.5 refused");
    check(muon_train_set(&c, "lr", "nan") == MUON_ERR_ARG, "--lr nan refused");
    check(muon_train_set(&c, "d-model", "x") == MUON_ERR_ARG, "--d-model x refused by the model's own check: %s", muon_last_error());
    check(muon_train_set(&c, "orth", "qr") == MUON_ERR_ARG, "--orth qr refused: %s", muon_last_error());
    check(muon_train_set(&c, "lr", "0.05") == 0 && float_is(c.optim.lr, 0.05f), "--lr 0.05 sets the Muon lr");
    check(muon_train_set(&c, "no-nesterov", NULL) == 0 && c.optim.nesterov == 0, "--no-nesterov switches Nesterov off");
    check(muon_train_set(&c, "untied-head", NULL) == 0 && c.model.untied_head == 1, "--untied-head reaches muon_config_set");
    check(muon_train_set(&c, "ffn", "swiglu") == 0 && c.model.ffn == MUON_FFN_SWIGLU, "--ffn swiglu");
    check(muon_train_set(&c, "tokens", "100000") == 0 && c.tokens == 100000 && c.steps == 0, "--tokens replaces --steps");
    check(muon_train_set(&c, "seed", "99999999999999999999999") == MUON_ERR_ARG, "--seed beyond 2^64-1 refused: %s",
          muon_last_error());
    check(muon_train_set(&c, "seed", " -1") == MUON_ERR_ARG, "--seed ' -1' refused (strtoull would wrap it)");
    check(muon_train_set(&c, "seed", "18446744073709551615") == MUON_OK && c.seed == UINT64_MAX, "--seed 2^64-1 accepted");
    check(muon_train_set(&c, "wd", "1e-400") == MUON_ERR_ARG, "--wd 1e-400 (underflows to 0) refused");
    check(muon_train_flag_kind("merged-qkvo") == 1 && muon_train_flag_kind("lr") == 0 && muon_train_flag_kind("nope") == -1,
          "flag kinds: switch, value, unknown");
    /* settings survive the checkpoint metadata round trip */
    muon_train_set(&c, "steps", "77");
    muon_train_set(&c, "model", "tiny");
    muon_train_set(&c, "d-model", "48");
    muon_train_set(&c, "untied-head", NULL);
    muon_train_set(&c, "ffn", "swiglu");
    muon_train_set(&c, "momentum", "0.9");
    muon_train_set(&c, "schedule", "constant");
    kv = muon_train_config_meta(&c);
    for (n = 0; kv[n]; n++) {}
    t.name = "x"; strcpy(t.dtype, "F32"); t.ndim = 1; t.shape[0] = one; t.numel = 1; t.data = &zero;
    if (!check(muon_safetensors_write(DIR "/meta.safetensors", &t, 1, kv) == MUON_OK && muon_safetensors_read(DIR "/meta.safetensors", &f) == MUON_OK,
               "settings written as %d metadata pairs", n / 2))
        return;
    muon_train_defaults(&d);
    same = muon_train_config_from_meta(&d, &f) == MUON_OK;
    muon_safetensors_free(&f);
    same = same && d.steps == 77 && d.model.d_model == 48 && d.model.n_layers == 2 && float_is(d.optim.momentum, 0.9f) &&
           d.schedule == MUON_SCHED_CONSTANT && d.optim.nesterov == 0 && d.model.untied_head == 1 &&
           d.model.ffn == MUON_FFN_SWIGLU && float_is(d.optim.lr, 0.05f) && !strcmp(d.model_name, "tiny");
    for (i = 0; kv[i]; i += 2) if (strstr(kv[i], "threads") || strstr(kv[i], "resume")) same = 0;
    check(same, "metadata round trip restores every setting (not threads, not resume)");
}

static int read_params(const char *path, muon_safetensors *f)
{
    return muon_checkpoint_open(path, f);
}

/* Every tensor of a and b bitwise equal (same names and sizes). */
static int same_tensors(const muon_safetensors *a, const muon_safetensors *b)
{
    int i;
    if (a->count != b->count) return 0;
    for (i = 0; i < a->count; i++) {
        const muon_tensor *x = &a->tensors[i], *y = muon_safetensors_find(b, x->name);
        if (!y || y->numel != x->numel || memcmp(x->data, y->data, x->numel * sizeof(float))) return 0;
    }
    return 1;
}

/* Copies checkpoint `from` to `to` with metadata key k1 (and k2, if not
 * NULL) set to v; the tensors stay as they are. */
static int tamper(const char *from, const char *to, const char *k1, const char *k2, const char *v)
{
    muon_safetensors f;
    const char **kv;
    int i, st;
    if (muon_safetensors_read(from, &f)) return 1;
    kv = malloc((2 * (size_t)f.meta_count + 1) * sizeof *kv);
    if (!kv) { muon_safetensors_free(&f); return 1; }
    for (i = 0; i < f.meta_count; i++) {
        int hit = !strcmp(f.meta_keys[i], k1) || (k2 && !strcmp(f.meta_keys[i], k2));
        kv[2 * i] = f.meta_keys[i];
        kv[2 * i + 1] = hit ? v : f.meta_values[i];
    }
    kv[2 * f.meta_count] = NULL;
    st = muon_safetensors_write(to, f.tensors, f.count, kv);
    free((void *)kv);
    muon_safetensors_free(&f);
    return st;
}

static void checkpoint_tests(void)
{
    muon_config cfg, back;
    muon_model m, m2;
    muon_optim o, o2;
    muon_optim_config oc;
    muon_safetensors f;
    long step = -1;
    int st, s, tok[32], tgt[32], i;
    char *bytes;
    size_t len;
    if (muon_config_named("tiny", &cfg) || muon_model_create(&m, &cfg)) { check(0, "tiny model"); return; }
    muon_model_init(&m, 3);
    muon_optim_defaults(&oc);
    oc.kind = MUON_OPT_ADAMW; /* Muon's momentum layout is checked by the resume test */
    muon_optim_create(&o, &oc, &m);
    for (s = 0; s < 2; s++) {
        for (i = 0; i < 32; i++) { tok[i] = (i * 7 + s) % 256; tgt[i] = (i * 13 + 1) % 256; }
        muon_model_zero_grad(&m);
        muon_model_forward(&m, tok, tgt, 2, 16);
        muon_model_backward(&m);
        muon_optim_step(&o, &m, 1.0);
    }
    st = muon_checkpoint_save(DIR "/ck.safetensors", &m, &o, 2, NULL);
    check(st == MUON_OK, "checkpoint saved (%s)", st ? muon_last_error() : "ok");
    st = muon_checkpoint_open(DIR "/ck.safetensors", &f);
    if (!check(st == MUON_OK, "checkpoint reopened (%s)", st ? muon_last_error() : "ok")) goto out;
    check(muon_safetensors_find(&f, "embed.weight") && muon_safetensors_find(&f, "layers.1.attn.q.weight") &&
          muon_safetensors_find(&f, "optim.adam_m.embed.weight") && muon_safetensors_find(&f, "optim.adam_v.norm.weight") &&
          muon_safetensors_find(&f, "norm.weight")->ndim == 1,
          "PyTorch names, optimizer state as optim.adam_m/v.<name>, gains 1-D");
    check(muon_checkpoint_config(&f, &back) == MUON_OK && back.d_model == cfg.d_model && back.n_layers == cfg.n_layers &&
          muon_checkpoint_step(&f, &step) == MUON_OK && step == 2, "config and step (2) from the metadata");
    muon_model_create(&m2, &cfg);
    muon_optim_create(&o2, &oc, &m2);
    st = muon_checkpoint_load_model(&f, &m2);
    if (!st) st = muon_checkpoint_load_optim(&f, &m2, &o2);
    check(st == MUON_OK && !memcmp(m.params, m2.params, m.num_params * sizeof(float)) &&
          !memcmp(o.momentum, o2.momentum, m.num_params * sizeof(float)) &&
          !memcmp(o.adam_v, o2.adam_v, m.num_params * sizeof(float)) && o2.t == 2,
          "round trip: parameters, both moments and the step count bit-identical");
    muon_optim_free(&o2);
    oc.kind = MUON_OPT_MUON;
    muon_optim_create(&o2, &oc, &m2);
    check(muon_checkpoint_load_optim(&f, &m2, &o2) == MUON_ERR_FORMAT,
          "an AdamW checkpoint has no Muon momentum: refused: %s", muon_last_error());
    muon_optim_free(&o2);
    muon_model_free(&m2);
    muon_safetensors_free(&f);
    /* another shape: mismatched checkpoint */
    cfg.d_ff = 32;
    muon_model_create(&m2, &cfg);
    muon_checkpoint_open(DIR "/ck.safetensors", &f);
    check(muon_checkpoint_load_model(&f, &m2) == MUON_ERR_FORMAT, "mismatched shape refused: %s", muon_last_error());
    muon_safetensors_free(&f);
    muon_model_free(&m2);
    /* truncated and foreign files */
    bytes = slurp(DIR "/ck.safetensors", &len);
    if (bytes) {
        write_file(DIR "/trunc.safetensors", (unsigned char *)bytes, len / 2);
        free(bytes);
    }
    check(muon_checkpoint_open(DIR "/trunc.safetensors", &f) == MUON_ERR_FORMAT, "truncated checkpoint: %s", muon_last_error());
    check(muon_checkpoint_open(golden_path("model_default.safetensors"), &f) == MUON_ERR_FORMAT,
          "a safetensors file without our metadata: %s", muon_last_error());
    check(muon_checkpoint_open(DIR "/none.safetensors", &f) == MUON_ERR_IO, "missing checkpoint: %s", muon_last_error());
    /* a step beyond LONG_MAX must not saturate into a huge valid step */
    step = -1;
    if (!tamper(DIR "/ck.safetensors", DIR "/bigstep.safetensors", "step", NULL, "99999999999999999999") &&
        !muon_checkpoint_open(DIR "/bigstep.safetensors", &f)) {
        check(muon_checkpoint_step(&f, &step) == MUON_ERR_FORMAT, "metadata step 99999999999999999999: refused: %s",
              muon_last_error());
        muon_safetensors_free(&f);
    } else check(0, "tampered checkpoint: %s", muon_last_error());
    /* out of memory: the message names what did not fit, on one line */
    muon_alloc_fail_after(5); /* tensors, params, grads, acts struct, then the activation block */
    st = muon_model_create(&m2, &cfg);
    muon_alloc_fail_after(0);
    check(st == MUON_ERR_NOMEM && strstr(muon_last_error(), "activations") && strstr(muon_last_error(), "--batch-size") &&
          !strstr(muon_last_error(), "(out of memory"), "no memory for the activations: %s", muon_last_error());
    muon_alloc_fail_after(2);
    st = muon_model_create(&m2, &cfg);
    muon_alloc_fail_after(0);
    check(st == MUON_ERR_NOMEM && strstr(muon_last_error(), "parameters") && !strstr(muon_last_error(), "activations"),
          "no memory for the parameters: %s", muon_last_error());
    /* non-finite parameters are never written */
    m.params[5] = NAN;
    remove(DIR "/nan.safetensors");
    check(muon_checkpoint_save(DIR "/nan.safetensors", &m, &o, 3, NULL) == MUON_ERR_NUMERIC &&
          !fopen(DIR "/nan.safetensors", "rb"), "NaN parameters: MUON_ERR_NUMERIC, no file");
out:
    muon_optim_free(&o);
    muon_model_free(&m);
}

static void run_tests(void)
{
    muon_train_config a, b;
    muon_safetensors fa, fb;
    char *ma, *mb;
    int st, stopped = -1, threads = muon_threads(), dup, reduce;
    double t0 = muon_seconds();

    if (write_head_corpus()) {
        check(0, "cannot write the first %d bytes of data/kjv.txt to " HEAD_CORPUS, HEAD_BYTES);
        return;
    }
    /* 20 steps straight vs 10 (stop-after) + resume + 10: bit-identical */
    a = tiny_config(DIR "/straight");
    st = muon_train(&a, NULL, &stopped);
    if (!check(st == MUON_OK && stopped == 0, "tiny, Muon, 20 steps (%s)", st ? muon_last_error() : "ok")) return;
    b = tiny_config(DIR "/resumed");
    b.stop_after = 10;
    st = muon_train(&b, NULL, &stopped);
    check(st == MUON_OK && stopped == 2, "stop after step 10 (%s)", st ? muon_last_error() : "ok");
    {
        /* keep the step-10 checkpoint to replay a crash below */
        size_t len = 0;
        char *ck = slurp(DIR "/resumed/checkpoint.safetensors", &len);
        if (ck) write_file(DIR "/step10.safetensors", (unsigned char *)ck, len);
        free(ck);
    }
    strcpy(b.resume, DIR "/resumed/checkpoint.safetensors");
    b.stop_after = 0;
    st = muon_train(&b, NULL, &stopped);
    check(st == MUON_OK && stopped == 0, "resume to step 20 (%s)", st ? muon_last_error() : "ok");
    /* as after a crash: metrics.csv already holds steps 11..20, the checkpoint
     * is at step 10; resuming must drop those rows and write them again once */
    strcpy(b.resume, DIR "/step10.safetensors");
    st = muon_train(&b, NULL, &stopped);
    check(st == MUON_OK, "resume again from the step-10 checkpoint over a log that reaches step 20 (%s)",
          st ? muon_last_error() : "ok");
    if (!read_params(DIR "/straight/checkpoint.safetensors", &fa)) {
        if (!read_params(DIR "/resumed/checkpoint.safetensors", &fb)) {
            check(same_tensors(&fa, &fb), "20 straight = 10 + resume + 10: parameters and Muon/AdamW state bit-identical (%d tensors)", fa.count);
            muon_safetensors_free(&fb);
        }
        muon_safetensors_free(&fa);
    }
    ma = slurp(DIR "/straight/metrics.csv", NULL);
    mb = slurp(DIR "/resumed/metrics.csv", NULL);
    check(ma && mb && !strcmp(ma, mb), "metrics.csv identical (loss curve, lr, val loss, tracked metrics), no duplicate rows");
    dup = 0;
    if (ma) {
        /* every (step, layer, matrix, metric) once */
        char *line, *save = ma, *seen = NULL;
        size_t n = 0, cap = 0;
        char **keys = NULL;
        size_t i;
        (void)seen;
        while ((line = strtok(save, "\n"))) {
            char *comma = strrchr(line, ',');
            save = NULL;
            if (comma) *comma = 0;
            for (i = 0; i < n; i++) if (!strcmp(keys[i], line)) { dup++; break; }
            if (n == cap) { cap = cap ? 2 * cap : 256; keys = realloc(keys, cap * sizeof *keys); }
            keys[n++] = line;
        }
        check(n >= 20 * 4 && dup == 0, "metrics.csv: %lu rows, %d duplicate keys", (unsigned long)n, dup);
        free(keys);
    }
    {
        /* the loss fell (a check that the whole loop trains) */
        char *p = mb ? strstr(mb, "\n1,-1,model,loss,") : NULL, *q = mb ? strstr(mb, "\n20,-1,model,loss,") : NULL;
        double l1 = p ? atof(p + 17) : 0, l20 = q ? atof(q + 18) : 0;
        check(p && q && l20 < l1 - 0.3, "loss fell from %.4f (step 1) to %.4f (step 20)", l1, l20);
    }
    free(ma);
    free(mb);

    /* --track-every 50 on 20 steps: tracked at step 0 and the final step 20;
     * stopped at 10 and resumed: also at 10, where that run stopped. The
     * split log is the straight one plus those step-10 rows, no more. */
    a = tiny_config(DIR "/k50");
    a.track_every = 50;
    st = muon_train(&a, NULL, &stopped);
    b = tiny_config(DIR "/k50s");
    b.track_every = 50;
    b.stop_after = 10;
    if (!st) st = muon_train(&b, NULL, &stopped);
    strcpy(b.resume, DIR "/k50s/checkpoint.safetensors");
    b.stop_after = 0;
    if (!st) st = muon_train(&b, NULL, &stopped);
    ma = slurp(DIR "/k50/metrics.csv", NULL);
    mb = slurp(DIR "/k50s/metrics.csv", NULL);
    if (check(!st && ma && mb, "track-every 50: 20 steps straight, and 10 + resume + 10 (%s)", st ? muon_last_error() : "ok")) {
        char *p, *q;
        long n20 = 0, n10 = 0;
        for (p = ma; (p = strstr(p, "\n20,")); p++) if (p[4] != '-') n20++;
        for (p = mb; (p = strstr(p, "\n10,")); p++) if (p[4] != '-') n10++;
        check(n20 > 0, "the final step 20 is tracked although 50 does not divide it (%ld rows)", n20);
        /* drop the split log's tracked step-10 rows ("10,<layer>=0..>,...") */
        for (p = q = mb; *p;) {
            char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p + 1) : strlen(p);
            if (!(strncmp(p, "10,", 3) == 0 && p[3] != '-')) { memmove(q, p, len); q += len; }
            p += len;
        }
        *q = 0;
        check(n10 > 0 && !strcmp(ma, mb), "stopped at 10: tracked there (%ld rows); otherwise the logs are identical", n10);
    }
    free(ma);
    free(mb);

    /* 1 vs 2 threads: bit-identical, with either batch gradient; a wider
     * tiny (C 64, T 32, B 4) so the GEMMs and the model's loops really
     * split across threads */
    for (reduce = MUON_REDUCE_TREE; reduce <= MUON_REDUCE_BATCH; reduce++) {
        const char *rn = reduce == MUON_REDUCE_TREE ? "--reduce tree" : "--reduce batch";
        a = tiny_config(DIR "/t1");
        a.steps = 8;
        a.model.d_model = 64;
        a.model.d_ff = 128;
        a.model.seq_len = 32;
        a.model.batch_size = 4;
        a.threads = 1;
        a.reduce = reduce;
        b = a;
        strcpy(b.out, DIR "/t2");
        b.threads = 2;
        st = threads_begin("training") ? MUON_OK : -1;
        if (!st) st = muon_train(&a, NULL, &stopped);
        if (!st) st = muon_train(&b, NULL, &stopped);
        if (st != -1) threads_end();
        muon_set_threads(threads);
        if (st != -1 && check(st == MUON_OK, "%s: 8 steps on 1 and on 2 threads (%s)", rn, st ? muon_last_error() : "ok")) {
            ma = slurp(DIR "/t1/metrics.csv", NULL);
            mb = slurp(DIR "/t2/metrics.csv", NULL);
            check(ma && mb && !strcmp(ma, mb), "%s, 1 vs 2 threads: metrics.csv (loss curve and metrics) identical", rn);
            free(ma);
            free(mb);
            if (!read_params(DIR "/t1/checkpoint.safetensors", &fa)) {
                if (!read_params(DIR "/t2/checkpoint.safetensors", &fb)) {
                    check(same_tensors(&fa, &fb), "%s, 1 vs 2 threads: parameters bit-identical", rn);
                    muon_safetensors_free(&fb);
                }
                muon_safetensors_free(&fa);
            }
        }
    }

    /* divergence: NaN loss stops with MUON_ERR_NUMERIC, last good checkpoint kept */
    a = tiny_config(DIR "/nan");
    a.optim.lr = 1e30f;
    a.optim.adam_lr = 1e30f;
    a.warmup = 0;
    a.ckpt_every = 1;
    st = muon_train(&a, NULL, &stopped);
    check(st == MUON_ERR_NUMERIC && strstr(muon_last_error(), "diverged"), "lr 1e30: MUON_ERR_NUMERIC: %s", muon_last_error());
    if (!read_params(DIR "/nan/checkpoint.safetensors", &fa)) {
        long s = -1;
        int i, finite = 1;
        muon_checkpoint_step(&fa, &s);
        for (i = 0; i < fa.count; i++) finite &= muon_all_finite(fa.tensors[i].data, fa.tensors[i].numel);
        check(s >= 1 && s < 20 && finite, "the last good checkpoint (step %ld) is kept, all finite", s);
        muon_safetensors_free(&fa);
    } else check(0, "no checkpoint after divergence: %s", muon_last_error());

    /* refused before any output */
    a = tiny_config(DIR "/refused");
    strcpy(a.data, DIR "/missing.txt");
    check(muon_train(&a, NULL, &stopped) == MUON_ERR_IO && !fopen(DIR "/refused/metrics.csv", "rb"),
          "missing data file: refused, no output: %s", muon_last_error());
    a = tiny_config(DIR "/refused");
    strcpy(a.resume, DIR "/straight/checkpoint.safetensors");
    check(muon_train(&a, NULL, &stopped) == MUON_ERR_ARG, "resume at the final step: nothing to do: %s", muon_last_error());
    a.steps = 30;
    a.model.d_model = 64;
    check(muon_train(&a, NULL, &stopped) == MUON_ERR_FORMAT && !fopen(DIR "/refused/metrics.csv", "rb"),
          "resume with another model shape: refused, no output: %s", muon_last_error());
    /* a checkpoint at odds with itself: the message says so, and does not
     * blame model flags that were never given */
    if (!tamper(DIR "/straight/checkpoint.safetensors", DIR "/odd1.safetensors", "config.d_ff", NULL, "96") &&
        !tamper(DIR "/straight/checkpoint.safetensors", DIR "/odd2.safetensors", "config.d_ff", "train.d-ff", "96")) {
        int k;
        for (k = 0; k < 2; k++) {
            muon_safetensors f;
            muon_train_defaults(&a);
            strcpy(a.resume, k ? DIR "/odd2.safetensors" : DIR "/odd1.safetensors");
            st = muon_checkpoint_open(a.resume, &f);
            if (!st) { st = muon_train_config_from_meta(&a, &f); muon_safetensors_free(&f); }
            a.steps = 30;
            strcpy(a.out, DIR "/odd");
            if (!st) st = muon_train(&a, NULL, &stopped);
            check(st == MUON_ERR_FORMAT && !strstr(muon_last_error(), "model flags") &&
                  strstr(muon_last_error(), k ? "tensors do not match its own model config" : "contradicts itself"),
                  "resume from a checkpoint whose %s: %s",
                  k ? "config metadata disagrees with its tensors" : "config.* and train.* disagree", muon_last_error());
        }
    } else check(0, "tampered checkpoints: %s", muon_last_error());
    note("train runs took %.1f s", muon_seconds() - t0);
}

static void sample_tests(void)
{
    muon_safetensors f;
    muon_config cfg;
    muon_model m;
    unsigned char a[40], b[40], c[40];
    const unsigned char prompt[] = "In the beginning";
    int st;
    if (muon_checkpoint_open(DIR "/straight/checkpoint.safetensors", &f)) { check(0, "sample: %s", muon_last_error()); return; }
    st = muon_checkpoint_config(&f, &cfg);
    if (!st) st = muon_model_create(&m, &cfg);
    if (!st) st = muon_checkpoint_load_model(&f, &m);
    muon_safetensors_free(&f);
    if (!check(st == MUON_OK, "sample: model from checkpoint")) return;
    st = muon_sample(&m, prompt, 16, 40, 0.0f, 1, a);
    st |= muon_sample(&m, prompt, 16, 40, 0.0f, 2, b);
    check(!st && !memcmp(a, b, 40), "greedy sampling ignores the seed");
    st = muon_sample(&m, prompt, 16, 40, 1.0f, 5, a);
    st |= muon_sample(&m, prompt, 16, 40, 1.0f, 5, b);
    st |= muon_sample(&m, prompt, 16, 40, 1.0f, 6, c);
    check(!st && !memcmp(a, b, 40) && memcmp(a, c, 40), "temperature 1: same seed same text, another seed another text");
    check(muon_sample(&m, NULL, 0, 40, 0.5f, 5, a) == MUON_OK, "empty prompt, 40 bytes (longer than seq_len 16: context slides)");
    check(muon_sample(&m, prompt, 16, 4, -1.0f, 5, a) == MUON_ERR_ARG, "negative temperature refused");
    muon_model_free(&m);
}

void suite_train(void)
{
    if (system("mkdir -p " DIR) != 0) { check(0, "cannot create " DIR); return; }
    data_tests();
    options_tests();
    checkpoint_tests();
    run_tests();
    sample_tests();
}
