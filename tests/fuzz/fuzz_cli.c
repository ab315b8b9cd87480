/* Harness: the command line's parsers. The input is split at newlines into
 * "flag value" lines, handed to the train flag table (which hands model
 * flags to the model config's setters and integers to io/parse.c), and the
 * result checked as `muon train` would before running. */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */
#include "io/parse.h"

#include <string.h>

int fuzz_cli(const uint8_t *data, size_t size)
{
    muon_train_config c;
    char line[1024];
    size_t i = 0;
    muon_train_defaults(&c);
    while (i < size) {
        size_t n = 0;
        char *sp, *name = line;
        while (i < size && data[i] != '\n') {
            if (n + 1 < sizeof line) line[n++] = data[i] ? (char)data[i] : ' ';
            i++;
        }
        i++;
        line[n] = 0;
        if (!strncmp(name, "--", 2)) name += 2;
        sp = strchr(name, ' ');
        if (sp) *sp = 0;
        if (muon_train_flag_kind(name) >= 0) (void)muon_train_set(&c, name, sp ? sp + 1 : NULL);
        else {
            long long v;
            uint64_t u;
            (void)muon_parse_ll("fuzz", name, -1000, 1000, &v);
            (void)muon_parse_u64("fuzz", name, UINT64_MAX, &u);
        }
    }
    (void)muon_config_check(&c.model);
    (void)muon_train_config_meta(&c);
    return 0;
}
