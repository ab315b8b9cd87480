/* Status codes, the last-error message, aligned allocation and threads.
 *
 * The message buffer is per thread (OpenMP threadprivate: C99 has no
 * thread-local storage, and without OpenMP there is one thread): a worker
 * that fails inside a parallel region writes only its own copy, returns a
 * status, and the caller sets its message after the region (muon_failure).
 * The allocation-failure countdown of the tests is decremented atomically.
 *
 * Like the stb libraries, every allocation goes through MUON_MALLOC and
 * MUON_FREE: compile this file with -DMUON_MALLOC=my_malloc
 * -DMUON_FREE=my_free (both or neither) to use another allocator. */
#include "linalg/linalg.h"
#include "linalg/omp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(MUON_MALLOC) != defined(MUON_FREE)
#error "define both MUON_MALLOC and MUON_FREE, or neither"
#endif
#ifndef MUON_MALLOC
#define MUON_MALLOC(n) malloc(n)
#define MUON_FREE(p) free(p)
#endif

static char last_error[512];
MUON_OMP(omp threadprivate(last_error))

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

void muon_failure_note(muon_failure *f, int index, int status)
{
    if (!status) return;
MUON_OMP(omp critical(muon_failure))
    {
        /* the lowest index wins, so the message does not depend on timing */
        if (!f->status || index < f->index) {
            f->status = status;
            f->index = index;
            snprintf(f->msg, sizeof f->msg, "%s", last_error);
        }
    }
}

int muon_failure_raise(const muon_failure *f)
{
    if (!f->status) return MUON_OK;
    return muon_error(f->status, "%s", f->msg);
}

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
    int fail = 0;
    if (fail_countdown > 0) {
        long left;
MUON_OMP(omp atomic capture)
        left = --fail_countdown;
        fail = left == 0;
    }
    if (fail) {
        muon_error(MUON_ERR_NOMEM, "out of memory (injected failure, %lu bytes)", (unsigned long)n);
        return NULL;
    }
    if (n > (size_t)-1 - MUON_ALIGN - sizeof(void *)) {
        muon_error(MUON_ERR_NOMEM, "out of memory (request of %lu bytes overflows)", (unsigned long)n);
        return NULL;
    }
    raw = MUON_MALLOC(n + MUON_ALIGN + sizeof(void *));
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
    MUON_FREE(raw);
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

int muon_threads_upto(int n)
{
    int t = muon_threads();
    if (t > n) t = n;
    return t < 1 ? 1 : t;
}

int muon_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
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
