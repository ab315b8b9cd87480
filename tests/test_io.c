/* io/: CRC-32C, the atomic checked writer and what uses it, under a full
 * disk -- simulated by the failure hook (muon_io_fail_after_bytes) for every
 * writer, and real on a 200 kB tmpfs when the tests run as root (skipped
 * otherwise). */
#include "test.h"
#include "io/atomic_file.h"
#include "io/crc32c.h"
#include "io/parse.h"
#include "metrics/log_atomic.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb_image.h>

#define D "build/test_io"

static char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long len;
    *n = -1;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) { fclose(f); return NULL; }
    b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[len] = 0; *n = len; }
    return b;
}

static int file_is(const char *path, const char *want)
{
    long n;
    char *s = slurp(path, &n);
    int ok = s && n == (long)strlen(want) && !memcmp(s, want, (size_t)n);
    free(s);
    return ok;
}

static void test_crc32c(void)
{
    unsigned char buf[1031];
    uint32_t a, b;
    size_t i, n;
    int ok = 1;
    /* RFC 3720 B.4 and the iSCSI test vectors: published, not computed here */
    static const unsigned char zeros[32] = {0};
    unsigned char ones[32], inc[32];
    for (i = 0; i < 32; i++) { ones[i] = 0xFF; inc[i] = (unsigned char)i; }
    check(muon_crc32c_update(0, "123456789", 9) == 0xE3069283u && muon_crc32c_update_ref(0, "123456789", 9) == 0xE3069283u,
          "crc32c(\"123456789\") = 0xE3069283 (the check value), table and bitwise");
    check(muon_crc32c_update(0, zeros, 32) == 0x8A9136AAu && muon_crc32c_update(0, ones, 32) == 0x62A8AB43u &&
          muon_crc32c_update(0, inc, 32) == 0x46DD794Eu,
          "crc32c of RFC 3720 B.4's 32 zeros, 32 0xFF, 0..31: 8A9136AA 62A8AB43 46DD794E");
    for (i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 131u + (i >> 3));
    for (n = 0; n <= sizeof buf && ok; n += 37) {
        a = muon_crc32c_update(0, buf, n);
        b = muon_crc32c_update_ref(0, buf, n);
        ok = a == b && muon_crc32c_update(muon_crc32c_update(0, buf, n / 3), buf + n / 3, n - n / 3) == a;
    }
    check(ok, "crc32c: byte table == bit-at-a-time reference on 28 lengths up to 1031, and in two pieces");
}

static void test_parse(void)
{
    long long v = 7;
    uint64_t u = 7;
    long l;
    check(muon_parse_ll("x", "9223372036854775807", LLONG_MIN, LLONG_MAX, &v) == 0 && v == LLONG_MAX &&
          muon_parse_ll("x", "-9223372036854775808", LLONG_MIN, LLONG_MAX, &v) == 0 && v == LLONG_MIN,
          "parse: the extremes of long long");
    check(muon_parse_ll("x", "9223372036854775808", LLONG_MIN, LLONG_MAX, &v) == MUON_ERR_ARG &&
          muon_parse_ll("x", "-9223372036854775809", LLONG_MIN, LLONG_MAX, &v) == MUON_ERR_ARG && v == LLONG_MIN,
          "parse: one beyond them is refused, the output untouched");
    check(muon_parse_ll("x", "0x10", 0, 100, &v) && muon_parse_ll("x", "1e2", 0, 1000, &v) &&
          muon_parse_ll("x", " 1", 0, 9, &v) && muon_parse_ll("x", "1 ", 0, 9, &v) && muon_parse_ll("x", "+1", 0, 9, &v) &&
          muon_parse_ll("x", "", 0, 9, &v) && muon_parse_ll("x", "-", -9, 9, &v) && muon_parse_ll("x", "-1", 0, 9, &v) &&
          muon_parse_ll("x", "1.0", 0, 9, &v) && muon_parse_ll("x", NULL, 0, 9, &v),
          "parse: hex, exponent, spaces, '+', empty, bare '-', a negative where none is allowed, '1.0', NULL refused");
    check(muon_parse_ll("--warmup", "-3", 0, 10, &v) == MUON_ERR_ARG && strstr(muon_last_error(), "--warmup") &&
          strstr(muon_last_error(), "[0, 10]") && strstr(muon_last_error(), "'-3'"),
          "parse: the message names the flag, the range and the text: %s", muon_last_error());
    check(muon_parse_ll("x", "-5", -9, 9, &v) == 0 && v == -5 && muon_parse_ll("x", "007", 0, 9, &v) == 0 && v == 7,
          "parse: -5 in [-9, 9]; leading zeros are decimal (007 = 7)");
    check(muon_parse_u64("x", "18446744073709551615", UINT64_MAX, &u) == 0 && u == UINT64_MAX &&
          muon_parse_u64("x", "18446744073709551616", UINT64_MAX, &u) && muon_parse_u64("x", "-1", UINT64_MAX, &u),
          "parse: u64 up to 2^64-1; 2^64 and -1 refused (strtoull took -1 as 2^64-1)");
    check(muon_parse_long("x", "2147483647", 0, LONG_MAX, &l) == 0 && l == 2147483647L,
          "parse: 2^31-1 fits every long");
}

static void test_atomic(void)
{
    muon_afile a;
    int st;
    long n;
    char *s;
    if (system("rm -rf " D " && mkdir -p " D) != 0) { check(0, "cannot create " D); return; }
    st = muon_atomic_write(D "/a.txt", "old\n", 4);
    check(st == 0 && file_is(D "/a.txt", "old\n") && !test_path_exists(D "/a.txt.tmp"), "atomic write: content, no temporary left");
    st = muon_afile_open(&a, D "/a.txt");
    muon_afile_printf(&a, "%d %s\n", 42, "new");
    check(st == 0 && file_is(D "/a.txt", "old\n") && test_path_exists(D "/a.txt.tmp"), "until commit the target is the old file");
    st = muon_afile_commit(&a);
    check(st == 0 && file_is(D "/a.txt", "42 new\n") && !test_path_exists(D "/a.txt.tmp"), "commit renames the new file into place");
    st = muon_afile_open(&a, D "/a.txt");
    muon_afile_write(&a, "junk", 4);
    muon_afile_abort(&a);
    check(st == 0 && file_is(D "/a.txt", "42 new\n") && !test_path_exists(D "/a.txt.tmp"), "abort keeps the target, removes the temporary");

    /* a full disk after 3 bytes */
    muon_io_fail_after_bytes(3);
    st = muon_atomic_write(D "/a.txt", "0123456789", 10);
    muon_io_fail_after_bytes(-1);
    check(st == MUON_ERR_IO && strstr(muon_last_error(), strerror(ENOSPC)) && strstr(muon_last_error(), "a.txt.tmp") &&
          file_is(D "/a.txt", "42 new\n") && !test_path_exists(D "/a.txt.tmp"),
          "full disk: error with errno's reason, old file kept, no temporary: %s", muon_last_error());
    st = muon_atomic_write(D "/no/such/dir/x", "x", 1);
    check(st == MUON_ERR_IO && strstr(muon_last_error(), strerror(ENOENT)), "missing directory: says why: %s", muon_last_error());
    st = muon_mkdir_p(D "/m/n/o");
    check(st == 0 && muon_atomic_write(D "/m/n/o/f", "1", 1) == 0 && muon_mkdir_p(D "/m/n/o") == 0,
          "mkdir -p creates parents and accepts an existing directory");
    st = muon_mkdir_p(D "/a.txt/sub");
    check(st == MUON_ERR_IO && strstr(muon_last_error(), strerror(ENOTDIR)), "mkdir -p under a file: %s", muon_last_error());
    s = slurp(D "/a.txt", &n);
    free(s);
}

/* Every writer of muon, at every failure point of a small file: an error,
 * the previous file untouched, no temporary. */
static void test_writers_full_disk(void)
{
    float w[6] = {1, 2, 3, 4, 5, 6};
    muon_tensor t;
    muon_safetensors f;
    muon_canvas c;
    long n0, n1, budget, bad = 0, tries = 0;
    char *before, *after;
    int st;
    memset(&t, 0, sizeof t);
    t.name = "layers.0.attn.q.weight"; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = w;

    /* safetensors */
    st = muon_safetensors_write(D "/ck.safetensors", &t, 1, NULL);
    before = slurp(D "/ck.safetensors", &n0);
    for (budget = 0; st == 0 && before && budget < n0; budget += 7) {
        w[0] = (float)budget;
        muon_io_fail_after_bytes(budget);
        st = muon_safetensors_write(D "/ck.safetensors", &t, 1, NULL);
        muon_io_fail_after_bytes(-1);
        after = slurp(D "/ck.safetensors", &n1);
        tries++;
        if (st != MUON_ERR_IO || !after || n1 != n0 || memcmp(after, before, (size_t)n0) || test_path_exists(D "/ck.safetensors.tmp")) bad++;
        free(after);
        st = 0;
    }
    check(tries > 5 && bad == 0 && muon_safetensors_read(D "/ck.safetensors", &f) == 0 && f.tensors[0].data[0] == 1.0f,
          "safetensors on a full disk after 0, 7, .. of %ld bytes: %ld tries, %ld bad; the old file still loads", n0, tries, bad);
    if (f.tensors) muon_safetensors_free(&f);
    free(before);

    /* PNG: stbi_write_png ignored fwrite errors and renamed a truncated file into place */
    st = muon_canvas_create(&c, 64, 48, (muon_rgb){ 10, 200, 30 });
    if (!check(st == 0, "canvas")) return;
    st = muon_png_write(D "/p.png", &c);
    before = slurp(D "/p.png", &n0);
    bad = tries = 0;
    for (budget = 0; st == 0 && before && budget < n0; budget += 1 + n0 / 9) {
        c.px[0] = (unsigned char)budget;
        muon_io_fail_after_bytes(budget);
        st = muon_png_write(D "/p.png", &c);
        muon_io_fail_after_bytes(-1);
        after = slurp(D "/p.png", &n1);
        tries++;
        if (st != MUON_ERR_IO || !after || n1 != n0 || memcmp(after, before, (size_t)n0) || test_path_exists(D "/p.png.tmp")) bad++;
        free(after);
        st = 0;
    }
    {
        int x, y, comp;
        unsigned char *px = stbi_load(D "/p.png", &x, &y, &comp, 3);
        check(tries > 5 && bad == 0 && px && x == 64 && y == 48 && px[1] == 200,
              "PNG on a full disk: %ld tries, %ld bad (not an error, or the old picture damaged); the old PNG decodes", tries, bad);
        stbi_image_free(px);
    }
    free(before);
    muon_canvas_free(&c);

    /* run.json */
    {
        muon_train_config tc;
        muon_run_stats rs;
        muon_train_defaults(&tc);
        memset(&rs, 0, sizeof rs);
        rs.status = "completed";
        st = muon_run_json_write(D "/run.json", &tc, &rs);
        before = slurp(D "/run.json", &n0);
        muon_io_fail_after_bytes(n0 / 2);
        rs.status = "other";
        st = st ? st : muon_run_json_write(D "/run.json", &tc, &rs);
        muon_io_fail_after_bytes(-1);
        after = slurp(D "/run.json", &n1);
        check(st == MUON_ERR_IO && before && after && n1 == n0 && !memcmp(before, after, (size_t)n0) && !test_path_exists(D "/run.json.tmp"),
              "run.json on a full disk: error, old file kept: %s", muon_last_error());
        free(before);
        free(after);
    }

    /* analyze's CSV (an atomic metric log) */
    {
        muon_metric_log *lg;
        st = muon_metric_log_create_atomic(&lg, D "/an.csv");
        if (!st) st = muon_metric_log_row(lg, 0, 0, "q", "sigma_max", 1.5);
        if (!st) st = muon_metric_log_close(lg);
        check(st == 0 && file_is(D "/an.csv", "step,layer,matrix,metric,value\n0,0,q,sigma_max,1.5\n"),
              "atomic metric CSV: header and row");
        muon_io_fail_after_bytes(40); /* the header (31 bytes) fits, the row does not */
        st = muon_metric_log_create_atomic(&lg, D "/an.csv");
        if (!st) st = muon_metric_log_row(lg, 1, 0, "q", "sigma_max", 2.5);
        if (!st) st = muon_metric_log_close(lg);
        else muon_metric_log_discard(lg);
        muon_io_fail_after_bytes(-1);
        check(st == MUON_ERR_IO && file_is(D "/an.csv", "step,layer,matrix,metric,value\n0,0,q,sigma_max,1.5\n") &&
              !test_path_exists(D "/an.csv.tmp"), "atomic metric CSV on a full disk: error, old file kept: %s", muon_last_error());
    }
}

/* A real full disk: a 200 kB tmpfs (root only). */
static void test_tmpfs(void)
{
    char cmd[2048], err[512];
    int rc, ok;
    const char *mnt = D "/tmpfs";
    if (system("mkdir -p " D "/tmpfs && mount -t tmpfs -o size=200k tmpfs " D "/tmpfs 2>/dev/null") != 0) {
        skip("full disk on a 200 kB tmpfs: cannot mount one (not root?); the failure hook covers it");
        return;
    }
    /* training until the disk is full: exit 2 naming the reason and what was kept */
    /* a model whose checkpoint (31 kB) fits a few times before the log fills the disk */
    snprintf(cmd, sizeof cmd, "%s train --model tiny --d-model 8 --n-layers 1 --n-heads 2 --n-kv-heads 1 --d-ff 8 --seq-len 8 "
             "--batch-size 1 --steps 2000 --track-every 1 --ckpt-every 1 --eval-every 0 --log-every 0 --out %s/run",
             muon_bin(), mnt);
    rc = run_cmd(cmd, err, sizeof err);
    check(rc == 2 && strstr(err, strerror(ENOSPC)) && strstr(err, "the earlier checkpoint was kept"),
          "train on a full 200 kB disk: exit %d, says so and which checkpoint is kept: %s", rc, err);
    {
        long n;
        char *s = slurp(D "/tmpfs/run/metrics.csv", &n);
        muon_safetensors f;
        int loads = muon_checkpoint_open(D "/tmpfs/run/checkpoint.safetensors", &f) == 0;
        if (loads) muon_safetensors_free(&f);
        check(s && n > 0 && s[n - 1] == '\n' && loads, "after it: metrics.csv ends in a whole row (%ld bytes), the checkpoint loads", n);
        free(s);
    }
    /* plots on a nearly full disk: an error, and every PNG that exists is whole */
    run_cmd("rm -rf " D "/tmpfs/run", NULL, 0);
    rc = run_cmd("mkdir -p " D "/tmpfs/plot && head -c 150000 /dev/zero > " D "/tmpfs/filler", NULL, 0);
    snprintf(cmd, sizeof cmd, "%s train --model tiny --steps 40 --track-every 10 --eval-every 0 --log-every 0 --out " D "/plotsrc",
             muon_bin());
    rc = run_cmd(cmd, err, sizeof err);
    ok = rc == 0 && run_cmd("cp " D "/plotsrc/metrics.csv " D "/tmpfs/plot/", NULL, 0) == 0;
    if (ok) {
        int i, whole = 0, present = 0;
        static const char *pngs[] = {"loss", "spectral_stretching_evolution", "spectral_norm_vs_depth", "entropy_mri",
                                     "update_alignment", "orthogonality_error", "update_rank_evolution",
                                     "subspace_efficiency", "singular_spectrum", "spectral_gap", "norm_heatmap",
                                     "entropy_heatmap"};
        snprintf(cmd, sizeof cmd, "%s plot " D "/tmpfs/plot", muon_bin());
        rc = run_cmd(cmd, err, sizeof err);
        for (i = 0; i < 12; i++) {
            char p[256];
            int x, y, comp;
            unsigned char *px;
            snprintf(p, sizeof p, D "/tmpfs/plot/research_plots/%s.png", pngs[i]);
            if (!test_path_exists(p)) continue;
            present++;
            px = stbi_load(p, &x, &y, &comp, 3);
            if (px) whole++;
            stbi_image_free(px);
        }
        check(rc == 2 && strstr(err, strerror(ENOSPC)) && present == whole && present < 12 &&
              !test_path_exists(D "/tmpfs/plot/research_plots/loss.png.tmp"),
              "plot on a full disk: exit %d, %d PNGs written, all %d decode, no temporaries: %s", rc, present, whole, err);
    } else check(0, "could not prepare the plot run (exit %d)", rc);
    run_cmd("umount " D "/tmpfs", NULL, 0);
}

void suite_io(void)
{
    test_crc32c();
    test_parse();
    test_atomic();
    test_writers_full_disk();
    test_tmpfs();
}
