/* muon -- the command-line program. Parses arguments and wires the library
 * together; no numerics here. Every failure is one line on stderr and exit
 * status 2. */
#include "muon.h"

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
    "  bench    benchmark GEMM, SVD, orthogonalisers and training\n"
    "\n"
    "`muon COMMAND --help` describes each command.\n";

/* One line on stderr, exit 2: the contract for every kind of bad input. */
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("muon: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static int wants_help(int argc, char **argv)
{
    int i;
    for (i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* ---- train -------------------------------------------------------------- */

static int cmd_train(int argc, char **argv)
{
    (void)argc; (void)argv;
    return fail("train: not yet implemented");
}

/* ---- plot --------------------------------------------------------------- */

static int cmd_plot(int argc, char **argv)
{
    (void)argc; (void)argv;
    return fail("plot: not yet implemented");
}

/* ---- sample ------------------------------------------------------------- */

static int cmd_sample(int argc, char **argv)
{
    (void)argc; (void)argv;
    return fail("sample: not yet implemented");
}

/* ---- analyze ------------------------------------------------------------ */

static int cmd_analyze(int argc, char **argv)
{
    const char *out = "analyze.csv";
    const char **paths;
    muon_analysis a;
    int i, n = 0, st, last = -1;
    if (wants_help(argc, argv)) {
        printf("usage: muon analyze CKPT... [--out FILE] [--threads T]\n"
               "  static spectral metrics (sigma_max, spectral_gap, top_sv_1..10, stable_rank,\n"
               "  spectral_entropy, ortho_error_weight) of every attention/FFN matrix of each\n"
               "  safetensors checkpoint, ours or PyTorch/HF (layers.N.attn.q.weight,\n"
               "  model.layers.N.self_attn.q_proj.weight, mlp.up_proj, ...); with two or more\n"
               "  checkpoints also alignment_left/right with dW = the difference to the previous\n"
               "  one. Prints a table and writes the rows, tidy like metrics.csv with\n"
               "  step = the checkpoint's index in the list (0, 1, ...), to FILE\n"
               "  (default analyze.csv in the current directory).\n");
        return 0;
    }
    paths = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *paths);
    if (!paths) return fail("analyze: out of memory");
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--out")) {
            if (i + 1 >= argc || !argv[i + 1][0]) { free(paths); return fail("analyze: --out needs a file name"); }
            out = argv[++i];
        } else if (!strcmp(argv[i], "--threads")) {
            char *end;
            long t;
            if (i + 1 >= argc) { free(paths); return fail("analyze: --threads needs a number"); }
            t = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || t < 1 || t > 1024) {
                free(paths);
                return fail("analyze: --threads needs a whole number from 1 to 1024, not '%s'", argv[i]);
            }
            muon_set_threads((int)t);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(paths);
            return fail("analyze: unknown option '%s' (see muon analyze --help)", argv[i]);
        } else {
            paths[n++] = argv[i];
        }
    }
    if (n == 0) { free(paths); return fail("analyze: no checkpoint given (usage: muon analyze CKPT... [--out FILE])"); }
    st = muon_analyze(paths, n, &a);
    free(paths);
    if (st) return fail("analyze: %s", muon_last_error());
    /* the CSV first: a failure then prints nothing but its one line */
    st = muon_analysis_write_csv(&a, out);
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
    muon_analysis_free(&a);
    return 0;
}

/* ---- bench -------------------------------------------------------------- */

static int cmd_bench(int argc, char **argv)
{
    int i, blas = 0, st;
    const char *what = "all";
    if (wants_help(argc, argv)) {
        printf("usage: muon bench [gemm|svd|all] [--blas] [--threads T]\n"
               "  prints GEMM GFLOP/s, SVD and orthogonaliser times for this machine;\n"
               "  --blas adds OpenBLAS beside GEMM (build with `make BLAS=openblas`)\n");
        return 0;
    }
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--blas")) blas = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 1024) return fail("bench: --threads needs a whole number from 1 to 1024, not '%s'", argv[i]);
            muon_set_threads((int)t);
        } else if (!strcmp(argv[i], "gemm") || !strcmp(argv[i], "svd") || !strcmp(argv[i], "all"))
            what = argv[i];
        else return fail("bench: unknown argument '%s' (see muon bench --help)", argv[i]);
    }
    if (!strcmp(what, "gemm") || !strcmp(what, "all")) {
        st = muon_bench_gemm(stdout, blas);
        if (st) return fail("bench: %s", muon_last_error());
    }
    if (!strcmp(what, "svd") || !strcmp(what, "all")) {
        st = muon_bench_svd(stdout);
        if (st) return fail("bench: %s", muon_last_error());
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd;
    if (argc < 2) { fputs(usage_text, stderr); return 2; }
    cmd = argv[1];
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
    return fail("unknown command '%s' (see muon --help)", cmd);
}
