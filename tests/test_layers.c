/* Suite `layers`: every layer of model/ alone -- the attention kernels
 * against their naive references, muon_expf, and each layer's forward and
 * backward against PyTorch (tests/golden/gen_model.py). */
#include "test.h"
#include "model/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- attention kernels: fast vs naive ------------------------------------- */

static void test_attention_kernels(void)
{
    /* B, T, NH, NKV, HS; T a multiple of 8 with HS of 16 (the last three)
     * is the kernels' in-place path, the rest the gathered one */
    static const int shapes[][5] = {
        {2, 16, 4, 2, 8}, {1, 1, 2, 1, 4}, {3, 37, 6, 2, 10}, {2, 20, 3, 3, 6}, {1, 33, 4, 1, 32},
        {1, 70, 2, 1, 64}, {2, 128, 4, 2, 32}, {1, 64, 2, 1, 64}, {2, 48, 4, 2, 16},
    };
    size_t si;
    for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int B = shapes[si][0], T = shapes[si][1], NH = shapes[si][2], NKV = shapes[si][3], HS = shapes[si][4];
        int ldq = (NH + 2 * NKV) * HS + 3; /* packed and padded, as in the model */
        size_t nrow = (size_t)B * T, nq = nrow * ldq, no = nrow * NH * HS;
        float *qkv = malloc(nq * sizeof(float)), *dout = malloc(no * sizeof(float));
        float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
        float *probs = malloc((size_t)B * NH * T * T * sizeof(float)), *lse = malloc((size_t)B * NH * T * sizeof(float));
        float *d1 = malloc(nq * sizeof(float)), *d2 = malloc(nq * sizeof(float));
        float *scratch = malloc(muon_attention_scratch(B, T, NH, NKV, HS) * sizeof(float));
        muon_attn_shape s;
        char what[128];
        if (!qkv || !dout || !o1 || !o2 || !probs || !lse || !d1 || !d2 || !scratch) {
            check(0, "attention test: out of memory");
        } else {
            test_fill_random(qkv, nq, 100 + si);
            test_fill_random(dout, no, 200 + si);
            memset(d1, 0, nq * sizeof(float));
            memset(d2, 0, nq * sizeof(float));
            s.B = B; s.T = T; s.NH = NH; s.NKV = NKV; s.HS = HS;
            s.q = qkv; s.ldq = ldq;
            s.k = qkv + NH * HS; s.ldk = ldq;
            s.v = qkv + (NH + NKV) * HS; s.ldv = ldq;
            muon_attention_forward_naive(o1, NH * HS, probs, &s);
            muon_attention_forward(o2, NH * HS, lse, &s, scratch);
            /* N(0,1) q,k: scores up to ~|q||k|/sqrt(HS) ~ 3-6; float32 exp and
             * sums over <= 37 keys in two orders: 2e-6 relative and absolute */
            snprintf(what, sizeof what, "attention fwd fast vs naive B%d T%d NH%d NKV%d HS%d", B, T, NH, NKV, HS);
            check_close(what, o2, o1, no, 2e-5, 2e-6);
            muon_attention_backward_naive(d1, ldq, d1 + NH * HS, ldq, d1 + (NH + NKV) * HS, ldq, dout, NH * HS, probs, &s);
            muon_attention_backward(d2, ldq, d2 + NH * HS, ldq, d2 + (NH + NKV) * HS, ldq, dout, NH * HS,
                                    o2, NH * HS, lse, &s, scratch);
            snprintf(what, sizeof what, "attention bwd dq,dk,dv fast vs naive B%d T%d NH%d NKV%d HS%d", B, T, NH, NKV, HS);
            check_close(what, d2, d1, nq, 1e-4, 1e-5);
        }
        free(qkv); free(dout); free(o1); free(o2); free(probs); free(lse); free(d1); free(d2); free(scratch);
    }
}

/* muon_expf against libm's expf (computed in double): the softmaxes' exp */
static void test_expf(void)
{
    double max_rel = 0.0;
    int bad = 0;
    float x;
    for (x = -87.0f; x <= 88.0f; x += 0.0137f) {
        double want = exp((double)x), got = muon_expf(x), rel = fabs(got - want) / want;
        if (rel > max_rel) max_rel = rel;
        if (rel > 4e-7) bad++;
    }
    check(!bad && muon_expf(-100.0f) == 0.0f && muon_expf(0.0f) == 1.0f,
          "muon_expf on [-87, 88]: max rel err %.2e vs exp in double (tol 4e-7, ~3 ulp); 0 below -87", max_rel);
    {   /* volatile: the compiler may not fold the NaN away */
        volatile float nan = NAN, inf = INFINITY;
        float e_nan = muon_expf(nan), e_inf = muon_expf(inf), e_ninf = muon_expf(-inf);
        check(e_nan != e_nan && e_ninf == 0.0f && e_inf > 1e38f,
              "muon_expf(NaN) = NaN, exp(-inf) = 0, exp(+inf) saturates (got %g, %g, %g)", e_nan, e_ninf, e_inf);
    }
}

/* ---- each layer alone against PyTorch ------------------------------------- */

static void test_layers_golden(void)
{
    muon_safetensors f;
    const float *x, *g, *dy, *y, *dx, *dg;
    float *out = NULL, *din = NULL, *dgain = NULL, *tmp = NULL;
    size_t cap = 4096;
    int i;
    if (golden_open("model_layers.safetensors", &f)) return;
    out = calloc(cap, sizeof(float));
    din = calloc(cap, sizeof(float));
    dgain = calloc(cap, sizeof(float));
    tmp = calloc(cap, sizeof(float));
    if (!out || !din || !dgain || !tmp) { check(0, "layers golden: out of memory"); goto done; }

    /* RMSNorm (G 1, n 24) and QK-norm (G 3 heads of 8, one shared gain) */
    {
        static const struct { const char *name; int N, G, n; } nc[] = {{"rmsnorm", 32, 1, 24}, {"qknorm", 32, 3, 8}};
        for (i = 0; i < 2; i++) {
            int N = nc[i].N, G = nc[i].G, n = nc[i].n, k6;
            size_t tot = (size_t)N * G * n;
            char k[6][48], what[96];
            snprintf(k[0], 48, "%s.x", nc[i].name); snprintf(k[1], 48, "%s.g", nc[i].name);
            snprintf(k[2], 48, "%s.dy", nc[i].name); snprintf(k[3], 48, "%s.y", nc[i].name);
            snprintf(k[4], 48, "%s.dx", nc[i].name); snprintf(k[5], 48, "%s.dg", nc[i].name);
            x = golden_get(&f, k[0], tot); g = golden_get(&f, k[1], (size_t)n); dy = golden_get(&f, k[2], tot);
            y = golden_get(&f, k[3], tot); dx = golden_get(&f, k[4], tot); dg = golden_get(&f, k[5], (size_t)n);
            if (!x || !g || !dy || !y || !dx || !dg) continue;
            memset(dgain, 0, (size_t)n * sizeof(float));
            muon_norm_shape sh;
            sh.N = N; sh.G = G; sh.n = n; sh.ld_in = sh.ld_out = G * n;
            muon_rmsnorm_forward(&sh, out, tmp, x, g, 1e-6f);
            muon_rmsnorm_backward(&sh, MUON_GRAD_SET, MUON_GRAD_ADD, din, dgain, dy, x, tmp, g);
            /* O(1) values, sums of <= 24 terms: a few float32 ulps */
            snprintf(what, sizeof what, "layer %s forward vs PyTorch", nc[i].name);
            check_close(what, out, y, tot, 1e-5, 1e-6);
            snprintf(what, sizeof what, "layer %s d(input) vs PyTorch", nc[i].name);
            check_close(what, din, dx, tot, 1e-5, 1e-6);
            snprintf(what, sizeof what, "layer %s d(gain) added onto zeros vs PyTorch", nc[i].name);
            check_close(what, dgain, dg, (size_t)n, 1e-5, 1e-5);
            /* the gain gradient overwritten: what was there (NaN) must not show */
            for (k6 = 0; k6 < n; k6++) dgain[k6] = NAN;
            muon_rmsnorm_backward(&sh, MUON_GRAD_SET, MUON_GRAD_SET, din, dgain, dy, x, tmp, g);
            snprintf(what, sizeof what, "layer %s d(gain) overwritten (SET) vs PyTorch", nc[i].name);
            check_close(what, dgain, dg, (size_t)n, 1e-5, 1e-5);
        }
    }
    /* RoPE on (B 2, T 16, 3 heads of 8): forward, and backward = transpose */
    {
        int B = 2, T = 16, H = 3, HS = 8;
        size_t tot = (size_t)B * T * H * HS;
        float cs[16 * 4], sn[16 * 4];
        x = golden_get(&f, "rope.x", tot); dy = golden_get(&f, "rope.dy", tot);
        y = golden_get(&f, "rope.y", tot); dx = golden_get(&f, "rope.dx", tot);
        if (x && dy && y && dx) {
            muon_rope_table(cs, sn, T, HS, 10000.0);
            memcpy(out, x, tot * sizeof(float));
            muon_rope_forward(out, H * HS, cs, sn, B, T, H, HS);
            check_close("layer rope forward (pairs 2i,2i+1) vs PyTorch", out, y, tot, 1e-6, 1e-6);
            memcpy(din, dy, tot * sizeof(float));
            muon_rope_backward(din, H * HS, cs, sn, B, T, H, HS);
            check_close("layer rope backward vs PyTorch", din, dx, tot, 1e-6, 1e-6);
        }
    }
    /* causal GQA attention core, fast and naive: B 2, T 16, 4 heads on 2 KV heads, HS 8 */
    {
        int B = 2, T = 16, NH = 4, NKV = 2, HS = 8, v;
        size_t nq = (size_t)B * T * NH * HS, nk = (size_t)B * T * NKV * HS;
        const float *q = golden_get(&f, "attn.q", nq), *kk = golden_get(&f, "attn.k", nk);
        const float *vv = golden_get(&f, "attn.v", nk), *dq = golden_get(&f, "attn.dq", nq);
        const float *dk = golden_get(&f, "attn.dk", nk), *dv = golden_get(&f, "attn.dv", nk);
        float *probs = malloc((size_t)B * NH * T * T * sizeof(float));
        float *scr = malloc(muon_attention_scratch(B, T, NH, NKV, HS) * sizeof(float));
        dy = golden_get(&f, "attn.dy", nq);
        y = golden_get(&f, "attn.y", nq);
        if (q && kk && vv && dq && dk && dv && dy && y && probs && scr) {
            muon_attn_shape sh;
            sh.B = B; sh.T = T; sh.NH = NH; sh.NKV = NKV; sh.HS = HS;
            sh.q = q; sh.ldq = NH * HS; sh.k = kk; sh.ldk = NKV * HS; sh.v = vv; sh.ldv = NKV * HS;
            for (v = 0; v < 2; v++) {
                char what[96];
                /* din holds dq | dk | dv */
                if (v == 0) {
                    muon_attention_forward(out, NH * HS, tmp, &sh, scr);
                    muon_attention_backward(din, NH * HS, din + nq, NKV * HS, din + nq + nk, NKV * HS,
                                            dy, NH * HS, out, NH * HS, tmp, &sh, scr);
                } else {
                    muon_attention_forward_naive(out, NH * HS, probs, &sh);
                    muon_attention_backward_naive(din, NH * HS, din + nq, NKV * HS, din + nq + nk, NKV * HS,
                                                  dy, NH * HS, probs, &sh);
                }
                /* N(0,1) inputs: scores O(3), outputs O(1) */
                snprintf(what, sizeof what, "layer attention (%s) forward vs PyTorch", v ? "naive" : "fast");
                check_close(what, out, y, nq, 1e-5, 1e-6);
                snprintf(what, sizeof what, "layer attention (%s) dq vs PyTorch", v ? "naive" : "fast");
                check_close(what, din, dq, nq, 1e-5, 2e-6);
                snprintf(what, sizeof what, "layer attention (%s) dk vs PyTorch", v ? "naive" : "fast");
                check_close(what, din + nq, dk, nk, 1e-5, 2e-6);
                snprintf(what, sizeof what, "layer attention (%s) dv vs PyTorch", v ? "naive" : "fast");
                check_close(what, din + nq + nk, dv, nk, 1e-5, 2e-6);
            }
        }
        free(probs);
        free(scr);
    }
    /* feed-forward activations on (32, 40) */
    {
        size_t n = 32 * 40;
        const float *h = golden_get(&f, "relu2.h", n), *dh = golden_get(&f, "relu2.dh", n);
        dy = golden_get(&f, "relu2.dy", n);
        y = golden_get(&f, "relu2.y", n);
        if (h && dh && dy && y) {
            muon_ffn_act_forward(out, h, NULL, n, MUON_FFN_RELU2);
            muon_ffn_act_backward(din, NULL, dy, h, NULL, n, MUON_FFN_RELU2);
            check_close("layer relu^2 forward vs PyTorch", out, y, n, 1e-6, 1e-7);
            check_close("layer relu^2 backward vs PyTorch", din, dh, n, 1e-6, 1e-7);
        }
        h = golden_get(&f, "swiglu.h", n);
        dh = golden_get(&f, "swiglu.dh", n);
        g = golden_get(&f, "swiglu.gate", n);
        dg = golden_get(&f, "swiglu.dgate", n);
        dy = golden_get(&f, "swiglu.dy", n);
        y = golden_get(&f, "swiglu.y", n);
        if (h && dh && g && dg && dy && y) {
            muon_ffn_act_forward(out, h, g, n, MUON_FFN_SWIGLU);
            muon_ffn_act_backward(din, dgain, dy, h, g, n, MUON_FFN_SWIGLU);
            /* sigmoid through our exp (~1e-7) */
            check_close("layer swiglu forward vs PyTorch", out, y, n, 2e-6, 1e-7);
            check_close("layer swiglu d(up) vs PyTorch", din, dh, n, 2e-6, 1e-7);
            check_close("layer swiglu d(gate) vs PyTorch", dgain, dg, n, 2e-6, 1e-7);
        }
    }
    /* mean cross-entropy, 32 rows of 20 classes */
    {
        int N = 32, V = 20, tg[32];
        const float *z = golden_get(&f, "ce.logits", (size_t)N * V), *t = golden_get(&f, "ce.targets", (size_t)N);
        const float *loss = golden_get(&f, "ce.loss", 1), *dz = golden_get(&f, "ce.dlogits", (size_t)N * V);
        if (z && t && loss && dz) {
            double l;
            for (i = 0; i < N; i++) tg[i] = (int)t[i];
            l = muon_cross_entropy_forward(tmp, out, z, tg, N, V);
            check_near("layer cross-entropy loss vs PyTorch", l, loss[0], 1e-6, 0);
            muon_cross_entropy_backward(din, z, tmp, tg, N, V);
            check_close("layer cross-entropy dlogits vs PyTorch", din, dz, (size_t)N * V, 1e-5, 1e-8);
        }
    }
done:
    free(out); free(din); free(dgain); free(tmp);
    muon_safetensors_free(&f);
}

/* RMSNorm's backward takes its gain sums in the row pass on one thread and
 * in a column pass of their own on two: the same sums in the same order, so
 * 1 and 2 threads must give the same bits, dx added or written, dg added or
 * written (a shape past the parallel threshold, n with a 16-lane tail). */
static void test_rmsnorm_threads(void)
{
    enum { N = 600, G = 2, n = 40, TOT = N * G * n };
    static float x[TOT], dy[TOT], y[TOT], din[2][TOT], dg[2][n], g[n], rs[N * G];
    muon_norm_shape sh;
    int t, mode;
    if (!threads_begin("rmsnorm backward")) return;
    test_fill_random(x, TOT, 41);
    test_fill_random(dy, TOT, 42);
    test_fill_random(g, n, 43);
    sh.N = N; sh.G = G; sh.n = n; sh.ld_in = sh.ld_out = G * n;
    muon_rmsnorm_forward(&sh, y, rs, x, g, 1e-6f);
    for (mode = 0; mode < 2; mode++) {
        for (t = 0; t < 2; t++) {
            test_fill_random(din[t], TOT, 44);
            test_fill_random(dg[t], n, 45);
            muon_set_threads(t + 1);
            muon_rmsnorm_backward(&sh, (muon_grad_mode)mode, (muon_grad_mode)mode, din[t], dg[t], dy, x, rs, g);
        }
        check(!memcmp(din[0], din[1], sizeof din[0]) && !memcmp(dg[0], dg[1], sizeof dg[0]),
              "rmsnorm backward (%s) 600x2x40: 1 and 2 threads give identical dx and dg", mode ? "ADD" : "SET");
    }
    threads_end();
}

void suite_layers(void)
{
    test_expf();
    test_attention_kernels();
    test_layers_golden();
    test_rmsnorm_threads();
}
