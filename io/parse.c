/* Integers from text: one parser for every flag and setting (io/parse.h).
 * strtol and friends are not used: they skip leading spaces, accept '+',
 * "0x10" with base 0, and strtoull takes "-1" as 2^64-1; and a range in
 * long silently narrows where long is 32 bits. Digits are accumulated in
 * uint64_t with an overflow check, then compared with the range. */
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */
#include "io/parse.h"

static int bad(const char *what, const char *s, long long lo, unsigned long long hi)
{
    return muon_error(MUON_ERR_ARG, "%s: expected a whole number in [%lld, %llu], not '%s'", what, lo, hi, s);
}

/* Digits of s (after an optional '-' when neg_ok) into *mag; 0 if s is not
 * of that form or overflows uint64_t. */
static int digits(const char *s, int neg_ok, int *neg, uint64_t *mag)
{
    uint64_t v = 0;
    const char *p = s;
    *neg = 0;
    if (neg_ok && *p == '-') { *neg = 1; p++; }
    if (*p < '0' || *p > '9') return 0;
    for (; *p; p++) {
        unsigned d;
        if (*p < '0' || *p > '9') return 0;
        d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *mag = v;
    return 1;
}

int muon_parse_ll(const char *what, const char *s, long long lo, long long hi, long long *out)
{
    int neg;
    uint64_t mag;
    long long v;
    if (!s || !digits(s, lo < 0, &neg, &mag)) return bad(what, s ? s : "", lo, (unsigned long long)hi);
    if (neg) {
        /* -mag >= lo, with lo < 0: compare magnitudes, no signed overflow */
        if (mag > (uint64_t)(-(lo + 1)) + 1) return bad(what, s, lo, (unsigned long long)hi);
        v = mag == 0 ? 0 : -(long long)(mag - 1) - 1;
    } else {
        if (hi < 0 || mag > (uint64_t)hi) return bad(what, s, lo, (unsigned long long)(hi < 0 ? 0 : hi));
        v = (long long)mag;
    }
    if (v < lo || v > hi) return bad(what, s, lo, (unsigned long long)hi);
    *out = v;
    return MUON_OK;
}

int muon_parse_long(const char *what, const char *s, long lo, long hi, long *out)
{
    long long v = 0;
    int st = muon_parse_ll(what, s, lo, hi, &v);
    if (!st) *out = (long)v;
    return st;
}

int muon_parse_int(const char *what, const char *s, int lo, int hi, int *out)
{
    long long v = 0;
    int st = muon_parse_ll(what, s, lo, hi, &v);
    if (!st) *out = (int)v;
    return st;
}

int muon_parse_u64(const char *what, const char *s, uint64_t hi, uint64_t *out)
{
    int neg;
    uint64_t mag;
    if (!s || !digits(s, 0, &neg, &mag) || mag > hi)
        return muon_error(MUON_ERR_ARG, "%s: expected a whole number in [0, %llu], not '%s'", what,
                          (unsigned long long)hi, s ? s : "");
    *out = mag;
    return MUON_OK;
}
