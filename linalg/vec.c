/* Small vector helpers. Sums accumulate in double: they feed norms, clipping
 * and metrics, where float32 accumulation over ~10^6 terms loses digits. */
#include "linalg/linalg.h"
#include "linalg/omp.h"

#include <math.h>

double muon_dot(const float *x, const float *y, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++) s += (double)x[i] * y[i];
    return s;
}

double muon_dot_d(const double *restrict x, const double *restrict y, int n)
{
    double acc[MUON_DOT_LANES], s;
    int i, l;
    for (l = 0; l < MUON_DOT_LANES; l++) acc[l] = 0.0;
    for (i = 0; i + MUON_DOT_LANES <= n; i += MUON_DOT_LANES) {
        /* independent lane sums, so the vector loop is this arithmetic exactly */
MUON_SIMD(omp simd)
        for (l = 0; l < MUON_DOT_LANES; l++) acc[l] = MUON_DMADD(x[i + l], y[i + l], acc[l]);
    }
    s = muon_lanes_sum(acc);
    for (; i < n; i++) s = MUON_DMADD(x[i], y[i], s);
    return s;
}

double muon_lanes_sum(double *acc)
{
    int h, l;
    for (h = MUON_DOT_LANES / 2; h > 0; h /= 2)
        for (l = 0; l < h; l++) acc[l] += acc[l + h];
    return acc[0];
}

double muon_norm2(const float *x, size_t n) { return sqrt(muon_dot(x, x, n)); }

void muon_axpy(float a, const float *restrict x, float *restrict y, size_t n)
{
    size_t i;
MUON_SIMD(omp simd)
    for (i = 0; i < n; i++) y[i] += a * x[i];
}

void muon_scale(float a, float *x, size_t n)
{
    size_t i;
MUON_SIMD(omp simd)
    for (i = 0; i < n; i++) x[i] *= a;
}

void muon_transpose(const float *restrict in, float *restrict out, int m, int n)
{
    /* 32x32 tiles keep both the read and the write side in L1 */
    int i0, j0, i, j;
    for (i0 = 0; i0 < m; i0 += 32)
        for (j0 = 0; j0 < n; j0 += 32)
            for (i = i0; i < m && i < i0 + 32; i++)
                for (j = j0; j < n && j < j0 + 32; j++)
                    out[(size_t)j * m + i] = in[(size_t)i * n + j];
}

int muon_all_finite(const float *x, size_t n)
{
    /* x - x is +0 for a finite x and NaN for NaN and +-Inf, and a sum keeps
     * a NaN: a vector reduction per block instead of a branch per element
     * (the block bounds the work done past an early non-finite value) */
    size_t i0, i;
    for (i0 = 0; i0 < n; i0 += 4096) {
        const size_t i1 = n - i0 < 4096 ? n : i0 + 4096;
        float s = 0.0f;
MUON_SIMD(omp simd reduction(+ : s))
        for (i = i0; i < i1; i++) s += x[i] - x[i];
        if (!(s == 0.0f)) return 0;
    }
    return 1;
}
