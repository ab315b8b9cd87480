"""Golden values for the spectral metrics (SPEC section 7, metrics/spectral.c).

For each case, float32 inputs W, dW (applied update), M (momentum), O
(orthogonaliser output) -- any of dW, M, O may be absent, meaning NULL -- and
the float64 NumPy/LAPACK value of every metric computed from those float32
inputs, in the order of muon_metric_id (recorded in the metadata "metrics").

The definitions, edge cases included, are the ones documented at the top of
metrics/spectral.c; they are written here again from the definitions, in
float64, with numpy.linalg.svd (LAPACK gesdd) as the independent backend.

Writes tests/golden/metrics.safetensors. Run with /usr/bin/python3."""
import os

import numpy as np

import st

SEED = 20260923
K = 5
EPS32 = 2.0 ** -23
METRICS = (["sigma_max", "spectral_gap"] + ["top_sv_%d" % i for i in range(1, 11)] +
           ["stable_rank", "spectral_entropy", "ortho_error_weight",
            "alignment_left", "alignment_right", "update_rank", "subspace_efficiency",
            "ortho_error_update", "update_sv_min", "update_sv_max"])
IDX = {n: i for i, n in enumerate(METRICS)}


def tau(shape, s):
    """Singular values at or below this count as zero (matrix_rank's rule, float32 eps)."""
    return max(shape) * EPS32 * (s[0] if len(s) else 0.0)


def nrank(shape, s):
    return int(np.sum(s > tau(shape, s))) if len(s) and s[0] > 0 else 0


def ortho_error(s):
    r = len(s)
    if s[0] <= 0:
        return 1.0
    x = s / s[0]
    return np.sqrt(np.sum((x * x - 1.0) ** 2)) / np.sqrt(r)


def mean_cos(A, B):
    return float(np.mean(np.linalg.svd(A.T @ B, compute_uv=False)))


def metrics(W, dW, M, O):
    W = W.astype(np.float64)
    shape = W.shape
    r = min(shape)
    k = min(K, r)
    want = np.zeros(len(METRICS))
    have = np.zeros(len(METRICS))
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    V = Vt.T
    s1 = s[0]
    want[IDX["sigma_max"]] = s1
    s2 = s[1] if (r >= 2 and nrank(shape, s) >= 2) else 0.0
    want[IDX["spectral_gap"]] = s1 / s2 if s2 > 0 else (np.inf if s1 > 0 else np.nan)
    for i in range(10):
        want[IDX["top_sv_%d" % (i + 1)]] = s[i] if i < r else 0.0
    f2 = np.sum(W * W)
    want[IDX["stable_rank"]] = f2 / s1 ** 2 if s1 > 0 else 0.0
    tot = np.sum(s ** 2)
    if tot > 0 and r > 1:
        p = s ** 2 / tot
        p = p[p > 1e-8]
        want[IDX["spectral_entropy"]] = -np.sum(p * np.log(p)) / np.log(r)
    else:
        want[IDX["spectral_entropy"]] = 0.0
    want[IDX["ortho_error_weight"]] = ortho_error(s)
    for n in METRICS[:IDX["ortho_error_weight"] + 1]:
        have[IDX[n]] = 1
    if dW is not None:
        Ud, sd, Vdt = np.linalg.svd(dW.astype(np.float64), full_matrices=False)
        kw = min(k, nrank(shape, s))
        kd = min(k, nrank(shape, sd))
        if kw == 0 or kd == 0:
            al = ar = np.nan
        else:
            al = mean_cos(U[:, :kw], Ud[:, :kd])
            ar = mean_cos(V[:, :kw], Vdt.T[:, :kd])
        want[IDX["alignment_left"]], want[IDX["alignment_right"]] = al, ar
        have[IDX["alignment_left"]] = have[IDX["alignment_right"]] = 1
    if M is not None:
        sm = np.linalg.svd(M.astype(np.float64), compute_uv=False)
        km = nrank(shape, sm)
        if km == 0:
            ur = 0.0
        else:
            q = sm[:km] / np.sum(sm[:km])
            ur = float(np.exp(-np.sum(q * np.log(q))))
        want[IDX["update_rank"]] = ur
        have[IDX["update_rank"]] = 1
        if dW is not None:
            want[IDX["subspace_efficiency"]] = want[IDX["alignment_left"]] / ur if ur > 0 else np.nan
            have[IDX["subspace_efficiency"]] = 1
    if O is not None:
        so = np.linalg.svd(O.astype(np.float64), compute_uv=False)
        want[IDX["ortho_error_update"]] = ortho_error(so)
        want[IDX["update_sv_min"]] = so[-1]
        want[IDX["update_sv_max"]] = so[0]
        for n in ("ortho_error_update", "update_sv_min", "update_sv_max"):
            have[IDX[n]] = 1
    return want, have


def keller(G, steps):
    """Keller Jordan's quintic, float64, deliberately few steps: an inexact O."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (np.linalg.norm(G) + 1e-7)
    tr = X.shape[0] > X.shape[1]
    if tr:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tr else X


rng = np.random.default_rng(SEED)


def randn(m, n, scale=1.0):
    return rng.standard_normal((m, n)) * scale


def low_rank(m, n, k, scale=1.0):
    return randn(m, k) @ randn(k, n) * scale


def with_spectrum(m, n, s):
    Q1, _ = np.linalg.qr(randn(m, len(s)))
    Q2, _ = np.linalg.qr(randn(n, len(s)))
    return (Q1 * s) @ Q2.T


cases = {}


def case(name, W, dW=None, M=None, O=None, note=""):
    f = lambda x: None if x is None else np.asarray(x, np.float32)
    cases[name] = (f(W), f(dW), f(M), f(O), note)


# full-rank random shapes, tall and wide, with an inexact orthogonaliser output
G = randn(48, 32)
case("rand_tall", randn(48, 32, 0.02), randn(48, 32, 1e-3), G * 0.05, keller(G, 3),
     "random 48x32; O = 3 Keller steps")
G = randn(24, 64)
case("rand_wide", randn(24, 64), randn(24, 64, 0.1), G, keller(G, 2),
     "random 24x64; O = 2 Keller steps")
# a model-like step: W after = W before - lr*O, so dW is a scaled O
G = randn(64, 32)
O = keller(G, 5)
Wb = randn(64, 32, 0.02)
Wa = (Wb - 0.02 * O).astype(np.float32)
case("step_like", Wa, Wa - Wb.astype(np.float32), G * 0.05, O,
     "W after a Muon-like step, dW = W after - W before in float32")
# graded spectrum with clear gaps; dW shares part of W's top subspace
s = np.geomspace(1.0, 1e-3, 40)
W = with_spectrum(40, 40, s)
U, _, Vt = np.linalg.svd(W)
dW = (U[:, :3] * [1.0, 0.5, 0.25]) @ Vt[:3] * 0.1 + randn(40, 40, 0.002)
case("graded", W, dW, dW * 3 + randn(40, 40, 0.001), keller(dW, 4),
     "singular values geomspace(1, 1e-3, 40); dW partly in W's top subspace")
# spectrum with tiny values: entropy's p <= 1e-8 terms are dropped
s = np.array([3.0, 2.0, 1.0, 0.5] + [3e-5] * 12)
case("entropy_cut", with_spectrum(16, 20, s), randn(16, 20), None, None,
     "four large singular values and twelve with p ~ 1e-10")
# rank-deficient: rank 3 weight, rank 2 update (k = 5 > rank), rank 1 momentum
G = low_rank(64, 48, 3)
case("low_rank", low_rank(64, 48, 3), low_rank(64, 48, 2, 0.1), low_rank(64, 48, 1),
     keller(G, 3), "W rank 3, dW rank 2 (k > rank), M rank 1, O from a rank-3 G")
case("rank_one", low_rank(30, 20, 1), low_rank(30, 20, 1), randn(30, 20), randn(30, 20),
     "W and dW rank one: gap +inf")
# equal singular values: an orthogonal W (no dW: its top-5 subspace is not unique)
Q, _ = np.linalg.qr(randn(16, 16))
case("orthogonal", Q * 2.0, None, None, Q, "2*Q: gap 1, entropy 1, ortho error 0")
z = np.zeros((12, 8))
case("zero", z, z, z, z, "zero matrix everywhere")
case("zero_update", randn(12, 8), z, z, randn(12, 8), "zero dW and M: alignment NaN")
case("row", randn(1, 50), randn(1, 50), randn(1, 50), randn(1, 50), "1x50")
case("col", randn(50, 1), randn(50, 1), randn(50, 1), randn(50, 1), "50x1")
case("one", np.array([[-3.0]]), np.array([[0.5]]), np.array([[2.0]]), np.array([[1.0]]), "1x1")
case("static_only", randn(20, 30), None, None, None, "no update buffers: static metrics only")

out = {}
notes = []
for name, (W, dW, M, O, note) in cases.items():
    want, have = metrics(W, dW, M, O)
    out[name + ".W"] = W
    for key, x in (("dW", dW), ("M", M), ("O", O)):
        if x is not None:
            out[name + "." + key] = x
    out[name + ".want"] = want
    out[name + ".have"] = have
    notes.append(name + ": " + note)

meta = {"script": "tests/golden/gen_metrics.py", "seed": str(SEED),
        "dtype": "inputs float32, want float64 (NumPy/LAPACK svd)",
        "metrics": ",".join(METRICS), "cases": ",".join(cases), "notes": "; ".join(notes)}
meta.update(st.versions())
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.safetensors")
st.save(path, out, meta)
print("wrote", path, os.path.getsize(path), "bytes")
