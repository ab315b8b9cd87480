"""Golden data for the SVD and the orthogonalisers (tests/test_svd.c, tests/test_orth.c).

Run with /usr/bin/python3 (Debian's NumPy) from the repository root:
    /usr/bin/python3 tests/golden/gen_linalg.py
Writes tests/golden/svd.safetensors and tests/golden/orth.safetensors.

Every input is drawn in float64 from a fixed seed and rounded to float32 (that
is what the C code receives); every reference is then computed in float64 from
those float32 values, so the only disagreement left is the C side's own error.

svd.safetensors, per case NAME (shape m x n, r = min(m, n)):
  NAME.A (m,n) F32 input; NAME.S (r) F64 singular values (numpy.linalg.svd =
  LAPACK dgesdd, descending); NAME.U (m,r), NAME.V (n,r) F32 singular vectors
  as columns (stored float32 to keep the file small; the tests only need them
  to ~1e-7).
orth.safetensors, per input NAME (rows x cols) and method M:
  NAME.G (rows,cols) F32 input; NAME.M (rows,cols) F32 = the float64 run of
  the same iteration as linalg/orth.c; NAME.M.sv F64 its singular values.
  M: polar_express, keller, newton_schulz (5 steps), newton_schulz10
  (10 steps), uvt (U V^T of G, the exact polar factor).
  NAME.M.bf16 (rows,cols) F32: PyTorch's bfloat16 run of polar_express,
  keller, newton_schulz, written as modded-nanogpt writes it, for the bf16
  emulation (MUON_ORTH_BF16); every value is a bf16 number.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

SEED = 20250601
HERE = os.path.dirname(os.path.abspath(__file__))


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float64).astype(np.float32)


# ---- SVD cases -------------------------------------------------------------

def svd_cases(rng):
    c = {}
    c["rand_40x25"] = f32(rng.standard_normal((40, 25)))
    c["rand_25x40"] = f32(rng.standard_normal((25, 40)))
    c["rand_64x64"] = f32(rng.standard_normal((64, 64)))
    # graded: A = B D, D spanning 1 .. 1e-4, condition ~1e4 * cond(B)
    b = rng.standard_normal((48, 32))
    c["graded_48x32"] = f32(b * np.logspace(0, -4, 32)[None, :])
    # wide graded, so the transposed path sees grading too
    b = rng.standard_normal((24, 36))
    c["graded_24x36"] = f32(np.logspace(0, -4, 24)[:, None] * b)
    # rank 3 in exact arithmetic; float32 rounding leaves sigma_4.. ~1e-7 sigma_1
    c["rank3_30x20"] = f32(rng.standard_normal((30, 3)) @ rng.standard_normal((3, 20)))
    c["zero_5x4"] = np.zeros((5, 4), dtype=np.float32)
    c["row_1x7"] = f32(rng.standard_normal((1, 7)))
    c["col_9x1"] = f32(rng.standard_normal((9, 1)))
    return c


# ---- orthogonalisers: the same iteration as linalg/orth.c, in float64 -------

POLAR_EXPRESS = [  # docs/orthogonalizers.md#polar-express, digits as in modded-nanogpt
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
]
KELLER = (3.4445, -4.7750, 2.0315)
NEWTON_SCHULZ = (1.875, -1.25, 0.375)


def iterate(g, triples, safety):
    x = g.astype(np.float64)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (safety * np.linalg.norm(x) + 1e-7)
    for a, b, c in triples:
        A = x @ x.T
        B = b * A + c * (A @ A)
        x = a * x + B @ x
    return x.T if tall else x


def iterate_torch_bf16(g, triples, safety):
    """modded-nanogpt's zeropower loop, verbatim apart from the table."""
    import torch
    X = torch.from_numpy(g).bfloat16()
    tall = X.size(-2) > X.size(-1)
    if tall:
        X = X.mT
    if safety != 1.0:
        X = X / (X.norm(dim=(-2, -1), keepdim=True) * safety + 1e-7)
    else:
        X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for a, b, c in triples:
        A = X @ X.mT
        B = b * A + c * A @ A
        X = a * X + B @ X
    if tall:
        X = X.mT
    return X.float().numpy()


def uvt(g):
    u, s, vt = np.linalg.svd(g.astype(np.float64), full_matrices=False)
    return u @ vt


def orth_inputs(rng):
    c = {}
    c["g_24x40"] = f32(rng.standard_normal((24, 40)))
    c["g_40x24"] = f32(rng.standard_normal((40, 24)))
    c["g_32x32"] = f32(rng.standard_normal((32, 32)))
    # a gradient-like spectrum: sigma from 1 down to 1e-3, log-spaced
    q1, _ = np.linalg.qr(rng.standard_normal((32, 32)))
    q2, _ = np.linalg.qr(rng.standard_normal((48, 32)))
    c["decay_32x48"] = f32((q1 * np.logspace(0, -3, 32)[None, :]) @ q2.T)
    return c


def main():
    rng = np.random.default_rng(SEED)
    meta = {"script": "tests/golden/gen_linalg.py", "seed": str(SEED),
            "generator": "numpy.random.default_rng", "input_dtype": "float32",
            "reference_dtype": "float64 (the .bf16 tensors: torch bfloat16 on CPU)",
            "svd": "numpy.linalg.svd (LAPACK dgesdd)"}
    meta.update(st.versions())

    t = {}
    for name, a in svd_cases(rng).items():
        u, s, vt = np.linalg.svd(a.astype(np.float64), full_matrices=False)
        t[name + ".A"] = a
        t[name + ".S"] = s
        t[name + ".U"] = f32(u)
        t[name + ".V"] = f32(vt.T)
    st.save(os.path.join(HERE, "svd.safetensors"), t, meta)

    t = {}
    for name, g in orth_inputs(rng).items():
        t[name + ".G"] = g
        outs = {"polar_express": iterate(g, POLAR_EXPRESS, 1.01),
                "keller": iterate(g, [KELLER] * 5, 1.0),
                "newton_schulz": iterate(g, [NEWTON_SCHULZ] * 5, 1.0),
                "newton_schulz10": iterate(g, [NEWTON_SCHULZ] * 10, 1.0),
                "uvt": uvt(g)}
        for m, o in outs.items():
            t[name + "." + m] = f32(o)
            t[name + "." + m + ".sv"] = np.linalg.svd(o, compute_uv=False)
        bf = {"polar_express": iterate_torch_bf16(g, POLAR_EXPRESS, 1.01),
              "keller": iterate_torch_bf16(g, [KELLER] * 5, 1.0),
              "newton_schulz": iterate_torch_bf16(g, [NEWTON_SCHULZ] * 5, 1.0)}
        for m, o in bf.items():
            t[name + "." + m + ".bf16"] = np.ascontiguousarray(o, dtype=np.float32)
    st.save(os.path.join(HERE, "orth.safetensors"), t, meta)


if __name__ == "__main__":
    main()
