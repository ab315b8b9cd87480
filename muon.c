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
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p || v < 0 || v > 4095 || (*end && *end != ','))
                    return fail("plot: --layers needs comma-separated layer indices, not '%s'", argv[i]);
                if (opt.n_layers == 8) return fail("plot: --layers takes at most 8 layers");
                opt.layers[opt.n_layers++] = (int)v;
                p = *end ? end + 1 : end;
                if (*end && !*p) return fail("plot: --layers needs comma-separated layer indices, not '%s'", argv[i]);
            }
            if (opt.n_layers == 0) return fail("plot: --layers needs at least one layer");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return fail("plot: unknown option '%s' (see muon plot --help)", argv[i]);
        } else if (dir) {
            return fail("plot: expected one RUN_DIR, got '%s' and '%s'", dir, argv[i]);
        } else dir = argv[i];
    }
    if (!dir) return fail("plot: missing RUN_DIR (usage: muon plot RUN_DIR)");
    st = muon_plot_run_opts(dir, &opt);
    if (st) return fail("plot: %s", muon_last_error());
    printf("wrote 12 plots to %s/research_plots/\n", dir);
    return 0;
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
    (void)argc; (void)argv;
    return fail("analyze: not yet implemented");
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
