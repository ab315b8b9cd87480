/* The collectives of dist/dist.h on MPI (make MPI=1; Open MPI from Debian's
 * libopenmpi-dev, built with mpicc). MPI is called from the main thread
 * only, outside OpenMP regions (MPI_THREAD_FUNNELED). Errors keep MPI's
 * default handler, MPI_ERRORS_ARE_FATAL: a rank that dies or a broken link
 * ends the whole job (mpirun names the rank), rather than leave the others
 * blocked in a collective; checkpoints are written atomically, so the last
 * one survives either way. */
#include "dist/dist.h"
#include "muon_internal.h"

#include <mpi.h>
#include <stdio.h>

static int rank_, size_ = 1, quiet_;
static double bytes_sent_, seconds_;

static MPI_Datatype mpi_type(muon_dist_type t, size_t *z)
{
    if (t == MUON_DIST_FLOAT) { *z = sizeof(float); return MPI_FLOAT; }
    if (t == MUON_DIST_DOUBLE) { *z = sizeof(double); return MPI_DOUBLE; }
    *z = 1;
    return MPI_BYTE;
}

int muon_dist_init(int *argc, char ***argv)
{
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return muon_error(MUON_ERR_IO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (provided < MPI_THREAD_FUNNELED) {
        /* OpenMP threads run beside MPI calls made by the main thread */
        if (rank_ == 0)
            fprintf(stderr, "muon: this MPI library does not support threads (MPI_THREAD_FUNNELED); run with --threads 1\n");
    }
    return MUON_OK;
}

void muon_dist_finalize(void) { MPI_Finalize(); }
int muon_dist_rank(void) { return rank_; }
int muon_dist_size(void) { return size_; }
int muon_dist_is_mpi(void) { return 1; }

int muon_dist_alltoallv(muon_dist_type t, const void *send, const int *scounts, const int *sdispls,
                        void *recv, const int *rcounts, const int *rdispls)
{
    size_t z;
    MPI_Datatype ty = mpi_type(t, &z);
    double t0 = muon_seconds();
    int q;
    /* MPI takes non-const buffers in MPI-2 headers; Open MPI 4's are const */
    MPI_Alltoallv(send, scounts, sdispls, ty, recv, rcounts, rdispls, ty, MPI_COMM_WORLD);
    for (q = 0; q < size_; q++)
        if (q != rank_) bytes_sent_ += (double)scounts[q] * (double)z;
    seconds_ += muon_seconds() - t0;
    return MUON_OK;
}

int muon_dist_gatherv(muon_dist_type t, int root, const void *send, int n,
                      void *recv, const int *counts, const int *displs)
{
    size_t z;
    MPI_Datatype ty = mpi_type(t, &z);
    double t0 = muon_seconds();
    if (root < 0) {
        MPI_Allgatherv(send, n, ty, recv, counts, displs, ty, MPI_COMM_WORLD);
        bytes_sent_ += (double)n * (double)z * (double)(size_ - 1);
    } else {
        MPI_Gatherv(send, n, ty, recv, counts, displs, ty, root, MPI_COMM_WORLD);
        if (rank_ != root) bytes_sent_ += (double)n * (double)z;
    }
    seconds_ += muon_seconds() - t0;
    return MUON_OK;
}

int muon_dist_agree(int st)
{
    int key = st != MUON_OK ? rank_ : size_, lowest = size_, agreed = st;
    double t0 = muon_seconds();
    MPI_Allreduce(&key, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (lowest < size_) {
        MPI_Bcast(&agreed, 1, MPI_INT, lowest, MPI_COMM_WORLD);
        if (lowest != rank_) quiet_ = 1;
    }
    seconds_ += muon_seconds() - t0;
    return lowest < size_ ? agreed : MUON_OK;
}

int muon_dist_quiet(void) { return quiet_; }

int muon_dist_any(int flag)
{
    int mine = flag != 0, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

void muon_dist_traffic(double *bytes_sent, double *seconds)
{
    *bytes_sent = bytes_sent_;
    *seconds = seconds_;
}
