/* Harness: `muon plot`: a metrics.csv drawn into the twelve research PNGs
 * (at the smallest size, so fuzzing spends its time on the parsing and the
 * data-dependent layout, not on filling pixels). */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

#include <string.h>

int fuzz_plot(const uint8_t *data, size_t size)
{
    muon_plot_options opt;
    const char *path = fuzz_input_file("plot", data, size);
    if (!path) return 0;
    memset(&opt, 0, sizeof opt);
    opt.width = 600;
    opt.height = 400;
    {
        const char *out = fuzz_scratch("plot_out");
        if (out) (void)muon_plot_csv(path, out, &opt);
    }
    return 0;
}
