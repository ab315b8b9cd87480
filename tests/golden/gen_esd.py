"""Golden values of esd_alpha (metrics/esd.c): the power-law exponent of the
eigenvalues of W^T W by maximum likelihood with x_min chosen by the
Kolmogorov-Smirnov distance (Clauset, Shalizi & Newman 2009).

This is an independent implementation: for each candidate x_min (every
distinct value with at least MIN_TAIL values at or above it) alpha is found by
*numerically* maximising the continuous power-law log-likelihood with
scipy.optimize.minimize_scalar (not the closed form the C code uses), and the
KS distance is scipy.stats.kstest's against the fitted CDF.

Cases:
  - synthetic spectra: Pareto samples with known exponents 2, 3, 4.5
    (inverse-CDF sampling, x_min = 1), a Pareto tail above a uniform body (so
    x_min must be found), and a Marchenko-Pastur spectrum (no power law);
  - a matrix W = U diag(sqrt(lambda)) V^T with a known Pareto spectrum (the C
    side runs its own SVD);
  - the matrices of a real checkpoint: a short ./muon training run.
Writes tests/golden/esd.safetensors."""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import scipy
import scipy.optimize
import scipy.stats

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import st  # noqa: E402

MIN_TAIL = 10
EPS32 = 2.0 ** -23


def fit_one(tail, xmin):
    """alpha by numerical MLE, then the KS distance (SciPy)."""
    n = len(tail)
    L = np.log(tail / xmin).sum()

    # the log-likelihood up to a constant: n ln(a-1) - a sum ln(x/xmin) - n ln xmin
    res = scipy.optimize.minimize_scalar(lambda a: -(n * np.log(a - 1.0) - a * L),
                                         bounds=(1.0 + 1e-9, 200.0), method="bounded",
                                         options={"xatol": 1e-12, "maxiter": 2000})
    a = res.x
    ks = scipy.stats.kstest(tail, lambda x: 1.0 - (x / xmin) ** (1.0 - a)).statistic
    return a, ks


def fit(values):
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[x > 0]
    best = None
    second = np.inf
    for k in range(0, len(x) - MIN_TAIL + 1):
        if k > 0 and x[k] == x[k - 1]:
            continue
        tail = x[k:]
        if not (np.log(tail / x[k]).sum() > 0):
            continue
        a, ks = fit_one(tail, x[k])
        if best is None or ks < best[2]:
            if best is not None:
                second = min(second, best[2])
            best = (a, x[k], ks, len(tail))
        else:
            second = min(second, ks)
    if best is None:
        return np.array([np.nan, np.nan, np.nan, 0.0]), np.inf
    return np.array(best, dtype=np.float64), second - best[2]


def eig_of(W):
    s = np.linalg.svd(W.astype(np.float64), compute_uv=False)
    s = s[s > max(W.shape) * EPS32 * s[0]]
    return s * s


def pareto(rng, alpha, n, xmin=1.0):
    return xmin * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))


rng = np.random.default_rng(20261201)
out, notes = {}, []


def value_case(name, values, true_alpha):
    # the C test reads the golden file as float32: fit exactly those values
    values = np.asarray(values, dtype=np.float32).astype(np.float64)
    want, gap = fit(values)
    assert gap > 1e-6, (name, gap)  # the C code must not be able to pick another x_min by rounding
    out[name + ".eig"] = np.asarray(values, dtype=np.float64)
    out[name + ".want"] = want
    out[name + ".true_alpha"] = np.array([true_alpha])
    notes.append("%s: alpha %.6f xmin %.4g ks %.4f tail %d (true %s; next-best KS +%.2e)" %
                 (name, want[0], want[1], want[2], want[3], true_alpha, gap))


value_case("pareto2", pareto(rng, 2.0, 400), 2.0)
value_case("pareto3", pareto(rng, 3.0, 400), 3.0)
value_case("pareto45", pareto(rng, 4.5, 300), 4.5)
value_case("body_tail", np.concatenate([rng.uniform(0.05, 1.0, 200), pareto(rng, 2.5, 300)]), 2.5)
G = rng.standard_normal((256, 512)) / np.sqrt(512)
value_case("marchenko_pastur", eig_of(G), float("nan"))


def matrix_case(name, m, n, lam, true_alpha):
    r = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, r)))
    V, _ = np.linalg.qr(rng.standard_normal((n, r)))
    W = ((U * np.sqrt(lam)) @ V.T).astype(np.float32)
    want, gap = fit(eig_of(W))
    assert gap > 1e-6, (name, gap)
    out[name + ".W"] = W
    out[name + ".want"] = want
    out[name + ".true_alpha"] = np.array([true_alpha])
    notes.append("%s (%dx%d matrix): alpha %.6f xmin %.4g tail %d (true %s; next-best KS +%.2e)" %
                 (name, m, n, want[0], want[1], want[3], true_alpha, gap))


matrix_case("matrix_pareto", 128, 192, np.sort(pareto(rng, 2.5, 128) * 1e-3)[::-1], 2.5)

# a real checkpoint: a short run of ./muon (a small model with 64 eigenvalues per matrix)
RUN_ARGS = ["--model", "tiny", "--d-model", "64", "--d-ff", "256", "--steps", "150", "--track-every", "0",
            "--eval-every", "0", "--log-every", "0", "--seed", "11", "--lr", "0.02"]
root = os.path.dirname(os.path.dirname(here))
subprocess.run(["make", "-s", "muon"], cwd=root, check=True)
tmp = tempfile.mkdtemp()
try:
    subprocess.run([os.path.join(root, "muon"), "train"] + RUN_ARGS + ["--out", tmp], check=True,
                   stdout=subprocess.DEVNULL, cwd=root)
    ck = st.load(os.path.join(tmp, "checkpoint.safetensors"))[0]
finally:
    shutil.rmtree(tmp)
real = []
for layer in range(2):
    for kind in ("attn.q", "attn.k", "attn.v", "attn.o", "ffn.up", "ffn.down"):
        name = "layers.%d.%s.weight" % (layer, kind)
        W = ck[name]
        want, gap = fit(eig_of(W))
        if gap <= 1e-6:
            notes.append("real %s skipped: KS near-tie (%.1e)" % (name, gap))
            continue
        out["real." + name] = W
        out["real." + name + ".want"] = want
        real.append(name)
        notes.append("real %s: alpha %.6f xmin %.4g tail %d" % (name, want[0], want[1], want[3]))

for n in notes:
    print("  " + n)
st.save(os.path.join(here, "esd.safetensors"), out,
        {"generator": "tests/golden/gen_esd.py", "numpy": np.__version__, "scipy": scipy.__version__,
         "min_tail": str(MIN_TAIL), "real_run": " ".join(RUN_ARGS), "real": ",".join(real),
         "notes": "; ".join(notes)})
print("wrote esd.safetensors")
