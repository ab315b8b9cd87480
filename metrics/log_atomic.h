/* metrics/log_atomic.h -- a metric CSV written whole or not at all (the
 * output of `muon analyze`), through io/atomic_file.c: rows go to
 * "<path>.tmp", muon_metric_log_close renames it into place, and
 * muon_metric_log_discard removes it. The same row and flush calls as the
 * appended training log (muon.h). */
#ifndef MUON_METRICS_LOG_ATOMIC_H
#define MUON_METRICS_LOG_ATOMIC_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

int muon_metric_log_create_atomic(muon_metric_log **log, const char *path);
/* Closes without keeping anything (an atomic log's temporary is removed). */
void muon_metric_log_discard(muon_metric_log *log);

#endif
