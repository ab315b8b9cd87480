/* The register-tile loop shared by GEMM's micro-kernel (linalg/gemm.c) and
 * the attention kernels (model/attention.c): acc(ROWS, LANES) += a b^T over K
 * steps, a ROWS-vector a_k = AEXPR(r, k) and a LANES-vector b_k = Bv + k*ldb
 * at each step. ROWS and LANES are compile-time constants, acc a local
 * array: that is what lets a C compiler keep the tile in vector registers.
 *
 * Every acc[r][l] receives its K multiply-adds in k order, one MUON_MADD each;
 * only the loop nest differs per compiler, because gcc 12 and clang 14 keep
 * the tile in registers for different nests (checked in the assembly: gcc
 * vectorises the inner l loop of the r-l nest; clang unrolls that loop into
 * scalars and leaves acc in memory, but vectorises the l-r nest). So the
 * result is the same bits with either compiler's nest. */
#ifndef MUON_TILE_H
#define MUON_TILE_H

#include <math.h>
#include <stddef.h>
#include "linalg/omp.h"

/* ISO C mode (-std=c99) forbids the compiler to contract a*b + c, so the
 * fused multiply-add is asked for by name where the target has it in
 * hardware (FP_FAST_FMAF, C99 7.12); elsewhere fmaf would be a slow library
 * call and a*b + c (two roundings) is used. */
#ifdef FP_FAST_FMAF
#define MUON_MADD(a, b, c) fmaf((a), (b), (c))
#else
#define MUON_MADD(a, b, c) ((a) * (b) + (c))
#endif

#ifdef __clang__
#define MUON_TILE_FMA_FROM(acc, ROWS, LANES, AEXPR, Bv, ldb, K0, K) do { \
        int k_, r_, l_; \
        for (k_ = (K0); k_ < (K); k_++) { \
            const float *restrict b_ = (Bv) + (ptrdiff_t)k_ * (ldb); \
            MUON_SIMD(omp simd) \
            for (l_ = 0; l_ < (LANES); l_++) { \
                const float bl_ = b_[l_]; \
                for (r_ = 0; r_ < (ROWS); r_++) acc[r_][l_] = MUON_MADD(AEXPR(r_, k_), bl_, acc[r_][l_]); \
            } \
        } \
    } while (0)
#else
#define MUON_TILE_FMA_FROM(acc, ROWS, LANES, AEXPR, Bv, ldb, K0, K) do { \
        int k_, r_, l_; \
        for (k_ = (K0); k_ < (K); k_++) { \
            const float *restrict b_ = (Bv) + (ptrdiff_t)k_ * (ldb); \
            for (r_ = 0; r_ < (ROWS); r_++) { \
                const float a_ = AEXPR(r_, k_); \
                MUON_SIMD(omp simd) \
                for (l_ = 0; l_ < (LANES); l_++) acc[r_][l_] = MUON_MADD(a_, b_[l_], acc[r_][l_]); \
            } \
        } \
    } while (0)
#endif
/* acc += the K steps from k = 0 */
#define MUON_TILE_FMA(acc, ROWS, LANES, AEXPR, Bv, ldb, K) MUON_TILE_FMA_FROM(acc, ROWS, LANES, AEXPR, Bv, ldb, 0, K)

/* acc = the product of K >= 1 steps, from zero: the first step written as
 * acc = MADD(a, b, 0) (the same bits as adding it onto zeros). Zeroing the
 * tile first lets gcc 12 turn that loop into a call to memset on a stack
 * copy of the tile that the registers never read: a dead store of the
 * whole tile (1 KiB for GEMM's 8 x 32) per tile (docs/performance.md). */
#define MUON_TILE_FMA_FROM_ZERO(acc, ROWS, LANES, AEXPR, Bv, ldb, K) do { \
        int r0_, l0_; \
        for (r0_ = 0; r0_ < (ROWS); r0_++) { \
            const float a0_ = AEXPR(r0_, 0); \
            MUON_SIMD(omp simd) \
            for (l0_ = 0; l0_ < (LANES); l0_++) acc[r0_][l0_] = MUON_MADD(a0_, (Bv)[l0_], 0.0f); \
        } \
        MUON_TILE_FMA_FROM(acc, ROWS, LANES, AEXPR, Bv, ldb, 1, K); \
    } while (0)

#endif /* MUON_TILE_H */
