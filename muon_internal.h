/* muon_internal.h -- every internal header of the library at once, for code
 * that needs declarations from several folders (tools, tests, code merged
 * from before the header split, which included everything through muon.h).
 * Library files include only the headers of what they use; the public API
 * is muon.h alone. */
#ifndef MUON_INTERNAL_H
#define MUON_INTERNAL_H

#include "muon.h"             /* the public API */
#include "linalg/linalg.h"
#include "io/io.h"
#include "model/model_internal.h"
#include "model/layers.h"
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"

#endif /* MUON_INTERNAL_H */
