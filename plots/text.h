/* Plot text markup (plots/font.c): helpers for labels built from data. */
#ifndef MUON_PLOTS_TEXT_H
#define MUON_PLOTS_TEXT_H

#include <stddef.h>

/* Copies src into dst (capacity cap, always NUL-terminated) with the markup
 * characters _ ^ { } \ escaped by a backslash, so a label taken from data
 * (a run.json key such as "lr_floor") prints literally. Returns 0, or 1 if
 * it had to be cut short. */
int muon_text_escape(char *dst, size_t cap, const char *src);

#endif
