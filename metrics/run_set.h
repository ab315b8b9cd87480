/* Several runs read for comparison (metrics/run_set.c): each run directory's
 * metrics.csv and the "settings" of its run.json, grouped so that runs that
 * differ only in their seed form one group, with labels naming what differs
 * (docs/research.md, "Runs, groups and labels"). */
#ifndef MUON_METRICS_RUN_SET_H
#define MUON_METRICS_RUN_SET_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

#define MUON_RUN_MAXSET 96   /* settings kept from run.json */
#define MUON_RUNS_MAX 16     /* runs compared at once */

typedef struct {
    char dir[512];
    int nset;
    char key[MUON_RUN_MAXSET][32];
    char val[MUON_RUN_MAXSET][96];
    muon_metrics_table t;
    int group;            /* index into the set's groups */
    /* shape and optimizer, from the settings */
    int n_layers, d_model, n_heads, n_kv_heads, d_ff, merged_qkvo;
    int adamw;            /* --optimizer adamw */
    int moonlight_scale;  /* --muon-scale moonlight */
    long seed;
} muon_run;

typedef struct {
    int n;
    muon_run *runs;       /* (n) */
    int n_groups;
    int group_size[MUON_RUNS_MAX];
    int members[MUON_RUNS_MAX][MUON_RUNS_MAX]; /* run indices of each group */
    char label[MUON_RUNS_MAX][160];            /* per group, plot markup (escaped) */
    char label_plain[MUON_RUNS_MAX][160];      /* the same, plain text for Markdown */
} muon_run_set;

/* The value of a run.json setting ("optimizer", "seed", ...) or NULL. */
const char *muon_run_setting(const muon_run *r, const char *key);

/* Loads every directory (at least min_runs of them, at most MUON_RUNS_MAX):
 * MUON_ERR_IO naming a directory without metrics.csv or run.json,
 * MUON_ERR_FORMAT for a malformed or foreign one, MUON_ERR_ARG when the runs
 * differ in model shape (layers, width, heads, d_ff, merged QKVO: compared
 * layer by layer, they must match) or in the labels given. labels: NULL, or
 * comma-separated, one per group in order of first appearance. */
int muon_run_set_load(muon_run_set *s, const char *const *dirs, int n, int min_runs,
                      const char *labels);
void muon_run_set_free(muon_run_set *s);

#endif
