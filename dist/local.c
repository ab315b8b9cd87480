/* One process: the collectives of dist/dist.h with a single rank, where
 * every exchange is a copy of this rank's own part. The training code is
 * the same with one rank or many; this file is what makes one rank free of
 * MPI (the default build links no MPI library). */
#include "dist/dist.h"
#include "muon_internal.h"

#include <string.h>

static size_t type_size(muon_dist_type t)
{
    return t == MUON_DIST_FLOAT ? sizeof(float) : t == MUON_DIST_DOUBLE ? sizeof(double) : 1;
}

int muon_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return MUON_OK;
}

void muon_dist_finalize(void) {}
int muon_dist_rank(void) { return 0; }
int muon_dist_size(void) { return 1; }
int muon_dist_is_mpi(void) { return 0; }

int muon_dist_alltoallv(muon_dist_type t, const void *send, const int *scounts, const int *sdispls,
                        void *recv, const int *rcounts, const int *rdispls)
{
    size_t z = type_size(t);
    if (scounts[0] != rcounts[0]) return muon_error(MUON_ERR_ARG, "alltoallv: sends %d, expects %d", scounts[0], rcounts[0]);
    if (scounts[0] > 0)
        memmove((char *)recv + (size_t)rdispls[0] * z, (const char *)send + (size_t)sdispls[0] * z, (size_t)scounts[0] * z);
    return MUON_OK;
}

int muon_dist_gatherv(muon_dist_type t, int root, const void *send, int n,
                      void *recv, const int *counts, const int *displs)
{
    size_t z = type_size(t);
    (void)root;
    if (n != counts[0]) return muon_error(MUON_ERR_ARG, "gatherv: sends %d, expects %d", n, counts[0]);
    if (n > 0) memmove((char *)recv + (size_t)displs[0] * z, send, (size_t)n * z);
    return MUON_OK;
}

int muon_dist_agree(int st) { return st; }
int muon_dist_quiet(void) { return 0; }
int muon_dist_any(int flag) { return flag != 0; }

void muon_dist_traffic(double *bytes_sent, double *seconds)
{
    *bytes_sent = 0;
    *seconds = 0;
}
