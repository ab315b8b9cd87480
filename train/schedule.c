/* Learning-rate schedule: linear warmup, then constant or a half cosine down
 * to a floor. One multiplier applied to both the Muon and the AdamW lr, so the
 * two stay in the ratio the user chose. */
#include "train/train.h"
#include "metrics/metrics.h"
#include "plots/plots.h"

#include <math.h>
#include <string.h>

static const char *const sched_names[] = {"constant", "cosine"};

const char *muon_sched_name(muon_sched_kind k) { return muon_name_of(sched_names, 2, (int)k); }

int muon_sched_parse(const char *name, muon_sched_kind *k)
{
    int v, st = muon_name_parse("schedule", sched_names, 2, name, &v);
    if (!st) *k = (muon_sched_kind)v;
    return st;
}

double muon_lr_multiplier(muon_sched_kind kind, long step, long warmup, long total,
                          double floor)
{
    const double pi = 3.14159265358979323846;
    double p;
    if (step < 1) step = 1;
    /* step/warmup, not (step-1)/warmup: the first step already moves (the
     * research code's lr-0 first step wasted a step and skewed step-1 metrics) */
    if (warmup > 0 && step <= warmup) return (double)step / (double)warmup;
    if (kind == MUON_SCHED_CONSTANT || total <= warmup) return 1.0;
    p = (double)(step - warmup) / (double)(total - warmup);
    if (p > 1.0) p = 1.0;
    return floor + (1.0 - floor) * 0.5 * (1.0 + cos(pi * p));
}
