/* data_parallel suite: the shape of the gradient tree (train/data_parallel.h)
 * and how ranks cut it; the tensor owners (train/shard.h); --reduce in
 * checkpoints. The gradient itself is checked against PyTorch in the model
 * suite ("tree grad"), and the ranks for real by make test-mpi. */
#include "test.h"
#include "train/data_parallel.h"
#include "model/model_internal.h"

#include <stdlib.h>
#include <string.h>

/* 1 if [a, b) is a node of the tree over [0, n), by walking down from the root */
static int is_node(int n, int a, int b)
{
    int lo = 0, hi = n;
    while (hi - lo >= 1) {
        int mid;
        if (lo == a && hi == b) return 1;
        if (hi - lo == 1) return 0;
        mid = muon_tree_split(lo, hi);
        if (b <= mid) hi = mid;
        else if (a >= mid) lo = mid;
        else return 0;
    }
    return 0;
}

static void test_split(void)
{
    int a, b, bad = 0;
    for (b = 2; b <= 70; b++)
        for (a = 0; a < b - 1; a++) {
            int m = muon_tree_split(a, b), h = m - a;
            /* a power of two h with h < b - a <= 2h */
            if (!(m > a && m < b && (h & (h - 1)) == 0 && b - a <= 2 * h)) bad++;
        }
    check(bad == 0, "tree split of [a,b): a + the largest power of two below b-a, for every 0 <= a < b <= 70 (%d wrong)", bad);
    check(muon_tree_split(0, 6) == 4 && muon_tree_split(4, 6) == 5 && muon_tree_split(0, 3) == 2,
          "tree of 6: [0,4)+[4,6), and [0,3) splits at 2");
}

static void test_nodes(void)
{
    muon_span s[64];
    int n, R, bad = 0, bound = 0, aligned = 0;
    for (n = 1; n <= 48; n++)
        for (R = 1; R <= 8; R++) {
            int r, at = 0, depth = 0;
            if (n % R) continue;
            while ((1 << depth) < n) depth++;
            for (r = 0; r < R; r++) {
                int lo = r * (n / R), hi = lo + n / R, k = muon_tree_nodes(n, lo, hi, s, 64), j;
                if (k > 2 * depth + 2) bound++;
                /* the rank's nodes tile its range, left to right, and each is a tree node */
                for (j = 0; j < k; j++) {
                    if (s[j].lo != at || s[j].hi <= s[j].lo || !is_node(n, s[j].lo, s[j].hi)) bad++;
                    at = s[j].hi;
                }
                if (at != hi) bad++;
                /* powers of two: every rank's range is one subtree */
                if ((n & (n - 1)) == 0 && (R & (R - 1)) == 0 && k != 1) aligned++;
            }
        }
    check(bad == 0, "for every batch 1..48 and rank count 1..8 dividing it: the ranks' nodes tile [0,B) in order, all tree nodes (%d wrong)", bad);
    check(bound == 0, "at most 2 log2(B) + 2 nodes per rank (%d over)", bound);
    check(aligned == 0, "a power-of-two batch on a power-of-two rank count: one node per rank (%d not)", aligned);
    n = muon_tree_nodes(6, 0, 3, s, 64);
    check(n == 2 && s[0].lo == 0 && s[0].hi == 2 && s[1].lo == 2 && s[1].hi == 3, "batch 6, rank 0 of 2: [0,2) and [2,3)");
    n = muon_tree_nodes(6, 3, 6, s, 64);
    check(n == 2 && s[0].lo == 3 && s[0].hi == 4 && s[1].lo == 4 && s[1].hi == 6, "batch 6, rank 1 of 2: [3,4) and [4,6)");
    check(muon_tree_nodes(8, 0, 8, s, 64) == 1 && s[0].lo == 0 && s[0].hi == 8, "one process: the root alone");
}

static void test_shard(void)
{
    muon_config c;
    muon_model m;
    muon_shard sh;
    muon_dp dp;
    int i, all = 1, st;
    muon_config_named("tiny", &c);
    if (!check(muon_model_create(&m, &c) == MUON_OK, "tiny model for the ownership table")) return;
    st = muon_shard_create(&sh, &m);
    if (check(st == MUON_OK, "ownership table (%s)", st ? muon_last_error() : "ok")) {
        for (i = 0; i < m.n_tensors; i++) all &= muon_shard_owns(&sh, i);
        check(sh.size == 1 && all && sh.owned[0] == m.num_params, "one process owns every tensor (%lu floats)",
              (unsigned long)sh.owned[0]);
        check(muon_shard_owner_at(&sh, &m, m.num_params - 1) == 0, "owner of the last float: rank 0");
        st = muon_dp_create(&dp, &sh, &m, 5, c.seq_len);
        check(st == MUON_OK && dp.count == 1 && dp.n_nodes == 1 && dp.depth == 3,
              "batch 5 on one process: one node (the root), depth 3");
        if (!st) muon_dp_free(&dp);
        muon_shard_free(&sh);
    }
    muon_model_free(&m);
}

static void test_reduce_option(void)
{
    muon_train_config c;
    muon_train_defaults(&c);
    check(c.reduce == MUON_REDUCE_TREE, "--reduce defaults to tree");
    check(muon_train_set(&c, "reduce", "batch") == MUON_OK && c.reduce == MUON_REDUCE_BATCH, "--reduce batch");
    check(muon_train_set(&c, "reduce", "sum") == MUON_ERR_ARG && strstr(muon_last_error(), "tree or batch"),
          "--reduce sum refused, naming the choices (%s)", muon_last_error());
}

/* A checkpoint written before --reduce existed ran with the one-pass
 * gradient: resuming it must continue that way. */
static void test_reduce_old_checkpoint(void)
{
    muon_train_config c, d;
    const char *const *kv;
    const char *pairs[256];
    muon_safetensors f;
    muon_tensor t;
    int64_t one = 1;
    float zero = 0;
    int i, n = 0, had = 0;
    muon_train_defaults(&c);
    kv = muon_train_config_meta(&c);
    for (i = 0; kv[i] && n < 254; i += 2) {
        if (!strcmp(kv[i], "train.reduce")) { had = 1; continue; }
        pairs[n++] = kv[i];
        pairs[n++] = kv[i + 1];
    }
    pairs[n] = NULL;
    check(had, "checkpoints record train.reduce");
    memset(&t, 0, sizeof t);
    t.name = "x"; strcpy(t.dtype, "F32"); t.ndim = 1; t.shape[0] = one; t.numel = 1; t.data = &zero;
    if (!check(muon_safetensors_write("build/test_dp_meta.safetensors", &t, 1, pairs) == MUON_OK &&
               muon_safetensors_read("build/test_dp_meta.safetensors", &f) == MUON_OK, "a checkpoint without train.reduce"))
        return;
    muon_train_defaults(&d);
    check(muon_train_config_from_meta(&d, &f) == MUON_OK && d.reduce == MUON_REDUCE_BATCH,
          "resuming a checkpoint without train.reduce keeps the one-pass gradient it was trained with");
    muon_safetensors_free(&f);
    remove("build/test_dp_meta.safetensors");
}

/* The tree gradient of cfg's batch tok/tgt (batch_size x seq_len) with dp's
 * workers made for `make` threads and run on `run` threads: grads(P) and
 * the loss. */
static int tree_grad(const muon_config *cfg, const int *tok, const int *tgt, int make, int run, float *grads,
                     float *loss, int *workers)
{
    muon_model m;
    muon_shard sh;
    muon_dp dp;
    int st;
    muon_set_threads(make);
    if ((st = muon_model_create_rows(&m, cfg, 1))) return st;
    muon_model_init(&m, 3);
    if ((st = muon_shard_create(&sh, &m))) { muon_model_free(&m); return st; }
    if (!(st = muon_dp_create(&dp, &sh, &m, cfg->batch_size, cfg->seq_len))) {
        *workers = dp.n_workers;
        muon_set_threads(run);
        st = muon_dp_gradient(&dp, &m, tok, tgt);
        if (!st) { memcpy(grads, m.grads, m.num_params * sizeof *grads); *loss = m.loss; }
        muon_dp_free(&dp);
    }
    muon_shard_free(&sh);
    muon_model_free(&m);
    return st;
}

static void batch_tokens(int *tok, int *tgt, int n)
{
    int i;
    for (i = 0; i < n; i++) { tok[i] = (i * 37 + 11) % 256; tgt[i] = (i * 53 + 5) % 256; }
}

/* tiny with B = 7, which puts worker boundaries inside tree nodes for 2
 * workers ([0,3) and [3,7) against the tree's [0,4) and [4,7)) */
static int worker_grad(int make, int run, float *grads, float *loss, int *workers)
{
    muon_config cfg;
    int tok[7 * 16], tgt[7 * 16];
    muon_config_named("tiny", &cfg);
    cfg.batch_size = 7;
    batch_tokens(tok, tgt, 7 * 16);
    return tree_grad(&cfg, tok, tgt, make, run, grads, loss, workers);
}

/* Threads take sequences apart (train/data_parallel.h's workers): the
 * gradient is the same bits for 1, 2 and 3 workers, and for 3 workers run
 * on one thread. */
static void test_workers(void)
{
    muon_config cfg;
    size_t P;
    float *ref, *got, l0 = 0, l1 = 0;
    int w0 = 0, w1 = 0, k;
    static const int make[3] = {2, 3, 3}, run[3] = {2, 3, 1};
    if (!threads_begin("tree gradient with 2 and 3 workers")) return;
    muon_config_named("tiny", &cfg);
    cfg.batch_size = 7;
    P = muon_config_param_count(&cfg);
    ref = malloc(P * sizeof *ref);
    got = malloc(P * sizeof *got);
    if (!ref || !got || worker_grad(1, 1, ref, &l0, &w0)) {
        check(0, "tree gradient on one worker: %s", muon_last_error());
    } else {
        check(w0 == 1, "one thread: one worker (%d)", w0);
        for (k = 0; k < 3; k++) {
            int st = worker_grad(make[k], run[k], got, &l1, &w1);
            check(!st && w1 == make[k] && memcmp(ref, got, P * sizeof *ref) == 0 && l0 == l1,
                  "tree gradient of 7 sequences: %d workers on %d threads give the bits of one (loss %.7g vs %.7g)",
                  w1, run[k], (double)l1, (double)l0);
        }
    }
    free(ref);
    free(got);
    threads_end();
}

/* ref(P) = the sum of node [a, b) of the tree over the per-sequence
 * gradients g(B, P), each addition a float add: the definition the tree
 * reduction must meet bit for bit, however it takes its shortcuts. */
static void tree_sum(const float *g, size_t P, int a, int b, float *ref, float *tmp)
{
    int mid;
    size_t i;
    if (b - a == 1) { memcpy(ref, g + (size_t)a * P, P * sizeof *ref); return; }
    mid = muon_tree_split(a, b);
    tree_sum(g, P, a, mid, ref, tmp + P);
    tree_sum(g, P, mid, b, tmp, tmp + P);
    for (i = 0; i < P; i++) {
        const float s = ref[i] + tmp[i];
        ref[i] = s;
    }
}

/* The tree gradient on one worker against each sequence's own gradient (a
 * fresh forward and backward_set), added up along the tree here and divided
 * by B: the same bits. Once with T within the GEMM's K block, where the
 * tree's right leaves add straight onto their siblings, and once past it,
 * where they may not (an untied head there too). */
static void tree_definition(const char *label, int B, int T, int untied)
{
    muon_config cfg;
    muon_model m;
    float *g = NULL, *ref = NULL, *tmp = NULL, *got = NULL, loss = 0;
    int *tok = NULL, *tgt = NULL, s, w = 0, st, saved = muon_threads();
    size_t P, e, bad = 0;
    muon_config_named("tiny", &cfg);
    cfg.batch_size = B;
    cfg.seq_len = T;
    cfg.untied_head = untied;
    P = muon_config_param_count(&cfg);
    g = malloc((size_t)B * P * sizeof *g);
    ref = malloc(P * sizeof *ref);
    tmp = malloc(8 * P * sizeof *tmp); /* one per tree level: B <= 128 */
    got = malloc(P * sizeof *got);
    tok = malloc((size_t)B * T * sizeof *tok);
    tgt = malloc((size_t)B * T * sizeof *tgt);
    muon_set_threads(1);
    if (!g || !ref || !tmp || !got || !tok || !tgt || muon_model_create_rows(&m, &cfg, 1)) {
        check(0, "tree definition (%s): out of memory", label);
        goto done;
    }
    batch_tokens(tok, tgt, B * T);
    muon_model_init(&m, 3);
    for (s = 0, st = MUON_OK; s < B && !st; s++) {
        st = muon_model_forward(&m, tok + (size_t)s * T, tgt + (size_t)s * T, 1, T);
        if (!st) st = muon_model_backward_set(&m);
        memcpy(g + (size_t)s * P, m.grads, P * sizeof *g);
    }
    muon_model_free(&m);
    if (!st) st = tree_grad(&cfg, tok, tgt, 1, 1, got, &loss, &w);
    if (!st) {
        tree_sum(g, P, 0, B, ref, tmp);
        for (e = 0; e < P; e++) {
            const float mean = ref[e] / (float)B; /* rounded to float here, also where floats are evaluated wider */
            bad += !(got[e] == mean);
        }
    }
    check(!st && bad == 0, "tree gradient (%s: B=%d, T=%d) = the sequences' own gradients added along the tree, / B: "
          "%lu of %lu differ (%s)", label, B, T, (unsigned long)bad, (unsigned long)P, st ? muon_last_error() : "ok");
done:
    free(g); free(ref); free(tmp); free(got); free(tok); free(tgt);
    muon_set_threads(saved);
}

static void test_tree_definition(void)
{
    tree_definition("tiny", 7, 16, 0);
    tree_definition("tiny, untied, T past the GEMM's K block", 3, muon_gemm_k_block() + 16, 1);
}

/* The gradient of tok/tgt (B=4 of tiny) on a dp made for `threads` threads,
 * after a first gradient at init seed `first` (0: none) and a re-init at
 * seed 7: grads(P). *packed: whether dp packed weights; *detached: whether
 * the model and every worker were left without them after each call. */
static int grad_after_change(const muon_config *cfg, const int *tok, const int *tgt, int threads, uint64_t first,
                             float *grads, int *packed, int *detached)
{
    muon_model m;
    muon_shard sh;
    muon_dp dp;
    int st, w, k;
    muon_set_threads(threads);
    if ((st = muon_model_create_rows(&m, cfg, 1))) return st;
    if ((st = muon_shard_create(&sh, &m))) { muon_model_free(&m); return st; }
    if (!(st = muon_dp_create(&dp, &sh, &m, cfg->batch_size, cfg->seq_len))) {
        *packed = dp.packed != NULL;
        *detached = 1;
        for (k = first ? 0 : 1; k < 2 && !st; k++) {
            muon_model_init(&m, k == 0 ? first : 7);
            st = muon_dp_gradient(&dp, &m, tok, tgt);
            *detached = *detached && m.packed == NULL;
            for (w = 0; w + 1 < dp.n_workers; w++) *detached = *detached && dp.workers[w].packed == NULL;
        }
        if (!st) memcpy(grads, m.grads, m.num_params * sizeof *grads);
        muon_dp_free(&dp);
    }
    muon_shard_free(&sh);
    muon_model_free(&m);
    return st;
}

/* The weights packed for the tree's passes (model/packed_weights.c) follow
 * the weights: a gradient after the weights changed is the bits of a fresh
 * dp's, on one worker and on two, and every model is left unpacked. The
 * packs exist where a worker runs more than one sequence, and only there. */
static void test_packs_follow_weights(void)
{
    muon_config cfg;
    size_t P;
    float *ref = NULL, *got = NULL;
    int tok[4 * 16], tgt[4 * 16], t, packed = 0, detached = 0, st, saved = muon_threads();
    muon_config_named("tiny", &cfg);
    cfg.batch_size = 4;
    batch_tokens(tok, tgt, 4 * 16);
    P = muon_config_param_count(&cfg);
    ref = malloc(P * sizeof *ref);
    got = malloc(P * sizeof *got);
    if (!ref || !got) { check(0, "packs follow weights: out of memory"); goto done; }
    for (t = 1; t <= 2; t++) {
        if (t == 2 && !threads_begin("packed weights on two workers")) break;
        st = grad_after_change(&cfg, tok, tgt, t, 0, ref, &packed, &detached);
        if (!st) st = grad_after_change(&cfg, tok, tgt, t, 3, got, &packed, &detached);
        check(!st && packed && detached && memcmp(ref, got, P * sizeof *ref) == 0,
              "packed weights, %d thread(s), 4 sequences: packed (%d), a gradient after new weights = a fresh "
              "tree's bits, no model left packed (%d)", t, packed, detached);
        if (t == 2) threads_end();
    }
    {
        /* two sequences on two workers: one pass each, nothing to share */
        int two[2 * 16], two_t[2 * 16];
        cfg.batch_size = 2;
        batch_tokens(two, two_t, 2 * 16);
        if (threads_begin("one sequence per worker")) {
            st = grad_after_change(&cfg, two, two_t, 2, 0, got, &packed, &detached);
            check(!st && !packed, "2 sequences on 2 workers: no packed weights (%d)", packed);
            threads_end();
        }
    }
    {
        /* out of memory for the packs alone: the tree runs without them, to
         * the same bits. The packs are dp's last allocations, so the
         * smallest n whose failed n-th allocation still lets the create
         * succeed is one of theirs. */
        muon_model m;
        muon_shard sh;
        muon_dp dp;
        long n;
        int unpacked = 0, same = 0;
        cfg.batch_size = 4;
        muon_set_threads(1);
        if (muon_model_create_rows(&m, &cfg, 1)) { check(0, "packs out of memory: model"); goto done; }
        muon_model_init(&m, 7);
        if (muon_shard_create(&sh, &m)) { muon_model_free(&m); check(0, "packs out of memory: shard"); goto done; }
        for (n = 1; n < 200 && !unpacked; n++) {
            muon_alloc_fail_after(n);
            st = muon_dp_create(&dp, &sh, &m, 4, cfg.seq_len);
            muon_alloc_fail_after(0);
            if (st) continue;
            if (!dp.packed) {
                unpacked = 1;
                same = !muon_dp_gradient(&dp, &m, tok, tgt) && memcmp(ref, m.grads, P * sizeof *ref) == 0;
            }
            muon_dp_free(&dp);
        }
        check(unpacked && same, "out of memory for the packed weights alone: the tree is made without them "
              "(allocation %ld) and gives the packed tree's bits", n - 1);
        muon_shard_free(&sh);
        muon_model_free(&m);
    }
done:
    free(ref);
    free(got);
    muon_set_threads(saved);
}

void suite_data_parallel(void)
{
    test_split();
    test_nodes();
    test_shard();
    test_reduce_option();
    test_reduce_old_checkpoint();
    test_workers();
    test_tree_definition();
    test_packs_follow_weights();
}
