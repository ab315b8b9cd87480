/* The test harness: one line per check, a final "N passed, N failed".
 *
 * Every check prints "ok" or "FAIL", what it checked and, for numeric
 * comparisons, the max abs/rel error and the tolerance it was held to, so the
 * output doubles as the conformance table of the README. */
#ifndef MUON_TEST_H
#define MUON_TEST_H

#include <stddef.h>
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"

/* Records a check: cond true passes. Returns cond. */
int check(int cond, const char *fmt, ...);
/* Plain output in the same format ("info"), not a check: summaries and
 * timings that assert nothing. */
void note(const char *fmt, ...);
/* Before a thread-identity check: 2 threads and the GEMM contention guard
 * off; returns 0 after a skip() naming what when built without OpenMP.
 * threads_end() restores the thread count and the guard. */
int threads_begin(const char *what);
void threads_end(void);
/* Records a skipped check (counted apart, printed as "skip"). */
void skip(const char *fmt, ...);

/* Compares got(n) to want(n) elementwise: passes when, for every i,
 * |got-want| <= atol + rtol*|want|. Prints max abs and max rel error. */
int check_close(const char *what, const float *got, const float *want, size_t n,
                double rtol, double atol);
/* The same with a double reference. */
int check_close_d(const char *what, const float *got, const double *want, size_t n,
                  double rtol, double atol);
/* Scalar form. */
int check_near(const char *what, double got, double want, double rtol, double atol);
/* 1 if the float got equals the float literal want. Where FLT_EVAL_METHOD
 * != 0 (x87, s390x) a literal such as 1e-6f may carry extra precision, so
 * `x == 1e-6f` can be false for the float nearest 1e-6; passing both as
 * float parameters rounds them (C99 converts arguments as by assignment). */
int float_is(float got, float want);

/* "tests/golden/<name>" (static buffer). */
const char *golden_path(const char *name);
/* Reads a golden file; on failure records one FAIL naming the file and
 * returns nonzero (the caller skips the rest of that suite). */
int golden_open(const char *name, muon_safetensors *f);
/* The golden tensor called name with numel n; records a FAIL and returns
 * NULL if it is missing or of another size. */
const float *golden_get(const muon_safetensors *f, const char *name, size_t n);

/* Path of the muon binary under test (env MUON_BIN, default ./muon). */
const char *muon_bin(void);
/* Runs a shell command, returns its exit status (-1 if it could not run);
 * stderr's first line is copied to err (may be NULL). */
int run_cmd(const char *cmd, char *err, size_t errlen);

/* Lines on stderr of the last run_cmd (a last line without a newline counts),
 * -1 if they could not be read. */
int test_stderr_lines(void);
/* 1 if path can be opened for reading. */
int test_path_exists(const char *path);

/* Random matrix for tests: N(0,1) entries from seed. */
void test_fill_random(float *x, size_t n, uint64_t seed);

#endif
