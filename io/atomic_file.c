/* The one checked, atomic file writer (see io/atomic_file.h): temporary
 * beside the target, checked writes, fsync, rename, temporary removed on any
 * failure. stdio reports a full disk late (at a buffer flush or at fclose),
 * so fflush and fclose are checked as carefully as fwrite. */
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */
#include "io/atomic_file.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static long fail_budget = -1;

void muon_io_fail_after_bytes(long n) { fail_budget = n < 0 ? -1 : n; }

static const char *reason(int err) { return err ? strerror(err) : "unknown cause"; }

static int afail(muon_afile *a, const char *what, int err)
{
    if (!a->status)
        a->status = muon_error(MUON_ERR_IO, "%s: cannot %s: %s", a->tmp ? a->tmp : a->path, what, reason(err));
    return a->status;
}

static char *dup_str(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    char *d = muon_alloc(n + m + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    memcpy(d + n, suffix, m + 1);
    return d;
}

int muon_afile_open(muon_afile *a, const char *path)
{
    memset(a, 0, sizeof *a);
    if (!path || !*path) return a->status = muon_error(MUON_ERR_ARG, "output file: empty path");
    a->path = dup_str(path, "");
    a->tmp = dup_str(path, ".tmp");
    if (!a->path || !a->tmp) {
        muon_free(a->path);
        muon_free(a->tmp);
        memset(a, 0, sizeof *a);
        return MUON_ERR_NOMEM;
    }
    errno = 0;
    a->fp = fopen(a->tmp, "wb");
    if (!a->fp) {
        int st = muon_error(MUON_ERR_IO, "%s: cannot open for writing: %s", a->tmp, reason(errno));
        muon_free(a->path);
        muon_free(a->tmp);
        memset(a, 0, sizeof *a);
        return st;
    }
    return MUON_OK;
}

int muon_afile_write(muon_afile *a, const void *p, size_t n)
{
    size_t ok = n;
    if (a->status) return a->status;
    if (!a->fp) return a->status = muon_error(MUON_ERR_ARG, "output file: not open");
    if (n == 0) return MUON_OK;
    if (fail_budget >= 0 && (unsigned long)fail_budget < n) ok = (size_t)fail_budget;
    errno = 0;
    if (ok && fwrite(p, 1, ok, a->fp) != ok) return afail(a, "write", errno);
    if (fail_budget >= 0) {
        fail_budget -= (long)ok;
        if (ok < n) return afail(a, "write", ENOSPC);
    }
    return MUON_OK;
}

int muon_afile_printf(muon_afile *a, const char *fmt, ...)
{
    char small[512], *big = NULL;
    va_list ap;
    int n, st;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return a->status ? a->status : (a->status = muon_error(MUON_ERR_ARG, "%s: bad format", a->path));
    if ((size_t)n < sizeof small) return muon_afile_write(a, small, (size_t)n);
    big = muon_alloc((size_t)n + 1);
    if (!big) return a->status ? a->status : (a->status = MUON_ERR_NOMEM);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    st = muon_afile_write(a, big, (size_t)n);
    muon_free(big);
    return st;
}

static void release(muon_afile *a)
{
    muon_free(a->path);
    muon_free(a->tmp);
    a->path = a->tmp = NULL;
    a->fp = NULL;
}

void muon_afile_abort(muon_afile *a)
{
    if (a->fp) fclose(a->fp);
    if (a->tmp) remove(a->tmp);
    release(a);
}

int muon_afile_commit(muon_afile *a)
{
    int st = a->status, err;
    if (!a->fp) return st ? st : muon_error(MUON_ERR_ARG, "output file: not open");
    errno = 0;
    if (!st && (fflush(a->fp) != 0 || ferror(a->fp))) st = afail(a, "write", errno);
    if (!st && (err = muon_os_fsync(a->fp)) != 0) st = afail(a, "sync to disk", err);
    errno = 0;
    if (fclose(a->fp) != 0 && !st) st = afail(a, "write (at close)", errno);
    a->fp = NULL;
    if (!st) {
        errno = 0;
        if (rename(a->tmp, a->path) != 0)
            st = a->status = muon_error(MUON_ERR_IO, "%s: cannot rename %s into place: %s", a->path, a->tmp, reason(errno));
        else
            muon_os_fsync_dir_of(a->path);
    }
    if (st) remove(a->tmp);
    release(a);
    return st;
}

int muon_atomic_write(const char *path, const void *p, size_t n)
{
    muon_afile a;
    int st = muon_afile_open(&a, path);
    if (st) return st;
    muon_afile_write(&a, p, n);
    return muon_afile_commit(&a);
}

int muon_mkdir_p(const char *path)
{
    char *buf;
    size_t i, n;
    int err;
    if (!path || !*path) return muon_error(MUON_ERR_ARG, "directory: empty path");
    n = strlen(path);
    buf = dup_str(path, "");
    if (!buf) return MUON_ERR_NOMEM;
    for (i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            err = muon_os_mkdir(buf);
            if (err && err != EEXIST) {
                int st = muon_error(MUON_ERR_IO, "%s: cannot create directory %s: %s", path, buf, reason(err));
                muon_free(buf);
                return st;
            }
            buf[i] = c;
        }
    }
    muon_free(buf);
    return MUON_OK;
}
