/* cli suite: the real binary on bad input. Every refusal must be exactly one
 * line on stderr ("muon: ..."), exit status 2, and leave no output behind.
 * Also: Ctrl-C (SIGINT) stops at a step boundary with a checkpoint, a NaN run
 * exits 2, and the good paths (help, sample) work. */
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D "build/test_cli"

/* Runs `muon ARGS`; expects exit 2, one "muon: " line, and no `out` path. */
static void refused(const char *what, const char *args, const char *out)
{
    char cmd[1024], err[512];
    int rc, lines;
    snprintf(cmd, sizeof cmd, "%s %s", muon_bin(), args);
    rc = run_cmd(cmd, err, sizeof err);
    lines = test_stderr_lines();
    check(rc == 2 && lines == 1 && !strncmp(err, "muon: ", 6) && (!out || !test_path_exists(out)),
          "%s: exit %d, %d stderr line%s%s: %s", what, rc, lines, lines == 1 ? "" : "s",
          out ? (test_path_exists(out) ? ", OUTPUT LEFT BEHIND" : ", no output") : "", err);
}

/* As refused(), and the message must contain want (and not avoid, if given). */
static void refused_saying(const char *what, const char *args, const char *out, const char *want, const char *avoid)
{
    char cmd[1024], err[512];
    int rc, lines;
    snprintf(cmd, sizeof cmd, "%s %s", muon_bin(), args);
    rc = run_cmd(cmd, err, sizeof err);
    lines = test_stderr_lines();
    check(rc == 2 && lines == 1 && !strncmp(err, "muon: ", 6) && (!out || !test_path_exists(out)) && strstr(err, want) &&
          (!avoid || !strstr(err, avoid)),
          "%s: exit %d, %d stderr line%s%s, says '%s': %s", what, rc, lines, lines == 1 ? "" : "s",
          out ? (test_path_exists(out) ? ", OUTPUT LEFT BEHIND" : ", no output") : "", want, err);
}

static int copy_prefix(const char *from, const char *to, long n)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    int c, ok = a && b;
    long i;
    for (i = 0; ok && (n < 0 || i < n) && (c = fgetc(a)) != EOF; i++) fputc(c, b);
    if (a) fclose(a);
    if (b && fclose(b)) ok = 0;
    return ok;
}

void suite_cli(void)
{
    char cmd[2048], err[512];
    const char *good = D "/good/checkpoint.safetensors";
    const char *fast = "--model tiny --eval-every 0 --track-every 0 --log-every 0";
    FILE *f;
    int rc;
    if (system("rm -rf " D " && mkdir -p " D) != 0) { check(0, "cannot create " D); return; }
    snprintf(cmd, sizeof cmd, "{ %s train %s --optimizer adamw --steps 3 --out " D "/good > " D "/good.txt; }",
             muon_bin(), fast);
    rc = run_cmd(cmd, err, sizeof err);
    if (!check(rc == 0 && test_path_exists(good), "a 3-step tiny run writes a checkpoint (exit %d %s)", rc, err)) return;
    {
        /* --eval-every 0: no validation loss, so none printed (not "nan") */
        char line[512], done[512] = "";
        f = fopen(D "/good.txt", "rb");
        if (f) { while (fgets(line, sizeof line, f)) if (!strncmp(line, "done:", 5)) strcpy(done, line); fclose(f); }
        check(strstr(done, "val loss -") && !strstr(done, "nan"), "--eval-every 0: the done line has val loss '-': %s", done);
    }
    /* corrupt, truncated, foreign and non-muon files */
    f = fopen(D "/corrupt.safetensors", "wb");
    if (f) { fputs("this is not a safetensors file at all, just text\n", f); fclose(f); }
    copy_prefix(good, D "/truncated.safetensors", 3000);
    f = fopen(D "/afile", "wb");
    if (f) fclose(f);

    refused("unknown flag", "train --bogus --out " D "/o1", D "/o1");
    refused("unknown command", "trian", NULL);
    refused("bad number --steps abc", "train --steps abc --out " D "/o2", D "/o2");
    refused("bad number --lr -1", "train --lr -1 --out " D "/o3", D "/o3");
    refused("missing value", "train --out " D "/o4 --steps", D "/o4");
    refused("value given to a switch", "train --untied-head=1 --out " D "/o5", D "/o5");
    refused("stray argument", "train runs/x --out " D "/o6", D "/o6");
    refused("unknown --orth", "train --orth qr --out " D "/o7", D "/o7");
    refused("bad model config --d-model 0", "train --d-model 0 --out " D "/o8", D "/o8");
    refused("inconsistent config (3 heads in 32)", "train --model tiny --n-heads 3 --out " D "/o9", D "/o9");
    refused("missing data file", "train --model tiny --data " D "/nope.txt --out " D "/o10", D "/o10");
    refused("unwritable output directory", "train --model tiny --steps 2 --out " D "/afile/sub", D "/afile/sub");
    refused("resume: missing checkpoint", "train --resume " D "/none.safetensors --out " D "/o11", D "/o11");
    refused("resume: corrupt checkpoint", "train --resume " D "/corrupt.safetensors --out " D "/o12", D "/o12");
    refused("resume: truncated checkpoint", "train --resume " D "/truncated.safetensors --out " D "/o13", D "/o13");
    refused("resume: mismatched model (--d-model 64)", "train --resume " D "/good/checkpoint.safetensors --d-model 64 --steps 9 --out " D "/o14", D "/o14");
    refused("resume: not a muon checkpoint", "train --resume tests/golden/model_default.safetensors --out " D "/o15", D "/o15");
    refused("resume: already at --steps", "train --resume " D "/good/checkpoint.safetensors --out " D "/o16", D "/o16");
    refused("resume: another optimizer's state", "train --resume " D "/good/checkpoint.safetensors --optimizer muon --steps 6 --out " D "/o17", D "/o17");
    refused_saying("a directory as --data", "train --model tiny --data " D " --out " D "/o18", D "/o18", "directory", NULL);
    refused_saying("--seed beyond 2^64-1", "train --model tiny --seed 99999999999999999999999 --out " D "/o19", D "/o19",
                   "--seed", NULL);
    refused_saying("--steps and --tokens together", "train --model tiny --steps 3 --tokens 100 --out " D "/o20", D "/o20",
                   "--tokens", NULL);
    refused_saying("sample: --seed beyond 2^64-1", "sample " D "/good/checkpoint.safetensors --seed 99999999999999999999999",
                   NULL, "--seed", NULL);
    refused("sample: no checkpoint", "sample", NULL);
    refused("sample: missing checkpoint", "sample " D "/none.safetensors", NULL);
    refused("sample: corrupt checkpoint", "sample " D "/corrupt.safetensors", NULL);
    refused("sample: truncated checkpoint", "sample " D "/truncated.safetensors", NULL);
    refused("sample: not a muon checkpoint", "sample tests/golden/model_default.safetensors", NULL);
    refused("sample: bad --temperature", "sample " D "/good/checkpoint.safetensors --temperature -1", NULL);
    refused("sample: bad --tokens", "sample " D "/good/checkpoint.safetensors --tokens x", NULL);
    refused("sample: unknown flag", "sample " D "/good/checkpoint.safetensors --bogus 1", NULL);

    /* good paths */
    snprintf(cmd, sizeof cmd, "{ %s sample %s --prompt 'And God said' --tokens 30 --temperature 0 > " D "/sample.txt; }",
             muon_bin(), good);
    rc = run_cmd(cmd, err, sizeof err);
    {
        char line[256] = "";
        f = fopen(D "/sample.txt", "rb");
        if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }
        check(rc == 0 && !strncmp(line, "And God said", 12), "sample: exit %d, output starts with the prompt", rc);
    }
    snprintf(cmd, sizeof cmd, "{ %s train --help > " D "/help.txt; }", muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    {
        static const char *flags[] = {"--model", "--steps", "--tokens", "--out", "--optimizer", "--orth", "--ns-steps",
                                      "--track-every", "--seed", "--threads", "--resume", "--data", "--lr", "--adam-lr",
                                      "--wd", "--momentum", "--no-nesterov", "--muon-scale", "--warmup", "--schedule",
                                      "--clip", "--eval-every", "--log-every", "--ckpt-every", "--d-model", "--n-layers",
                                      "--n-heads", "--n-kv-heads", "--d-ff", "--seq-len", "--batch-size", "--vocab-size",
                                      "--ffn", "--untied-head", "--merged-qkvo"};
        char *text = NULL;
        size_t i, missing = 0;
        long n = 0;
        f = fopen(D "/help.txt", "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            n = ftell(f);
            fseek(f, 0, SEEK_SET);
            text = calloc((size_t)n + 1, 1);
            if (text && fread(text, 1, (size_t)n, f) != (size_t)n) n = 0;
            fclose(f);
        }
        for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
            char pat[64];
            snprintf(pat, sizeof pat, "  %s ", flags[i]);
            if (!text || !strstr(text, pat)) missing++;
        }
        check(rc == 0 && missing == 0 && text && strstr(text, "(default 0.02)"),
              "train --help lists all %lu flags of the issue with defaults (%lu missing)",
              (unsigned long)(sizeof flags / sizeof flags[0]), (unsigned long)missing);
        free(text);
    }

    /* NaN loss: exit 2, one line, the last good checkpoint stays */
    snprintf(cmd, sizeof cmd, "%s train %s --lr 1e30 --adam-lr 1e30 --warmup 0 --steps 20 --ckpt-every 1 --out " D "/nan",
             muon_bin(), fast);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && test_stderr_lines() == 1 && strstr(err, "diverged") && test_path_exists(D "/nan/checkpoint.safetensors"),
          "NaN loss: exit %d, one line, checkpoint kept: %s", rc, err);

    /* divergence before any checkpoint: no claim that one was kept */
    refused_saying("NaN loss before the first checkpoint", "train --model tiny --eval-every 0 --track-every 0 --log-every 0 "
                   "--lr 1e30 --adam-lr 1e30 --warmup 0 --steps 3 --out " D "/nan0", D "/nan0/checkpoint.safetensors",
                   "no checkpoint was written yet", "kept");

    /* a resumed copy of a checkpoint continues beside the copy, and leaves
     * the run it was copied from alone */
    if (system("mkdir -p " D "/copy") == 0 && copy_prefix(good, D "/copy/checkpoint.safetensors", -1)) {
        muon_safetensors ck;
        long s_copy = -1, s_orig = -1;
        snprintf(cmd, sizeof cmd, "%s train --resume " D "/copy/checkpoint.safetensors --steps 5", muon_bin());
        rc = run_cmd(cmd, err, sizeof err);
        if (!muon_checkpoint_open(D "/copy/checkpoint.safetensors", &ck)) { muon_checkpoint_step(&ck, &s_copy); muon_safetensors_free(&ck); }
        if (!muon_checkpoint_open(good, &ck)) { muon_checkpoint_step(&ck, &s_orig); muon_safetensors_free(&ck); }
        check(rc == 0 && s_copy == 5 && s_orig == 3 && test_path_exists(D "/copy/metrics.csv"),
              "resume a copied checkpoint without --out: exit %d, the copy's directory at step %ld, the original "
              "still at step %ld (3) %s", rc, s_copy, s_orig, err);
    } else check(0, "cannot copy the checkpoint into " D "/copy");

    /* Ctrl-C: wait until the run has started (metrics.csv exists), then SIGINT */
    snprintf(cmd, sizeof cmd,
             "sh -c '%s train %s --steps 1000000 --out " D "/int & p=$!; i=0; "
             "while [ ! -s " D "/int/metrics.csv ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
             "sleep 0.3; kill -INT $p; wait $p'", muon_bin(), fast);
    rc = run_cmd(cmd, err, sizeof err);
    {
        muon_safetensors ck;
        long step = -1;
        int ok = muon_checkpoint_open(D "/int/checkpoint.safetensors", &ck) == MUON_OK;
        if (ok) { muon_checkpoint_step(&ck, &step); muon_safetensors_free(&ck); }
        check(rc == 130 && ok && step > 0 && step < 1000000,
              "SIGINT: exit %d (130 expected), checkpoint at step %ld written at a step boundary", rc, step);
        /* and the run continues from it */
        snprintf(cmd, sizeof cmd, "%s train --resume " D "/int/checkpoint.safetensors --steps %ld", muon_bin(), step + 3);
        rc = run_cmd(cmd, err, sizeof err);
        check(rc == 0, "resume after SIGINT for 3 more steps: exit %d %s", rc, err);
    }

    /* ---- issue 15: hardening ---- */
    /* one integer parser for every flag: decimal digits only (strtol and
     * strtod took 0x10 and 1e2 for --steps, and ' 1' for --seed) */
    refused_saying("--steps 0x10 (hex)", "train --model tiny --steps 0x10 --out " D "/h1", D "/h1", "--steps", NULL);
    refused_saying("--steps 1e2 (exponent)", "train --model tiny --steps 1e2 --out " D "/h2", D "/h2", "--steps", NULL);
    refused_saying("--steps +5", "train --model tiny --steps +5 --out " D "/h3", D "/h3", "--steps", NULL);
    refused_saying("--seed ' 1' (leading space)", "train --model tiny --seed ' 1' --out " D "/h4", D "/h4", "--seed", NULL);
    refused_saying("--d-model 0x10", "train --model tiny --d-model 0x10 --out " D "/h5", D "/h5", "d_model", NULL);
    refused_saying("--warmup -1", "train --model tiny --warmup -1 --out " D "/h6", D "/h6", "--warmup", NULL);
    refused_saying("--steps beyond 64 bits", "train --model tiny --steps 99999999999999999999 --out " D "/h7", D "/h7",
                   "--steps", NULL);
    refused_saying("--threads 2x", "analyze " D "/good/checkpoint.safetensors --threads 2x", NULL, "--threads", NULL);
    refused_saying("sample --tokens 1e3", "sample " D "/good/checkpoint.safetensors --tokens 1e3", NULL, "--tokens", NULL);
    refused_saying("plot --layers 0x1", "plot " D "/good --layers 0x1", NULL, "--layers", NULL);
    /* B*T: the product overflowed a 32-bit long (i386: SIGSEGV), so the limit was bypassed */
    refused_saying("--batch-size 65536 --seq-len 65536", "train --model tiny --batch-size 65536 --seq-len 65536 --out " D "/h8",
                   D "/h8", "batch_size*seq_len", NULL);
    /* errno in write errors */
    refused_saying("unwritable --out says why", "train --model tiny --steps 2 --out " D "/afile/sub", D "/afile/sub",
                   "Not a directory", NULL);
    /* a relative data path recorded in a checkpoint, resumed from elsewhere */
    if (system("mkdir -p " D "/elsewhere") == 0) {
        const char *b = muon_bin();
        /* MUON_BIN may carry an emulator prefix ("qemu-aarch64 -L ... ./x"),
         * which the relative fix-up below cannot rewrite */
        if (strchr(b, ' ')) skip("relative data path on resume: MUON_BIN has an emulator prefix");
        else {
            /* the binary as seen from D/elsewhere, three levels down */
            snprintf(cmd, sizeof cmd, "( cd " D "/elsewhere && %s%s train --resume ../good/checkpoint.safetensors --steps 6 --out x )",
                     b[0] == '/' ? "" : "../../../", b);
            rc = run_cmd(cmd, err, sizeof err);
            check(rc == 2 && strstr(err, "recorded in the checkpoint") && strstr(err, "--data"),
                  "resume from another directory: the relative data path's origin is named: exit %d %s", rc, err);
        }
    }
    /* SIGTERM: like Ctrl-C, a checkpoint at a step boundary, exit 143 */
    snprintf(cmd, sizeof cmd,
             "sh -c '%s train %s --steps 1000000 --out " D "/term & p=$!; i=0; "
             "while [ ! -s " D "/term/metrics.csv ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
             "sleep 0.3; kill -TERM $p; wait $p'", muon_bin(), fast);
    rc = run_cmd(cmd, err, sizeof err);
    {
        muon_safetensors ck;
        long step = -1;
        int ok = muon_checkpoint_open(D "/term/checkpoint.safetensors", &ck) == MUON_OK;
        if (ok) { muon_checkpoint_step(&ck, &step); muon_safetensors_free(&ck); }
        FILE *rj = fopen(D "/term/run.json", "rb");
        char buf[4096] = "";
        size_t got = rj ? fread(buf, 1, sizeof buf - 1, rj) : 0;
        if (rj) fclose(rj);
        buf[got] = 0;
        /* run.json is written when the run ends: a killed process leaves none */
        check(rc == 143 && ok && step > 0 && step < 1000000 && strstr(buf, "\"status\": \"stopped\""),
              "SIGTERM: exit %d (143 expected), final checkpoint at step %ld, run.json says stopped (%s)", rc, step,
              strstr(buf, "\"status\": \"stopped\"") ? "yes" : "no");
    }
    /* NaN in a checkpoint: analyze still exits 0 but says so in one warning line */
    {
        float w[6] = {1, 2, 3, 4, 5, 6};
        muon_tensor t;
        int lines;
        w[4] = (float)NAN;
        memset(&t, 0, sizeof t);
        t.name = "layers.0.attn.q.weight";
        t.ndim = 2;
        t.shape[0] = 2;
        t.shape[1] = 3;
        t.data = w;
        muon_safetensors_write(D "/nan_ckpt.safetensors", &t, 1, NULL);
        snprintf(cmd, sizeof cmd, "%s analyze " D "/nan_ckpt.safetensors --out " D "/nan_ckpt.csv", muon_bin());
        rc = run_cmd(cmd, err, sizeof err);
        lines = test_stderr_lines();
        check(rc == 0 && lines == 1 && strstr(err, "warning") && strstr(err, "NaN"),
              "analyze of a checkpoint holding NaN: exit %d, one warning line: %s", rc, err);
    }
    /* metrics.csv whose last row was cut short: plotted, and said */
    if (copy_prefix(D "/good/metrics.csv", D "/partial/metrics.csv", -1) || (system("mkdir -p " D "/partial") == 0 &&
        copy_prefix(D "/good/metrics.csv", D "/partial/metrics.csv", -1))) {
        int lines;
        f = fopen(D "/partial/metrics.csv", "ab");
        if (f) { fputs("3,-1,model,lo", f); fclose(f); }
        snprintf(cmd, sizeof cmd, "%s plot " D "/partial", muon_bin());
        rc = run_cmd(cmd, err, sizeof err);
        lines = test_stderr_lines();
        check(rc == 0 && lines == 1 && strstr(err, "warning") && strstr(err, "cut short") &&
              test_path_exists(D "/partial/research_plots/loss.png"),
              "plot of a metrics.csv with a truncated last row: exit %d, drawn, one warning: %s", rc, err);
    } else check(0, "cannot copy metrics.csv into " D "/partial");
}
