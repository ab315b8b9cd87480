/* Placeholder until the plots land. */
#include "muon.h"

int muon_plot_run(const char *run_dir) { return muon_error(MUON_ERR_IO, "%s: plots not yet implemented", run_dir); }
