/* muon -- the command-line program. Parses arguments and wires the library
 * together; no numerics here. Every failure is one line on stderr and exit
 * status 2. */
#include "muon.h"
#include "conformance/conformance.h"
#include "plots/compare.h"
#include "io/export.h"
#include "model/experiments.h"
#include "io/parse.h"
#include "dist/dist.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage: muon COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  train    train a model with Muon (or AdamW) and track spectral metrics\n"
    "  plot     redraw the research plots of a run from its metrics.csv\n"
    "  sample   generate text from a checkpoint\n"
    "  analyze  spectral metrics of one or more checkpoints\n"
    "  compare  the research plots of several runs overlaid\n"
    "  report   report.md: the research's claims measured on runs, with verdicts\n"
    "  bench    benchmark GEMM, SVD, orthogonalisers and training\n"
    "  conform  run this implementation through a conformance suite, write RESULTS\n"
    "  verify   compare a backend's RESULTS with a conformance suite\n"
    "  export   a checkpoint's weights without optimizer state (for PyTorch)\n"
    "\n"
    "`muon COMMAND --help` describes each command.\n";

/* One line on stderr, exit 2: the contract for every kind of bad input. */
/* Under mpirun every rank parses the same command line, so a bad flag fails
 * on all of them: rank 0 alone says so. A failure that may be one rank's
 * alone (a file it cannot read; anything once training runs) is agreed
 * between the ranks and printed by the rank it happened on
 * (muon_dist_quiet on the others); train_started is then set. */
static int train_started;

static int fail(const char *fmt, ...)
{
    va_list ap;
    if (train_started ? muon_dist_quiet() : muon_dist_rank() != 0) return 2;
    fputs("muon: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* `--threads T` for analyze and bench: 1..1024, else fail()'s line; 0 when set. */
static int set_threads_flag(const char *cmd, const char *arg)
{
    int t;
    if (!arg) return fail("%s: --threads needs a value", cmd);
    if (muon_parse_int("--threads", arg, 1, 1024, &t)) return fail("%s: %s", cmd, muon_last_error());
    muon_set_threads(t);
    return 0;
}

static int wants_help(int argc, char **argv)
{
    int i;
    for (i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* ---- train -------------------------------------------------------------- */

/* Ctrl-C (SIGINT) and SIGTERM (kill, a batch system's time limit, a
 * container stop): finish the current step, write a checkpoint, exit 128 +
 * the signal (130, 143). A second signal gets the default action (immediate
 * exit). */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    muon_train_stop();
    signal(sig, SIG_DFL);
}

/* Reads the flag at argv[*i] ("--name", "--name=value" or "--name value")
 * into name/value; kind_of says whether it takes a value (1 = switch,
 * 0 = value, -1 = unknown). Returns 0, or fail()'s exit status. */
static int next_flag(const char *cmd, int argc, char **argv, int *i, int (*kind_of)(const char *),
                     char *name, size_t n, const char **value)
{
    const char *a = argv[*i], *eq;
    size_t len;
    int kind;
    if (strncmp(a, "--", 2) != 0 || !a[2]) return fail("%s: unexpected argument '%s' (see muon %s --help)", cmd, a, cmd);
    a += 2;
    eq = strchr(a, '=');
    len = eq ? (size_t)(eq - a) : strlen(a);
    if (len >= n) return fail("%s: unknown flag '--%s' (see muon %s --help)", cmd, a, cmd);
    memcpy(name, a, len);
    name[len] = 0;
    kind = kind_of(name);
    if (kind < 0) return fail("%s: unknown flag '--%s' (see muon %s --help)", cmd, name, cmd);
    if (kind == 1) {
        if (eq) return fail("%s: --%s takes no value", cmd, name);
        *value = NULL;
    } else if (eq) {
        *value = eq + 1;
    } else {
        if (*i + 1 >= argc) return fail("%s: --%s needs a value", cmd, name);
        *value = argv[++*i];
    }
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    muon_train_config c;
    char name[64], data_from_ckpt[sizeof c.data] = "";
    const char *value, *resume = NULL, *steps = NULL, *tokens = NULL;
    int i, rc, st, stopped = 0;
    muon_train_defaults(&c);
    if (wants_help(argc, argv)) {
        printf("usage: muon train [options]\n"
               "  trains a byte-level GPT on the corpus with Muon (or AdamW), writing to the output\n"
               "  directory: checkpoint.safetensors, metrics.csv, run.json, research_plots/.\n"
               "  Ctrl-C stops after the current step and writes a checkpoint (exit 130).\n"
               "  Values below are the defaults.\n");
        muon_train_help(stdout, &c);
        return 0;
    }
    /* pass 1: syntax, --model and --resume (they set the defaults of the rest) */
    for (i = 0; i < argc; i++) {
        if ((rc = next_flag("train", argc, argv, &i, muon_train_flag_kind, name, sizeof name, &value))) return rc;
        if (!strcmp(name, "resume")) resume = value;
        if (!strcmp(name, "steps")) steps = value;
        if (!strcmp(name, "tokens")) tokens = value;
    }
    if (steps && tokens)
        return fail("train: --steps %s and --tokens %s both set the run length; give one of them", steps, tokens);
    if (resume) {
        muon_safetensors f;
        st = muon_checkpoint_open(resume, &f);
        if (!st) {
            st = muon_train_config_from_meta(&c, &f);
            muon_safetensors_free(&f);
        }
        /* a file one rank cannot read fails every rank: agreed, said once */
        if ((st = muon_dist_agree(st))) { train_started = 1; return fail("train: --resume %s", muon_last_error()); }
        snprintf(data_from_ckpt, sizeof data_from_ckpt, "%s", c.data);
        {
            /* continue beside the checkpoint, not in the directory it recorded:
             * a copied checkpoint must not write into the original run */
            const char *slash = strrchr(resume, '/');
#if defined(_WIN32)
            const char *bs = strrchr(resume, '\\');
            if (bs && (!slash || bs > slash)) slash = bs;
#endif
            size_t n = slash ? (size_t)(slash - resume) : 0;
            if (n >= sizeof c.out) return fail("train: --resume %s: path too long", resume);
            if (!slash) strcpy(c.out, ".");
            else if (n == 0) strcpy(c.out, "/");
            else { memcpy(c.out, resume, n); c.out[n] = 0; }
        }
    }
    for (i = 0; i < argc; i++) {
        next_flag("train", argc, argv, &i, muon_train_flag_kind, name, sizeof name, &value);
        if (strcmp(name, "model")) continue;
        if (muon_train_set(&c, name, value)) return fail("train: %s", muon_last_error());
    }
    for (i = 0; i < argc; i++) {
        next_flag("train", argc, argv, &i, muon_train_flag_kind, name, sizeof name, &value);
        if (!strcmp(name, "model")) continue;
        if (muon_train_set(&c, name, value)) return fail("train: %s", muon_last_error());
    }
    if (resume && data_from_ckpt[0] && !strcmp(c.data, data_from_ckpt) && data_from_ckpt[0] != '/') {
        /* a relative path recorded by the original run names a file relative
         * to where that run was started, which may not be here */
        FILE *df = fopen(c.data, "rb");
        int missing = df == NULL, err = errno;
        if (df) fclose(df);
        if (muon_dist_agree(missing ? MUON_ERR_IO : MUON_OK)) {
            train_started = 1;
            errno = err;
            if (!missing) return 2; /* another rank's file; it says so */
            return fail("train: --resume %s: data file '%s' cannot be opened (%s); the path is relative, recorded "
                        "in the checkpoint by the original run and resolved from the current directory: "
                        "run from that run's directory or give --data PATH", resume, c.data, strerror(errno));
        }
    }
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    train_started = 1;
    st = muon_train(&c, stdout, &stopped);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (st) return fail("train: %s", muon_last_error());
    return stopped == 1 ? 128 + (stop_signal ? (int)stop_signal : SIGINT) : 0;
}

/* ---- plot --------------------------------------------------------------- */

static int cmd_plot(int argc, char **argv)
{
    muon_plot_options opt;
    const char *dir = NULL;
    int i, st;
    memset(&opt, 0, sizeof opt);
    if (wants_help(argc, argv)) {
        printf("usage: muon plot RUN_DIR [--layers L1,L2,...]\n"
               "  redraws the research plots of a run from RUN_DIR/metrics.csv alone into\n"
               "  RUN_DIR/research_plots/ (twelve PNG files, 1200x750).\n"
               "  --layers  the layers compared in the per-layer plots (at most 8;\n"
               "            default: the first, middle and last)\n");
        return 0;
    }
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--layers")) {
            const char *p;
            if (i + 1 >= argc) return fail("plot: --layers needs a list like 0,4,7");
            p = argv[++i];
            opt.n_layers = 0;
            while (*p) {
                char one[16];
                size_t len = strcspn(p, ",");
                int v;
                if (len == 0 || len >= sizeof one)
                    return fail("plot: --layers needs comma-separated layer indices, not '%s'", argv[i]);
                memcpy(one, p, len);
                one[len] = 0;
                if (muon_parse_int("plot: --layers", one, 0, 4095, &v))
                    return fail("%s (in '%s')", muon_last_error(), argv[i]);
                if (opt.n_layers == 8) return fail("plot: --layers takes at most 8 layers");
                opt.layers[opt.n_layers++] = v;
                p += len;
                if (*p == ',' && !*++p) return fail("plot: --layers needs comma-separated layer indices, not '%s'", argv[i]);
            }
            if (opt.n_layers == 0) return fail("plot: --layers needs at least one layer");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return fail("plot: unknown option '%s' (see muon plot --help)", argv[i]);
        } else if (dir) {
            return fail("plot: expected one RUN_DIR, got '%s' and '%s'", dir, argv[i]);
        } else dir = argv[i];
    }
    if (!dir) return fail("plot: missing RUN_DIR (usage: muon plot RUN_DIR)");
    {
        /* the reader ignores a last row cut short (a full disk, a crash): say so */
        char csv[4096];
        muon_metrics_table t;
        snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
        if (muon_metrics_table_read(csv, &t) == MUON_OK) {
            if (t.partial_line)
                fprintf(stderr, "muon: warning: %s:%ld: ignored the last row, which was cut short (no end of line)\n",
                        csv, t.partial_line);
            muon_metrics_table_free(&t);
        }
    }
    st = muon_plot_run_opts(dir, &opt);
    if (st) return fail("plot: %s", muon_last_error());
    printf("wrote 12 plots to %s/research_plots/\n", dir);
    return 0;
}

/* ---- sample ------------------------------------------------------------- */

static int sample_flag_kind(const char *name)
{
    if (!strcmp(name, "prompt") || !strcmp(name, "tokens") || !strcmp(name, "temperature") ||
        !strcmp(name, "seed"))
        return 0;
    return -1;
}

/* Sampling a model trained on token ids: the prompt is ids ("464 3290",
 * spaces or commas), the output ids on one line; decoding them is the
 * tokenizer's job (e.g. tiktoken's gpt2). */
static int sample_ids(muon_model *m, const char *prompt, long n_new, double temperature,
                      unsigned long long seed)
{
    int *p = malloc(sizeof(int) * (strlen(prompt) / 2 + 2)), *out = malloc(sizeof(int) * (size_t)(n_new + 1));
    int n = 0, st;
    long i;
    const char *s = prompt;
    char *end;
    if (!p || !out) { free(p); free(out); return fail("sample: out of memory"); }
    while (*s) {
        long v;
        if (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n') { s++; continue; }
        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || errno == ERANGE || v < 0 || v >= m->cfg.vocab_size) {
            free(p); free(out);
            return fail("sample: --prompt: this model reads token ids 0..%d (spaces or commas between), not '%s'",
                        m->cfg.vocab_size - 1, prompt);
        }
        p[n++] = (int)v;
        s = end;
    }
    st = muon_sample_ids(m, p, n, (int)n_new, (float)temperature, (uint64_t)seed, out);
    if (st) { free(p); free(out); return fail("sample: %s", muon_last_error()); }
    for (i = 0; i < n; i++) printf("%s%d", i ? " " : "", p[i]);
    for (i = 0; i < n_new; i++) printf("%s%d", i || n ? " " : "", out[i]);
    putchar('\n');
    free(p);
    free(out);
    return 0;
}

static int cmd_sample(int argc, char **argv)
{
    const char *ckpt = NULL, *prompt = "", *value;
    char name[64], *end;
    long n_new = 200;
    double temperature = 0.8;
    unsigned long long seed = 1337;
    muon_safetensors f;
    muon_config cfg;
    muon_model m;
    unsigned char *out;
    int i, rc, st;
    if (wants_help(argc, argv)) {
        printf("usage: muon sample CKPT [--prompt TEXT] [--tokens N] [--temperature X] [--seed S]\n"
               "  continues TEXT (default: a newline) with N bytes (default 200) drawn from the\n"
               "  checkpoint's model at temperature X (default 0.8; 0 = greedy), seed S (default 1337)\n");
        return 0;
    }
    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (ckpt) return fail("sample: unexpected argument '%s' (one checkpoint only)", argv[i]);
            ckpt = argv[i];
            continue;
        }
        if ((rc = next_flag("sample", argc, argv, &i, sample_flag_kind, name, sizeof name, &value))) return rc;
        if (!strcmp(name, "prompt")) prompt = value;
        else if (!strcmp(name, "tokens")) {
            if (muon_parse_long("sample: --tokens", value, 0, 1000000, &n_new)) return fail("%s", muon_last_error());
        } else if (!strcmp(name, "temperature")) {
            errno = 0;
            temperature = strtod(value, &end);
            if (!*value || *end || errno == ERANGE || !(temperature >= 0 && temperature <= 1e6))
                return fail("sample: --temperature: expected a number >= 0, not '%s'", value);
        } else {
            uint64_t u;
            if (muon_parse_u64("sample: --seed", value, UINT64_MAX, &u)) return fail("%s", muon_last_error());
            seed = u;
        }
    }
    if (!ckpt) return fail("sample: no checkpoint given (usage: muon sample CKPT [options])");
    st = muon_checkpoint_open(ckpt, &f);
    if (st) return fail("sample: %s", muon_last_error());
    st = muon_checkpoint_config(&f, &cfg);
    if (!st) st = muon_model_create(&m, &cfg);
    if (st) { muon_safetensors_free(&f); return fail("sample: %s: %s", ckpt, muon_last_error()); }
    st = muon_checkpoint_load_model(&f, &m);
    {
        /* trained on a token file: ids in, ids out (model/token_file.c) */
        const char *df = muon_safetensors_meta(&f, "train.data-format");
        if (!st && df && (!strcmp(df, "nanogpt") || !strcmp(df, "llmc"))) {
            muon_safetensors_free(&f);
            rc = sample_ids(&m, prompt, n_new, temperature, seed);
            muon_model_free(&m);
            return rc;
        }
    }
    muon_safetensors_free(&f);
    if (st) { muon_model_free(&m); return fail("sample: %s: %s", ckpt, muon_last_error()); }
    out = malloc((size_t)n_new + 1);
    if (!out) { muon_model_free(&m); return fail("sample: out of memory"); }
    st = muon_sample(&m, (const unsigned char *)prompt, (int)strlen(prompt), (int)n_new,
                     (float)temperature, (uint64_t)seed, out);
    muon_model_free(&m);
    if (st) { free(out); return fail("sample: %s", muon_last_error()); }
    fputs(prompt, stdout);
    fwrite(out, 1, (size_t)n_new, stdout);
    fputc('\n', stdout);
    free(out);
    return 0;
}

/* ---- export (io/export.c) ------------------------------------------------ */

static int cmd_export(int argc, char **argv)
{
    int n, st;
    if (wants_help(argc, argv)) {
        printf("usage: muon export CKPT OUT.safetensors\n"
               "  writes the model tensors of CKPT without the optimizer state (optim.*), so\n"
               "  PyTorch's load_state_dict(strict=True) takes it (README: three lines)\n");
        return 0;
    }
    if (argc != 2 || !strncmp(argv[0], "--", 2) || !strncmp(argv[1], "--", 2))
        return fail("export: expected CKPT OUT.safetensors (see muon export --help)");
    st = muon_export_weights(argv[0], argv[1], &n);
    if (st) return fail("export: %s", muon_last_error());
    printf("%s: %d model tensors (no optimizer state)\n", argv[1], n);
    return 0;
}

/* ---- analyze ------------------------------------------------------------ */

static int cmd_analyze(int argc, char **argv)
{
    const char *out = "analyze.csv", *plots = NULL;
    const char **paths;
    muon_analysis a;
    int i, n = 0, st, last = -1;
    if (wants_help(argc, argv)) {
        printf("usage: muon analyze CKPT... [--out FILE] [--plots DIR] [--threads T]\n"
               "  static spectral metrics (sigma_max, spectral_gap, top_sv_1..10, stable_rank,\n"
               "  spectral_entropy, ortho_error_weight) of every attention/FFN matrix of each\n"
               "  safetensors checkpoint, ours or PyTorch/HF (layers.N.attn.q.weight,\n"
               "  model.layers.N.self_attn.q_proj.weight, mlp.up_proj, ...); with two or more\n"
               "  checkpoints also alignment_left/right with dW = the difference to the previous\n"
               "  one. Prints a table and writes the rows, tidy like metrics.csv with\n"
               "  step = the checkpoint's index in the list (0, 1, ...), to FILE\n"
               "  (default analyze.csv in the current directory). --plots DIR also draws\n"
               "  the research plots from those rows into DIR (x axis: checkpoint index).\n");
        return 0;
    }
    paths = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *paths);
    if (!paths) return fail("analyze: out of memory");
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--out")) {
            if (i + 1 >= argc || !argv[i + 1][0]) { free(paths); return fail("analyze: --out needs a file name"); }
            out = argv[++i];
        } else if (!strcmp(argv[i], "--plots")) {
            if (i + 1 >= argc || !argv[i + 1][0]) { free(paths); return fail("analyze: --plots needs a directory"); }
            plots = argv[++i];
        } else if (!strcmp(argv[i], "--threads")) {
            if (set_threads_flag("analyze", i + 1 < argc ? argv[++i] : NULL)) { free(paths); return 2; }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(paths);
            return fail("analyze: unknown option '%s' (see muon analyze --help)", argv[i]);
        } else {
            paths[n++] = argv[i];
        }
    }
    if (n == 0) { free(paths); return fail("analyze: no checkpoint given (usage: muon analyze CKPT... [--out FILE])"); }
    st = muon_analyze(paths, n, &a);
    if (st) { free(paths); return fail("analyze: %s", muon_last_error()); }
    {
        /* a diverged run's checkpoint holds NaN/Inf: its metrics are nan, and
         * a table of nan must not pass for a result */
        int bad = 0, first = -1;
        for (i = 0; i < a.n_entries; i++) {
            const double *v = a.entries[i].mt.value;
            if (!isfinite(v[MUON_METRIC_SIGMA_MAX]) || !isfinite(v[MUON_METRIC_STABLE_RANK])) {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad)
            fprintf(stderr, "muon: warning: %d of %d matrices hold NaN or Inf values, their metrics are nan "
                    "(first: %s, layer %d, %s)\n", bad, a.n_entries, paths[a.entries[first].ckpt],
                    a.entries[first].layer, muon_matrix_name(a.entries[first].kind));
    }
    free(paths);
    /* the CSV first: a failure then prints nothing but its one line */
    st = muon_analysis_write_csv(&a, out);
    if (!st && plots) st = muon_plot_csv(out, plots, NULL);
    if (st) { muon_analysis_free(&a); return fail("analyze: %s", muon_last_error()); }
    printf("%4s %5s %-6s %9s %11s %11s %11s %9s %9s %9s %9s\n", "ckpt", "layer", "matrix", "shape",
           "sigma_max", "gap", "stable_rank", "entropy", "ortho_err", "align_l", "align_r");
    for (i = 0; i < a.n_entries; i++) {
        const muon_analysis_entry *e = &a.entries[i];
        const double *v = e->mt.value;
        char shape[32], al[16] = "-", ar[16] = "-";
        if (e->ckpt != last && last >= 0) putchar('\n');
        last = e->ckpt;
        snprintf(shape, sizeof shape, "%dx%d", e->rows, e->cols);
        if (e->mt.have[MUON_METRIC_ALIGNMENT_LEFT]) {
            snprintf(al, sizeof al, "%.4f", v[MUON_METRIC_ALIGNMENT_LEFT]);
            snprintf(ar, sizeof ar, "%.4f", v[MUON_METRIC_ALIGNMENT_RIGHT]);
        }
        printf("%4d %5d %-6s %9s %11.5g %11.5g %11.5g %9.4f %9.4f %9s %9s\n", e->ckpt, e->layer,
               muon_matrix_name(e->kind), shape, v[MUON_METRIC_SIGMA_MAX], v[MUON_METRIC_SPECTRAL_GAP],
               v[MUON_METRIC_STABLE_RANK], v[MUON_METRIC_SPECTRAL_ENTROPY],
               v[MUON_METRIC_ORTHO_ERROR_WEIGHT], al, ar);
    }
    for (i = 0; i < a.n_skipped; i++) printf("skipped: %s\n", a.skipped[i]);
    printf("wrote %s (%d matrices from %d checkpoint%s)\n", out, a.n_entries, n, n == 1 ? "" : "s");
    if (plots) printf("plots: %s/\n", plots);
    muon_analysis_free(&a);
    return 0;
}

/* ---- compare, report ------------------------------------------------- */

/* `muon compare` (report = 0) and `muon report` (report = 1): RUN_DIR...
 * [--out DIR] [--labels a,b,...]. All runs are read and checked before
 * anything is written. */
static int cmd_compare(int argc, char **argv, int report)
{
    const char *cmd = report ? "report" : "compare", *out = report ? "report" : "compare", *labels = NULL;
    const char **dirs;
    muon_run_set set;
    int i, n = 0, st;
    if (wants_help(argc, argv)) {
        if (report)
            printf("usage: muon report RUN_DIR... [--out DIR] [--labels a,b,...]\n"
                   "  writes DIR/report.md (default DIR: report): for each claim of the research\n"
                   "  (growth slows, deep grows more, Q above V, early V caps sooner, stretching vs\n"
                   "  entropy, lock-in, the norm bound, optimizers compared) the measured number,\n"
                   "  its uncertainty and a verdict, with the comparison figures beside it.\n"
                   "  From each run's metrics.csv and run.json; runs differing only in seed are\n"
                   "  one group (mean over seeds). Runs must share the model shape.\n");
        else
            printf("usage: muon compare RUN_DIR... [--out DIR] [--labels a,b,...]\n"
                   "  the research time series of two or more runs overlaid (one colour per\n"
                   "  group, line style per layer: first, middle, last), runs differing only in\n"
                   "  seed drawn as one group's mean with a min-max band, and the final state over\n"
                   "  depth, as PNGs in DIR (default: compare). Labels name the run.json settings\n"
                   "  that differ between groups unless --labels gives one per group.\n");
        return 0;
    }
    dirs = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *dirs);
    if (!dirs) return fail("%s: out of memory", cmd);
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--out") || !strcmp(argv[i], "--labels")) {
            if (i + 1 >= argc || !argv[i + 1][0]) { free(dirs); return fail("%s: %s needs a value", cmd, argv[i]); }
            if (argv[i][2] == 'o') out = argv[++i]; else labels = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(dirs);
            return fail("%s: unknown option '%s' (see muon %s --help)", cmd, argv[i], cmd);
        } else {
            dirs[n++] = argv[i];
        }
    }
    st = muon_run_set_load(&set, dirs, n, report ? 1 : 2, labels);
    free(dirs);
    if (st) return fail("%s: %s", cmd, muon_last_error());
    st = report ? muon_report_write(&set, out) : muon_compare_plots(&set, out);
    if (!st) {
        if (report) printf("wrote %s/report.md and %d figures (%d runs in %d groups)\n", out, MUON_COMPARE_NFIG, set.n, set.n_groups);
        else printf("wrote %d figures to %s/ (%d runs in %d groups)\n", MUON_COMPARE_NFIG, out, set.n, set.n_groups);
    }
    muon_run_set_free(&set);
    if (st) return fail("%s: %s", cmd, muon_last_error());
    return 0;
}

/* ---- bench -------------------------------------------------------------- */

/* The benchmark table (README "Performance"): each part is a library entry point
 * that prints its own rows; "all" runs them in the order of the table. */
static int cmd_bench(int argc, char **argv)
{
    static const char *const parts[] = {"gemm", "svd", "model", "train", "metrics"};
    const int nparts = (int)(sizeof parts / sizeof parts[0]);
    int i, k, blas = 0, st = 0, want[5] = {0, 0, 0, 0, 0}, any = 0;
    if (wants_help(argc, argv)) {
        printf("usage: muon bench [gemm|svd|model|train|metrics|all]... [--blas] [--threads T]\n"
               "  gemm     GEMM GFLOP/s on square and model shapes, 1 and 2 threads, share of FMA peak\n"
               "  svd      Jacobi, bidiagonal and Gram SVD on 128^2, 512^2, 512x2048; orthogonalisers on 512^2, 512x2048\n"
               "  model    nano and d512 forward+backward per step (one pass; one sequence per pass), tokens/s, GFLOP/s\n"
               "  train    nano full training step (Muon included) tokens/s, orthogonaliser share\n"
               "  metrics  one tracking pass over nano and its share of training time\n"
               "  --blas   adds OpenBLAS beside GEMM (build with `make bench BLAS=openblas`, which\n"
               "           also prints LAPACK dgesdd and dgesvj beside every SVD row)\n");
        return 0;
    }
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--blas")) blas = 1;
        else if (!strcmp(argv[i], "--threads")) {
            if (set_threads_flag("bench", i + 1 < argc ? argv[++i] : NULL)) return 2;
        } else if (!strcmp(argv[i], "all")) {
            for (k = 0; k < nparts; k++) want[k] = 1;
            any = 1;
        } else {
            for (k = 0; k < nparts; k++)
                if (!strcmp(argv[i], parts[k])) { want[k] = 1; any = 1; break; }
            if (k == nparts) return fail("bench: unknown argument '%s' (see muon bench --help)", argv[i]);
        }
    }
    if (!any) for (k = 0; k < nparts; k++) want[k] = 1;
    if (!st && want[0]) st = muon_bench_gemm(stdout, blas);
    if (!st && want[1]) st = muon_bench_svd(stdout);
    if (!st && want[2]) st = muon_bench_model(stdout);
    if (!st && want[3]) st = muon_bench_train(stdout);
    if (!st && want[4]) st = muon_bench_metrics(stdout);
    if (st) return fail("bench: %s", muon_last_error());
    return 0;
}

/* ---- conform, verify (docs/conformance.md) -------------------------------- */

static int cmd_conform(int argc, char **argv)
{
    const char *suite = NULL, *out = NULL;
    int i;
    if (wants_help(argc, argv)) {
        printf("usage: muon conform SUITE --out RESULTS\n"
               "  runs every case of the conformance suite SUITE (e.g. conformance/suite) with this\n"
               "  implementation and writes RESULTS, a safetensors file for `muon verify`\n");
        return 0;
    }
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--out")) {
            if (i + 1 >= argc) return fail("conform: --out needs a file name");
            out = argv[++i];
        } else if (!strncmp(argv[i], "--", 2)) return fail("conform: unknown flag '%s' (see muon conform --help)", argv[i]);
        else if (!suite) suite = argv[i];
        else return fail("conform: unexpected argument '%s' (see muon conform --help)", argv[i]);
    }
    if (!suite || !out) return fail("conform: usage: muon conform SUITE --out RESULTS");
    if (conf_conform(suite, out)) return fail("conform: %s", muon_last_error());
    return 0;
}

/* Exit 0 when every tensor passes, 1 when any fails, 2 on bad input. */
static int cmd_verify(int argc, char **argv)
{
    const char *args[2] = {NULL, NULL};
    int i, n = 0, json = 0;
    conf_verdict v;
    if (wants_help(argc, argv)) {
        printf("usage: muon verify SUITE RESULTS [--json]\n"
               "  compares RESULTS (a safetensors file, or a directory of them) with the expected\n"
               "  tensors of the conformance suite SUITE: one row per tensor (max abs and rel error,\n"
               "  tolerance, PASS/FAIL) and the first failing case in pipeline order, the likely\n"
               "  origin. --json: the same as JSON. Exit 0 all pass, 1 any fails, 2 bad input.\n");
        return 0;
    }
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strncmp(argv[i], "--", 2)) return fail("verify: unknown flag '%s' (see muon verify --help)", argv[i]);
        else if (n < 2) args[n++] = argv[i];
        else return fail("verify: unexpected argument '%s' (see muon verify --help)", argv[i]);
    }
    if (n < 2) return fail("verify: usage: muon verify SUITE RESULTS [--json]");
    if (conf_verify(args[0], args[1], json, stdout, &v)) return fail("verify: %s", muon_last_error());
    return v.n_fail ? 1 : 0;
}

static int run_command(int argc, char **argv)
{
    const char *cmd;
    if (argc < 2) {
        if (muon_dist_rank() == 0) fputs(usage_text, stderr);
        return 2;
    }
    cmd = argv[1];
    if (muon_dist_size() > 1 && strcmp(cmd, "train"))
        return fail("only 'muon train' runs on several MPI ranks; run '%s' as one process (without mpirun, or -np 1)", cmd);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) { printf("muon %s\n", MUON_VERSION); return 0; }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 2, argv + 2);
    if (!strcmp(cmd, "sample")) return cmd_sample(argc - 2, argv + 2);
    if (!strcmp(cmd, "analyze")) return cmd_analyze(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "conform")) return cmd_conform(argc - 2, argv + 2);
    if (!strcmp(cmd, "verify")) return cmd_verify(argc - 2, argv + 2);
    if (!strcmp(cmd, "compare")) return cmd_compare(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "report")) return cmd_compare(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 2, argv + 2);
    return fail("unknown command '%s' (see muon --help)", cmd);
}

int main(int argc, char **argv)
{
    int rc;
    if (muon_dist_init(&argc, &argv)) return fail("%s", muon_last_error());
    rc = run_command(argc, argv);
    muon_dist_finalize();
    return rc;
}
