/* tests/fuzz/fuzz.h -- the fuzz harnesses: each takes arbitrary bytes and
 * feeds them to one reader of untrusted input. They must never crash, leak
 * or read out of bounds, whatever the bytes; a returned status is fine.
 *
 * Run by libFuzzer (`make fuzz`: tests/fuzz/entry.c, clang
 * -fsanitize=fuzzer,address,undefined) and replayed over every committed
 * corpus file and crash reproducer by the plain test binary (tests/test_fuzz.c),
 * so `make test` keeps every input that ever mattered. */
#ifndef MUON_TESTS_FUZZ_H
#define MUON_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_safetensors(const uint8_t *data, size_t size); /* muon_safetensors_read + accessors */
int fuzz_checkpoint(const uint8_t *data, size_t size);  /* checkpoint loaders, --resume settings */
int fuzz_csv(const uint8_t *data, size_t size);         /* muon_metrics_table_read (metrics.csv) */
int fuzz_analyze(const uint8_t *data, size_t size);     /* muon analyze of a checkpoint */
int fuzz_plot(const uint8_t *data, size_t size);        /* muon plot of a metrics.csv */
int fuzz_cli(const uint8_t *data, size_t size);         /* train flags, model config, integers */

/* Writes the input to a scratch file named after the harness (in
 * $MUON_FUZZ_DIR, default build/fuzz/replay), returns its path (static
 * storage) or NULL if it could not be written. */
const char *fuzz_input_file(const char *harness, const uint8_t *data, size_t size);

/* The path of a scratch output file there (static storage, 4 in rotation). */
const char *fuzz_scratch(const char *leaf);

#define FUZZ_HARNESSES(X) X(safetensors) X(checkpoint) X(csv) X(analyze) X(plot) X(cli)

#endif
