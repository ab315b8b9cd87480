/* RMSNorm (Zhang & Sennrich 2019): y = x / sqrt(mean(x^2) + eps) * g, no
 * mean subtraction, no bias. eps = 1e-6 (the research code left it at the
 * dtype's epsilon; a fixed value makes float32 and bf16 runs comparable).
 * Also used for QK-norm: every head's q and k vector normalised on its own,
 * with one gain of size HS shared across heads. */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void muon_rmsnorm_forward(const muon_norm_shape *sh, float *out, float *rstd, const float *in,
                          const float *g, float eps)
{
    const int N = sh->N, G = sh->G, n = sh->n, ldi = sh->ld_in, ldo = sh->ld_out;
    int r;
MUON_OMP(omp parallel for schedule(static) if ((size_t)N * G * n >= MUON_PAR_MIN))
    for (r = 0; r < N; r++) {
        int k, j;
        for (k = 0; k < G; k++) {
            const float *x = in + (size_t)r * ldi + (size_t)k * n;
            float *y = out + (size_t)r * ldo + (size_t)k * n;
            float rs = 1.0f / sqrtf(muon_dotf(x, x, n) / (float)n + eps);
            for (j = 0; j < n; j++) y[j] = x[j] * rs * g[j];
            rstd[(size_t)r * G + k] = rs;
        }
    }
}

/* dg is a sum over all N*G vectors: threads split its columns, and each
 * column sums its vectors in order, so no thread-count-dependent partials.
 * On one thread (inside a --reduce tree worker, or a small call) the same
 * sums are taken in the row pass itself, in the same vector order, so the
 * bits are the same and dout and in are read once instead of twice. */
#define COL_BLOCK 32
#define ONE_PASS_MAX 2048

/* One vector's dx (written or added) from its x, dy and rs; with colsum,
 * also colsum[j] += dy[j] x[j] rs, the gain sum's term. */
static void vector_backward(const float *x, const float *dy, const float *g, float rs, int n, int accumulate,
                            float *dx, float *colsum)
{
    float s = 0.0f, c, acc[16] = {0};
    int j, l;
    for (j = 0; j + 16 <= n; j += 16)
MUON_SIMD(omp simd)
        for (l = 0; l < 16; l++) acc[l] += dy[j + l] * g[j + l] * x[j + l];
    for (; j < n; j++) acc[j & 15] += dy[j] * g[j] * x[j];
    for (j = 0; j < 16; j++) s += acc[j];
    /* dx = rs * (dy*g - xhat * mean(dy*g*xhat)), xhat = x*rs */
    c = s * rs * rs / (float)n;
    if (accumulate)
        for (j = 0; j < n; j++) dx[j] += rs * (dy[j] * g[j] - x[j] * c);
    else
        for (j = 0; j < n; j++) dx[j] = rs * (dy[j] * g[j] - x[j] * c);
    if (colsum)
        for (j = 0; j < n; j++) colsum[j] += dy[j] * x[j] * rs;
}

/* dg from the column sums (summed apart, added once: accumulating two
 * backwards adds two equal sums, as accumulation over micro-batches should) */
static void store_gain(float *dg, const float *sum, int j0, int j1, muon_grad_mode gmode)
{
    int j;
    if (gmode == MUON_GRAD_ADD)
        for (j = j0; j < j1; j++) dg[j] += sum[j - j0];
    else
        for (j = j0; j < j1; j++) dg[j] = sum[j - j0];
}

void muon_rmsnorm_backward(const muon_norm_shape *sh, muon_grad_mode mode, muon_grad_mode gmode, float *din,
                           float *dg, const float *dout, const float *in, const float *rstd, const float *g)
{
    const int N = sh->N, G = sh->G, n = sh->n, ldi = sh->ld_in, lddi = sh->ld_in, lddo = sh->ld_out;
    const int accumulate = mode == MUON_GRAD_ADD;
    int r, jb, nb = (n + COL_BLOCK - 1) / COL_BLOCK;
    /* one parallel region, two loops: the gain sums read only dout, in and
     * rstd (never din), so threads go on to them without a barrier */
MUON_OMP(omp parallel if ((size_t)N * G * n >= MUON_PAR_MIN))
    {
        /* on a team of one, the row pass also takes the gain sums */
        float sum[ONE_PASS_MAX], *colsum = NULL;
        int j;
#ifdef _OPENMP
        if (omp_get_num_threads() == 1)
#endif
            if (n <= ONE_PASS_MAX) colsum = sum;
        if (colsum)
            for (j = 0; j < n; j++) sum[j] = 0.0f;
MUON_OMP(omp for schedule(static) nowait)
        for (r = 0; r < N; r++) {
            int k;
            for (k = 0; k < G; k++)
                vector_backward(in + (size_t)r * ldi + (size_t)k * n, dout + (size_t)r * lddo + (size_t)k * n, g,
                                rstd[(size_t)r * G + k], n, accumulate, din + (size_t)r * lddi + (size_t)k * n,
                                colsum);
        }
        if (colsum) {
            store_gain(dg, sum, 0, n, gmode);
        } else {
MUON_OMP(omp for schedule(static))
            for (jb = 0; jb < nb; jb++) {
                int j0 = jb * COL_BLOCK, j1 = j0 + COL_BLOCK < n ? j0 + COL_BLOCK : n, k, i;
                float acc[COL_BLOCK] = {0};
                for (i = 0; i < N; i++)
                    for (k = 0; k < G; k++) {
                        const float *x = in + (size_t)i * ldi + (size_t)k * n;
                        const float *dy = dout + (size_t)i * lddo + (size_t)k * n;
                        float rs = rstd[(size_t)i * G + k];
                        for (j = j0; j < j1; j++) acc[j - j0] += dy[j] * x[j] * rs;
                    }
                store_gain(dg, acc, j0, j1, gmode);
            }
        }
    }
}
