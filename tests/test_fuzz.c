/* Replays every committed fuzz input through the plain build: the minimised
 * corpora (tests/fuzz/corpus/NAME/) and every crash reproducer ever found
 * (tests/fuzz/crashes/NAME/), through the same harness functions libFuzzer
 * runs (tests/fuzz/fuzz_*.c). A regression is a crash or a sanitizer report
 * of this binary (build it with CFLAGS="-O1 -g -fsanitize=address,undefined"
 * to see the latter); the checks say how many inputs each harness replayed,
 * and fail if a corpus has gone missing. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* opendir */
#endif
#include "test.h"
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <dirent.h>
#define HAVE_DIRENT 1
#endif

/* Replays each file of dir; returns the count, -1 if dir cannot be listed. */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
#if defined(HAVE_DIRENT)
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        FILE *f;
        unsigned char *buf;
        long size;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (!f) continue;
        if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); continue; }
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
            fn(buf, (size_t)size);
            n++;
        }
        free(buf);
        fclose(f);
    }
    closedir(d);
    return n;
#else
    (void)dir;
    (void)fn;
    return -1;
#endif
}

static void replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
    char dir[256];
    int n, c;
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
    n = replay_dir(dir, fn);
    if (n < 0) {
#if defined(HAVE_DIRENT)
        check(0, "fuzz corpus %s is missing", dir);
#else
        skip("fuzz corpus %s: no directory listing on this system", dir);
#endif
        return;
    }
    snprintf(dir, sizeof dir, "tests/fuzz/crashes/%s", name);
    c = replay_dir(dir, fn);
    check(n > 0, "fuzz %s: %d corpus inputs and %d crash reproducers replayed without a crash",
          name, n, c < 0 ? 0 : c);
}

void suite_fuzz(void)
{
    /* the empty input and a few degenerate ones, whatever the corpora hold */
    static const uint8_t zeros[16] = {0};
#define X(name) fuzz_##name(NULL, 0); fuzz_##name(zeros, sizeof zeros);
    FUZZ_HARNESSES(X)
#undef X
#define X(name) replay(#name, fuzz_##name);
    FUZZ_HARNESSES(X)
#undef X
    run_cmd("rm -rf build/fuzz/replay", NULL, 0);
}
