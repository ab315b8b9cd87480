/* Status codes, the last-error message, aligned allocation and threads.
 *
 * One global message buffer: errors are raised and reported on the main
 * thread (parallel regions never fail half-way; they are sized up front). */
#include "linalg/linalg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static char last_error[512];

int muon_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

int muon_error_prefix(int status, const char *fmt, ...)
{
    /* copy first: the new message is written into the very buffer it extends */
    char prev[sizeof last_error], pre[sizeof last_error];
    va_list ap;
    memcpy(prev, last_error, sizeof prev);
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    return muon_error(status, "%s%s", pre, prev);
}

const char *muon_last_error(void) { return last_error; }

const char *muon_status_name(int status)
{
    switch (status) {
    case MUON_OK: return "ok";
    case MUON_ERR_ARG: return "bad argument";
    case MUON_ERR_NOMEM: return "out of memory";
    case MUON_ERR_IO: return "I/O error";
    case MUON_ERR_FORMAT: return "malformed file";
    case MUON_ERR_NUMERIC: return "numerical failure";
    default: return "unknown error";
    }
}

/* Allocation failure injection for the out-of-memory tests. */
static long fail_countdown;

void muon_alloc_fail_after(long n) { fail_countdown = n > 0 ? n : 0; }

/* 64-byte alignment (a cache line, a 512-bit vector) without C11's
 * aligned_alloc: over-allocate and keep the original pointer just below. */
#define MUON_ALIGN 64

void *muon_alloc(size_t n)
{
    unsigned char *raw, *p;
    if (fail_countdown > 0 && --fail_countdown == 0) {
        muon_error(MUON_ERR_NOMEM, "out of memory (injected failure, %lu bytes)", (unsigned long)n);
        return NULL;
    }
    if (n > (size_t)-1 - MUON_ALIGN - sizeof(void *)) {
        muon_error(MUON_ERR_NOMEM, "out of memory (request of %lu bytes overflows)", (unsigned long)n);
        return NULL;
    }
    raw = malloc(n + MUON_ALIGN + sizeof(void *));
    if (!raw) {
        muon_error(MUON_ERR_NOMEM, "out of memory (%lu bytes)", (unsigned long)n);
        return NULL;
    }
    p = raw + sizeof(void *);
    p += (MUON_ALIGN - (size_t)((uintptr_t)p % MUON_ALIGN)) % MUON_ALIGN;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}

void *muon_calloc(size_t count, size_t size)
{
    void *p;
    if (size != 0 && count > (size_t)-1 / size) {
        muon_error(MUON_ERR_NOMEM, "out of memory (%lu x %lu bytes overflows)",
                   (unsigned long)count, (unsigned long)size);
        return NULL;
    }
    p = muon_alloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void muon_free(void *p)
{
    void *raw;
    if (!p) return;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    free(raw);
}

void muon_set_threads(int t)
{
#ifdef _OPENMP
    if (t >= 1) omp_set_num_threads(t);
#else
    (void)t;
#endif
}

int muon_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

double muon_seconds(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    /* C99 has only clock(), which counts CPU time; good enough without OpenMP
     * because everything then runs on one thread. */
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}
