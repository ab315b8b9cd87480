/* Names of enum values: every enum that has names keeps exactly one table,
 * indexed by the value, and these two functions turn values into names and
 * names into values, so a name is written once and a parse error lists the
 * valid names from the same table. */
#include "linalg/linalg.h"

#include <string.h>

const char *muon_name_of(const char *const *names, int count, int value)
{
    return value >= 0 && value < count ? names[value] : "unknown";
}

int muon_name_index(const char *const *names, int count, const char *name)
{
    int i;
    for (i = 0; name && i < count; i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

int muon_name_parse(const char *what, const char *const *names, int count,
                    const char *name, int *value)
{
    char valid[256];
    size_t used = 0;
    int i = muon_name_index(names, count, name);
    if (i >= 0) { *value = i; return MUON_OK; }
    valid[0] = 0;
    for (i = 0; i < count && used < sizeof valid; i++) {
        int n = snprintf(valid + used, sizeof valid - used, "%s%s", i ? ", " : "", names[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
    return muon_error(MUON_ERR_ARG, "unknown %s '%s' (valid: %s)", what, name ? name : "(null)", valid);
}
