/* io/atomic_file.h -- every output file of muon is written through here.
 *
 * A file is written to "<path>.tmp" beside its target, every write and the
 * close are checked (the message carries errno's reason), the data is
 * fsync'ed where POSIX allows, and only then is the temporary renamed over
 * the target. Any failure removes the temporary, so a reader (or a crash, or
 * a full disk) sees either the old file or the complete new one, never a
 * truncated one. docs: the guarantees are listed in README "Bad input".
 *
 *   muon_afile a;
 *   if ((st = muon_afile_open(&a, path))) return st;
 *   muon_afile_write(&a, buf, n);          errors are sticky: check once,
 *   muon_afile_printf(&a, "%d\n", x);      at commit
 *   return muon_afile_commit(&a);          or muon_afile_abort(&a)
 */
#ifndef MUON_IO_ATOMIC_FILE_H
#define MUON_IO_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *fp;
    char *path, *tmp;   /* muon_alloc'ed */
    int status;         /* first failure, sticky (its message is the last error) */
} muon_afile;

/* Creates path.tmp (replacing a stale one). */
int muon_afile_open(muon_afile *a, const char *path);
/* Appends n bytes; a failure is remembered and reported by commit too. */
int muon_afile_write(muon_afile *a, const void *p, size_t n);
/* printf into the file (through muon_afile_write, so the same checks). */
int muon_afile_printf(muon_afile *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Flush, fsync, close, rename over the target; on any failure (including an
 * earlier write's) the temporary is removed and the target left as it was. */
int muon_afile_commit(muon_afile *a);
/* Closes and removes the temporary; the target is untouched. */
void muon_afile_abort(muon_afile *a);

/* The whole file from one buffer. */
int muon_atomic_write(const char *path, const void *p, size_t n);

/* mkdir -p: creates path and its missing parents (existing ones are fine). */
int muon_mkdir_p(const char *path);

/* Failure injection for the full-disk tests: after n more bytes written
 * through muon_afile_write every write fails as if the disk were full
 * (ENOSPC); n < 0 switches it off (the default). */
void muon_io_fail_after_bytes(long n);

/* Small POSIX wrappers (no-ops where the system has no such call).
 * Each returns 0 or an errno value. */
int muon_os_fsync(FILE *fp);
int muon_os_fsync_dir_of(const char *path);
int muon_os_mkdir(const char *path);
int muon_os_truncate(FILE *fp, long size);

#endif
