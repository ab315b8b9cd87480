"""Expected values of `muon report`'s numbers, recomputed independently with
NumPy/SciPy from the committed fixture runs tests/golden/report_runs/<run>/
(metrics.csv + run.json of short real `tiny` runs; tests/golden/make_report_runs.sh).

Every definition follows docs/research.md, written here from that text, not
from the C code: thirds, growth per 100k tokens and per unit of sum lr*scale,
least-squares slopes and their intervals (scipy.stats.t), Q/V ratios, the
90% step, Spearman correlations (scipy.stats.spearmanr), second-half
alignment, the norm-bound fractions, the final validation loss, the loss
roughness; plus the alignment chance level by an independent Monte Carlo
(numpy.linalg.qr / svd) and Student t quantiles. Values from metrics.csv are
rounded to float32 first, as the C reader stores them; all arithmetic is
float64. Output: tests/golden/report_expect.safetensors (float64)."""
import csv
import json
import math
import os

import numpy as np
import scipy
import scipy.stats

import st

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = ["muon_s1", "muon_s2", "adamw_s1", "adamw_s2"]
KINDS = ["q", "k", "v", "o", "up", "down", "gate"]
NK = len(KINDS)
MAXL = 8  # the fixtures have 4 layers; arrays are padded with NaN to MAXL


def f32(x):
    return float(np.float32(float(x)))


def load(run):
    d = os.path.join(HERE, "report_runs", run)
    settings = json.load(open(os.path.join(d, "run.json")))["settings"]
    model, mat, tracked, steps = {}, {}, set(), set()
    with open(os.path.join(d, "metrics.csv")) as f:
        rows = csv.reader(f)
        assert next(rows) == ["step", "layer", "matrix", "metric", "value"]
        for step, layer, matrix, metric, value in rows:
            step, layer = int(step), int(layer)
            if matrix == "model":
                model[(step, metric)] = f32(value)
                steps.add(step)
            else:
                mat[(metric, matrix, layer, step)] = f32(value)
                tracked.add(step)
    return settings, model, mat, sorted(tracked), sorted(steps)


def muon_scale(settings, rows, cols):
    if settings["optimizer"] == "adamw":
        return 1.0
    if settings["muon-scale"] == "moonlight":
        return f32(0.2 * math.sqrt(max(rows, cols)))
    return f32(math.sqrt(rows / cols if rows > cols else 1.0))


def shape(settings, kind):
    C, NH, NKV, F = (int(settings[k]) for k in ("d-model", "n-heads", "n-kv-heads", "d-ff"))
    HS = C // NH
    return {"q": (NH * HS, C), "k": (NKV * HS, C), "v": (NKV * HS, C), "o": (C, NH * HS),
            "up": (F, C), "gate": (F, C), "down": (C, F)}[kind]


def ols(y):
    y = np.asarray(y, float)
    x = np.arange(len(y), dtype=float)
    res = scipy.stats.linregress(x, y)
    return res.slope, res.stderr if len(y) >= 3 else float("nan")


def claims(run):
    s, model, mat, tracked, steps = load(run)
    L, B, T = int(s["n-layers"]), int(s["batch-size"]), int(s["seq-len"])
    first, last = tracked[0], tracked[-1]
    nan = float("nan")
    out = {}

    def m(metric, kind, layer, step):
        return mat.get((metric, kind, layer, step), nan)

    def lr_sum(a, b):
        return sum(model[(t, "lr")] for t in range(a + 1, b + 1))

    have = [not math.isnan(m("sigma_max", k, 0, last)) for k in KINDS]
    scale = [muon_scale(s, *shape(s, k)) for k in KINDS]
    # thirds: the last tracked step within the first third, the first within the last
    ta = max(t for t in tracked if 3 * (t - first) <= last - first)
    tb = min(t for t in tracked if 3 * (t - first) >= 2 * (last - first))
    gr = np.full((2, NK), nan)
    gn = np.full((2, NK), nan)
    for i, k in enumerate(KINDS):
        if not have[i]:
            continue
        mean = lambda t: np.mean([m("sigma_max", k, l, t) for l in range(L)])
        d0, d1 = mean(ta) - mean(first), mean(last) - mean(tb)
        gr[0, i] = d0 / ((ta - first) * B * T) * 1e5
        gr[1, i] = d1 / ((last - tb) * B * T) * 1e5
        gn[0, i] = d0 / (lr_sum(first, ta) * scale[i])
        gn[1, i] = d1 / (lr_sum(tb, last) * scale[i])
    out["growth_raw"], out["growth_norm"] = gr, gn
    out["ratio_raw"], out["ratio_norm"] = gr[1] / gr[0], gn[1] / gn[0]
    out["thirds"] = np.array([first, ta, tb, last], float)

    fs = np.full((NK, MAXL), nan)
    sl, sse = np.full(NK, nan), np.full(NK, nan)
    for i, k in enumerate(KINDS):
        if have[i]:
            fs[i, :L] = [m("sigma_max", k, l, last) for l in range(L)]
            sl[i], sse[i] = ols(fs[i, :L])
    out["final_sigma"], out["slope"], out["slope_se"] = fs, sl, sse

    qv, t90 = np.full(MAXL, nan), np.full(MAXL, nan)
    for l in range(L):
        qv[l] = fs[0, l] / fs[2, l]
        v = [m("sigma_max", "v", l, t) for t in tracked]
        goal = 0.9 * v[-1]
        if v[0] >= goal:
            t90[l] = tracked[0]
            continue
        for j in range(1, len(v)):
            if v[j] >= goal:
                t90[l] = tracked[j - 1] + (goal - v[j - 1]) / (v[j] - v[j - 1]) * (tracked[j] - tracked[j - 1])
                break
    out["qv"], out["t90"] = qv, t90
    out["rho_t90"] = np.array([scipy.stats.spearmanr(np.arange(L), t90[:L]).correlation])

    rse = np.full(NK, nan)
    for i, k in enumerate(KINDS):
        if have[i]:
            xs = [m("sigma_max", k, l, t) for l in range(L) for t in tracked]
            ys = [m("spectral_entropy", k, l, t) for l in range(L) for t in tracked]
            rse[i] = scipy.stats.spearmanr(xs, ys).correlation
    out["rho_sigma_entropy"] = rse

    al = np.full(MAXL, nan)
    late = [t for t in tracked if 2 * (t - first) > last - first]
    for l in range(L):
        vals = [m("alignment_left", "q", l, t) for t in late]
        al[l] = np.mean([v for v in vals if not math.isnan(v)])
    out["align"] = al
    a_sl, a_se = ols(al[:L])
    out["align_stats"] = np.array([np.mean(al[:L]), a_sl, a_se])

    possible = lr_sum(first, last)
    usv = [v for (metric, k, l, t), v in mat.items() if metric == "update_sv_max" and math.isfinite(v)]
    max_usv = max(usv) if usv else nan
    bf = np.full((NK, MAXL), nan)
    bstats = np.full((3, NK), nan)  # mean, max, write-ups' fraction
    viol = 0
    if s["optimizer"] != "adamw":
        peak = float(s["lr"])
        osv = max_usv if max_usv > 1 else 1.0
        for i, k in enumerate(KINDS):
            if not have[i]:
                continue
            s0 = np.array([m("sigma_max", k, l, first) for l in range(L)])
            s1 = fs[i, :L]
            bf[i, :L] = (s1 - s0) / (possible * scale[i])
            bstats[0, i], bstats[1, i] = bf[i, :L].mean(), bf[i, :L].max()
            bstats[2, i] = np.mean((s1 - s0) / ((last - first) * peak))
            viol += int(np.sum(s1 > s0 + possible * scale[i] * osv * (1 + 1e-6)))
    out["bound_frac"], out["bound_stats"] = bf, bstats
    out["bound_misc"] = np.array([possible, max_usv, viol], float)

    vsteps = [t for t in steps if (t, "val_loss") in model]
    vl = vsteps[-1]
    half = steps[-1] // 2
    loss = [model[(t, "loss")] for t in steps if t > half and (t, "loss") in model]
    rough = math.sqrt(np.mean(np.diff(loss) ** 2))
    out["val"] = np.array([model[(vl, "val_loss")], model.get((vl, "val_loss_se"), nan), rough])
    return {run + "." + k: np.asarray(v, np.float64) for k, v in out.items()}, s


def chance(m, k, trials, rng):
    """Mean singular value of U1^T U2 for independent Haar-random k-dim subspaces
    of R^m: Gaussian bases orthonormalised by QR."""
    v = np.empty(trials)
    for i in range(trials):
        u1, _ = np.linalg.qr(rng.standard_normal((m, k)))
        u2, _ = np.linalg.qr(rng.standard_normal((m, k)))
        v[i] = np.linalg.svd(u1.T @ u2, compute_uv=False).mean()
    return v.mean(), v.std(ddof=1) / math.sqrt(trials)


def main():
    t = {}
    per = {}
    for run in RUNS:
        vals, s = claims(run)
        t.update(vals)
        per[run] = vals
    # group estimates over the two seeds of each optimizer
    for g in ("muon", "adamw"):
        a, b = per[g + "_s1"], per[g + "_s2"]
        sl = np.stack([a[g + "_s1.slope"], b[g + "_s2.slope"]])
        mean = sl.mean(0)
        se = sl.std(0, ddof=1) / math.sqrt(2)
        tq = scipy.stats.t.ppf(0.975, 1)
        t[g + ".slope_est"] = np.stack([mean, se, mean - tq * se, mean + tq * se])
    # one run: its OLS interval with L-2 degrees of freedom
    a = per["muon_s1"]
    tq = scipy.stats.t.ppf(0.975, 4 - 2)
    t["muon_s1.slope_ci"] = np.stack([a["muon_s1.slope"] - tq * a["muon_s1.slope_se"],
                                      a["muon_s1.slope"] + tq * a["muon_s1.slope_se"]])
    dfs = np.array([1, 2, 3, 5, 10, 30, 100], float)
    t["t_quantile.df"] = dfs
    t["t_quantile.p975"] = scipy.stats.t.ppf(0.975, dfs)
    t["t_quantile.p90"] = scipy.stats.t.ppf(0.90, dfs)
    x = np.array([3.0, 1.0, 2.0, 2.0, 5.0, 4.0, 4.0, 4.0])
    y = np.array([1.0, 2.0, 2.0, 3.0, 9.0, 0.5, 7.0, 7.0])
    t["spearman_ties.x"], t["spearman_ties.y"] = x, y
    t["spearman_ties.rho"] = np.array([scipy.stats.spearmanr(x, y).correlation])
    rng = np.random.default_rng(20240901)
    for m in (32, 128):
        mu, se = chance(m, 5, 20000, rng)
        t[f"chance.m{m}"] = np.array([mu, se])
    st.save(os.path.join(HERE, "report_expect.safetensors"), t,
            metadata=dict(st.versions(), scipy=scipy.__version__, script="tests/golden/gen_report.py",
                          fixtures="tests/golden/report_runs (make_report_runs.sh)", dtype="float64"))


if __name__ == "__main__":
    main()
