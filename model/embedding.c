/* Token embedding, scaled by sqrt(C) as in the research model. */
#include "model/model_internal.h"
#include "linalg/omp.h"
#include "model/layers.h"

#include <string.h>

void muon_embedding_forward(float *out, const int *tokens, const float *wte, int N, int C, float scale)
{
    int r;
MUON_OMP(omp parallel for schedule(static) if ((size_t)N * C >= MUON_PAR_MIN))
    for (r = 0; r < N; r++) {
        const float *e = wte + (size_t)tokens[r] * C;
        float *o = out + (size_t)r * C;
        int j;
        for (j = 0; j < C; j++) o[j] = scale * e[j];
    }
}

/* Several rows can hit the same token, so threads split the columns: each
 * column's sum runs over the rows in order, whatever the thread count. */
#define COL_BLOCK 32

void muon_embedding_backward(muon_grad_mode wmode, float *dwte, const float *dout, const int *tokens, int N,
                             int V, int C, float scale)
{
    int jb, nb = (C + COL_BLOCK - 1) / COL_BLOCK;
    if (wmode == MUON_GRAD_SET) memset(dwte, 0, (size_t)V * C * sizeof *dwte);
MUON_OMP(omp parallel for schedule(static) if ((size_t)N * C >= MUON_PAR_MIN))
    for (jb = 0; jb < nb; jb++) {
        int j0 = jb * COL_BLOCK, j1 = j0 + COL_BLOCK < C ? j0 + COL_BLOCK : C, r, j;
        for (r = 0; r < N; r++) {
            float *d = dwte + (size_t)tokens[r] * C;
            const float *g = dout + (size_t)r * C;
            for (j = j0; j < j1; j++) d[j] += scale * g[j];
        }
    }
}
