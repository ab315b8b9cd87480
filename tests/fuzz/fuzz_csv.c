/* Harness: the metrics.csv reader behind `muon plot`. */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

int fuzz_csv(const uint8_t *data, size_t size)
{
    muon_metrics_table t;
    const char *path = fuzz_input_file("csv", data, size);
    if (!path) return 0;
    if (muon_metrics_table_read(path, &t) == MUON_OK) muon_metrics_table_free(&t);
    return 0;
}
