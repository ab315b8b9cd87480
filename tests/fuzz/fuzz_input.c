/* The scratch file a harness reads its input from (the readers under test
 * take paths, as muon's commands do). */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */
#include "io/atomic_file.h"

#include <stdio.h>
#include <stdlib.h>

/* MUON_FUZZ_DIR (set by `make fuzz` per harness) keeps a fuzzer's scratch
 * files apart from the test binary's replay, which may run meanwhile. */
const char *fuzz_scratch(const char *leaf)
{
    static char path[4][512];
    static int next;
    const char *dir = getenv("MUON_FUZZ_DIR");
    char *p = path[next++ & 3];
    if (!dir || !*dir) dir = "build/fuzz/replay";
    if (muon_mkdir_p(dir)) return NULL;
    snprintf(p, sizeof path[0], "%s/%s", dir, leaf);
    return p;
}

const char *fuzz_input_file(const char *harness, const uint8_t *data, size_t size)
{
    char leaf[64];
    const char *path;
    FILE *f;
    snprintf(leaf, sizeof leaf, "%s.input", harness);
    if (!(path = fuzz_scratch(leaf))) return NULL;
    f = fopen(path, "wb");
    if (!f) return NULL;
    if (size && fwrite(data, 1, size, f) != size) { fclose(f); return NULL; }
    if (fclose(f) != 0) return NULL;
    return path;
}
