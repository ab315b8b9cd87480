/* Causal grouped-query self-attention core: softmax(q k^T / sqrt(HS)) v per
 * head, query head h reading K/V head h / (NH/NKV) (Ainslie et al. 2023).
 * (The projections, QK-norm and RoPE around it are in model.c, rmsnorm.c,
 * rope.c.)
 *
 * Fast kernels: the forward keeps only each score row's log-sum-exp; the
 * backward recomputes the probabilities row by row from it (as
 * FlashAttention does), so memory is O(T) per head instead of O(T^2) --
 * blueberry-nano's T = 2048 would need 0.7 GB per layer of probabilities --
 * and work is O(T^2 HS) per head. Each product (Q K^T, P V, dO V^T, dS K,
 * dS^T Q, P^T dO) runs as a small register-tiled GEMM over blocks of 8
 * query rows, on copies of K and V transposed and zero-padded to whole
 * 16-wide tiles, skipping the key tiles above the causal diagonal.
 * Threads split (batch, KV head): one work item owns every dK/dV row of its
 * KV head and the queries of its heads, so each output is summed by one
 * thread in a fixed order. Each thread works in one item buffer of the
 * scratch (its thread id's; at most one thread per item) for every item it
 * takes, rewriting all of it that the item reads: the buffer stays in the
 * thread's cache, where one buffer per item was written cold every pass (at
 * B = 16 they are several MB together).
 *
 * The naive kernels below store the full probability matrix and are the
 * plain textbook loops; the tests hold the fast ones to them. */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"
#include "linalg/tile.h"

#include <math.h>
#include <string.h>

/* Register tiles: ROWS query rows at a time against LANES key positions or
 * head dimensions (16 floats: one 512-bit vector, two 256-bit). Compile-time
 * bounds let the compiler keep the ROWS x LANES accumulator in registers. */
#define ROWS 8
#define LANES 16

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* Where every row block is whole (T a multiple of ROWS) and a head is whole
 * tiles (HS a multiple of LANES), the kernels read q, o and dO in place and
 * write o and dq straight into their rows: the copies padded nothing. */
static int is_direct(int T, int HS) { return T % ROWS == 0 && HS % LANES == 0; }

/* Per (batch, KV head) work item, in floats (all multiples of 16, so every
 * piece stays 64-byte aligned):
 *   Kt, Vt (HS, Tp)     K, V transposed: score rows run unit-stride over keys
 *   Kp, Vp (Tp, HSp)    K, V zero-padded to whole tiles (backward: Vp holds dV)
 *   dKp    (Tp, HSp)    backward: the dK accumulator
 *   Qh, Oh, dOh (R, Tp, HSp)  q (and o, dO) of the group's R query heads
 *   S, P   (ROWS, Tp)   scores/probabilities and dP/dS of one row block
 *   dQb    (ROWS, HSp)  dq of one row block
 * The K and V rows an item needs are gathered from the strided (B,T,...)
 * buffers in one pass up front: interleaved with the arithmetic, those cache
 * misses took half the kernel's time. q, o and dO rows are gathered too
 * where a row block or a head would end inside a tile (is_direct); else the
 * kernels read them in place (their rows are contiguous and whole). */
static size_t item_floats(int T, int HS, int R)
{
    size_t Tp = (size_t)round_up(T, LANES), HSp = (size_t)round_up(HS, LANES);
    return 2 * (size_t)HS * Tp + 3 * Tp * HSp + 3 * (size_t)R * Tp * HSp + 2 * ROWS * Tp + ROWS * HSp;
}

size_t muon_attention_scratch(int B, int T, int NH, int NKV, int HS)
{
    return (size_t)B * NKV * item_floats(T, HS, NH / NKV);
}

typedef struct {
    float *Kt, *Vt, *Kp, *Vp, *dKp, *Qh, *Oh, *dOh, *S, *P, *dQb;
    int Tp, HSp;
} item_buf;

static item_buf item_carve(float *base, int T, int HS, int R)
{
    item_buf w;
    size_t Tp = (size_t)round_up(T, LANES), HSp = (size_t)round_up(HS, LANES);
    w.Tp = (int)Tp;
    w.HSp = (int)HSp;
    w.Kt = base;
    w.Vt = w.Kt + (size_t)HS * Tp;
    w.Kp = w.Vt + (size_t)HS * Tp;
    w.Vp = w.Kp + Tp * HSp;
    w.dKp = w.Vp + Tp * HSp;
    w.Qh = w.dKp + Tp * HSp;
    w.Oh = w.Qh + (size_t)R * Tp * HSp;
    w.dOh = w.Oh + (size_t)R * Tp * HSp;
    w.S = w.dOh + (size_t)R * Tp * HSp;
    w.P = w.S + ROWS * Tp;
    w.dQb = w.P + ROWS * Tp;
    return w;
}

/* acc(ROWS, LANES) += a(ROWS) b(LANES)^T for K steps: a_k = AEXPR(r, k)
 * (A row-major or transposed), b_k = Bv + k*ldb; the register-tile loop of
 * GEMM's micro-kernel (linalg/tile.h). */
#define TILE_LOOP(acc, AEXPR, Bv, ldb, K) MUON_TILE_FMA(acc, ROWS, LANES, AEXPR, Bv, ldb, K)

/* Tiles side by side in tile_ab where the vector registers hold them: with
 * 32 512-bit registers (AVX-512) two tiles, 16 accumulators, which doubles
 * the independent chains per broadcast of P (one tile's ROWS chains only
 * just cover the FMA latency); with AVX2's 16 256-bit ones, two would
 * spill. Each element's k loop is the same either way. */
#if defined(__AVX512F__)
#define WIDE 2
#else
#define WIDE 1
#endif

/* C(ROWS, n) = P(ROWS, K) Bm(K, n); K >= 1, n a multiple of LANES. Serves both
 * S = Q K^T (Bm = K^T, stored transposed up front) and O = P V. */
static void tile_ab(float *restrict C, int ldc, const float *restrict P, int ldp,
                    const float *restrict Bm, int ldb, int K, int n)
{
    int d0 = 0, r, dd;
#define P_ROW(r, k) P[(size_t)(r) * ldp + (k)]
    for (; d0 + WIDE * LANES <= n; d0 += WIDE * LANES) {
        float acc[ROWS][WIDE * LANES];
        MUON_TILE_FMA_FROM_ZERO(acc, ROWS, WIDE * LANES, P_ROW, Bm + d0, ldb, K);
        for (r = 0; r < ROWS; r++)
            for (dd = 0; dd < WIDE * LANES; dd++) C[(size_t)r * ldc + d0 + dd] = acc[r][dd];
    }
    for (; d0 < n; d0 += LANES) { /* with WIDE 2: an odd last tile */
        float acc[ROWS][LANES];
        MUON_TILE_FMA_FROM_ZERO(acc, ROWS, LANES, P_ROW, Bm + d0, ldb, K);
        for (r = 0; r < ROWS; r++)
            for (dd = 0; dd < LANES; dd++) C[(size_t)r * ldc + d0 + dd] = acc[r][dd];
    }
}

/* C(m, n) += P(ROWS, m)^T A(ROWS, n); m a multiple of ROWS, n of LANES.
 * Each C entry adds the ROWS products in order, onto its previous value. */
static void tile_atb_acc(float *restrict C, int ldc, const float *restrict P, int ldp,
                         const float *restrict A, int lda, int m, int n)
{
    int j0, d0, jj, dd;
    for (j0 = 0; j0 < m; j0 += ROWS)
        for (d0 = 0; d0 < n; d0 += LANES) {
            float acc[ROWS][LANES];
            const float *restrict Pj = P + j0;
#define PT_ROW(r, k) Pj[(size_t)(k) * ldp + (r)]
            for (jj = 0; jj < ROWS; jj++)
                for (dd = 0; dd < LANES; dd++) acc[jj][dd] = C[(size_t)(j0 + jj) * ldc + d0 + dd];
            TILE_LOOP(acc, PT_ROW, A + d0, lda, ROWS);
            for (jj = 0; jj < ROWS; jj++)
                for (dd = 0; dd < LANES; dd++) C[(size_t)(j0 + jj) * ldc + d0 + dd] = acc[jj][dd];
        }
}

/* dst (R, Tp, HSp) = heads h0..h0+R-1 of the T rows of batch b in src
 * (row stride ld), zero-padded; one pass over the rows. */
static void gather_heads(float *dst, int Tp, int HSp, const float *src, int ld,
                         int b, int T, int h0, int R, int HS)
{
    int j, hh, d;
    for (j = 0; j < T; j++) {
        const float *row = src + ((size_t)b * T + j) * ld + (size_t)h0 * HS;
        for (hh = 0; hh < R; hh++) {
            float *o = dst + ((size_t)hh * Tp + j) * HSp;
            const float *in = row + (size_t)hh * HS;
            for (d = 0; d < HS; d++) o[d] = in[d];
            for (d = HS; d < HSp; d++) o[d] = 0.0f;
        }
    }
    for (hh = 0; hh < R; hh++)
        memset(dst + ((size_t)hh * Tp + T) * HSp, 0, (size_t)(Tp - T) * HSp * sizeof(float));
}

/* dst (HS, Tp) = src (Tp, HSp)^T, in 16 x 16 blocks: contiguous stores. */
static void transpose_block(float *dst, int Tp, const float *src, int HSp, int HS)
{
    int j0, d0, j, d;
    for (j0 = 0; j0 < Tp; j0 += LANES)
        for (d0 = 0; d0 < HS; d0 += LANES) {
            int nd = HS - d0 < LANES ? HS - d0 : LANES;
            for (d = 0; d < nd; d++)
                for (j = 0; j < LANES; j++)
                    dst[(size_t)(d0 + d) * Tp + j0 + j] = src[(size_t)(j0 + j) * HSp + d0 + d];
        }
}

/* K and V of batch b, KV head g: Kp, Vp gathered, Kt (and with vt, Vt)
 * transposed from them. */
static void load_kv(item_buf *w, const muon_attn_shape *sh, int b, int g, int vt)
{
    gather_heads(w->Kp, w->Tp, w->HSp, sh->k, sh->ldk, b, sh->T, g, 1, sh->HS);
    gather_heads(w->Vp, w->Tp, w->HSp, sh->v, sh->ldv, b, sh->T, g, 1, sh->HS);
    transpose_block(w->Kt, w->Tp, w->Kp, w->HSp, sh->HS);
    if (vt) transpose_block(w->Vt, w->Tp, w->Vp, w->HSp, sh->HS);
}

/* Scaled scores of a row block (Qb, rows ldq apart) against keys [0, nk) and their softmax
 * (rows recomputed from lse when lse_in is given, else lse_out filled):
 * P[r][j] = exp(scale*S - lse), 0 beyond the causal limit j > i0 + r.
 *
 * The forward runs the ROWS rows side by side over the whole padded width,
 * the keys past each row's limit set to -inf (exp gives exactly 0 there, and
 * a sum gains +0): no per-row tails, and the rows' maxima and final lane sums
 * run as ROWS independent chains instead of one after another. Each row's
 * sum is still its 16 lanes (muon_sumf's: element j into lane j mod 16)
 * added lane 0 to 15, so the bits are those of the row-by-row loops. */
static void block_probs(item_buf *w, const float *Qb, int ldq, int i0, int nk, int T, int HS, float scale,
                        const float *lse_in, float *lse_out)
{
    int r, j, l, ncol = round_up(nk, LANES), lim[ROWS];
    float acc[ROWS][LANES], mx[ROWS], sum[ROWS];
    tile_ab(w->S, w->Tp, Qb, ldq, w->Kt, w->Tp, HS, ncol);
    for (r = 0; r < ROWS; r++) /* keys 0..i of row i; none for rows past T */
        lim[r] = i0 + r >= T ? 0 : (i0 + r + 1 < nk ? i0 + r + 1 : nk);
    if (lse_in) {
        for (r = 0; r < ROWS; r++) {
            const float *s = w->S + (size_t)r * w->Tp;
            float *p = w->P + (size_t)r * w->Tp;
            const int n = lim[r];
            const float m = n ? lse_in[i0 + r] : 0.0f;
            for (j = 0; j < ncol; j += LANES)
MUON_SIMD(omp simd)
                for (l = 0; l < LANES; l++) p[j + l] = j + l < n ? muon_expf(s[j + l] * scale - m) : 0.0f;
        }
        return;
    }
    for (r = 0; r < ROWS; r++) {
        float *s = w->S + (size_t)r * w->Tp;
        const int n = lim[r] ? lim[r] : ncol; /* a row past T: all zeros below */
MUON_SIMD(omp simd)
        for (l = 0; l < LANES; l++) {
            s[l] = l < n ? s[l] * scale : -INFINITY;
            acc[r][l] = s[l];
        }
        for (j = LANES; j < ncol; j += LANES)
MUON_SIMD(omp simd)
            for (l = 0; l < LANES; l++) {
                const float v = j + l < n ? s[j + l] * scale : -INFINITY;
                s[j + l] = v;
                acc[r][l] = v > acc[r][l] ? v : acc[r][l];
            }
    }
    /* the maximum is the same whatever the order of comparisons */
    for (r = 0; r < ROWS; r++) mx[r] = acc[r][0];
    for (l = 1; l < LANES; l++)
        for (r = 0; r < ROWS; r++) mx[r] = acc[r][l] > mx[r] ? acc[r][l] : mx[r];
    for (r = 0; r < ROWS; r++) {
        const float *s = w->S + (size_t)r * w->Tp;
        float *p = w->P + (size_t)r * w->Tp;
        const float m = mx[r];
MUON_SIMD(omp simd)
        for (l = 0; l < LANES; l++) acc[r][l] = 0.0f;
        for (j = 0; j < ncol; j += LANES)
MUON_SIMD(omp simd)
            for (l = 0; l < LANES; l++) {
                const float e = muon_expf(s[j + l] - m);
                p[j + l] = e;
                acc[r][l] += e;
            }
    }
    for (r = 0; r < ROWS; r++) sum[r] = 0.0f;
    for (l = 0; l < LANES; l++)
        for (r = 0; r < ROWS; r++) sum[r] += acc[r][l];
    for (r = 0; r < ROWS; r++) {
        float *p = w->P + (size_t)r * w->Tp;
        float inv;
        if (!lim[r]) { for (j = 0; j < ncol; j++) p[j] = 0.0f; continue; }
        inv = 1.0f / sum[r];
        for (j = 0; j < ncol; j++) p[j] *= inv;
        lse_out[i0 + r] = mx[r] + logf(sum[r]);
    }
}

void muon_attention_forward(float *out, int ldo, float *lse, const muon_attn_shape *sh, float *scratch)
{
    int B = sh->B, T = sh->T, NH = sh->NH, NKV = sh->NKV, HS = sh->HS, R = NH / NKV, direct = is_direct(T, HS);
    float scale = 1.0f / sqrtf((float)HS);
    size_t per = item_floats(T, HS, R);
    int item;

MUON_OMP(omp parallel for schedule(dynamic, 1) num_threads(muon_threads_upto(B * NKV)) \
         if ((double)B * NH * T * T * HS >= MUON_PAR_MIN))
    for (item = 0; item < B * NKV; item++) {
        int b = item / NKV, g = item % NKV, hh, i0, r, d;
        item_buf w = item_carve(scratch + (size_t)muon_thread_id() * per, T, HS, R);
        load_kv(&w, sh, b, g, 0);
        if (!direct) gather_heads(w.Qh, w.Tp, w.HSp, sh->q, sh->ldq, b, T, g * R, R, HS);
        for (hh = 0; hh < R; hh++)
            for (i0 = 0; i0 < T; i0 += ROWS) {
                int nk = i0 + ROWS < T ? i0 + ROWS : T, h = g * R + hh;
                const float *Qb = direct ? sh->q + ((size_t)b * T + i0) * sh->ldq + (size_t)h * HS
                                         : w.Qh + ((size_t)hh * w.Tp + i0) * w.HSp;
                block_probs(&w, Qb, direct ? sh->ldq : w.HSp, i0, nk, T, HS, scale, NULL,
                            lse + ((size_t)b * NH + h) * T);
                if (direct) { /* O = P V, straight into its rows */
                    tile_ab(out + ((size_t)b * T + i0) * ldo + (size_t)h * HS, ldo, w.P, w.Tp, w.Vp, w.HSp,
                            round_up(nk, LANES), HS);
                    continue;
                }
                tile_ab(w.dQb, w.HSp, w.P, w.Tp, w.Vp, w.HSp, round_up(nk, LANES), w.HSp); /* O = P V */
                for (r = 0; r < ROWS && i0 + r < T; r++)
                    for (d = 0; d < HS; d++)
                        out[((size_t)b * T + i0 + r) * ldo + (size_t)h * HS + d] = w.dQb[(size_t)r * w.HSp + d];
            }
    }
}

void muon_attention_backward(float *dq, int lddq, float *dk, int lddk, float *dv, int lddv,
                             const float *dout, int lddo, const float *out, int ldo,
                             const float *lse, const muon_attn_shape *sh, float *scratch)
{
    int B = sh->B, T = sh->T, NH = sh->NH, NKV = sh->NKV, HS = sh->HS, R = NH / NKV, direct = is_direct(T, HS);
    float scale = 1.0f / sqrtf((float)HS);
    size_t per = item_floats(T, HS, R);
    int item;

MUON_OMP(omp parallel for schedule(dynamic, 1) num_threads(muon_threads_upto(B * NKV)) \
         if ((double)B * NH * T * T * HS >= MUON_PAR_MIN))
    for (item = 0; item < B * NKV; item++) {
        int b = item / NKV, g = item % NKV, hh, i0, r, j, d;
        item_buf w = item_carve(scratch + (size_t)muon_thread_id() * per, T, HS, R);
        /* dK, dV of this KV head: every query head of the group and every
         * row block adds into them in a fixed order */
        float *dKp = w.dKp, *dVp = w.Vp; /* Vp is not needed: dP reads Vt */
        load_kv(&w, sh, b, g, 1);
        if (!direct) {
            gather_heads(w.Qh, w.Tp, w.HSp, sh->q, sh->ldq, b, T, g * R, R, HS);
            gather_heads(w.Oh, w.Tp, w.HSp, out, ldo, b, T, g * R, R, HS);
            gather_heads(w.dOh, w.Tp, w.HSp, dout, lddo, b, T, g * R, R, HS);
        }
        memset(dKp, 0, (size_t)w.Tp * w.HSp * sizeof(float));
        memset(dVp, 0, (size_t)w.Tp * w.HSp * sizeof(float));
        for (hh = 0; hh < R; hh++)
            for (i0 = 0; i0 < T; i0 += ROWS) {
                int nk = i0 + ROWS < T ? i0 + ROWS : T, ncol = round_up(nk, LANES), h = g * R + hh;
                const size_t row = (size_t)b * T + i0;
                const float *Qb = direct ? sh->q + row * sh->ldq + (size_t)h * HS : w.Qh + ((size_t)hh * w.Tp + i0) * w.HSp;
                const float *Ob = direct ? out + row * ldo + (size_t)h * HS : w.Oh + ((size_t)hh * w.Tp + i0) * w.HSp;
                const float *dOb = direct ? dout + row * lddo + (size_t)h * HS : w.dOh + ((size_t)hh * w.Tp + i0) * w.HSp;
                const int ldq = direct ? sh->ldq : w.HSp, ldob = direct ? ldo : w.HSp, lddob = direct ? lddo : w.HSp;
                float D[ROWS];
                /* sum_k p_k dp_k = dO . O (FlashAttention-2's D) */
                for (r = 0; r < ROWS; r++) D[r] = muon_dotf(dOb + (size_t)r * lddob, Ob + (size_t)r * ldob, HS);
                block_probs(&w, Qb, ldq, i0, nk, T, HS, scale, lse + ((size_t)b * NH + h) * T, NULL);
                /* dP = dO V^T, then dS = P (dP - D) scale in place (0 where P is) */
                tile_ab(w.S, w.Tp, dOb, lddob, w.Vt, w.Tp, HS, ncol);
                for (r = 0; r < ROWS; r++) {
                    float *ds = w.S + (size_t)r * w.Tp;
                    const float *p = w.P + (size_t)r * w.Tp;
                    for (j = 0; j < ncol; j++) ds[j] = p[j] * (ds[j] - D[r]) * scale;
                }
                tile_atb_acc(dKp, w.HSp, w.S, w.Tp, Qb, ldq, ncol, w.HSp);    /* dK += dS^T Q */
                tile_atb_acc(dVp, w.HSp, w.P, w.Tp, dOb, lddob, ncol, w.HSp); /* dV += P^T dO */
                if (direct) { /* dQ = dS K, straight into its rows */
                    tile_ab(dq + row * lddq + (size_t)h * HS, lddq, w.S, w.Tp, w.Kp, w.HSp, ncol, HS);
                    continue;
                }
                tile_ab(w.dQb, w.HSp, w.S, w.Tp, w.Kp, w.HSp, ncol, w.HSp);   /* dQ = dS K */
                for (r = 0; r < ROWS && i0 + r < T; r++)
                    for (d = 0; d < HS; d++)
                        dq[((size_t)b * T + i0 + r) * lddq + (size_t)h * HS + d] = w.dQb[(size_t)r * w.HSp + d];
            }
        for (j = 0; j < T; j++)
            for (d = 0; d < HS; d++) {
                dk[((size_t)b * T + j) * lddk + (size_t)g * HS + d] = dKp[(size_t)j * w.HSp + d];
                dv[((size_t)b * T + j) * lddv + (size_t)g * HS + d] = dVp[(size_t)j * w.HSp + d];
            }
    }
}

/* ---- the references ------------------------------------------------------ */

void muon_attention_forward_naive(float *out, int ldo, float *probs, const muon_attn_shape *sh)
{
    int B = sh->B, T = sh->T, NH = sh->NH, HS = sh->HS, R = NH / sh->NKV;
    int b, h, i, j, d;
    float scale = 1.0f / sqrtf((float)HS);
    for (b = 0; b < B; b++)
        for (h = 0; h < NH; h++)
            for (i = 0; i < T; i++) {
                const float *q = sh->q + ((size_t)b * T + i) * sh->ldq + (size_t)h * HS;
                float *p = probs + (((size_t)b * NH + h) * T + i) * T;
                float *o = out + ((size_t)b * T + i) * ldo + (size_t)h * HS;
                float mx = -INFINITY, sum = 0.0f;
                for (j = 0; j < T; j++) {
                    const float *k = sh->k + ((size_t)b * T + j) * sh->ldk + (size_t)(h / R) * HS;
                    float s = 0.0f;
                    if (j > i) { p[j] = 0.0f; continue; } /* causal mask */
                    for (d = 0; d < HS; d++) s += q[d] * k[d];
                    p[j] = s * scale;
                    if (p[j] > mx) mx = p[j];
                }
                for (j = 0; j <= i; j++) { p[j] = expf(p[j] - mx); sum += p[j]; }
                for (j = 0; j <= i; j++) p[j] /= sum;
                for (d = 0; d < HS; d++) {
                    float acc = 0.0f;
                    for (j = 0; j <= i; j++)
                        acc += p[j] * sh->v[((size_t)b * T + j) * sh->ldv + (size_t)(h / R) * HS + d];
                    o[d] = acc;
                }
            }
}

void muon_attention_backward_naive(float *dq, int lddq, float *dk, int lddk, float *dv, int lddv,
                                   const float *dout, int lddo, const float *probs,
                                   const muon_attn_shape *sh)
{
    int B = sh->B, T = sh->T, NH = sh->NH, NKV = sh->NKV, HS = sh->HS, R = NH / NKV;
    int b, h, i, j, d;
    float scale = 1.0f / sqrtf((float)HS);
    for (b = 0; b < B; b++)
        for (i = 0; i < T; i++) {
            for (d = 0; d < NH * HS; d++) dq[((size_t)b * T + i) * lddq + d] = 0.0f;
            for (d = 0; d < NKV * HS; d++) {
                dk[((size_t)b * T + i) * lddk + d] = 0.0f;
                dv[((size_t)b * T + i) * lddv + d] = 0.0f;
            }
        }
    for (b = 0; b < B; b++)
        for (h = 0; h < NH; h++)
            for (i = 0; i < T; i++) {
                const float *p = probs + (((size_t)b * NH + h) * T + i) * T;
                const float *dO = dout + ((size_t)b * T + i) * lddo + (size_t)h * HS;
                const float *q = sh->q + ((size_t)b * T + i) * sh->ldq + (size_t)h * HS;
                float *dQ = dq + ((size_t)b * T + i) * lddq + (size_t)h * HS;
                float sum = 0.0f;
                /* d(softmax): ds_j = p_j (dp_j - sum_k p_k dp_k), dp_j = dO . v_j */
                for (j = 0; j <= i; j++) {
                    const float *v = sh->v + ((size_t)b * T + j) * sh->ldv + (size_t)(h / R) * HS;
                    float dpj = 0.0f;
                    for (d = 0; d < HS; d++) dpj += dO[d] * v[d];
                    sum += p[j] * dpj;
                }
                for (j = 0; j <= i; j++) {
                    const float *v = sh->v + ((size_t)b * T + j) * sh->ldv + (size_t)(h / R) * HS;
                    const float *k = sh->k + ((size_t)b * T + j) * sh->ldk + (size_t)(h / R) * HS;
                    float *dK = dk + ((size_t)b * T + j) * lddk + (size_t)(h / R) * HS;
                    float *dV = dv + ((size_t)b * T + j) * lddv + (size_t)(h / R) * HS;
                    float dpj = 0.0f, ds;
                    for (d = 0; d < HS; d++) dpj += dO[d] * v[d];
                    ds = p[j] * (dpj - sum);
                    for (d = 0; d < HS; d++) {
                        dQ[d] += scale * ds * k[d];
                        dK[d] += scale * ds * q[d];
                        dV[d] += p[j] * dO[d];
                    }
                }
            }
}
