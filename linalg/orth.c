/* Placeholder until the orthogonalisers land. */
#include "muon.h"

int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols, const float *G, float *O)
{
    (void)kind; (void)steps; (void)rows; (void)cols; (void)G; (void)O;
    return muon_error(MUON_ERR_ARG, "orthogonalize: not yet implemented");
}
const char *muon_orth_name(muon_orth_kind k) { (void)k; return "?"; }
int muon_orth_parse(const char *name, muon_orth_kind *k) { (void)k; return muon_error(MUON_ERR_ARG, "unknown orthogonaliser '%s'", name); }
