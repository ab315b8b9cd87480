/* --init stretched[:F]: "start deep layers pre-polarised to higher spectral
 * norms". After the usual N(0, init_std^2) init, layer l's hidden matrices
 * are scaled by 1 + F l / (L-1), so the spectral norm grows linearly with
 * depth from the first layer's to (1+F) times it at the last -- the shape the
 * hierarchical-stretching plots show trained models reaching on their own.
 * Embedding, head and gains keep their init. docs/experiments.md gives the
 * default F and why. */
#include "model/experiments.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int muon_init_parse(const char *s, float *f)
{
    const char *arg;
    char *end;
    double x;
    if (!s) return muon_error(MUON_ERR_ARG, "--init: no value");
    if (!strcmp(s, "normal")) { *f = 0.0f; return MUON_OK; }
    if (!strcmp(s, "stretched")) { *f = MUON_STRETCH_DEFAULT; return MUON_OK; }
    if (strncmp(s, "stretched:", 10) != 0)
        return muon_error(MUON_ERR_ARG, "--init: expected normal, stretched or stretched:F, not '%s'", s);
    arg = s + 10;
    errno = 0;
    x = strtod(arg, &end);
    if (!*arg || *end || errno == ERANGE || !isfinite(x) || x < 0 || x > 1e6)
        return muon_error(MUON_ERR_ARG, "--init: in stretched:F, F must be a number in [0, 1e6], not '%s'", arg);
    *f = (float)x;
    return MUON_OK;
}

void muon_model_stretch(muon_model *m, float F)
{
    int i, L = m->cfg.n_layers;
    if (F == 0.0f || L < 2) return;
    for (i = 0; i < m->n_tensors; i++) {
        const muon_param *p = &m->tensors[i];
        float g;
        if (p->role != MUON_ROLE_MATRIX || p->layer < 0) continue;
        g = (float)(1.0 + (double)F * (double)p->layer / (double)(L - 1));
        muon_scale(g, m->params + p->offset, (size_t)p->rows * (size_t)p->cols);
    }
}
