/* GEMM's packing buffers, kept between calls so the hot path does not
 * allocate (and does not page-fault fresh memory): a small table of slots,
 * one per concurrent call, guarded by an OpenMP critical section. */
#include "linalg/gemm_internal.h"
#include "linalg/omp.h"

/* Packing buffers are kept between calls so the hot path does not allocate
 * (and does not page-fault fresh memory). One slot per concurrent call; the
 * slot table is guarded by an OpenMP critical section. Without OpenMP muon
 * itself never runs two calls at once. More concurrent calls than slots fall
 * back to a private allocation. */
#define POOL_SLOTS 32

static struct {
    float *buf;
    size_t cap; /* floats */
    int busy;
} pool[POOL_SLOTS];

float *muon_gemm_pool_get(size_t n, int *slot)
{
    int s, pick = -1;
MUON_OMP(omp critical(muon_gemm_pool))
    {
        /* the smallest free buffer that fits, else the largest free one */
        for (s = 0; s < POOL_SLOTS; s++)
            if (!pool[s].busy && pool[s].cap >= n && (pick < 0 || pool[s].cap < pool[pick].cap))
                pick = s;
        if (pick < 0)
            for (s = 0; s < POOL_SLOTS; s++)
                if (!pool[s].busy && (pick < 0 || pool[s].cap > pool[pick].cap)) pick = s;
        if (pick >= 0) pool[pick].busy = 1;
    }
    *slot = pick;
    if (pick < 0) return muon_alloc(n * sizeof(float));
    if (pool[pick].cap < n) {
        muon_free(pool[pick].buf);
        pool[pick].buf = muon_alloc(n * sizeof(float));
        pool[pick].cap = pool[pick].buf ? n : 0;
        if (!pool[pick].buf) {
MUON_OMP(omp critical(muon_gemm_pool))
            pool[pick].busy = 0;
            *slot = -1;
            return NULL;
        }
    }
    return pool[pick].buf;
}

void muon_gemm_pool_put(float *buf, int slot)
{
    if (slot < 0) {
        muon_free(buf);
        return;
    }
MUON_OMP(omp critical(muon_gemm_pool))
    pool[slot].busy = 0;
}

void muon_gemm_release(void)
{
    int s;
MUON_OMP(omp critical(muon_gemm_pool))
    for (s = 0; s < POOL_SLOTS; s++)
        if (!pool[s].busy) {
            muon_free(pool[s].buf);
            pool[s].buf = NULL;
            pool[s].cap = 0;
        }
}

