/* GEMM's thread grid: how muon_gemm splits its threads over the M and N
 * tiles. Only the split changes with the thread count; every element of C
 * is computed the same way whatever the grid (linalg/gemm.c). */
#include "linalg/gemm_internal.h"

#include <math.h>

/* What packing one float costs, in multiply-adds: a contiguous copy (A
 * transposed, B not) moves a float in a few multiply-adds' time, a
 * transposing one (A not transposed, B transposed) in a few times more.
 * Rough ratios: they only steer the thread grid, never a result. */
#define PACK_COST_COPY 6.0
#define PACK_COST_TRANSPOSE 30.0

/* Splits nt threads into a tm x tn grid over the M and N tiles: the least
 * work for the busiest thread, in units of one MR x NR tile update, counting
 * its packing too (each of its MR-row slivers of A packs MR*kc floats, each
 * NR-column sliver of B NR*kc, and threads sharing rows or columns pack them
 * twice). */
void muon_gemm_grid(int nt, muon_op opA, muon_op opB, int M, int N, int *tm, int *tn)
{
    const double ca = opA == MUON_NOTRANS ? PACK_COST_TRANSPOSE : PACK_COST_COPY;
    const double cb = opB == MUON_TRANS ? PACK_COST_TRANSPOSE : PACK_COST_COPY;
    const double mtiles = CEIL_DIV(M, MR);
    const double ntiles = CEIL_DIV(N < NC ? N : NC, NR);
    double best = -1.0;
    int d;
    *tm = 1;
    *tn = nt;
    for (d = 1; d <= nt; d++) {
        double rows, cols, cost;
        if (nt % d) continue;
        rows = ceil(mtiles / d);
        cols = ceil(ntiles / (nt / d));
        cost = rows * cols + rows * ca / NR + cols * cb / MR;
        if (best < 0.0 || cost <= best) {
            best = cost;
            *tm = d;
            *tn = nt / d;
        }
    }
}

