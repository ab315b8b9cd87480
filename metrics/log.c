/* The tidy metric log, metrics.csv: one row per (step, layer, matrix, metric).
 *
 * Tidy form (one value per row) keeps the file appendable as training goes
 * and readable by any CSV tool without knowing the set of metrics in advance.
 * Values are printed with %.9g, enough digits to round-trip a float32 and to
 * tell float64 metrics apart at the 1e-9 level; NaN is always written "nan"
 * and infinities "inf"/"-inf" (strtod reads all three back).
 *
 * Crash safety: rows are appended and the stream is flushed once per step
 * (muon_metric_log_flush), so a crashed process loses at most the current
 * step; a partial last line left by such a crash is dropped on the next open.
 * Opening with resume_step >= 0 drops every row of a later step by writing
 * the kept rows to "<path>.tmp" and renaming it over path (atomic on POSIX),
 * so a crash during the rewrite leaves either the old or the new file.
 *
 * Whole rows only: rows are formatted into a memory buffer and written to the
 * (unbuffered) file at a flush; when that write fails (a full disk) the file
 * is truncated back to its last complete row, so metrics.csv never ends in
 * half a row that we wrote. */
#include "metrics/metrics.h"
#include "io/atomic_file.h"
#include "metrics/log_atomic.h"
#include "metrics/spectral.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct muon_metric_log {
    FILE *f;            /* appended log, unbuffered; NULL for an atomic one */
    muon_afile af;      /* the atomic file of muon_metric_log_create_atomic */
    char *path;
    char *buf;          /* rows not yet written */
    size_t len, cap;
    long good;          /* file size after the last successful write */
    int status;         /* first write failure, sticky */
    muon_tracker_pool pool;   /* the tracker's scratch, kept from pass to pass */
};

/* Rows waiting for a flush beyond this are written at the next row boundary. */
#define LOG_BUF_MAX (1u << 20)

static const char header[] = "step,layer,matrix,metric,value\n";

static int io_error(const char *path, const char *what, int err)
{
    return muon_error(MUON_ERR_IO, "%s: cannot %s: %s", path, what,
                      err ? strerror(err) : "I/O error");
}

/* Reads one line (with its '\n', if any) into *buf; returns its length, 0 at
 * end of file, -1 on a read error, -2 when out of memory. */
static long read_line(FILE *f, char **buf, size_t *cap)
{
    size_t len = 0;
    for (;;) {
        if (*cap - len < 2) {
            size_t ncap = *cap ? *cap * 2 : 256;
            char *nb = muon_alloc(ncap);
            if (!nb) return -2;
            if (*buf) { memcpy(nb, *buf, len); muon_free(*buf); }
            *buf = nb;
            *cap = ncap;
        }
        if (!fgets(*buf + len, (int)(*cap - len), f)) {
            if (ferror(f)) return -1;
            return (long)len;
        }
        len += strlen(*buf + len);
        if (len > 0 && (*buf)[len - 1] == '\n') return (long)len;
        if (feof(f)) return (long)len;
    }
}

/* Copies path to path.tmp keeping the header and every complete row (ending
 * in '\n') whose step is <= resume_step (all of them when resume_step < 0),
 * then renames the copy over path. The caller has checked the header. */
static int rewrite(const char *path, long resume_step)
{
    char *line = NULL;
    size_t cap = 0;
    FILE *in = NULL;
    muon_afile out;
    long len, lineno = 0;
    int st = MUON_OK, open_out = 0;

    errno = 0;
    in = fopen(path, "rb");
    if (!in) { st = io_error(path, "open for reading", errno); goto done; }
    if ((st = muon_afile_open(&out, path))) goto done;
    open_out = 1;
    while ((len = read_line(in, &line, &cap)) > 0) {
        lineno++;
        if (line[len - 1] != '\n') break; /* a partial last row: dropped */
        if (lineno > 1 && resume_step >= 0) {
            char *end;
            long step;
            errno = 0;
            step = strtol(line, &end, 10);
            if (end == line || *end != ',' || errno) {
                st = muon_error(MUON_ERR_FORMAT, "%s:%ld: expected a row 'step,layer,matrix,metric,value'",
                                path, lineno);
                goto done;
            }
            if (step > resume_step) continue;
        }
        if ((st = muon_afile_write(&out, line, (size_t)len))) goto done;
    }
    if (len == -2) { st = MUON_ERR_NOMEM; goto done; }
    if (len == -1) { st = io_error(path, "read", errno); goto done; }
    fclose(in);
    in = NULL;
    open_out = 0;
    st = muon_afile_commit(&out);
done:
    if (in) fclose(in);
    if (open_out) muon_afile_abort(&out);
    muon_free(line);
    return st;
}

int muon_metric_log_open(muon_metric_log **log, const char *path, long resume_step)
{
    muon_metric_log *lg;
    FILE *f;
    int st, fresh = 1, partial = 0;

    if (!log) return muon_error(MUON_ERR_ARG, "metric log: NULL handle");
    *log = NULL;
    if (!path || !*path) return muon_error(MUON_ERR_ARG, "metric log: empty path");

    errno = 0;
    f = fopen(path, "rb");
    if (f) {
        /* an existing log: its first line must be our header */
        char first[sizeof header + 1];
        size_t n = 0;
        long size;
        int rerr = fseek(f, 0L, SEEK_END) != 0;
        /* by size, not by reading: a device such as /dev/full reads forever */
        size = rerr ? -1L : ftell(f);
        if (size > 0 && fseek(f, 0L, SEEK_SET) == 0) n = fread(first, 1, sizeof header - 1, f);
        rerr |= size < 0 || ferror(f);
        if (n > 0) {
            fresh = 0;
            if (n != sizeof header - 1 || memcmp(first, header, sizeof header - 1) != 0) {
                fclose(f);
                return muon_error(MUON_ERR_FORMAT, "%s: not a metric log (first line is not '%.*s')",
                                  path, (int)(sizeof header - 2), header);
            }
            /* a crash mid-row leaves no final newline */
            if (fseek(f, -1L, SEEK_END) == 0) partial = fgetc(f) != '\n';
            else rerr = 1;
            rerr |= ferror(f);
        }
        fclose(f);
        if (rerr) return io_error(path, "read", errno);
    }
#ifdef ENOENT
    else if (errno != ENOENT) {
        /* exists but unreadable: never truncate it by treating it as new */
        return io_error(path, "open for reading", errno);
    }
#endif
    if (!fresh && (resume_step >= 0 || partial)) {
        st = rewrite(path, resume_step);
        if (st) return st;
    }

    lg = muon_calloc(1, sizeof *lg);
    if (!lg) return MUON_ERR_NOMEM;
    lg->path = muon_alloc(strlen(path) + 1);
    if (!lg->path) { muon_free(lg); return MUON_ERR_NOMEM; }
    strcpy(lg->path, path);
    /* "wb" for a new (or empty) file: an empty one must not be kept as is */
    errno = 0;
    lg->f = fopen(path, fresh ? "wb" : "ab");
    if (!lg->f) {
        st = io_error(path, "open for writing", errno);
        muon_free(lg->path);
        muon_free(lg);
        return st;
    }
    /* unbuffered: what a flush wrote is in the file, nothing half-buffered */
    setvbuf(lg->f, NULL, _IONBF, 0);
    errno = 0;
    if (fresh && fwrite(header, 1, sizeof header - 1, lg->f) != sizeof header - 1) {
        st = io_error(path, "write", errno);
        muon_os_truncate(lg->f, 0);
        fclose(lg->f);
        muon_free(lg->path);
        muon_free(lg);
        return st;
    }
    if (fseek(lg->f, 0L, SEEK_END) != 0 || (lg->good = ftell(lg->f)) < 0) {
        st = io_error(path, "seek", errno);
        fclose(lg->f);
        muon_free(lg->path);
        muon_free(lg);
        return st;
    }
    *log = lg;
    return MUON_OK;
}

int muon_metric_log_create_atomic(muon_metric_log **log, const char *path)
{
    muon_metric_log *lg;
    int st;
    if (!log) return muon_error(MUON_ERR_ARG, "metric log: NULL handle");
    *log = NULL;
    lg = muon_calloc(1, sizeof *lg);
    if (!lg) return MUON_ERR_NOMEM;
    lg->path = muon_alloc(strlen(path) + 1);
    if (!lg->path) { muon_free(lg); return MUON_ERR_NOMEM; }
    strcpy(lg->path, path);
    if ((st = muon_afile_open(&lg->af, path))) { muon_free(lg->path); muon_free(lg); return st; }
    muon_afile_write(&lg->af, header, sizeof header - 1);
    *log = lg;
    return MUON_OK;
}

/* Writes the buffered rows; on failure the appended file is cut back to its
 * last whole row. */
static int write_out(muon_metric_log *log)
{
    if (log->status) return log->status;
    if (!log->len) return MUON_OK;
    if (!log->f) {
        log->status = muon_afile_write(&log->af, log->buf, log->len);
    } else {
        long at;
        errno = 0;
        if (fwrite(log->buf, 1, log->len, log->f) != log->len || fflush(log->f) != 0) {
            int err = errno;
            clearerr(log->f);
            muon_os_truncate(log->f, log->good);
            log->status = io_error(log->path, "write", err);
        } else if ((at = ftell(log->f)) >= 0) {
            log->good = at;
        }
    }
    log->len = 0;
    return log->status;
}

static int append(muon_metric_log *log, const char *s, size_t n)
{
    if (log->len + n + 1 > log->cap) {
        size_t cap = log->cap ? log->cap : 4096;
        char *nb;
        while (cap < log->len + n + 1) cap *= 2;
        nb = muon_alloc(cap);
        if (!nb) return MUON_ERR_NOMEM;
        if (log->len) memcpy(nb, log->buf, log->len);
        muon_free(log->buf);
        log->buf = nb;
        log->cap = cap;
    }
    memcpy(log->buf + log->len, s, n);
    log->len += n;
    return log->len > LOG_BUF_MAX ? write_out(log) : MUON_OK;
}

/* Names go into a CSV field unquoted: keep them free of separators. */
static int plain_field(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (*s == ',' || *s == '\n' || *s == '\r' || *s == '"') return 0;
    return 1;
}

int muon_metric_log_row(muon_metric_log *log, long step, int layer, const char *matrix,
                        const char *metric, double value)
{
    char row[512];
    int n;
    if (!log) return muon_error(MUON_ERR_ARG, "metric log: NULL handle");
    if (log->status) return log->status;
    if (!plain_field(matrix) || !plain_field(metric) || strlen(matrix) + strlen(metric) > 400)
        return muon_error(MUON_ERR_ARG, "%s: matrix and metric names must be non-empty, short, without ',', quotes or newlines",
                          log->path);
    if (value != value)
        n = snprintf(row, sizeof row, "%ld,%d,%s,%s,nan\n", step, layer, matrix, metric);
    else
        n = snprintf(row, sizeof row, "%ld,%d,%s,%s,%.9g\n", step, layer, matrix, metric, value);
    if (n < 0 || (size_t)n >= sizeof row) return muon_error(MUON_ERR_ARG, "%s: row too long", log->path);
    return append(log, row, (size_t)n);
}

int muon_metric_log_flush(muon_metric_log *log)
{
    if (!log) return muon_error(MUON_ERR_ARG, "metric log: NULL handle");
    return write_out(log);
}

static void free_log(muon_metric_log *log)
{
    muon_tracker_pool_free(&log->pool);
    muon_free(log->buf);
    muon_free(log->path);
    muon_free(log);
}

int muon_metric_log_close(muon_metric_log *log)
{
    int st;
    if (!log) return MUON_OK;
    st = write_out(log);
    if (!log->f) {
        if (st) muon_afile_abort(&log->af);
        else st = muon_afile_commit(&log->af);
    } else {
        errno = 0;
        if (fclose(log->f) != 0 && !st) st = io_error(log->path, "close", errno);
    }
    free_log(log);
    return st;
}

void muon_metric_log_discard(muon_metric_log *log)
{
    if (!log) return;
    if (!log->f) muon_afile_abort(&log->af);
    else fclose(log->f);
    free_log(log);
}

muon_tracker_pool *muon_metric_log_pool(muon_metric_log *log) { return &log->pool; }
