/* Placeholder until the metric log lands. */
#include "muon.h"

int muon_metric_log_open(muon_metric_log **log, const char *path, long resume_step) { (void)resume_step; *log = NULL; return muon_error(MUON_ERR_IO, "%s: metric log not yet implemented", path); }
int muon_metric_log_row(muon_metric_log *log, long step, int layer, const char *matrix, const char *metric, double value) { (void)log; (void)step; (void)layer; (void)matrix; (void)metric; (void)value; return MUON_OK; }
int muon_metric_log_flush(muon_metric_log *log) { (void)log; return MUON_OK; }
int muon_metric_log_close(muon_metric_log *log) { (void)log; return MUON_OK; }
int muon_metrics_track(muon_metric_log *log, long step, const muon_model *m, const muon_update_view *u) { (void)log; (void)step; (void)m; (void)u; return MUON_OK; }
