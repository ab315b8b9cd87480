/* The spectral metrics of one weight matrix (docs/metrics.md).
 *
 * Every metric is a function of singular values (and, for the alignments, of
 * the top singular vectors), so each input gets exactly one SVD: W with its
 * vectors (values and top-k vectors), dW with its vectors, M and O values only.
 * The orthogonality errors ||Xh^T Xh - I||_F / sqrt(r), Xh = X / sigma_1(X),
 * are taken from the singular values too: on the small Gram side (r x r),
 * Xh^T Xh = V diag(s/s_1)^2 V^T, so the norm is sqrt(sum((s_i/s_1)^2 - 1)^2)
 * -- exactly the research code's Gram-matrix quantity, without forming the
 * Gram matrix in float32 (the test checks the two agree).
 *
 * Edge cases -- one rule each, the same in tests/golden/gen_metrics.py:
 *  - "numerically zero": a rank decision counts sigma_i <= tau =
 *    max(rows, cols) * 2^-23 * sigma_1 as zero (NumPy's matrix_rank rule with
 *    float32's epsilon: below it a float32 matrix cannot resolve the value).
 *    It decides sigma_2 = 0 in spectral_gap, which columns of U/V take part
 *    in the alignments, and which values enter update_rank. The reported
 *    top_sv_i and update_sv_min are the computed values, not rounded to 0.
 *  - spectral_gap = sigma_1/sigma_2 with IEEE division: +inf when sigma_2 is
 *    (numerically) zero -- this includes r = 1, where sigma_2 is the
 *    zero-padded 0 -- and NaN for the zero matrix (0/0).
 *  - stable_rank, spectral_entropy, update_rank of the zero matrix are 0 (it
 *    has rank 0); spectral_entropy with r = 1 is 0 (ln r = 0; the only
 *    spectrum is rank one).
 *  - ortho_error_* of the zero matrix is 1 (Xh taken as 0, so ||-I||/sqrt(r)).
 *  - alignment_left/right with k = min(5, r): only the top singular vectors
 *    whose singular values are nonzero take part, kW = min(k, rank W) of W and
 *    kD = min(k, rank dW) of dW; the value is the mean of the min(kW, kD)
 *    singular values of U_W^T U_D (kW x kD). NaN when kW or kD is 0 (no
 *    direction to align with).
 *  - subspace_efficiency = alignment_left / update_rank: NaN when update_rank
 *    is 0 (or alignment_left is NaN).
 *  - An input holding NaN or Inf gives NaN for every metric computed from it
 *    (a diverged run logs NaN instead of running an SVD on garbage).
 */
#include "metrics/metrics.h"
#include "metrics/spectral.h"
#include "linalg/svd_gram.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const char *const metric_names[MUON_LOGGED_METRIC_COUNT] = {
    "sigma_max", "spectral_gap",
    "top_sv_1", "top_sv_2", "top_sv_3", "top_sv_4", "top_sv_5",
    "top_sv_6", "top_sv_7", "top_sv_8", "top_sv_9", "top_sv_10",
    "stable_rank", "spectral_entropy", "ortho_error_weight",
    "alignment_left", "alignment_right", "update_rank", "subspace_efficiency",
    "ortho_error_update", "update_sv_min", "update_sv_max",
    "esd_alpha" /* MUON_METRIC_ESD_ALPHA: fitted apart (metrics/esd.c), logged beside the others */
};

/* The model-wide rows of metrics.csv (layer -1, matrix "model"). */
static const char *const model_metric_names[MUON_MODEL_METRIC_COUNT] = {
    "loss", "val_loss", "lr", "tokens", "grad_norm", "val_loss_se"
};

const char *muon_metric_name(int id)
{
    return id >= 0 && id < MUON_LOGGED_METRIC_COUNT ? metric_names[id] : NULL;
}

int muon_metric_index(const char *name) { return muon_name_index(metric_names, MUON_LOGGED_METRIC_COUNT, name); }

const char *muon_model_metric_name(muon_model_metric id)
{
    return muon_name_of(model_metric_names, MUON_MODEL_METRIC_COUNT, (int)id);
}

int muon_model_metric_index(const char *name)
{
    return muon_name_index(model_metric_names, MUON_MODEL_METRIC_COUNT, name);
}

/* The "numerically zero" bound for the singular values s(r) of a (m,n) matrix. */
static double zero_tol(int m, int n, const float *s)
{
    return (double)(m > n ? m : n) * (double)FLT_EPSILON * (double)s[0];
}

/* Number of s(r) above the zero bound (s descending). */
static int numerical_rank(int m, int n, const float *s, int r)
{
    double tau = zero_tol(m, n, s);
    int i = 0;
    while (i < r && (double)s[i] > tau) i++;
    return i;
}

/* ||Xh^T Xh - I||_F / sqrt(r), Xh = X/sigma_1, from X's singular values s(r). */
static double ortho_error(const float *s, int r)
{
    double acc = 0.0, s1 = s[0];
    int i;
    if (s1 <= 0.0) return 1.0;
    for (i = 0; i < r; i++) {
        double x = (double)s[i] / s1;
        double e = x * x - 1.0;
        acc += e * e;
    }
    return sqrt(acc) / sqrt((double)r);
}

/* Roy & Vetterli's effective rank exp(-sum q ln q), q_i = s_i / sum s_j, over
 * the numerically nonzero s_i. */
static double effective_rank(int m, int n, const float *s, int r)
{
    int i, k = numerical_rank(m, n, s, r);
    double sum = 0.0, h = 0.0;
    if (k == 0) return 0.0;
    for (i = 0; i < k; i++) sum += s[i];
    for (i = 0; i < k; i++) {
        double q = s[i] / sum;
        h -= q * log(q);
    }
    return exp(h);
}

/* Frobenius norm squared, accumulated in double. */
static double frob2(const float *x, size_t n)
{
    double acc = 0.0;
    size_t i;
    for (i = 0; i < n; i++) acc += (double)x[i] * (double)x[i];
    return acc;
}

/* Metrics of W from its singular values s(r). */
static void static_metrics(int rows, int cols, const float *W, const float *s, int r,
                           muon_metrics *out)
{
    double *v = out->value;
    double s1 = s[0], s2, f2, tot = 0.0, h = 0.0;
    int i;
    v[MUON_METRIC_SIGMA_MAX] = s1;
    s2 = (r >= 2 && numerical_rank(rows, cols, s, r) >= 2) ? (double)s[1] : 0.0;
    /* IEEE: s1 > 0 gives +inf, the zero matrix 0/0 = NaN; computed explicitly
     * so no floating-point exception or compiler flag is involved. */
    v[MUON_METRIC_SPECTRAL_GAP] = s2 > 0.0 ? s1 / s2 : (s1 > 0.0 ? INFINITY : NAN);
    for (i = 0; i < 10; i++) v[MUON_METRIC_TOP_SV_1 + i] = i < r ? (double)s[i] : 0.0;
    f2 = frob2(W, (size_t)rows * (size_t)cols);
    v[MUON_METRIC_STABLE_RANK] = s1 > 0.0 ? f2 / (s1 * s1) : 0.0;
    for (i = 0; i < r; i++) tot += (double)s[i] * (double)s[i];
    if (tot > 0.0 && r > 1) {
        for (i = 0; i < r; i++) {
            double p = (double)s[i] * (double)s[i] / tot;
            if (p > 1e-8) h -= p * log(p); /* docs/metrics.md: terms with p <= 1e-8 dropped */
        }
        v[MUON_METRIC_SPECTRAL_ENTROPY] = h / log((double)r);
    } else {
        v[MUON_METRIC_SPECTRAL_ENTROPY] = 0.0;
    }
    v[MUON_METRIC_ORTHO_ERROR_WEIGHT] = ortho_error(s, r);
}

/* Mean singular value of A(:, :ka)^T B(:, :kb), A (n, lda) and B (n, lda)
 * row-major holding the vectors in their first columns; ka, kb >= 1 and
 * <= MUON_ALIGN_K. The small SVD is the Jacobi (the reference; at 5 x 5 it
 * costs nothing), its scratch in ws. */
static int mean_cosine(muon_workspace *ws, int n, int lda, const float *A, int ka, const float *B,
                       int kb, double *mean)
{
    float C[MUON_ALIGN_K * MUON_ALIGN_K], s[MUON_ALIGN_K];
    int i, j, t, kmin = ka < kb ? ka : kb, st;
    double acc = 0.0;
    for (i = 0; i < ka; i++)
        for (j = 0; j < kb; j++) {
            double d = 0.0;
            for (t = 0; t < n; t++) d += (double)A[(size_t)t * lda + i] * (double)B[(size_t)t * lda + j];
            C[i * kb + j] = (float)d;
        }
    st = muon_svd_ws(ws, ka, kb, C, s, NULL, NULL, NULL);
    if (st) return st;
    for (i = 0; i < kmin; i++) acc += s[i];
    *mean = acc / kmin;
    return MUON_OK;
}

static void fill_nan(muon_metrics *out, int first, int last)
{
    int i;
    for (i = first; i <= last; i++) { out->value[i] = NAN; out->have[i] = 1; }
}

/* The metrics' own buffers, laid out in ws[0]: values of W and of the
 * update matrices, and the top-k vectors of W and dW (k = MUON_ALIGN_K at
 * most: the alignments use no more). */
typedef struct { float *sw, *sd, *so, *uw, *vw, *ud, *vd, *uf, *vf; } metric_bufs;

static size_t metric_layout(muon_workspace *ws, int rows, int cols, int vecs, metric_bufs *b)
{
    const int r = rows < cols ? rows : cols, k = r < MUON_ALIGN_K ? r : MUON_ALIGN_K;
    size_t used = 0;
    memset(b, 0, sizeof *b);
#define TAKE(p, count) (p = muon_workspace_take(ws, &used, (size_t)(count) * sizeof(float)))
    TAKE(b->sw, r);
    TAKE(b->sd, r);
    TAKE(b->so, r);
    if (vecs) {
        TAKE(b->uw, (size_t)rows * k);
        TAKE(b->vw, (size_t)cols * k);
        TAKE(b->ud, (size_t)rows * k);
        TAKE(b->vd, (size_t)cols * k);
        TAKE(b->uf, (size_t)rows * r);   /* the Jacobi's full U, V when it must step in */
        TAKE(b->vf, (size_t)cols * r);
    }
#undef TAKE
    return used;
}

/* Largest error bound on the angle of the top-kx Gram-path vectors: an
 * eigenvector of G = X^T X moves by about N eps ||G|| / gap, gap its
 * eigenvalue's distance to the neighbouring ones (Davis-Kahan; LAPACK's
 * ddisna bound). s(r) descending. */
static double gram_vector_bound(int rows, int cols, const float *s, int r, int kx)
{
    const double l1 = (double)s[0] * s[0], nn = rows < cols ? rows : cols;
    double worst = 0.0;
    int t;
    for (t = 0; t < kx; t++) {
        double lt = (double)s[t] * s[t], gap = 1e300, b;
        if (t > 0) gap = (double)s[t - 1] * s[t - 1] - lt;
        if (t + 1 < r && lt - (double)s[t + 1] * s[t + 1] < gap) gap = lt - (double)s[t + 1] * s[t + 1];
        b = gap > 0.0 ? nn * DBL_EPSILON * l1 / gap : 1e300;
        if (b > worst) worst = b;
    }
    return worst;
}

/* Largest acceptable gram_vector_bound: far below the float32 rounding of the
 * vectors and the 1e-6 the alignments are checked to. */
#define GRAM_VECTOR_BOUND 1e-8

/* Values s(r) of X and its top-k vectors U(rows,k), V(cols,k). The Gram path
 * first; where its vectors could be off (a used vector whose singular value
 * is small against sigma_1 and close to a neighbour: the squared condition
 * number shows there, never at clustered values near sigma_1, where both
 * methods share the bound eps sigma_1 / gap), the Jacobi recomputes values
 * and vectors. */
static int top_vectors(muon_workspace *ws, int rows, int cols, const float *X, float *s, int k,
                       float *U, float *V, float *Uf, float *Vf)
{
    const int r = rows < cols ? rows : cols;
    int st, kx, t, i;
    st = muon_svd_gram_ws(ws, rows, cols, X, s, k, U, V);
    if (st && st != MUON_ERR_NUMERIC) return st;
    if (!st) {
        kx = numerical_rank(rows, cols, s, k);
        if (gram_vector_bound(rows, cols, s, r, kx) <= GRAM_VECTOR_BOUND) return MUON_OK;
    }
    /* ill-separated, or (X finite: the callers check) QL did not converge */
    if ((st = muon_svd_ws(ws, rows, cols, X, s, Uf, Vf, NULL))) return st;
    for (i = 0; i < rows; i++)
        for (t = 0; t < k; t++) U[(size_t)i * k + t] = Uf[(size_t)i * r + t];
    for (i = 0; i < cols; i++)
        for (t = 0; t < k; t++) V[(size_t)i * k + t] = Vf[(size_t)i * r + t];
    return MUON_OK;
}

/* Values s(r) of the finite X: the Gram path, or the Jacobi where its QL
 * does not converge (for a finite X its only MUON_ERR_NUMERIC), so that a
 * diagnostic never stops a training run the Jacobi can still measure. */
static int singular_values(muon_workspace *ws, int rows, int cols, const float *X, float *s)
{
    int st = muon_svd_gram_ws(ws, rows, cols, X, s, 0, NULL, NULL);
    return st == MUON_ERR_NUMERIC ? muon_svd_ws(ws, rows, cols, X, s, NULL, NULL, NULL) : st;
}

/* 1 if dW = c O up to the rounding of the weight update, so that one SVD of
 * O serves both (the same subspaces; |c| scales the values, the sign of c
 * flips vectors, which no metric sees). Muon without weight decay gives
 * dW = (W - step O) - W computed in float32: c = -step, and the difference
 * is W's rounding, eps |W| per entry. Accepted when ||dW - c O||_F <=
 * 1e-4 ||dW||_F, c the least-squares fit: then the top-k subspaces of dW
 * and c O differ by at most that over their relative gap (in the 3-step
 * golden run, alignments from O agree with NumPy's from dW to 3.3e-6, inside
 * that test's 2e-4). With weight decay, or late in a run where the update
 * falls to W's rounding, the test fails and dW gets its own SVD. */
static int multiple_of_o(const float *dW, const float *O, size_t n)
{
    double oo = 0.0, od = 0.0, dd = 0.0, c, e = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        oo += (double)O[i] * O[i];
        od += (double)O[i] * dW[i];
        dd += (double)dW[i] * dW[i];
    }
    if (!(oo > 0.0) || !(dd > 0.0)) return 0;
    c = od / oo;
    for (i = 0; i < n; i++) {
        double d = (double)dW[i] - c * O[i];
        e += d * d;
    }
    return e <= 1e-8 * dd;
}

/* Every SVD here is the Gram-matrix path (linalg/svd_gram.c): values alone
 * for M and O, values and the top-k vectors for W and dW -- exactly what the
 * metrics read, and accurate enough for each of them (top_vectors hands the
 * rare ill-separated case to the Jacobi, and singular_values and top_vectors a QL
 * that did not converge) (the bound is argued in
 * linalg/svd_gram.c; tests/test_svd.c checks the path against the Jacobi and
 * tests/test_metrics.c every metric against NumPy). */
int muon_metrics_compute_ws(muon_workspace ws[2], int rows, int cols, const float *W,
                            const float *dW, const float *M, const float *O, muon_metrics *out,
                            muon_esd_fit *esd)
{
    int r, k, i, st = MUON_OK, w_ok, d_ok, have_so = 0;
    size_t n;
    metric_bufs b;
    double *v = out->value;

    memset(out, 0, sizeof *out);
    if (rows < 1 || cols < 1)
        return muon_error(MUON_ERR_ARG, "metrics: matrix shape (%d,%d) must be at least (1,1)", rows, cols);
    if (!W) return muon_error(MUON_ERR_ARG, "metrics: W is NULL");
    r = rows < cols ? rows : cols;
    k = r < MUON_ALIGN_K ? r : MUON_ALIGN_K;
    n = (size_t)rows * (size_t)cols;
    if ((st = muon_workspace_reserve(&ws[0], metric_layout(NULL, rows, cols, dW != NULL, &b))))
        return muon_error(st, "metrics: out of memory for a %dx%d matrix", rows, cols);
    metric_layout(&ws[0], rows, cols, dW != NULL, &b);

    /* W: values, plus the top-k vectors when the alignments need them */
    w_ok = muon_all_finite(W, n);
    if (w_ok) {
        st = dW ? top_vectors(&ws[1], rows, cols, W, b.sw, k, b.uw, b.vw, b.uf, b.vf)
                : singular_values(&ws[1], rows, cols, W, b.sw);
        if (st) goto done;
        static_metrics(rows, cols, W, b.sw, r, out);
        for (i = MUON_METRIC_SIGMA_MAX; i <= MUON_METRIC_ORTHO_ERROR_WEIGHT; i++) out->have[i] = 1;
        if (esd && (st = muon_esd_alpha_sigma(rows, cols, b.sw, esd))) goto done;
    } else {
        fill_nan(out, MUON_METRIC_SIGMA_MAX, MUON_METRIC_ORTHO_ERROR_WEIGHT);
        if (esd) {
            esd->alpha = esd->xmin = esd->ks = NAN;
            esd->n_tail = esd->n_eig = 0;
        }
    }

    if (dW) {
        d_ok = w_ok && muon_all_finite(dW, n);
        if (d_ok) {
            int kw = numerical_rank(rows, cols, b.sw, k);
            int kd;
            if (O && muon_all_finite(O, n) && multiple_of_o(dW, O, n)) {
                /* no SVD twice for the same subspace: O's serves dW (its
                 * values, kept for O's metrics below, rank dW the same) */
                if ((st = top_vectors(&ws[1], rows, cols, O, b.so, k, b.ud, b.vd, b.uf, b.vf))) goto done;
                have_so = 1;
                kd = numerical_rank(rows, cols, b.so, k);
            } else {
                if ((st = top_vectors(&ws[1], rows, cols, dW, b.sd, k, b.ud, b.vd, b.uf, b.vf))) goto done;
                kd = numerical_rank(rows, cols, b.sd, k);
            }
            if (kw == 0 || kd == 0) {
                fill_nan(out, MUON_METRIC_ALIGNMENT_LEFT, MUON_METRIC_ALIGNMENT_RIGHT);
            } else {
                if ((st = mean_cosine(&ws[1], rows, k, b.uw, kw, b.ud, kd, &v[MUON_METRIC_ALIGNMENT_LEFT]))) goto done;
                if ((st = mean_cosine(&ws[1], cols, k, b.vw, kw, b.vd, kd, &v[MUON_METRIC_ALIGNMENT_RIGHT]))) goto done;
                out->have[MUON_METRIC_ALIGNMENT_LEFT] = out->have[MUON_METRIC_ALIGNMENT_RIGHT] = 1;
            }
        } else {
            fill_nan(out, MUON_METRIC_ALIGNMENT_LEFT, MUON_METRIC_ALIGNMENT_RIGHT);
        }
    }

    if (M) {
        if (muon_all_finite(M, n)) {
            if ((st = singular_values(&ws[1], rows, cols, M, b.sd))) goto done;
            v[MUON_METRIC_UPDATE_RANK] = effective_rank(rows, cols, b.sd, r);
        } else {
            v[MUON_METRIC_UPDATE_RANK] = NAN;
        }
        out->have[MUON_METRIC_UPDATE_RANK] = 1;
        if (dW) {
            double ur = v[MUON_METRIC_UPDATE_RANK];
            v[MUON_METRIC_SUBSPACE_EFFICIENCY] = ur > 0.0 ? v[MUON_METRIC_ALIGNMENT_LEFT] / ur : NAN;
            out->have[MUON_METRIC_SUBSPACE_EFFICIENCY] = 1;
        }
    }

    if (O) {
        if (muon_all_finite(O, n)) {
            if (!have_so && (st = singular_values(&ws[1], rows, cols, O, b.so))) goto done;
            v[MUON_METRIC_ORTHO_ERROR_UPDATE] = ortho_error(b.so, r);
            v[MUON_METRIC_UPDATE_SV_MIN] = b.so[r - 1];
            v[MUON_METRIC_UPDATE_SV_MAX] = b.so[0];
            out->have[MUON_METRIC_ORTHO_ERROR_UPDATE] = 1;
            out->have[MUON_METRIC_UPDATE_SV_MIN] = out->have[MUON_METRIC_UPDATE_SV_MAX] = 1;
        } else {
            fill_nan(out, MUON_METRIC_ORTHO_ERROR_UPDATE, MUON_METRIC_UPDATE_SV_MAX);
        }
    }

done:
    if (st) memset(out->have, 0, sizeof out->have);
    return st;
}

int muon_metrics_compute(int rows, int cols, const float *W, const float *dW,
                         const float *M, const float *O, muon_metrics *out)
{
    muon_workspace ws[2] = {{0, 0}, {0, 0}};
    int st = muon_metrics_compute_ws(ws, rows, cols, W, dW, M, O, out, NULL);
    muon_workspace_free(&ws[0]);
    muon_workspace_free(&ws[1]);
    return st;
}

int muon_metric_log_metrics(muon_metric_log *log, long step, int layer, const char *matrix,
                     const muon_metrics *mt)
{
    int i, st;
    for (i = 0; i < MUON_METRIC_COUNT; i++) {
        if (!mt->have[i]) continue;
        st = muon_metric_log_row(log, step, layer, matrix, metric_names[i], mt->value[i]);
        if (st) return st;
    }
    return MUON_OK;
}
