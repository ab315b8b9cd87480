/* The FMA peak of the core this runs on, measured rather than assumed: the
 * "% of peak" of `muon bench` divides by it, so the table means the same on
 * any machine (a fixed number from one machine read 177% on the next).
 *
 * The loop is what a GEMM micro-kernel is without its loads: PEAK_ROWS x
 * PEAK_LANES accumulators, each its own dependence chain acc = acc * a + b.
 * A chain can start a multiply-add only when its previous one has finished
 * (4-5 cycles of latency), so the core's two FMA pipes stay busy only with
 * enough independent chains in flight: 12 x 32 floats are 24 512-bit (or 48
 * 256-bit) registers' worth, more than latency x pipes on every x86 and Arm
 * core we know of, and still few enough to stay in registers. The tile has
 * the shape and loop nest of linalg/tile.h, whose nests gcc and clang are
 * known to keep in registers; MUON_MADD is the hardware fmaf where the target
 * has one. a < 1 and b > 0 keep every value near b / (1 - a): no overflow, no
 * subnormals (which would be slow on some cores and measure the wrong thing).
 *
 * If the compiler cannot vectorise this loop it cannot vectorise GEMM either,
 * and the peak printed is the scalar one: still the honest anchor for code
 * built with that compiler. `muon bench gemm` prints GEMM's best beside it,
 * which checks the other direction (a GEMM above 100% means this loop missed
 * the peak). */
#include "linalg/fma_peak.h"
#include "linalg/linalg.h"
#include "linalg/tile.h"

#include <limits.h>

#define PEAK_ROWS 12
#define PEAK_LANES 32

/* Runs iters rounds of the tile; returns a sum of it so the work is not dead. */
static float peak_loop(long iters, float a, float b)
{
    float acc[PEAK_ROWS][PEAK_LANES], s = 0.0f;
    long it;
    int r, l;
    for (r = 0; r < PEAK_ROWS; r++)
        for (l = 0; l < PEAK_LANES; l++) acc[r][l] = (float)(r * PEAK_LANES + l) * 1e-3f;
    for (it = 0; it < iters; it++) {
#ifdef __clang__
MUON_SIMD(omp simd)
        for (l = 0; l < PEAK_LANES; l++)
            for (r = 0; r < PEAK_ROWS; r++) acc[r][l] = MUON_MADD(acc[r][l], a, b);
#else
        for (r = 0; r < PEAK_ROWS; r++) {
MUON_SIMD(omp simd)
            for (l = 0; l < PEAK_LANES; l++) acc[r][l] = MUON_MADD(acc[r][l], a, b);
        }
#endif
    }
    for (r = 0; r < PEAK_ROWS; r++)
        for (l = 0; l < PEAK_LANES; l++) s += acc[r][l];
    return s;
}

/* volatile: the compiler must not fold a and b into the loop or drop it. */
static volatile float peak_sink;
static volatile float peak_a = 0.9999f, peak_b = 1e-4f;

double muon_fma_peak_gflops(void)
{
    const double per_iter = 2.0 * PEAK_ROWS * PEAK_LANES;
    double best = 0.0;
    long iters = 1000;
    int rep;
    /* grow the run to >= 10 ms (clock resolution and the frequency ramp),
     * then keep the best of 8: the one least disturbed by other processes */
    for (;;) {
        double t = muon_seconds();
        peak_sink = peak_loop(iters, peak_a, peak_b);
        t = muon_seconds() - t;
        if (t >= 0.01 || iters > LONG_MAX / 4) break; /* 1L << 40 would overflow a 32-bit long */
        iters *= 2;
    }
    for (rep = 0; rep < 8; rep++) {
        double t = muon_seconds(), g;
        peak_sink = peak_loop(iters, peak_a, peak_b);
        t = muon_seconds() - t;
        if (t <= 0.0) continue;
        g = per_iter * (double)iters / t / 1e9;
        if (g > best) best = g;
    }
    return best;
}
