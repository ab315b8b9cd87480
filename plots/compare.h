/* `muon compare` and `muon report` (plots/compare.c, plots/report.c). */
#ifndef MUON_PLOTS_COMPARE_H
#define MUON_PLOTS_COMPARE_H

#include "metrics/run_set.h"

#define MUON_COMPARE_NFIG 11

/* File names of the comparison figures, in order. */
extern const char *const muon_compare_files[MUON_COMPARE_NFIG];

/* Draws every comparison figure of the runs into out_dir (created if its
 * parent exists): the time series with one colour per group (mean over its
 * seeds, min-max band) and a line style per layer, and the final state over
 * depth. MUON_ERR_IO naming a file that cannot be written. */
int muon_compare_plots(const muon_run_set *s, const char *out_dir);

/* Computes the claims of every run (metrics/claims.h), draws the comparison
 * figures and writes out_dir/report.md linking them. Everything is computed
 * before the first file is written; report.md is written last, atomically. */
int muon_report_write(const muon_run_set *s, const char *out_dir);

/* mkdir out_dir unless it exists (its parent must). */
int muon_compare_make_dir(const char *out_dir);

#endif
