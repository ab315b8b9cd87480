"""A plain PyTorch (float32) backend for the muon conformance suite: the
worked example of docs/conformance.md.

It is written from the manifest's parameters and the docs (docs/optimizers.md,
docs/orthogonalizers.md, docs/model.md, docs/metrics.md), not from muon's C,
and runs every case of SUITE, writing RESULTS for `muon verify`:

    /usr/bin/python3 conformance/adapters/torch_adapter.py conformance/suite --out results.safetensors
    ./muon verify conformance/suite results.safetensors

--inject FAULT plants one of the known failures of public Muon
implementations, so `muon verify` can be seen catching it (`--list-faults`)."""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

FAULTS = {
    "no-orth": "the orthogonaliser is skipped in the Muon step: O = U (plain SGD-momentum)",
    "no-nesterov": "Nesterov off where it is on: U = M",
    "scale-no-sqrt": "Muon scale max(1, rows/cols) without the square root",
    "tall-no-transpose": "the orthogonaliser iterates on a tall matrix as it is (X X^T is rows x rows)",
    "spectral-norm": "normalise by the spectral norm instead of the Frobenius norm",
    "zero-lr-first-step": "the warmup starts at 0: lr multiplier (s-1)/warmup, so step 1 does nothing",
    "bf16-for-fp32": "bf16 arithmetic where fp32 is expected",
    "no-clip": "gradients are not clipped",
}
fault = None
F32 = torch.float32
EPS32 = 2.0 ** -23

# Every orthogonaliser by name (docs/orthogonalizers.md): coefficient table and
# the normalisation X / (safety * ||X||_F + eps).
PE = [(8.156554524902461, -22.48329292557795, 15.878769915207462),
      (4.042929935166739, -2.808917465908714, 0.5000178451051316),
      (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
      (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
      (2.3465413258596377, -1.7097828382687081, 0.42323551169305323)]
METHODS = {"polar-express": (PE, 1.01, 1e-7), "polar-express-nanogpt": (PE, 1.02, 1e-6),
           "keller": ([(3.4445, -4.7750, 2.0315)] * 5, 1.0, 1e-7),
           "newton-schulz": ([(1.875, -1.25, 0.375)] * 5, 1.0, 1e-7)}


def t32(x):
    return torch.from_numpy(np.asarray(x, dtype=np.float32).copy())


def s32(x):
    return torch.tensor(float(x), dtype=F32)


# ---- orthogonalisers -------------------------------------------------------------

def orth_svd(G):
    U, S, Vh = torch.linalg.svd(G.double(), full_matrices=False)
    keep = S > S[0] * max(G.shape) * EPS32 if S[0] > 0 else torch.zeros_like(S, dtype=torch.bool)
    return (U[:, keep] @ Vh[keep]).float()


def iterate_fp32(G, coeffs, safety, eps):
    X = G.clone()
    tall = X.shape[0] > X.shape[1] and fault != "tall-no-transpose"
    if tall:
        X = X.T
    norm = torch.linalg.matrix_norm(X.double(), ord=2) if fault == "spectral-norm" else torch.linalg.norm(X.double())
    X = X / float(safety * float(norm) + eps)
    its = [X]
    for a, b, c in coeffs:
        A = X @ X.T
        B = s32(b) * A + s32(c) * (A @ A)
        X = s32(a) * X + B @ X
        its.append(X)
    return [x.T.contiguous() if tall else x for x in its]


def bf(x):
    return x.to(torch.bfloat16).to(F32)


def mm_f32(A, B):
    """A float32 matmul (float32 accumulation, as a GPU's bf16 tensor cores do)
    of bf16-valued inputs; the caller rounds the result to bf16 once. Not
    torch's own bf16 matmul: PyTorch 1.13 on the CPU accumulates in bf16
    (measured: half of an 8x10 @ 10x8 product off, by up to 50%)."""
    return A @ B


def iterate_bf16(G, coeffs, safety, eps):
    """docs/orthogonalizers.md#bf16-emulation: every op rounded to bf16 once."""
    X = G.clone()
    tall = X.shape[0] > X.shape[1] and fault != "tall-no-transpose"
    if tall:
        X = X.T.contiguous()
    X = bf(X)
    if fault == "spectral-norm":
        den = bf(torch.linalg.matrix_norm(X.double(), ord=2).float())
    else:
        den = bf(torch.linalg.norm(X.double()).float())
    if safety != 1.0:
        den = bf(den * s32(safety))
    den = bf(den + s32(eps))
    X = bf(X / den)
    its = [X]
    for a, b, c in coeffs:
        A = bf(mm_f32(X, X.T))
        B = bf(bf(s32(b) * A) + bf(mm_f32(bf(s32(c) * A), A)))
        X = bf(bf(s32(a) * X) + bf(mm_f32(B, X)))
        its.append(X)
    return [x.T.contiguous() if tall else x for x in its]


def orth_iterates(G, method, precision="fp32"):
    if method == "svd":
        return [orth_svd(G)]
    coeffs, safety, eps = METHODS[method]
    bf16 = precision == "bf16" or fault == "bf16-for-fp32"
    return (iterate_bf16 if bf16 else iterate_fp32)(G, coeffs, safety, eps)


def run_orth(p, ins):
    its = orth_iterates(t32(ins["G"]), p["method"], p["precision"])
    out = {f"X{k}": x for k, x in enumerate(its)} if p["method"] != "svd" else {}
    out["O"] = its[-1]
    return out


# ---- optimizers ----------------------------------------------------------------------

def muon_scale(kind, rows, cols):
    if kind == "moonlight":
        return 0.2 * math.sqrt(max(rows, cols))
    r = max(1.0, rows / cols)
    return r if fault == "scale-no-sqrt" else math.sqrt(r)


def muon_step(W, G, M, lr, mu, nesterov, wd, scale, orth="polar-express"):
    """docs/optimizers.md#muon; returns (M', U, O, dW, W')."""
    M2 = s32(mu) * M + s32(1 - mu) * G
    U = s32(1 - mu) * G + s32(mu) * M2 if nesterov and fault != "no-nesterov" else M2.clone()
    O = U.clone() if fault == "no-orth" else orth_iterates(U, orth)[-1]
    W2 = W * s32(1 - lr * wd) + s32(-lr * muon_scale(scale, *W.shape)) * O
    return M2, U, O, W2 - W, W2


def run_muon(p, ins):
    M2, U, O, dW, W2 = muon_step(t32(ins["W"]), t32(ins["G"]), t32(ins["M"]), p["lr"], p["momentum"],
                                 p["nesterov"], p["weight_decay"], p["scale"], p["orth"])
    return {"M": M2, "U": U, "O": O, "dW": dW, "W": W2}


def adamw_step(W, G, m, v, t, lr, b1, b2, eps, wd):
    """torch.optim.AdamW's update (docs/optimizers.md#adamw)."""
    W = W * s32(1 - lr * wd)
    m = s32(b1) * m + s32(1 - b1) * G
    v = s32(b2) * v + s32(1 - b2) * G * G
    denom = v.sqrt() / s32(math.sqrt(1 - b2 ** t)) + s32(eps)
    return W - s32(lr / (1 - b1 ** t)) * (m / denom), m, v


def run_adamw(p, ins):
    out = {}
    for pre, wd in (("", p["weight_decay"]), ("gain", p["gain_weight_decay"])):
        w, g, m, v = (("W", "G", "m", "v") if not pre else ("gain", "gain_grad", "gain_m", "gain_v"))
        W2, m2, v2 = adamw_step(t32(ins[w]), t32(ins[g]), t32(ins[m]), t32(ins[v]), p["step"], p["lr"],
                                p["beta1"], p["beta2"], p["eps"], wd)
        out.update({w: W2, m: m2, v: v2})
    return out


def lr_mult(kind, step, warmup, total, floor):
    """docs/optimizers.md#learning-rate-schedule."""
    if warmup > 0 and step <= warmup:
        return (step - 1) / warmup if fault == "zero-lr-first-step" else step / warmup
    if kind == "constant" or total <= warmup:
        return 1.0
    prog = (step - warmup) / (total - warmup)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * prog))


def run_schedule(p, ins):
    return {"multiplier": torch.tensor([lr_mult(p["kind"], s, p["warmup"], p["total"], p["floor"])
                                        for s in range(1, p["total"] + 1)])}


def clip(grads, max_norm):
    """docs/optimizers.md#gradient-clipping, on a list of tensors (in place); returns the norm."""
    norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    if norm > max_norm and fault != "no-clip":
        for g in grads:
            g.mul_(s32(max_norm / (norm + 1e-6)))
    return norm


def run_clip(p, ins):
    gs = [t32(ins[f"g{i}"]) for i in range(len(ins))]
    norm = clip(gs, p["max_norm"])
    out = {f"g{i}": g for i, g in enumerate(gs)}
    out["norm"] = torch.tensor(norm)
    return out


# ---- the model (docs/model.md) -------------------------------------------------------

def rmsnorm(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rotary(x, base):
    T, hs = x.shape[-2], x.shape[-1]
    inv = base ** (-2.0 * np.arange(hs // 2) / hs)
    ang = np.arange(T)[:, None] * inv[None, :]
    cos, sin = t32(np.cos(ang)), t32(np.sin(ang))
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), -1).flatten(-2)


def model_forward(P, cfg, tokens, targets):
    B, T = tokens.shape
    C, NH, NKV, eps = cfg["d_model"], cfg["n_heads"], cfg["n_kv_heads"], cfg["norm_eps"]
    hs = C // NH
    x = P["embed.weight"][tokens] * math.sqrt(C)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    blocks = []
    for l in range(cfg["n_layers"]):
        L = lambda n: P[f"layers.{l}.{n}.weight"]  # noqa: E731
        h = rmsnorm(x, L("attn_norm"), eps)
        q = (h @ L("attn.q").T).view(B, T, NH, hs).transpose(1, 2)
        k = (h @ L("attn.k").T).view(B, T, NKV, hs).transpose(1, 2)
        v = (h @ L("attn.v").T).view(B, T, NKV, hs).transpose(1, 2)
        q = rotary(rmsnorm(q, L("attn.q_norm"), eps), cfg["rope_base"])
        k = rotary(rmsnorm(k, L("attn.k_norm"), eps), cfg["rope_base"])
        g = NH // NKV
        k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hs)
        att = torch.softmax(s.masked_fill(~causal, float("-inf")), -1) @ v
        x = x + att.transpose(1, 2).reshape(B, T, C) @ L("attn.o").T
        h = rmsnorm(x, L("ffn_norm"), eps)
        if cfg["ffn"] == "swiglu":
            a = torch.nn.functional.silu(h @ L("ffn.gate").T) * (h @ L("ffn.up").T)
        else:
            a = torch.relu(h @ L("ffn.up").T).square()
        x = x + a @ L("ffn.down").T
        blocks.append(x)
    head = P["head.weight"] if cfg["untied_head"] else P["embed.weight"]
    logits = rmsnorm(x, P["norm.weight"], eps) @ head.T
    loss = torch.nn.functional.cross_entropy(logits.view(B * T, -1), targets.reshape(-1))
    return blocks, logits, loss


class Trainer:
    """Muon on every 2-D matrix but embed/head, AdamW on the rest (docs/optimizers.md#training-step)."""

    def __init__(self, P, cfg, opt):
        self.P = {n: t32(v).requires_grad_(True) for n, v in P.items()}
        self.cfg, self.opt = cfg, opt
        self.state = {}
        for n, w in self.P.items():
            if self.is_muon(n, w):
                self.state["muon_m." + n] = torch.zeros_like(w, requires_grad=False)
            else:
                self.state["adam_m." + n] = torch.zeros_like(w, requires_grad=False)
                self.state["adam_v." + n] = torch.zeros_like(w, requires_grad=False)

    @staticmethod
    def is_muon(name, w):
        return w.dim() == 2 and name not in ("embed.weight", "head.weight")

    def step(self, tokens, targets, step):
        o = self.opt
        for w in self.P.values():
            w.grad = None
        blocks, logits, loss = model_forward(self.P, self.cfg, torch.from_numpy(tokens), torch.from_numpy(targets))
        loss.backward()
        grads = {n: w.grad.detach().clone() for n, w in self.P.items()}
        clipped = {n: g.clone() for n, g in grads.items()}
        norm = clip(list(clipped.values()), o["clip"])
        mult = lr_mult(o["schedule"], step, o["warmup"], o["total"], o["floor"])
        with torch.no_grad():
            for n, w in self.P.items():
                if self.is_muon(n, w):
                    M2, _, _, _, W2 = muon_step(w.detach(), clipped[n], self.state["muon_m." + n], o["lr"] * mult,
                                                o["momentum"], o["nesterov"], o["weight_decay"], o["scale"], o["orth"])
                    self.state["muon_m." + n] = M2
                else:
                    wd = 0.0 if w.dim() == 1 else o["weight_decay"]
                    W2, m2, v2 = adamw_step(w.detach(), clipped[n], self.state["adam_m." + n],
                                            self.state["adam_v." + n], step, o["adam_lr"] * mult,
                                            o["beta1"], o["beta2"], o["eps"], wd)
                    self.state["adam_m." + n], self.state["adam_v." + n] = m2, v2
                w.copy_(W2)
        return blocks, logits, loss, grads, norm


def params_of(ins):
    return {k[len("param."):]: v for k, v in ins.items() if k.startswith("param.")}


def run_model(p, ins):
    tr = Trainer(params_of(ins), p["config"], p["optim"])
    blocks, logits, loss, grads, norm = tr.step(ins["tokens"], ins["targets"], p["step"])
    out = {f"block.{l}": b for l, b in enumerate(blocks)}
    out.update({"logits": logits, "loss": loss, "grad_norm": torch.tensor(norm)})
    out.update({"grad." + n: g for n, g in grads.items()})
    out.update({"param." + n: w for n, w in tr.P.items()})
    out.update(tr.state)
    return out


def run_trajectory(p, ins):
    tr = Trainer(params_of(ins), p["config"], p["optim"])
    losses, out = [], {}
    for s in range(1, p["steps"] + 1):
        _, _, loss, _, _ = tr.step(ins["tokens"][s - 1], ins["targets"][s - 1], s)
        losses.append(float(loss))
        if s in (1, 10, 20):
            out.update({f"step{s}.{n}": w.detach().clone() for n, w in tr.P.items()})
    out["loss"] = torch.tensor(losses)
    return out


# ---- metrics (docs/metrics.md) ---------------------------------------------------

def run_metrics(p, ins):
    k = p["k"]
    W = t32(ins["W"]).double()
    shape, r = W.shape, min(W.shape)

    def svd(A):
        return torch.linalg.svd(A, full_matrices=False)

    def rank(s):
        return int((s > max(shape) * EPS32 * s[0]).sum()) if s[0] > 0 else 0

    def flatness(s):
        return 1.0 if s[0] <= 0 else float(torch.sqrt(((s / s[0]) ** 2 - 1).pow(2).sum() / len(s)))

    U, s, Vh = svd(W)
    out = {"sigma_max": s[0]}
    s2 = s[1] if r >= 2 and rank(s) >= 2 else 0.0
    out["spectral_gap"] = s[0] / s2 if s2 > 0 else (math.inf if s[0] > 0 else math.nan)
    for i in range(10):
        out[f"top_sv_{i + 1}"] = s[i] if i < r else 0.0
    out["stable_rank"] = float((W * W).sum() / s[0] ** 2) if s[0] > 0 else 0.0
    pr = s * s / (s * s).sum() if s[0] > 0 else s
    pr = pr[pr > 1e-8]
    out["spectral_entropy"] = float(-(pr * pr.log()).sum() / math.log(r)) if s[0] > 0 and r > 1 else 0.0
    out["ortho_error_weight"] = flatness(s)
    if "dW" in ins:
        Ud, sd, Vdh = svd(t32(ins["dW"]).double())
        kw, kd = min(k, rank(s)), min(k, rank(sd))
        if kw and kd:
            out["alignment_left"] = float(torch.linalg.svdvals(U[:, :kw].T @ Ud[:, :kd]).mean())
            out["alignment_right"] = float(torch.linalg.svdvals(Vh[:kw] @ Vdh[:kd].T).mean())
        else:
            out["alignment_left"] = out["alignment_right"] = math.nan
    if "M" in ins:
        sm = torch.linalg.svdvals(t32(ins["M"]).double())
        km = rank(sm)
        q = sm[:km] / sm[:km].sum()
        out["update_rank"] = float(torch.exp(-(q * q.log()).sum())) if km else 0.0
        if "dW" in ins:
            ur = out["update_rank"]
            out["subspace_efficiency"] = out["alignment_left"] / ur if ur > 0 else math.nan
    if "O" in ins:
        so = torch.linalg.svdvals(t32(ins["O"]).double())
        out["ortho_error_update"], out["update_sv_min"], out["update_sv_max"] = flatness(so), so[-1], so[0]
    return {n: torch.tensor(float(v)) for n, v in out.items()}


OPS = {"orthogonalize": run_orth, "muon_step": run_muon, "adamw_step": run_adamw, "lr_schedule": run_schedule,
       "clip_grad_norm": run_clip, "model_step": run_model, "trajectory": run_trajectory, "metrics": run_metrics}


def main():
    global fault
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite", nargs="?", default="conformance/suite")
    ap.add_argument("--out", default="torch_results.safetensors")
    ap.add_argument("--inject", choices=sorted(FAULTS), help="plant one known fault")
    ap.add_argument("--list-faults", action="store_true")
    a = ap.parse_args()
    if a.list_faults:
        for k, v in FAULTS.items():
            print(f"{k:20s} {v}")
        return
    fault = a.inject
    torch.set_num_threads(1)
    with open(os.path.join(a.suite, "manifest.json")) as f:
        man = json.load(f)
    if man["format"] != "muon-conformance/1":
        sys.exit(f"torch_adapter: suite format {man['format']} is not muon-conformance/1")
    results = {}
    for case in man["cases"]:
        ins = st_io.load(os.path.join(a.suite, case["files"]["inputs"]["path"])) if "inputs" in case["files"] else {}
        out = OPS[case["op"]](case["params"], ins)
        for e in case["expected"]:
            results[f"{case['id']}/{e['name']}"] = out[e["name"]].detach().to(F32).numpy().reshape(e["shape"])
    st_io.save(a.out, results, {"backend": f"torch {torch.__version__} (conformance/adapters/torch_adapter.py)",
                                "fault": fault or "none"})
    print(f"torch_adapter: {len(results)} tensors of {len(man['cases'])} cases -> {a.out}"
          + (f" (fault injected: {fault})" if fault else ""))


if __name__ == "__main__":
    main()
