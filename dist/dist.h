/* dist/dist.h -- the handful of collectives data-parallel training needs
 * (docs/distributed.md), behind one small interface with two
 * implementations: dist/local.c, one process, where every collective is a
 * copy (the default build: no MPI header or library anywhere), and
 * dist/mpi.c, Open MPI's (make MPI=1). Every rank calls the collectives in
 * the same order; counts and displacements are in elements of the type. */
#ifndef MUON_DIST_H
#define MUON_DIST_H

typedef enum { MUON_DIST_FLOAT, MUON_DIST_DOUBLE, MUON_DIST_BYTE } muon_dist_type;

/* MPI_Init (MPI build) once at program start; always MUON_OK locally. */
int muon_dist_init(int *argc, char ***argv);
void muon_dist_finalize(void);
/* This process's rank and the number of ranks (0 and 1 locally). */
int muon_dist_rank(void);
int muon_dist_size(void);
/* 1 when built with MPI (make MPI=1). */
int muon_dist_is_mpi(void);

/* MPI_Alltoallv: rank r's send[sdispls[q] ..+scounts[q]] lands in rank q's
 * recv[rdispls[r] ..+rcounts[r]]. */
int muon_dist_alltoallv(muon_dist_type t, const void *send, const int *scounts, const int *sdispls,
                        void *recv, const int *rcounts, const int *rdispls);
/* MPI_Allgatherv (root < 0) or MPI_Gatherv to root: send(n) lands in
 * recv[displs[r] ..+counts[r]] (recv is read only at the root when gathering). */
int muon_dist_gatherv(muon_dist_type t, int root, const void *send, int n,
                      void *recv, const int *counts, const int *displs);
/* Every rank gets the status of the lowest rank whose st is not MUON_OK
 * (MUON_OK if none): the collective every failure point meets before the
 * next collective, so no rank is left waiting. That lowest rank keeps its
 * message; the others become quiet (muon_dist_quiet) so the error is
 * printed once. */
int muon_dist_agree(int st);
/* 1 if this rank's error message is another rank's to print. */
int muon_dist_quiet(void);
/* Logical OR of flag over the ranks (a stop request seen by any rank). */
int muon_dist_any(int flag);
/* Bytes this rank has sent and seconds it spent inside collectives, since start. */
void muon_dist_traffic(double *bytes_sent, double *seconds);

#endif
