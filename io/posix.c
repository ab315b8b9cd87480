/* POSIX calls that C99 lacks, behind wrappers that do nothing (successfully)
 * where they are unavailable: durability (fsync), directories (mkdir), and
 * truncating a log back to its last whole row after a failed append. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include "io/atomic_file.h"

#include <errno.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#define MUON_HAVE_POSIX 1
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <direct.h>
#endif

int muon_os_fsync(FILE *fp)
{
#if defined(MUON_HAVE_POSIX)
    /* EINVAL: a file that cannot be synced (a pipe, /dev/null) -- nothing to make durable */
    if (fsync(fileno(fp)) != 0 && errno != EINVAL && errno != EROFS) return errno ? errno : EIO;
#else
    (void)fp;
#endif
    return 0;
}

int muon_os_fsync_dir_of(const char *path)
{
#if defined(MUON_HAVE_POSIX)
    /* the rename is durable once the directory entry is: sync the directory */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;
    if (!slash) strcpy(dir, ".");
    else if (slash == path) strcpy(dir, "/");
    else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) return 0;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    fd = open(dir, O_RDONLY);
    if (fd < 0) return 0; /* best effort: not every system lets a directory be opened */
    (void)fsync(fd);
    close(fd);
#else
    (void)path;
#endif
    return 0;
}

int muon_os_mkdir(const char *path)
{
    int r;
#if defined(_WIN32)
    r = _mkdir(path);
#elif defined(MUON_HAVE_POSIX)
    r = mkdir(path, 0777);
#else
    (void)path;
    errno = ENOSYS;
    r = -1;
#endif
    return r == 0 ? 0 : (errno ? errno : EIO);
}

int muon_os_truncate(FILE *fp, long size)
{
#if defined(MUON_HAVE_POSIX)
    if (ftruncate(fileno(fp), (off_t)size) != 0) return errno ? errno : EIO;
#else
    (void)fp;
    (void)size;
#endif
    return 0;
}
