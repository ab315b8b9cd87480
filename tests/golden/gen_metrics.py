"""Golden values for the spectral metrics (docs/metrics.md, metrics/spectral.c).

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
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "metrics.safetensors")
st.save(path, out, meta)
print("wrote", path, os.path.getsize(path), "bytes")

# `muon analyze` end to end: two checkpoints of a 2-layer SwiGLU model with
# Hugging Face names (as PyTorch's save_file writes them), the second one step
# of updates later, plus tensors analyze must skip (norms, embedding, head)
# or report (an unrecognised 2-D tensor). Expected: static metrics of each
# matrix, alignments of checkpoint 1 with dW = W1 - W0 (float32 subtraction).
C, KV, F, V = 16, 8, 32, 64
shapes = {"q": ("self_attn.q_proj", (C, C)), "k": ("self_attn.k_proj", (KV, C)),
          "v": ("self_attn.v_proj", (KV, C)), "o": ("self_attn.o_proj", (C, C)),
          "up": ("mlp.up_proj", (F, C)), "down": ("mlp.down_proj", (C, F)),
          "gate": ("mlp.gate_proj", (F, C))}
ck = [{}, {}]
expect = {}
for layer in range(2):
    for kind, (hf, shp) in shapes.items():
        name = "model.layers.%d.%s.weight" % (layer, hf)
        W0 = randn(*shp, 0.02).astype(np.float32)
        W1 = (W0 - 0.01 * keller(randn(*shp), 5)).astype(np.float32)
        ck[0][name], ck[1][name] = W0, W1
        for c, (W, dW) in enumerate(((W0, None), (W1, W1 - W0))):
            want, have = metrics(W, dW, None, None)
            expect["%d.%d.%s.want" % (c, layer, kind)] = want
            expect["%d.%d.%s.have" % (c, layer, kind)] = have
    for c in range(2):
        ck[c]["model.layers.%d.input_layernorm.weight" % layer] = np.ones(C, np.float32)
        ck[c]["model.layers.%d.post_attention_layernorm.weight" % layer] = np.ones(C, np.float32)
for c in range(2):
    ck[c]["model.embed_tokens.weight"] = randn(V, C, 0.02).astype(np.float32)
    ck[c]["model.norm.weight"] = np.ones(C, np.float32)
    ck[c]["lm_head.weight"] = randn(V, C, 0.02).astype(np.float32)
    ck[c]["model.layers.0.mlp.router.weight"] = randn(4, C).astype(np.float32)
    st.save(os.path.join(here, "analyze_hf_%d.safetensors" % c), ck[c],
            {"script": "tests/golden/gen_metrics.py", "seed": str(SEED), "format": "pt"})
st.save(os.path.join(here, "analyze_expect.safetensors"), expect,
        dict(meta, notes="expected metrics of analyze_hf_{0,1}: '<ckpt>.<layer>.<kind>.want/.have'"))
print("wrote analyze_hf_0/1 and analyze_expect.safetensors")


# A short `tiny` training run of ./muon (built first), re-computed by NumPy
# from its saved checkpoints (docs/metrics.md): three Muon steps with
# checkpoints after steps 1, 2 and 3 (--stop-after, then --resume, so it is one
# run). For each step t and tracked matrix, NumPy recomputes from the
# checkpoints alone: W_t; M_t = the saved momentum; dW = W_t - W_{t-1}
# (t >= 2: the init W_0 is not saved); and O = polar-express(U) in float64
# with U = (1+mu) M_t - mu M_{t-1}, the Nesterov blend recovered from
# consecutive momenta (M_0 = 0). tests/test_metrics.c re-runs the same three
# commands and compares the metrics.csv it writes with these values.
import shutil
import subprocess
import tempfile

RUN_ARGS = ["--model", "tiny", "--steps", "3", "--track-every", "1", "--ckpt-every", "1",
            "--eval-every", "0", "--log-every", "0", "--seed", "5", "--orth", "polar-express",
            "--momentum", "0.95", "--lr", "0.02", "--warmup", "20", "--schedule", "cosine", "--clip", "1"]
MU = 0.95
PE = [(8.156554524902461, -22.48329292557795, 15.878769915207462),
      (4.042929935166739, -2.808917465908714, 0.5000178451051316),
      (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
      (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
      (2.3465413258596377, -1.7097828382687081, 0.42323551169305323)]


def polar_express(G):
    X = G / (1.01 * np.linalg.norm(G) + 1e-7)
    tr = X.shape[0] > X.shape[1]
    if tr:
        X = X.T
    for a, b, c in PE:
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tr else X


def run_check():
    root = os.path.dirname(os.path.dirname(here))
    subprocess.run(["make", "-s", "muon"], cwd=root, check=True)
    muon = os.path.join(root, "muon")
    tmp = tempfile.mkdtemp()
    ckpts = []
    try:
        out = os.path.join(tmp, "run")
        ck = os.path.join(out, "checkpoint.safetensors")
        for t in (1, 2, 3):
            cmd = [muon, "train"] + RUN_ARGS + ["--out", out]
            if t > 1:
                cmd += ["--resume", ck]
            if t < 3:
                cmd += ["--stop-after", str(t)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            ckpts.append(st.load(ck)[0])
        logged = open(os.path.join(out, "metrics.csv")).read()
    finally:
        shutil.rmtree(tmp)
    cfg_kinds = ["attn.q", "attn.k", "attn.v", "attn.o", "ffn.up", "ffn.down"]
    res = {}
    worst = {}
    rows = {}
    for line in logged.splitlines()[1:]:
        step, layer, mat, met, val = line.split(",")
        rows[(int(step), int(layer), mat, met)] = float(val)
    for t in (1, 2, 3):
        cur = ckpts[t - 1]
        for layer in range(2):
            for kind in cfg_kinds:
                name = "layers.%d.%s.weight" % (layer, kind)
                W = cur[name]
                M = cur["optim.muon_momentum." + name]
                Mp = ckpts[t - 2]["optim.muon_momentum." + name] if t > 1 else np.zeros_like(M)
                dW = W - ckpts[t - 2][name] if t > 1 else None
                U = (1 + MU) * M.astype(np.float64) - MU * Mp.astype(np.float64)
                O = polar_express(U)
                want, have = metrics(W, dW, M, None)
                so = np.linalg.svd(O, compute_uv=False)
                want[IDX["ortho_error_update"]] = ortho_error(so)
                want[IDX["update_sv_min"]], want[IDX["update_sv_max"]] = so[-1], so[0]
                for n in ("ortho_error_update", "update_sv_min", "update_sv_max"):
                    have[IDX[n]] = 1
                short = kind.split(".")[1]
                res["%d.%d.%s.want" % (t, layer, short)] = want
                res["%d.%d.%s.have" % (t, layer, short)] = have
                for i, n in enumerate(METRICS):
                    if have[i] and np.isfinite(want[i]):
                        d = abs(rows[(t, layer, short, n)] - want[i])
                        worst[n] = max(worst.get(n, 0.0), d)
    print("run check: the golden run's own metrics.csv vs NumPy, max abs err per metric:")
    for n in METRICS:
        if n in worst:
            print("  %-20s %.2e" % (n, worst[n]))
    st.save(os.path.join(here, "metrics_run.safetensors"), res,
            dict(meta, notes="tiny run re-computed from its checkpoints: '<step>.<layer>.<kind>.want/.have'",
                 run_args=" ".join(RUN_ARGS), momentum=str(MU), orth="polar-express float64"))
    print("wrote metrics_run.safetensors")


run_check()
