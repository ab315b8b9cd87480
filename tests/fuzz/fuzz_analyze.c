/* Harness: `muon analyze CKPT --out CSV`: the spectral metrics of every
 * weight matrix the file names (any naming scheme: HF, ours), then the CSV. */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

int fuzz_analyze(const uint8_t *data, size_t size)
{
    muon_analysis a;
    const char *path = fuzz_input_file("analyze", data, size);
    const char *paths[1];
    if (!path) return 0;
    paths[0] = path;
    if (muon_analyze(paths, 1, &a) == MUON_OK) {
        const char *out = fuzz_scratch("analyze_out.csv");
        if (out) (void)muon_analysis_write_csv(&a, out);
        muon_analysis_free(&a);
    }
    return 0;
}
