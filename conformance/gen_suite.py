"""Generates the conformance suite conformance/suite/ (docs/conformance.md):
manifest.json and, per case, inputs.safetensors and expected.safetensors.

Every expected tensor is an independent float64 computation (NumPy for the
orthogonalisers, optimizers, schedule, clipping and metrics; PyTorch autograd
in float64 for the model) from the float32 inputs, stored rounded to float32
(verify reads float32; that rounding, <= 6e-8 relative, is far below every
tolerance). The bf16 cases are the exception: their expected values are the
bit-level bfloat16 emulation defined in docs/orthogonalizers.md#bf16-emulation,
computed here with NumPy float32/float64 arithmetic.

Deterministic: fixed seeds, sorted tensor names, no timestamps; running it
twice gives identical files. Run with /usr/bin/python3 (Debian's numpy and
torch); wired into `make golden` through tests/golden/gen_all.py."""
import json
import math
import os
import shutil
import sys
import zlib

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "tests", "golden"))
import st  # noqa: E402  (the golden scripts' safetensors writer)

FORMAT = "muon-conformance/1"
SUITE = os.path.join(here, "suite")
f32 = lambda x: float(np.float32(x))  # noqa: E731
torch.set_default_dtype(torch.float64)

PE = [(8.156554524902461, -22.48329292557795, 15.878769915207462),
      (4.042929935166739, -2.808917465908714, 0.5000178451051316),
      (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
      (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
      (2.3465413258596377, -1.7097828382687081, 0.42323551169305323)]
KELLER = [(3.4445, -4.7750, 2.0315)] * 5
NS = [(1.875, -1.25, 0.375)] * 5
ORTH = {  # name: (coefficients, safety, eps, doc anchor)
    "polar-express": (PE, 1.01, 1e-7, "docs/orthogonalizers.md#polar-express"),
    "polar-express-nanogpt": (PE, 1.02, 1e-6, "docs/orthogonalizers.md#polar-express-modded-nanogpt"),
    "keller": (KELLER, 1.0, 1e-7, "docs/orthogonalizers.md#keller"),
    "newton-schulz": (NS, 1.0, 1e-7, "docs/orthogonalizers.md#newton-schulz"),
    "svd": (None, None, None, "docs/orthogonalizers.md#svd"),
}
EPS32 = 2.0 ** -23

cases = []


def expect(name, value, rtol, atol, reason, doc):
    return {"name": name, "value": np.asarray(value, dtype=np.float64), "rtol": rtol,
            "atol": atol, "reason": reason, "doc": doc}


def add_case(cid, op, params, inputs, expected):
    cases.append({"id": cid, "op": op, "params": params, "inputs": inputs, "expected": expected})


def rng(seed):
    return np.random.default_rng(seed)


def as32(a):
    return np.array(a, dtype=np.float32, order="C")  # ascontiguousarray would make 0-d 1-d


# ---- orthogonalisers ---------------------------------------------------------

def orth_iterates64(G, coeffs, safety, eps):
    """[X0 (normalised), X1, ..., Xn] in G's orientation, float64."""
    X = G.astype(np.float64)
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    X = X / (safety * np.linalg.norm(X) + eps)
    out = [X]
    for a, b, c in coeffs:
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
        out.append(X)
    return [x.T if tall else x for x in out]


def orth_svd64(G):
    U, s, Vt = np.linalg.svd(G.astype(np.float64), full_matrices=False)
    keep = s > s[0] * max(G.shape) * EPS32 if s[0] > 0 else np.zeros_like(s, bool)
    return (U[:, keep] * 1.0) @ Vt[keep]


def bf16(x):
    """Round float32 values to bfloat16 (nearest, ties to even), as float32."""
    a = np.asarray(x, dtype=np.float32)
    u = np.atleast_1d(a).view(np.uint32).astype(np.uint64)
    u = (u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) & np.uint64(0xFFFF0000)
    return u.astype(np.uint32).view(np.float32).reshape(a.shape)


def mm_exact(A, B):
    """A matmul of bf16-valued float32 matrices: exact products, the sum in
    float64, rounded once to float32."""
    return (A.astype(np.float64) @ B.astype(np.float64)).astype(np.float32)


def orth_iterates_bf16(G, coeffs, safety, eps):
    X = as32(G)
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = np.ascontiguousarray(X.T)
    X = bf16(X)
    den = bf16(np.float32(np.sqrt(np.sum(X.astype(np.float64) ** 2))))
    if safety != 1.0:
        den = bf16(den * np.float32(safety))
    den = bf16(den + np.float32(eps))
    X = bf16(X / den)
    out = [X]
    for a, b, c in coeffs:
        a, b, c = np.float32(a), np.float32(b), np.float32(c)
        A = bf16(mm_exact(X, X.T))
        T = bf16(c * A)
        B = bf16(bf16(b * A) + bf16(mm_exact(T, A)))
        X = bf16(bf16(a * X) + bf16(mm_exact(B, X)))
        out.append(X)
    return [x.T if tall else x for x in out]


def orth_inputs():
    r = rng(9001)
    U, _ = np.linalg.qr(r.standard_normal((8, 8)))
    V, _ = np.linalg.qr(r.standard_normal((8, 8)))
    s = np.array([3.0, 1.5, 0.4, 0, 0, 0, 0, 0])
    return {
        "square": as32(r.standard_normal((8, 8))),
        "wide": as32(r.standard_normal((6, 10))),
        "tall": as32(r.standard_normal((10, 6))),
        "rankdef": as32((U * s) @ V.T),
        "tinynorm": as32(r.standard_normal((6, 6)) * 1e-7),
    }


# float32 tolerances of the iterates, from the float32 rounding (u = 6e-8) the
# polynomials amplify: p'(0) = a is 8.16 for the first Polar Express step and
# the product of the a's is ~990, so noise in directions with sigma near 0
# grows by up to 1e3 over five steps; atol per method below is that growth
# times u times a safety margin; rtol 0 since the values are O(1).
ORTH_ATOL = {"polar-express": 2e-5, "polar-express-nanogpt": 2e-5, "keller": 1e-5,
             "newton-schulz": 2e-6, "svd": 2e-6}
ORTH_RANKDEF_ATOL = 2e-4  # rank 3 of 8: the 5 zero directions carry float32 noise times ~990


def gen_orth():
    ins = orth_inputs()
    for method, (coeffs, safety, eps, doc) in ORTH.items():
        for shape, G in ins.items():
            cid = f"orth.{method}.{shape}.fp32"
            params = {"method": method, "precision": "fp32", "orientation":
                      "wide: a tall input (rows > cols) is transposed, iterated, transposed back; "
                      "iterates are reported in the input's orientation"}
            atol = ORTH_RANKDEF_ATOL if shape == "rankdef" else ORTH_ATOL[method]
            if shape == "tinynorm":
                atol = max(atol, 2e-5)
            if method == "svd":
                params["zero_rule"] = "singular values <= sigma_1 * max(rows, cols) * 2^-23 are dropped"
                exp = [expect("O", orth_svd64(G), 0, atol, "float32 GEMM of U and V^T (SVD in double): a few ulps of O(1) values", doc)]
            else:
                params.update({"steps": len(coeffs), "coefficients": [list(t) for t in coeffs],
                               "normalisation": {"norm": "frobenius", "safety": safety, "eps": eps,
                                                 "formula": "X0 = X / (safety * ||X||_F + eps)"}})
                its = orth_iterates64(G, coeffs, safety, eps)
                exp = [expect(f"X{k}", x, 0, atol if k else 1e-6,
                              "X0: float32 rounding of a normalised matrix" if k == 0 else
                              f"float32 GEMMs; the polynomial's slope (<= {max(t[0] for t in coeffs):.3g}) amplifies rounding each step",
                              doc) for k, x in enumerate(its)]
                exp.append(expect("O", its[-1], 0, atol, "the last iterate", doc))
            add_case(cid, "orthogonalize", params, {"G": G}, exp)
    # bf16: bit-level emulation of every polynomial method (svd has no bf16 form)
    for method in ("polar-express", "polar-express-nanogpt", "keller", "newton-schulz"):
        coeffs, safety, eps, _ = ORTH[method]
        for shape in ins:
            G = ins[shape]
            cid = f"orth.{method}.{shape}.bf16"
            its = orth_iterates_bf16(G, coeffs, safety, eps)
            params = {"method": method, "precision": "bf16", "steps": len(coeffs),
                      "coefficients": [list(t) for t in coeffs],
                      "normalisation": {"norm": "frobenius", "safety": safety, "eps": eps},
                      "emulation": "every tensor op rounded to bf16 (nearest, ties to even); matmul products "
                                   "exact, sums exact (float64) then rounded to float32 then bf16; python "
                                   "scalars as float32; B = b*A + (c*A)@A; on the wide orientation"}
            reason = ("bit-level bf16 emulation: equal bits expected; 1/256 relative (one bf16 ulp at most) "
                      "allows a rare sum rounded across a bf16 boundary by another summation order")
            exp = [expect(f"X{k}", x, 2.0 ** -8, 1e-6, reason, "docs/orthogonalizers.md#bf16-emulation")
                   for k, x in enumerate(its)]
            add_case(cid, "orthogonalize", params, {"G": G}, exp)


# ---- Muon, AdamW, schedule, clipping ------------------------------------------

def pe64(U):
    return orth_iterates64(U, PE, 1.01, 1e-7)[-1]


def muon_scale(kind, rows, cols):
    if kind == "moonlight":
        return 0.2 * math.sqrt(max(rows, cols))
    return math.sqrt(max(1.0, rows / cols))


def muon64(W, G, M, lr, mu, nesterov, wd, scale):
    W, G, M = (x.astype(np.float64) for x in (W, G, M))
    M2 = mu * M + (1 - mu) * G
    U = (1 - mu) * G + mu * M2 if nesterov else M2
    O = pe64(U)
    W2 = W * (1 - lr * wd) - lr * muon_scale(scale, *W.shape) * O
    return M2, U, O, W2 - W, W2


def gen_muon():
    doc = "docs/optimizers.md#muon"
    r = rng(9002)
    variants = [("nesterov.default.wide", (8, 12), True, "default", 0.0),
                ("nesterov.default.tall", (12, 8), True, "default", 0.0),
                ("plain.default.tall", (12, 8), False, "default", 0.0),
                ("nesterov.moonlight.tall", (12, 8), True, "moonlight", 0.0),
                ("nesterov.default.square.wd", (8, 8), True, "default", 0.1)]
    lr, mu = f32(0.02), f32(0.95)
    for name, shape, nest, scale, wd in variants:
        W = as32(0.1 * r.standard_normal(shape))
        G = as32(r.standard_normal(shape))
        M = as32(0.5 * r.standard_normal(shape))
        wd = f32(wd)
        M2, U, O, dW, W2 = muon64(W, G, M, lr, mu, nest, wd, scale)
        s = lr * muon_scale(scale, *shape)
        params = {"lr": lr, "momentum": mu, "nesterov": nest, "scale": scale, "weight_decay": wd,
                  "orth": "polar-express", "formula": "M' = mu M + (1-mu) G; U = (1-mu) G + mu M' "
                  "(nesterov) or M'; O = orth(U); W' = W (1 - lr wd) - lr scale O; dW = W' - W; "
                  "scale default sqrt(max(1, rows/cols)), moonlight 0.2 sqrt(max(rows, cols))"}
        exp = [expect("M", M2, 1e-6, 1e-7, "one float32 multiply-add per element", doc),
               expect("U", U, 1e-6, 1e-7, "one float32 multiply-add per element", doc),
               expect("O", O, 0, 2e-5, "polar-express in float32 (as orth.polar-express.*)", doc),
               expect("dW", dW, 0, 2e-5 * s + 1e-8, "lr*scale times O's error, plus W's rounding", doc),
               expect("W", W2, 1e-6, 2e-5 * s, "W's rounding plus dW's error", doc)]
        add_case(f"muon.{name}", "muon_step", params, {"W": W, "G": G, "M": M}, exp)


def adamw64(W, G, m, v, t, lr, b1, b2, eps, wd):
    W, G, m, v = (x.astype(np.float64) for x in (W, G, m, v))
    W1 = W * (1 - lr * wd)
    m2 = b1 * m + (1 - b1) * G
    v2 = b2 * v + (1 - b2) * G * G
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    W2 = W1 - (lr / bc1) * m2 / (np.sqrt(v2) / math.sqrt(bc2) + eps)
    return W2, m2, v2


def gen_adamw():
    doc = "docs/optimizers.md#adamw"
    r = rng(9003)
    lr, b1, b2, eps, wd = f32(1e-3), f32(0.9), f32(0.95), f32(1e-8), f32(0.1)
    for t in (1, 5):
        W, G = as32(0.1 * r.standard_normal((6, 5))), as32(r.standard_normal((6, 5)))
        g, gg = as32(1 + 0.1 * r.standard_normal(7)), as32(r.standard_normal(7))
        if t == 1:
            m, v, gm, gv = (np.zeros_like(x) for x in (W, W, g, g))
        else:
            m, v = as32(0.1 * r.standard_normal((6, 5))), as32(0.05 * r.random((6, 5)))
            gm, gv = as32(0.1 * r.standard_normal(7)), as32(0.05 * r.random(7))
        W2, m2, v2 = adamw64(W, G, m, v, t, lr, b1, b2, eps, wd)
        g2, gm2, gv2 = adamw64(g, gg, gm, gv, t, lr, b1, b2, eps, 0.0)
        params = {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps, "weight_decay": wd, "step": t,
                  "gain_weight_decay": 0.0,
                  "formula": "W <- W (1 - lr wd); m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2; "
                             "W <- W - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps) "
                             "(torch.optim.AdamW); the gain is stepped with weight decay 0"}
        tol = "a few float32 roundings per element; the step itself is ~lr"
        exp = [expect("W", W2, 1e-6, 1e-8, tol, doc), expect("m", m2, 1e-6, 1e-9, tol, doc),
               expect("v", v2, 1e-6, 1e-10, tol, doc), expect("gain", g2, 1e-6, 1e-8, tol, doc),
               expect("gain_m", gm2, 1e-6, 1e-9, tol, doc), expect("gain_v", gv2, 1e-6, 1e-10, tol, doc)]
        add_case(f"adamw.t{t}", "adamw_step", params,
                 {"W": W, "G": G, "m": m, "v": v, "gain": g, "gain_grad": gg, "gain_m": gm, "gain_v": gv}, exp)


def lr_mult(kind, step, warmup, total, floor):
    if warmup > 0 and step <= warmup:
        return step / warmup
    if kind == "constant" or total <= warmup:
        return 1.0
    p = (step - warmup) / (total - warmup)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p))


def gen_schedule():
    doc = "docs/optimizers.md#learning-rate-schedule"
    for kind, warmup, total, floor in (("cosine", 3, 12, 0.1), ("constant", 2, 6, 0.0)):
        mult = [lr_mult(kind, s, warmup, total, floor) for s in range(1, total + 1)]
        params = {"kind": kind, "warmup": warmup, "total": total, "floor": floor,
                  "formula": "step s = 1..total: s/warmup while s <= warmup (never 0 at step 1); then 1 "
                             "(constant) or floor + (1-floor)(1+cos(pi (s-warmup)/(total-warmup)))/2"}
        add_case(f"schedule.{kind}", "lr_schedule", params, {},
                 [expect("multiplier", mult, 1e-6, 1e-7, "float32 storage of a float64 formula", doc)])


def gen_clip():
    doc = "docs/optimizers.md#gradient-clipping"
    r = rng(9004)
    for name, scale in (("above", 1.0), ("below", 0.02)):
        g = [as32(scale * r.standard_normal(s)) for s in ((4, 6), (9,), (3, 3))]
        norm = math.sqrt(sum(float(np.sum(x.astype(np.float64) ** 2)) for x in g))
        coef = 1.0 / (norm + 1e-6) if norm > 1.0 else 1.0
        params = {"max_norm": 1.0, "formula": "norm = sqrt(sum of every g^2); if norm > max_norm: "
                                              "g *= max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_)"}
        exp = [expect("norm", norm, 1e-6, 0, "a float32 sum of squares (accumulated in double here)", doc)]
        exp += [expect(f"g{i}", x.astype(np.float64) * coef, 1e-6, 1e-9, "one float32 multiply", doc)
                for i, x in enumerate(g)]
        add_case(f"clip.{name}", "clip_grad_norm", params, {f"g{i}": x for i, x in enumerate(g)}, exp)


# ---- the model ----------------------------------------------------------------

def model_names(cfg):
    names = ["embed.weight"]
    for l in range(cfg["n_layers"]):
        p = f"layers.{l}."
        names += [p + "attn_norm.weight", p + "attn.q.weight", p + "attn.k.weight", p + "attn.v.weight",
                  p + "attn.o.weight", p + "attn.q_norm.weight", p + "attn.k_norm.weight",
                  p + "ffn_norm.weight", p + "ffn.up.weight", p + "ffn.down.weight"]
        if cfg["ffn"] == "swiglu":
            names.append(p + "ffn.gate.weight")
    names.append("norm.weight")
    if cfg["untied_head"]:
        names.append("head.weight")
    return names


def model_init(cfg, seed):
    r = rng(seed)
    C, HS = cfg["d_model"], cfg["d_model"] // cfg["n_heads"]
    NH, NKV, F, V = cfg["n_heads"], cfg["n_kv_heads"], cfg["d_ff"], cfg["vocab_size"]
    shapes = {"embed.weight": (V, C), "norm.weight": (C,), "head.weight": (V, C)}
    out = {}
    for n in model_names(cfg):
        if n in shapes:
            s = shapes[n]
        elif n.endswith("_norm.weight"):
            s = (HS,) if ("q_norm" in n or "k_norm" in n) else (C,)
        else:
            kind = n.split(".")[-2]
            s = {"q": (NH * HS, C), "k": (NKV * HS, C), "v": (NKV * HS, C), "o": (C, NH * HS),
                 "up": (F, C), "gate": (F, C), "down": (C, F)}[kind]
        if len(s) == 1:  # gains near 1, not exactly, so their gradients matter
            out[n] = as32(1 + 0.1 * r.standard_normal(s))
        else:
            out[n] = as32(0.02 * r.standard_normal(s) * (2.0 if n == "embed.weight" else 1.0))
    return out


def rms(x, g, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * g


def rope(x, T, base):
    hs = x.shape[-1]
    i = torch.arange(hs // 2, dtype=torch.float64)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * base ** (-2.0 * i / hs)[None, :]
    c, s = torch.cos(ang), torch.sin(ang)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


def forward64(P, cfg, tok, tgt):
    """Returns (block outputs, logits, loss); P: {name: float64 tensor}."""
    B, T = tok.shape
    C, NH, NKV, eps = cfg["d_model"], cfg["n_heads"], cfg["n_kv_heads"], cfg["norm_eps"]
    HS = C // NH
    x = P["embed.weight"][tok] * math.sqrt(C)
    blocks = []
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(cfg["n_layers"]):
        p = f"layers.{l}."
        h = rms(x, P[p + "attn_norm.weight"], eps)
        q = (h @ P[p + "attn.q.weight"].T).view(B, T, NH, HS).transpose(1, 2)
        k = (h @ P[p + "attn.k.weight"].T).view(B, T, NKV, HS).transpose(1, 2)
        v = (h @ P[p + "attn.v.weight"].T).view(B, T, NKV, HS).transpose(1, 2)
        q = rope(rms(q, P[p + "attn.q_norm.weight"], eps), T, cfg["rope_base"])
        k = rope(rms(k, P[p + "attn.k_norm.weight"], eps), T, cfg["rope_base"])
        k = k.repeat_interleave(NH // NKV, dim=1)
        v = v.repeat_interleave(NH // NKV, dim=1)
        a = (q @ k.transpose(-2, -1)) / math.sqrt(HS)
        a = a.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (a @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ P[p + "attn.o.weight"].T
        h = rms(x, P[p + "ffn_norm.weight"], eps)
        if cfg["ffn"] == "swiglu":
            f = torch.nn.functional.silu(h @ P[p + "ffn.gate.weight"].T) * (h @ P[p + "ffn.up.weight"].T)
        else:
            f = torch.relu(h @ P[p + "ffn.up.weight"].T) ** 2
        x = x + f @ P[p + "ffn.down.weight"].T
        blocks.append(x)
    x = rms(x, P["norm.weight"], eps)
    logits = x @ P["head.weight" if cfg["untied_head"] else "embed.weight"].T
    loss = torch.nn.functional.cross_entropy(logits.reshape(B * T, -1), tgt.reshape(-1))
    return blocks, logits, loss


def is_muon(name, shape):
    return len(shape) == 2 and name not in ("embed.weight", "head.weight")


def train_step64(P, S, cfg, opt, tok, tgt, step):
    """One full step in float64, in place on P (numpy arrays) and the state S."""
    T = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in P.items()}
    blocks, logits, loss = forward64(T, cfg, torch.tensor(tok), torch.tensor(tgt))
    loss.backward()
    G = {n: t.grad.numpy().copy() for n, t in T.items()}
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in G.values()))
    Gc = {n: g * (opt["clip"] / (norm + 1e-6)) if norm > opt["clip"] else g for n, g in G.items()}
    mult = lr_mult(opt["schedule"], step, opt["warmup"], opt["total"], opt["floor"])
    for n in P:
        w = P[n].astype(np.float64)
        if is_muon(n, w.shape):
            M2, U, O, dW, W2 = muon64(w, Gc[n], S["muon_m." + n], opt["lr"] * mult, opt["momentum"],
                                      opt["nesterov"], opt["weight_decay"], opt["scale"])
            S["muon_m." + n] = M2
        else:
            wd = 0.0 if w.ndim == 1 else opt["weight_decay"]
            W2, m2, v2 = adamw64(w, Gc[n], S["adam_m." + n], S["adam_v." + n], step,
                                 opt["adam_lr"] * mult, opt["beta1"], opt["beta2"], opt["eps"], wd)
            S["adam_m." + n], S["adam_v." + n] = m2, v2
        P[n] = W2
    return [b.detach().numpy() for b in blocks], logits.detach().numpy(), float(loss), G, norm


def zero_state(P):
    S = {}
    for n, w in P.items():
        if is_muon(n, w.shape):
            S["muon_m." + n] = np.zeros(w.shape)
        else:
            S["adam_m." + n], S["adam_v." + n] = np.zeros(w.shape), np.zeros(w.shape)
    return S


OPT = {"lr": f32(0.02), "adam_lr": f32(1e-3), "momentum": f32(0.95), "nesterov": True,
       "scale": "default", "weight_decay": f32(0.01), "beta1": f32(0.9), "beta2": f32(0.95),
       "eps": f32(1e-8), "clip": 1.0, "orth": "polar-express", "schedule": "constant",
       "warmup": 2, "total": 20, "floor": 0.0}
OPT_DOC = ("Muon (orth polar-express) on every 2-D matrix except embed/head; AdamW on embed, head "
           "(weight decay) and gains (no weight decay); gradients clipped by global norm first; "
           "lrs times the schedule's multiplier at this step")

TINY = dict(vocab_size=256, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, seq_len=16,
            batch_size=2, ffn="relu2", untied_head=0, merged_qkvo=0, rope_base=10000.0,
            norm_eps=1e-6, init_std=0.02)
SMALL = dict(TINY, vocab_size=128, d_model=48, n_layers=3, n_heads=4, n_kv_heads=2, d_ff=64,
             seq_len=24, batch_size=2, ffn="swiglu", untied_head=1)


def model_tols(cfg):
    return {"block": (1e-5, 1e-6), "logits": (1e-5, 1e-6), "loss": (1e-6, 0), "grad": (1e-4, 2e-8),
            "param": (1e-6, 1e-7), "state": (1e-4, 2e-9)}


def gen_model(name, cfg, seed):
    P = model_init(cfg, seed)
    r = rng(seed + 1)
    B, T, V = cfg["batch_size"], cfg["seq_len"], cfg["vocab_size"]
    seq = r.integers(0, V, size=(B, T + 1))
    tok, tgt = seq[:, :-1].astype(np.int64), seq[:, 1:].astype(np.int64)
    inputs = {"param." + n: v for n, v in P.items()}
    inputs["tokens"], inputs["targets"] = tok, tgt
    P64 = {n: v.astype(np.float64) for n, v in P.items()}
    S = zero_state(P64)
    blocks, logits, loss, G, norm = train_step64(P64, S, cfg, OPT, tok, tgt, 1)
    tl = model_tols(cfg)
    fd, bd = "docs/model.md#forward-pass", "docs/model.md#backward-pass"
    sd = "docs/optimizers.md#training-step"
    exp = [expect(f"block.{l}", b, *tl["block"], "float32 matmuls over C and T; RMSNorm and softmax in float32", fd)
           for l, b in enumerate(blocks)]
    exp.append(expect("logits", logits, *tl["logits"], "float32 matmul over C after the final norm", fd))
    exp.append(expect("loss", loss, *tl["loss"], "mean of B*T float32 log-sum-exps", fd))
    exp += [expect("grad." + n, G[n], *tl["grad"], "float32 backward: gradients sum over B*T rows; atol at 1e-6 of their scale", bd)
            for n in P]
    exp.append(expect("grad_norm", norm, 1e-5, 0, "sum of squares of every gradient", "docs/optimizers.md#gradient-clipping"))
    exp += [expect("param." + n, P64[n], *tl["param"], "W plus a step of ~lr: float32 rounding of W and the step's error", sd)
            if is_muon(n, P[n].shape) else
            expect("param." + n, P64[n], tl["param"][0], 1e-5, "AdamW's first step is ~lr g/(|g| + eps): where |g| is "
                   "near eps the float32 gradient's error moves it by a fraction of lr", sd)
            for n in P]
    exp += [expect(k, v, *tl["state"], "optimizer state from clipped float32 gradients", sd) for k, v in sorted(S.items())]
    params = {"config": cfg, "optim": OPT, "step": 1, "optim_rule": OPT_DOC,
              "outputs": "block.l = residual stream leaving block l (B,T,C); logits (B,T,V); loss (mean "
                         "cross-entropy); grad.<name> before clipping; grad_norm; param.<name> after the step; "
                         "muon_m/adam_m/adam_v.<name> the optimizer state after the step"}
    add_case(f"model.{name}", "model_step", params, inputs, exp)


def gen_trajectory():
    cfg = dict(TINY, vocab_size=64)
    P = model_init(cfg, 9100)
    r = rng(9101)
    B, T, V, n = cfg["batch_size"], cfg["seq_len"], cfg["vocab_size"], 20
    seq = r.integers(0, V, size=(n, B, T + 1))
    tok, tgt = seq[..., :-1].astype(np.int64), seq[..., 1:].astype(np.int64)
    inputs = {"param." + k: v for k, v in P.items()}
    inputs["tokens"], inputs["targets"] = tok, tgt
    P64 = {k: v.astype(np.float64) for k, v in P.items()}
    S = zero_state(P64)
    losses, keep = [], {}
    for s in range(1, n + 1):
        _, _, loss, _, _ = train_step64(P64, S, cfg, OPT, tok[s - 1], tgt[s - 1], s)
        losses.append(loss)
        if s in (1, 10, 20):
            keep[s] = {k: v.copy() for k, v in P64.items()}
    sd = "docs/optimizers.md#training-step"
    exp = [expect("loss", losses, 2e-6, 0, "float32 forward; later steps also carry the parameters' drift", sd)]
    for s in (1, 10, 20):
        atol = {1: 1e-7, 10: 2e-6, 20: 5e-6}[s]
        exp += [expect(f"step{s}.{k}", v, 1e-5, atol,
                       f"float32 rounding accumulated over {s} steps (Muon's orthogonaliser is Lipschutz in "
                       f"its input away from sigma = 0, so drift grows about linearly)", sd)
                for k, v in keep[s].items()]
    params = {"config": cfg, "optim": OPT, "steps": n, "optim_rule": OPT_DOC,
              "outputs": "loss (20,) before each step's update; stepS.<name> the parameters after step S"}
    add_case("trajectory.tiny", "trajectory", params, inputs, exp)


# ---- metrics ------------------------------------------------------------------

METRICS = (["sigma_max", "spectral_gap"] + [f"top_sv_{i}" for i in range(1, 11)] +
           ["stable_rank", "spectral_entropy", "ortho_error_weight", "alignment_left", "alignment_right",
            "update_rank", "subspace_efficiency", "ortho_error_update", "update_sv_min", "update_sv_max"])


def nrank(shape, s):
    return int(np.sum(s > max(shape) * EPS32 * s[0])) if len(s) and s[0] > 0 else 0


def ortho_error(s):
    if s[0] <= 0:
        return 1.0
    x = s / s[0]
    return float(np.sqrt(np.sum((x * x - 1) ** 2) / len(s)))


def metrics64(W, dW, M, O, k=5):
    W = W.astype(np.float64)
    shape, r = W.shape, min(W.shape)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    out = {"sigma_max": s[0]}
    s2 = s[1] if r >= 2 and nrank(shape, s) >= 2 else 0.0
    out["spectral_gap"] = s[0] / s2 if s2 > 0 else (math.inf if s[0] > 0 else math.nan)
    for i in range(10):
        out[f"top_sv_{i + 1}"] = s[i] if i < r else 0.0
    out["stable_rank"] = float(np.sum(W * W)) / s[0] ** 2 if s[0] > 0 else 0.0
    tot = float(np.sum(s * s))
    if tot > 0 and r > 1:
        p = s * s / tot
        p = p[p > 1e-8]
        out["spectral_entropy"] = float(-np.sum(p * np.log(p)) / math.log(r))
    else:
        out["spectral_entropy"] = 0.0
    out["ortho_error_weight"] = ortho_error(s)
    if dW is not None:
        Ud, sd, Vdt = np.linalg.svd(dW.astype(np.float64), full_matrices=False)
        kw, kd = min(k, r, nrank(shape, s)), min(k, r, nrank(shape, sd))
        if kw == 0 or kd == 0:
            al = ar = math.nan
        else:
            al = float(np.mean(np.linalg.svd(U[:, :kw].T @ Ud[:, :kd], compute_uv=False)))
            ar = float(np.mean(np.linalg.svd(Vt[:kw] @ Vdt[:kd].T, compute_uv=False)))
        out["alignment_left"], out["alignment_right"] = al, ar
    if M is not None:
        sm = np.linalg.svd(M.astype(np.float64), compute_uv=False)
        km = nrank(shape, sm)
        if km == 0:
            ur = 0.0
        else:
            q = sm[:km] / np.sum(sm[:km])
            ur = float(np.exp(-np.sum(q * np.log(q))))
        out["update_rank"] = ur
        if dW is not None:
            out["subspace_efficiency"] = out["alignment_left"] / ur if ur > 0 else math.nan
    if O is not None:
        so = np.linalg.svd(O.astype(np.float64), compute_uv=False)
        out["ortho_error_update"] = ortho_error(so)
        out["update_sv_min"], out["update_sv_max"] = so[-1], so[0]
    return out


METRIC_TOL = {"alignment_left": (1e-5, 1e-6), "alignment_right": (1e-5, 1e-6),
              "subspace_efficiency": (1e-5, 1e-7), "spectral_gap": (2e-6, 0)}
CONVENTIONS = {
    "sigma": "singular values descending, r = min(rows, cols)",
    "zero": "sigma_i <= max(rows, cols) * 2^-23 * sigma_1 counts as zero where a rank matters",
    "spectral_gap": "sigma_1/sigma_2; +inf when sigma_2 is zero or r = 1; NaN for the zero matrix",
    "top_sv_k": "sigma_k, zero-padded past r",
    "stable_rank": "||W||_F^2 / sigma_1^2; 0 for the zero matrix",
    "spectral_entropy": "-sum p ln p / ln r with p = sigma^2/sum sigma^2, terms p <= 1e-8 dropped; 0 when r = 1 or W = 0",
    "ortho_error": "||X^T X - I||_F / sqrt(r) on the small Gram side, X = W / sigma_1; 1 for the zero matrix",
    "alignment": "mean singular value of U_W[:, :k]^T U_dW[:, :k], k = min(5, rank W, rank dW); NaN when k = 0",
    "update_rank": "exp(-sum q ln q), q = sigma/sum sigma over the nonzero sigma of M; 0 for M = 0",
    "subspace_efficiency": "alignment_left / update_rank; NaN when update_rank = 0",
    "update_sv": "sigma_min and sigma_max of O",
    "non-finite": "an expected NaN or +inf passes only when the result is the same NaN or +inf",
}


def gen_metrics():
    r = rng(9005)

    def spectrum(m, n, s):
        Q1, _ = np.linalg.qr(r.standard_normal((m, len(s))))
        Q2, _ = np.linalg.qr(r.standard_normal((n, len(s))))
        return (Q1 * s) @ Q2.T

    W = spectrum(8, 12, np.array([4.0, 2.5, 1.8, 1.2, 0.9, 0.5, 0.3, 0.1]))
    cases_m = {
        "random": (W, W * 0.1 + 0.01 * spectrum(8, 12, np.array([3.0, 2.0, 1.5, 1.0, 0.7, 0.2, 0.1, 0.05])),
                   r.standard_normal((8, 12)), pe64(r.standard_normal((8, 12)))),
        "lowrank.tall": (spectrum(10, 6, np.array([2.0, 0.5])), spectrum(10, 6, np.array([1.0, 0.3, 0.1])),
                         spectrum(10, 6, np.array([1.0, 0.2])), None),
        "graded": (spectrum(8, 8, np.logspace(0, -4, 8)), None, None, None),
        "orthogonal": (spectrum(6, 6, np.ones(6)), None, None, spectrum(6, 6, np.ones(6))),
        "zero": (np.zeros((6, 5)), np.zeros((6, 5)), np.zeros((6, 5)), np.zeros((6, 5))),
        "row": (r.standard_normal((1, 7)), r.standard_normal((1, 7)), r.standard_normal((1, 7)), None),
        "col": (r.standard_normal((7, 1)), None, r.standard_normal((7, 1)), None),
    }
    for name, mats in cases_m.items():
        mats = [None if x is None else as32(x) for x in mats]
        W, dW, M, O = mats
        vals = metrics64(W, dW, M, O)
        inputs = {k: v for k, v in zip(("W", "dW", "M", "O"), mats) if v is not None}
        exp = []
        for m in METRICS:
            if m not in vals:
                continue
            rt, at = METRIC_TOL.get(m, (1e-6, 1e-7))
            doc = "docs/metrics.md#" + ("top_sv_k" if m.startswith("top_sv") else m)
            exp.append(expect(m, vals[m], rt, at, "SVD in double of the float32 inputs, result in float32"
                              if m not in METRIC_TOL else "subspace angles: error / singular-value gap", doc))
        add_case(f"metrics.{name}", "metrics", {"k": 5, "inputs": "W; dW (applied update), M (momentum), "
                 "O (orthogonaliser output) when present", "conventions": CONVENTIONS}, inputs, exp)


# ---- writing --------------------------------------------------------------------

def dtype_name(a):
    return {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]


def file_info(path):
    with open(path, "rb") as f:
        b = f.read()
    return {"bytes": len(b), "crc32": "%08x" % (zlib.crc32(b) & 0xFFFFFFFF)}


def write():
    if os.path.isdir(SUITE):
        shutil.rmtree(SUITE)
    os.makedirs(SUITE)
    man = {"format": FORMAT, "generator": "conformance/gen_suite.py",
           "versions": {k: v for k, v in st.versions().items()},
           "results": "one safetensors file (or a directory of them) holding, for every expected tensor, "
                      "a tensor named '<case id>/<name>' of the dtype and shape listed; see docs/conformance.md",
           "tolerance": "|got - want| <= atol + rtol * |want| per element; NaN/inf must match exactly",
           "cases": []}
    for c in cases:
        d = os.path.join(SUITE, c["id"])
        os.makedirs(d)
        ins = {k: (v if v.dtype == np.int64 else as32(v)) for k, v in c["inputs"].items()}
        exp = {e["name"]: as32(e["value"]) for e in c["expected"]}
        meta = {"case": c["id"], "generator": "conformance/gen_suite.py"}
        files = {}
        if ins:
            st.save(os.path.join(d, "inputs.safetensors"), ins, meta)
            files["inputs"] = dict(file_info(os.path.join(d, "inputs.safetensors")), path=c["id"] + "/inputs.safetensors")
        st.save(os.path.join(d, "expected.safetensors"), exp, meta)
        files["expected"] = dict(file_info(os.path.join(d, "expected.safetensors")), path=c["id"] + "/expected.safetensors")
        man["cases"].append({
            "id": c["id"], "op": c["op"], "params": c["params"], "files": files,
            "inputs": [{"name": k, "dtype": dtype_name(v), "shape": list(v.shape)} for k, v in sorted(ins.items())],
            "expected": [{"name": e["name"], "dtype": "F32", "shape": list(e["value"].shape), "rtol": e["rtol"],
                          "atol": e["atol"], "reason": e["reason"], "doc": e["doc"]} for e in c["expected"]]})
    with open(os.path.join(SUITE, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1, allow_nan=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fs in os.walk(SUITE) for fn in fs)
    print(f"  conformance/suite: {len(cases)} cases, "
          f"{sum(len(c['expected']) for c in cases)} expected tensors, {total} bytes")


if __name__ == "__main__":
    gen_orth()
    gen_muon()
    gen_adamw()
    gen_schedule()
    gen_clip()
    gen_model("tiny", TINY, 9010)
    gen_model("small", SMALL, 9020)
    gen_trajectory()
    gen_metrics()
    write()
