/* OpenMP directives for the library's own sources.
 *
 * MUON_OMP(omp parallel for ...) expands to _Pragma("omp parallel for ...")
 * when compiling with OpenMP and to nothing otherwise, so a plain
 * `cc -std=c99 -Wall` build sees no unknown pragmas (gcc warns on every
 * `#pragma omp` line without -fopenmp) and the code reads the same either way. */
#ifndef MUON_OMP_H
#define MUON_OMP_H

#ifdef _OPENMP
#define MUON_OMP(directive) _Pragma(#directive)
#else
#define MUON_OMP(directive)
#endif

/* MUON_SIMD(omp simd ...): the vectorisation directives alone. They are on
 * with OpenMP, and also in a build without threads whose compiler takes
 * -fopenmp-simd (the Makefile then defines MUON_OPENMP_SIMD): without them
 * gcc leaves the GEMM micro-kernel and the attention tiles scalar, several
 * times slower. A simd reduction may add in another order than the plain
 * loop, so such a build's numbers are those of the OpenMP build, not of a
 * build without the directives (tcc's). */
#if defined(_OPENMP) || defined(MUON_OPENMP_SIMD)
#define MUON_SIMD(directive) _Pragma(#directive)
#else
#define MUON_SIMD(directive)
#endif

#endif
