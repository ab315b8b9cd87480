/* linalg/fma_peak.h -- the machine's measured fused multiply-add peak, the
 * anchor of every "% of peak" that `muon bench` prints (linalg/fma_peak.c). */
#ifndef MUON_FMA_PEAK_H
#define MUON_FMA_PEAK_H

/* Float32 GFLOP/s of one thread running only independent multiply-add chains
 * in registers (best of several timed runs, about 0.1 s in all): what the
 * core can do when nothing waits for memory. Counts a multiply-add as 2
 * flops, as GEMM's 2 M N K does. Returns 0 if the clock failed. */
double muon_fma_peak_gflops(void);

#endif
