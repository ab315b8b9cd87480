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

#endif
