/* io/parse.h -- the one integer parser behind every integer flag and
 * setting (muon.c, train/train_config.c, model/config.c's setters, the
 * checkpoint's step): decimal digits only, with a leading '-' only where the
 * range includes negatives, no spaces, no "0x10", no "1e2", no '+', checked
 * against [lo, hi] without overflow whatever the width of long. */
#ifndef MUON_IO_PARSE_H
#define MUON_IO_PARSE_H

#include <stdint.h>

/* *out = s as an integer in [lo, hi]. On failure MUON_ERR_ARG with the
 * message "WHAT: expected a whole number in [lo, hi], not 's'" (WHAT e.g.
 * "--steps"); *out is then unchanged. */
int muon_parse_ll(const char *what, const char *s, long long lo, long long hi, long long *out);
int muon_parse_long(const char *what, const char *s, long lo, long hi, long *out);
int muon_parse_int(const char *what, const char *s, int lo, int hi, int *out);
/* The same for [0, hi] in uint64_t (seeds). */
int muon_parse_u64(const char *what, const char *s, uint64_t hi, uint64_t *out);

#endif
