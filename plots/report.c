/* `muon report`: the research's claims stated with their numbers, their
 * uncertainty and a verdict, as Markdown that any Git host renders, beside
 * the comparison figures. The numbers come from metrics/claims.c; this file
 * only aggregates them over seeds and writes. Definitions: docs/research.md. */
#include "plots/compare.h"
#include "io/atomic_file.h"
#include "metrics/events.h"
#include "metrics/claims.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KQ = 0, KK, KV, KO, KUP, KDOWN, KGATE };

typedef struct {
    char *b;
    size_t n, cap;
    int oom;
} buf;

static void out(buf *o, const char *fmt, ...)
{
    va_list ap;
    int need;
    if (o->oom) return;
    va_start(ap, fmt);
    need = vsnprintf(o->b ? o->b + o->n : NULL, o->b ? o->cap - o->n : 0, fmt, ap);
    va_end(ap);
    if (need < 0) { o->oom = 1; return; }
    if (!o->b || o->n + (size_t)need + 1 > o->cap) {
        size_t cap = (o->cap + (size_t)need + 1) * 2;
        char *nb = muon_alloc(cap);
        if (!nb) { o->oom = 1; return; }
        if (o->b) { memcpy(nb, o->b, o->n); muon_free(o->b); }
        o->b = nb;
        o->cap = cap;
        va_start(ap, fmt);
        vsnprintf(o->b + o->n, o->cap - o->n, fmt, ap);
        va_end(ap);
    }
    o->n += (size_t)need;
}

/* A number, or "–" when it is not available. */
static const char *num(char *s, size_t n, double v, const char *fmt)
{
    if (!(v == v)) snprintf(s, n, "–");
    else snprintf(s, n, fmt, v);
    return s;
}

/* "m ± se" (se only over several seeds). */
static const char *pm(char *s, size_t n, muon_est e, const char *fmt)
{
    char a[40], b[40];
    if (!(e.m == e.m)) { snprintf(s, n, "–"); return s; }
    num(a, sizeof a, e.m, fmt);
    if (e.se == e.se) snprintf(s, n, "%s ± %s", a, num(b, sizeof b, e.se, fmt));
    else snprintf(s, n, "%s", a);
    return s;
}

static const char *ci(char *s, size_t n, muon_est e, const char *fmt)
{
    char a[40], b[40], c[40];
    if (!(e.m == e.m)) { snprintf(s, n, "–"); return s; }
    if (e.lo == e.lo) snprintf(s, n, "%s [%s, %s]", num(a, sizeof a, e.m, fmt), num(b, sizeof b, e.lo, fmt), num(c, sizeof c, e.hi, fmt));
    else snprintf(s, n, "%s", num(a, sizeof a, e.m, fmt));
    return s;
}

static const char *verdict(int holds, int testable)
{
    static char v[64];
    if (testable == 0) return "not testable with these runs";
    if (holds == testable) return "**holds**";
    if (holds == 0) return "**does not hold**";
    snprintf(v, sizeof v, "**mixed** (holds for %d of %d)", holds, testable);
    return v;
}

/* A point estimate's side of a threshold: with a seed spread, it counts only
 * beyond two standard errors (docs/research.md, "verdicts"). */
static int beyond(muon_est e, double thr, int above)
{
    int side = above ? e.m > thr : e.m < thr;
    if (e.se == e.se && fabs(e.m - thr) < 2 * e.se) return 0;
    return side;
}

/* Per group: the estimate of EXPR (an expression of `c`, a run's claims) over its seeds. */
#define EST(out_est, g, EXPR) do { \
        double v_[MUON_RUNS_MAX]; int j_; \
        for (j_ = 0; j_ < s->group_size[g]; j_++) { const muon_claims *c = &cl[s->members[g][j_]]; v_[j_] = (EXPR); } \
        (out_est) = muon_est_of(v_, s->group_size[g]); \
    } while (0)

static int kinds_logged(const muon_claims *c, int *ks)
{
    int k, n = 0;
    for (k = 0; k < MUON_CL_NK; k++) if (c->have[k]) ks[n++] = k;
    return n;
}

static void header_row(buf *o, const muon_run_set *s, const char *first)
{
    int g;
    out(o, "| %s |", first);
    for (g = 0; g < s->n_groups; g++) out(o, " %s |", s->label_plain[g]);
    out(o, "\n|---|");
    for (g = 0; g < s->n_groups; g++) out(o, "---|");
    out(o, "\n");
}

static void figure(buf *o, const char *file, const char *alt)
{
    out(o, "![%s](%s)\n\n", alt, file);
}

/* At most this many events of a run are listed (the largest |score| first). */
#define REPORT_MAX_EVENTS 10

static int test_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Largest |score| first; ties by step (insertion sort: a run has few events). */
static void sort_events(muon_event *e, int n)
{
    int i, j;
    for (i = 1; i < n; i++) {
        muon_event x = e[i];
        for (j = i; j > 0 && (fabs(e[j - 1].score) < fabs(x.score) ||
                              (fabs(e[j - 1].score) == fabs(x.score) && e[j - 1].step > x.step)); j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static int build(const muon_run_set *s, const muon_claims *cl, double chance, double chance_se, int chance_m, buf *o)
{
    int g, k, l, i, ks[MUON_CL_NK], nk = kinds_logged(&cl[0], ks), L = cl[0].L;
    char a[160], b[160], c2[160];
    muon_est e, e2;
    out(o, "# Report: the research's claims measured on %d runs\n\n", s->n);
    out(o, "Written by `muon report`. Every number is computed from the runs' `metrics.csv` "
           "and `run.json` alone; how each is defined is in the project's `docs/research.md`. "
           "Runs that differ only in their seed form one group: a group's number is the mean over its seeds, "
           "`±` one standard error over the seeds (sd/√n), and intervals are 95%% (Student t with n−1 "
           "degrees of freedom). A verdict on a point estimate (a ratio against 1, a correlation against 0) "
           "counts it only when it lies more than two standard errors beyond the threshold. With one seed "
           "per group, no seed spread exists and only within-run uncertainties are given.\n\n");
    out(o, "| group | runs | seeds | steps | final validation loss (whole split) ± SE |\n|---|---|---|---|---|\n");
    for (g = 0; g < s->n_groups; g++) {
        out(o, "| %s | ", s->label_plain[g]);
        for (i = 0; i < s->group_size[g]; i++) out(o, "%s`%s`", i ? ", " : "", s->runs[s->members[g][i]].dir);
        {
            const muon_run *r0 = &s->runs[s->members[g][0]];
            out(o, " | %d | %ld | ", s->group_size[g], r0->t.n_steps ? r0->t.steps[r0->t.n_steps - 1] : 0L);
        }
        for (i = 0; i < s->group_size[g]; i++) {
            const muon_claims *c = &cl[s->members[g][i]];
            if (c->val == c->val)
                out(o, "%s%s ± %s", i ? "; " : "", num(a, sizeof a, c->val, "%.4f"), num(b, sizeof b, c->val_se, "%.4f"));
            else
                out(o, "%snot evaluated", i ? "; " : "");
        }
        out(o, " |\n");
    }
    out(o, "\n");
    figure(o, "compare_loss.png", "training loss");
    figure(o, "compare_sigma_max_q.png", "sigma_max of Q");

    /* 1. growth slows */
    out(o, "## 1. Spectral-norm growth slows\n\n"
           "Growth of σ_max (mean over layers) per 100k tokens in the first third of training "
           "and in the last third (tracked steps as in the first row), and the same growth per unit of applied "
           "step size Σ lr_t·scale over the interval (scale: the optimizer's shape factor), because a decaying "
           "learning rate alone slows raw growth. The verdict is on the normalised ratio last/first < 1.\n\n");
    header_row(o, s, "kind: raw first → last per 100k tokens; normalised ratio last/first");
    out(o, "| thirds (steps) |");
    for (g = 0; g < s->n_groups; g++) {
        const muon_claims *c = &cl[s->members[g][0]];
        if (c->third_a >= 0) out(o, " %ld–%ld and %ld–%ld |", c->first, c->third_a, c->third_b, c->last);
        else out(o, " too few tracked steps |");
    }
    out(o, "\n");
    for (i = 0; i < nk; i++) {
        k = ks[i];
        out(o, "| %s |", muon_matrix_name(k));
        for (g = 0; g < s->n_groups; g++) {
            EST(e, g, c->growth_raw[0][k]);
            EST(e2, g, c->growth_raw[1][k]);
            out(o, " %s → %s; ", num(a, sizeof a, e.m, "%.3g"), num(b, sizeof b, e2.m, "%.3g"));
            EST(e, g, c->ratio_norm[k]);
            out(o, "%s |", pm(c2, sizeof c2, e, "%.3g"));
        }
        out(o, "\n");
    }
    out(o, "| raw ratio last/first (mean over kinds) |");
    for (g = 0; g < s->n_groups; g++) {
        double v = 0;
        int cnt = 0;
        for (i = 0; i < nk; i++) { EST(e, g, c->ratio_raw[ks[i]]); if (e.m == e.m) { v += e.m; cnt++; } }
        out(o, " %s |", num(a, sizeof a, cnt ? v / cnt : NAN, "%.3g"));
    }
    out(o, "\n| **verdict** |");
    for (g = 0; g < s->n_groups; g++) {
        int h = 0, t = 0;
        for (i = 0; i < nk; i++) {
            EST(e, g, c->ratio_norm[ks[i]]);
            if (e.m == e.m) { t++; h += beyond(e, 1, 0); }
        }
        out(o, " %s |", verdict(h, t));
    }
    out(o, "\n\n");

    /* 2. deep grows more */
    out(o, "## 2. Deep layers grow more\n\n"
           "Least-squares slope of the final σ_max over the layer index (σ_max per layer), with a 95%% interval "
           "(over seeds when a group has several, else from the regression's own residuals). "
           "Holds for a kind when the interval lies above 0.\n\n");
    header_row(o, s, "kind: slope [95% interval]");
    for (i = 0; i < nk; i++) {
        k = ks[i];
        out(o, "| %s |", muon_matrix_name(k));
        for (g = 0; g < s->n_groups; g++) {
            double sl[MUON_RUNS_MAX], se[MUON_RUNS_MAX];
            int j;
            for (j = 0; j < s->group_size[g]; j++) { sl[j] = cl[s->members[g][j]].slope[k]; se[j] = cl[s->members[g][j]].slope_se[k]; }
            e = muon_est_slope(sl, se, s->group_size[g], L);
            out(o, " %s |", ci(a, sizeof a, e, "%.4f"));
        }
        out(o, "\n");
    }
    out(o, "| **verdict** |");
    for (g = 0; g < s->n_groups; g++) {
        int h = 0, t = 0;
        for (i = 0; i < nk; i++) {
            double sl[MUON_RUNS_MAX], se[MUON_RUNS_MAX];
            int j;
            for (j = 0; j < s->group_size[g]; j++) { sl[j] = cl[s->members[g][j]].slope[ks[i]]; se[j] = cl[s->members[g][j]].slope_se[ks[i]]; }
            e = muon_est_slope(sl, se, s->group_size[g], L);
            if (e.lo == e.lo) { t++; h += e.lo > 0; }
        }
        out(o, " %s |", verdict(h, t));
    }
    out(o, "\n\n");
    figure(o, "compare_depth.png", "final state over depth");

    /* 3. Q above V */
    out(o, "## 3. Q ends above V\n\nσ_max(Q)/σ_max(V) per layer at the last tracked step. Holds when above 1 in every layer.\n\n");
    header_row(o, s, "layer");
    for (l = 0; l < L; l++) {
        out(o, "| %d |", l);
        for (g = 0; g < s->n_groups; g++) { EST(e, g, c->qv[l]); out(o, " %s |", pm(a, sizeof a, e, "%.3f")); }
        out(o, "\n");
    }
    out(o, "| **verdict** |");
    for (g = 0; g < s->n_groups; g++) {
        int h = 0, t = 0;
        for (l = 0; l < L; l++) { EST(e, g, c->qv[l]); if (e.m == e.m) { t++; h += beyond(e, 1, 1); } }
        out(o, " %s |", verdict(h, t));
    }
    out(o, "\n\n");
    figure(o, "compare_sigma_max_v.png", "sigma_max of V");

    /* 4. early V caps sooner */
    out(o, "## 4. Early-layer V caps out sooner\n\n"
           "The step at which V first reaches 90%% of its final σ_max (linear between tracked steps), per layer, "
           "and the Spearman correlation ρ of that step with the layer index. Holds when ρ > 0 "
           "(early layers reach their cap first).\n\n");
    header_row(o, s, "layer");
    for (l = 0; l < L; l++) {
        out(o, "| %d |", l);
        for (g = 0; g < s->n_groups; g++) { EST(e, g, c->t90[l]); out(o, " %s |", pm(a, sizeof a, e, "%.0f")); }
        out(o, "\n");
    }
    out(o, "| ρ(layer, step) |");
    for (g = 0; g < s->n_groups; g++) { EST(e, g, c->rho_t90); out(o, " %s |", pm(a, sizeof a, e, "%.3f")); }
    out(o, "\n| **verdict** |");
    for (g = 0; g < s->n_groups; g++) { EST(e, g, c->rho_t90); out(o, " %s |", verdict(beyond(e, 0, 1), e.m == e.m)); }
    out(o, "\n\n");

    /* 5. stretching vs entropy */
    out(o, "## 5. Stretching goes with falling entropy\n\n"
           "Spearman rank correlation of σ_max and spectral entropy over every (layer, tracked step) of a kind. "
           "Holds for a kind when ρ < 0.\n\n");
    header_row(o, s, "kind: ρ(σ_max, entropy)");
    for (i = 0; i < nk; i++) {
        out(o, "| %s |", muon_matrix_name(ks[i]));
        for (g = 0; g < s->n_groups; g++) { EST(e, g, c->rho_sigma_entropy[ks[i]]); out(o, " %s |", pm(a, sizeof a, e, "%.3f")); }
        out(o, "\n");
    }
    out(o, "| **verdict** |");
    for (g = 0; g < s->n_groups; g++) {
        int h = 0, t = 0;
        for (i = 0; i < nk; i++) { EST(e, g, c->rho_sigma_entropy[ks[i]]); if (e.m == e.m) { t++; h += beyond(e, 0, 0); } }
        out(o, " %s |", verdict(h, t));
    }
    out(o, "\n\n");
    figure(o, "compare_entropy.png", "spectral entropy of Q");

    /* 6. lock-in */
    out(o, "## 6. Deep layers lock in, early layers explore\n\n"
           "Update–weight alignment of Q (mean cosine of the principal angles between the top-%d left singular "
           "subspaces of W and ΔW) averaged over the tracked steps of the second half, per layer. Chance level for "
           "two independent random %d-dimensional subspaces of R^%d, computed here from %d pairs of random "
           "orthonormal bases: **%.4f ± %.4f**. Holds when the slope over layers has a 95%% interval above 0 "
           "(deeper layers more aligned).\n\n", MUON_ALIGN_K, MUON_ALIGN_K, chance_m, 4000, chance, chance_se);
    header_row(o, s, "layer: alignment (× chance)");
    for (l = 0; l < L; l++) {
        out(o, "| %d |", l);
        for (g = 0; g < s->n_groups; g++) {
            EST(e, g, c->align[l]);
            out(o, " %s (×%s) |", pm(a, sizeof a, e, "%.3f"), num(b, sizeof b, e.m / chance, "%.1f"));
        }
        out(o, "\n");
    }
    out(o, "| slope per layer [95%% interval] |");
    for (g = 0; g < s->n_groups; g++) {
        double sl[MUON_RUNS_MAX], se[MUON_RUNS_MAX];
        int j;
        for (j = 0; j < s->group_size[g]; j++) { sl[j] = cl[s->members[g][j]].align_slope; se[j] = cl[s->members[g][j]].align_slope_se; }
        e = muon_est_slope(sl, se, s->group_size[g], L);
        out(o, " %s |", ci(a, sizeof a, e, "%.4f"));
    }
    out(o, "\n| **verdict** |");
    for (g = 0; g < s->n_groups; g++) {
        double sl[MUON_RUNS_MAX], se[MUON_RUNS_MAX];
        int j;
        for (j = 0; j < s->group_size[g]; j++) { sl[j] = cl[s->members[g][j]].align_slope; se[j] = cl[s->members[g][j]].align_slope_se; }
        e = muon_est_slope(sl, se, s->group_size[g], L);
        out(o, " %s |", verdict(e.lo > 0, e.lo == e.lo));
    }
    out(o, "\n\n");
    figure(o, "compare_alignment.png", "alignment of Q");

    /* 7. the norm bound */
    out(o, "## 7. The norm bound: how much of the possible stretching happened\n\n"
           "Muon's applied update is −lr_t·scale·O_t with ‖O_t‖₂ ≈ 1, so σ_max(W_T) ≤ σ_max(W₀) + Σ_t lr_t·scale "
           "(weight decay only shrinks W). The fraction (σ_max(W_T) − σ_max(W₀)) / (Σ_t lr_t·scale), from the "
           "run's own schedule, is the share of that maximum that happened. The write-ups' \"theoretical "
           "maximum\" steps × lr ignores the schedule and the shape scale; its fraction is given for comparison. "
           "The bound holds when no matrix exceeds it (allowing for the orthogonaliser's logged σ_max(O)). "
           "Not defined for AdamW, whose update is not orthogonalised.\n\n");
    header_row(o, s, "kind: fraction mean (max over layers); write-ups' fraction");
    for (i = 0; i < nk; i++) {
        k = ks[i];
        out(o, "| %s |", muon_matrix_name(k));
        for (g = 0; g < s->n_groups; g++) {
            EST(e, g, c->bound_frac_mean[k]);
            EST(e2, g, c->bound_frac_max[k]);
            out(o, " %s (%s); ", pm(a, sizeof a, e, "%.3f"), num(b, sizeof b, e2.m, "%.3f"));
            EST(e, g, c->naive_frac_mean[k]);
            out(o, "%s |", num(c2, sizeof c2, e.m, "%.3f"));
        }
        out(o, "\n");
    }
    out(o, "| Σ lr_t (scale 1) |");
    for (g = 0; g < s->n_groups; g++) { EST(e, g, c->possible); out(o, " %s |", num(a, sizeof a, e.m, "%.4g")); }
    out(o, "\n| largest logged σ_max(O) |");
    for (g = 0; g < s->n_groups; g++) { EST(e, g, c->max_update_sv); out(o, " %s |", num(a, sizeof a, e.m, "%.4f")); }
    out(o, "\n| **verdict** (bound) |");
    for (g = 0; g < s->n_groups; g++) {
        const muon_claims *c0 = &cl[s->members[g][0]];
        int v = 0, j;
        for (j = 0; j < s->group_size[g]; j++) v += cl[s->members[g][j]].bound_violations;
        out(o, " %s |", nk > 0 && c0->bound_frac_mean[ks[0]] == c0->bound_frac_mean[ks[0]] ? verdict(v == 0, 1) : verdict(0, 0));
    }
    out(o, "\n\n");

    /* 8. optimizers compared */
    out(o, "## 8. Groups compared: validation loss, stability, coherence\n\n"
           "Each group against the first (%s): the difference of final validation loss (whole split), with "
           "its spread: the standard error over seeds, or the within-run standard error of the whole-split "
           "loss for single runs, combined as √(se₁² + se₂²). Stability: RMS of successive differences of "
           "the training loss over the second half (lower is smoother). Coherence: the mean alignment of Q "
           "over layers (section 6).\n\n", s->label_plain[0]);
    header_row(o, s, "");
    out(o, "| final validation loss |");
    for (g = 0; g < s->n_groups; g++) {
        EST(e, g, c->val);
        if (!(e.se == e.se)) { EST(e2, g, c->val_se); e.se = e2.m; }
        out(o, " %s |", pm(a, sizeof a, e, "%.4f"));
    }
    out(o, "\n| difference to %s |", s->label_plain[0]);
    {
        muon_est r0, r0se;
        EST(r0, 0, c->val);
        if (!(r0.se == r0.se)) { EST(r0se, 0, c->val_se); r0.se = r0se.m; }
        for (g = 0; g < s->n_groups; g++) {
            if (g == 0) { out(o, " – |"); continue; }
            EST(e, g, c->val);
            if (!(e.se == e.se)) { EST(e2, g, c->val_se); e.se = e2.m; }
            {
                double d = e.m - r0.m, sd = sqrt(e.se * e.se + r0.se * r0.se);
                out(o, " %s ± %s (%s SE) |", num(a, sizeof a, d, "%+.4f"), num(b, sizeof b, sd, "%.4f"),
                    num(c2, sizeof c2, d / sd, "%+.1f"));
            }
        }
    }
    out(o, "\n| training-loss roughness |");
    for (g = 0; g < s->n_groups; g++) { EST(e, g, c->roughness); out(o, " %s |", pm(a, sizeof a, e, "%.4f")); }
    out(o, "\n| mean alignment of Q (second half) |");
    for (g = 0; g < s->n_groups; g++) { EST(e, g, c->align_mean); out(o, " %s |", pm(a, sizeof a, e, "%.4f")); }
    out(o, "\n\n");
    {
        /* Muon against AdamW: the first Muon group and the first AdamW group */
        int gm = -1, ga = -1;
        for (g = 0; g < s->n_groups; g++) {
            if (s->runs[s->members[g][0]].adamw) { if (ga < 0) ga = g; }
            else if (gm < 0) gm = g;
        }
        if (gm >= 0 && ga >= 0) {
            muon_est vm, va, x;
            double d, sd;
            int better, smoother, coherent;
            EST(vm, gm, c->val); if (!(vm.se == vm.se)) { EST(x, gm, c->val_se); vm.se = x.m; }
            EST(va, ga, c->val); if (!(va.se == va.se)) { EST(x, ga, c->val_se); va.se = x.m; }
            d = vm.m - va.m;
            sd = sqrt(vm.se * vm.se + va.se * va.se);
            better = d < -2 * sd;
            EST(vm, gm, c->roughness); EST(va, ga, c->roughness);
            smoother = vm.m < va.m;
            EST(vm, gm, c->align_mean); EST(va, ga, c->align_mean);
            coherent = vm.m > va.m;
            out(o, "**Muon (%s) against AdamW (%s)**: validation loss %s by %s ± %s nats (%s); "
                   "training loss %s (roughness); alignment %s. Verdict on \"Muon takes a more stable, "
                   "geometrically coherent path than Adam\": %s.\n\n",
                s->label_plain[gm], s->label_plain[ga], d < 0 ? "lower" : "higher", num(a, sizeof a, fabs(d), "%.4f"),
                num(b, sizeof b, sd, "%.4f"), fabs(d) > 2 * sd ? "more than 2 SE: a real difference" : "within 2 SE",
                smoother ? "smoother with Muon" : "not smoother with Muon",
                coherent ? "higher with Muon" : "not higher with Muon",
                verdict((better ? 1 : 0) + (smoother ? 1 : 0) + (coherent ? 1 : 0), 3));
        } else {
            out(o, "Muon against AdamW: not testable with these runs (needs a Muon and an AdamW group).\n\n");
        }
    }
    out(o, "## 9. Phase transitions\n\n"
           "Tracked steps at which a matrix's alignment or spectral entropy moved by more than K robust "
           "standard deviations (1.4826 MAD) of its recent changes, as `muon train` wrote them to each "
           "run's `events.csv` (docs/experiments.md); the largest |score| first, at most %d per run.\n\n",
        REPORT_MAX_EVENTS);
    {
        int any = 0, r;
        for (r = 0; r < s->n; r++) {
            char path[700];
            muon_event *ev = NULL;
            int n_ev = 0, j, st;
            if ((size_t)snprintf(path, sizeof path, "%s/events.csv", s->runs[r].dir) >= sizeof path) continue;
            if (!test_file(path)) continue;
            if ((st = muon_events_read(path, &ev, &n_ev))) return st;
            any = 1;
            out(o, "**%s** (`%s`): %d event%s.\n\n", s->label_plain[s->runs[r].group], s->runs[r].dir, n_ev,
                n_ev == 1 ? "" : "s");
            if (n_ev > 0) {
                out(o, "| step | layer | matrix | metric | value | change | score |\n|---|---|---|---|---|---|---|\n");
                sort_events(ev, n_ev);
                for (j = 0; j < n_ev && j < REPORT_MAX_EVENTS; j++)
                    out(o, "| %ld | %d | %s | %s | %.4g | %+.3g | %+.1f |\n", ev[j].step, ev[j].layer,
                        muon_matrix_name((muon_matrix_kind)ev[j].kind), muon_metric_name(ev[j].metric),
                        ev[j].value, ev[j].change, ev[j].score);
                out(o, "\n");
            }
            muon_free(ev);
        }
        if (!any) out(o, "Not testable with these runs: none has an `events.csv` (trained with `--event-k 0`, "
                         "or without tracking).\n\n");
    }
    out(o, "## Other figures\n\n");
    for (i = 3; i < MUON_COMPARE_NFIG - 1; i++)
        if (strcmp(muon_compare_files[i], "compare_entropy.png") && strcmp(muon_compare_files[i], "compare_alignment.png"))
            figure(o, muon_compare_files[i], muon_compare_files[i]);
    return o->oom ? MUON_ERR_NOMEM : MUON_OK;
}

int muon_report_write(const muon_run_set *s, const char *out_dir)
{
    muon_claims *cl;
    buf o;
    double chance = NAN, chance_se = NAN;
    char path[700];
    int i, st = MUON_OK, m;
    memset(&o, 0, sizeof o);
    cl = muon_alloc(sizeof *cl * (size_t)s->n);
    if (!cl) return MUON_ERR_NOMEM;
    for (i = 0; i < s->n && !st; i++) st = muon_claims_run(&s->runs[i], &cl[i]);
    /* Q's left singular vectors live in R^rows, rows = n_heads x head_dim = d_model */
    m = s->runs[0].d_model;
    if (!st) st = muon_alignment_chance(m, MUON_ALIGN_K < m ? MUON_ALIGN_K : m, 4000, 20240901u, &chance, &chance_se);
    if (!st) st = build(s, cl, chance, chance_se, m, &o);
    if (!st && (size_t)snprintf(path, sizeof path, "%s/report.md", out_dir) >= sizeof path)
        st = muon_error(MUON_ERR_ARG, "%s: path too long", out_dir);
    if (!st) st = muon_compare_plots(s, out_dir);
    if (!st) st = muon_atomic_write(path, o.b, o.n);
    muon_free(o.b);
    muon_free(cl);
    return st;
}
