/* Reusable scratch memory: one growing block that a kernel lays its buffers
 * out in, so a caller that runs the same kernel every step (the Muon update,
 * the metric tracker) sizes it once and then allocates nothing.
 *
 * Every buffer handed out is 64-byte aligned, like muon_alloc's, so a kernel
 * sees the same alignment whether it runs from a workspace or on its own
 * allocations (the results do not depend on it either way: GEMM packs its
 * operands). */
#include "linalg/linalg.h"

#include <string.h>

#define WS_ALIGN 64

size_t muon_workspace_round(size_t bytes)
{
    return (bytes + (WS_ALIGN - 1)) & ~(size_t)(WS_ALIGN - 1);
}

int muon_workspace_reserve(muon_workspace *ws, size_t bytes)
{
    void *p;
    if (bytes <= ws->cap) return MUON_OK;
    p = muon_alloc(bytes);
    if (!p) return muon_error(MUON_ERR_NOMEM, "workspace: out of memory for %lu bytes", (unsigned long)bytes);
    muon_free(ws->buf);
    ws->buf = p;
    ws->cap = bytes;
    return MUON_OK;
}

void *muon_workspace_take(muon_workspace *ws, size_t *used, size_t bytes)
{
    char *p = ws ? (char *)ws->buf + *used : NULL;
    *used += muon_workspace_round(bytes);
    return p;
}

void muon_workspace_free(muon_workspace *ws)
{
    if (!ws) return;
    muon_free(ws->buf);
    memset(ws, 0, sizeof *ws);
}
