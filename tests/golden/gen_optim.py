"""Golden data for the optim suite (float32 PyTorch 1.13 on the CPU):

Part A, the optimizers on plain tensors (optim_kernels.safetensors):
  - Muon: three matrices (wide 8x12, tall 12x8, square 6x6), three steps with
    fixed random gradients and per-step learning rates, for each orthogonaliser
    (polar-express, keller, newton-schulz with 5 and 3 steps, svd) plus two
    variants (no Nesterov + Moonlight scale; weight decay 0). Kept: W, M after
    step 3, O and delta of step 3.
  - AdamW: torch.optim.AdamW itself on a vector and a matrix, three steps,
    weight decay 0.1, per-step lrs. Kept: params, exp_avg, exp_avg_sq.
  - LR schedule multipliers for a grid of (step, warmup, total) by the
    formula of docs/optimizers.md (linear warmup from step/warmup, then constant or cosine
    to a floor), computed in Python floats.
Part B, whole training steps (optim_train.safetensors): the `tiny` transformer
  of torch_model.py with vocab 64 and 1 layer (small files) and batch 4 (with
  batch 2 only 30 tokens feed Q's 32x32 gradient, which is then rank-deficient,
  condition 3e8, and the exact polar factor U V^T of the svd run is undefined
  in its null direction; with 4 the condition stays below 2e3), three steps on
  three random batches: loss.backward(), clip_grad_norm_(1.0), Muon (our torch
  implementation below) on every hidden matrix, torch.optim.AdamW on the
  embedding/head/gains, a 2-step warmup. Runs: polar-express, keller,
  newton-schulz, svd, adamw-only, merged_qkvo (polar-express), swiglu+untied
  (polar-express). Kept per run: <run>.param.<name> after step 3,
  <run>.muon_m.<name> for Muon matrices, <run>.adam_m/.adam_v.<name> for
  AdamW tensors, <run>.loss (3 losses).

The orthogonalisers are the iterations of docs/orthogonalizers.md run in float32: normalise, then
per step A = X X^T, B = b A + c A A, X = a X + B X on the wide orientation;
svd is U V^T from torch.linalg.svd. Every hyper-parameter is a float32 value
(np.float32(0.95) etc.) so Python's double arithmetic on it equals C's.
Run with /usr/bin/python3."""
import math
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import st  # noqa: E402
import torch_model as tm  # noqa: E402

f32 = lambda x: float(np.float32(x))  # noqa: E731

PE = [(8.156554524902461, -22.48329292557795, 15.878769915207462),
      (4.042929935166739, -2.808917465908714, 0.5000178451051316),
      (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
      (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
      (2.3465413258596377, -1.7097828382687081, 0.42323551169305323)]


def orth(G, kind, ns_steps=5):
    G = G.to(torch.float32)
    if kind == "svd":
        U, S, Vh = torch.linalg.svd(G.double(), full_matrices=False)
        return (U @ Vh).float()
    X = G.clone()
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    norm = float(torch.linalg.norm(X.double()))
    if kind == "polar-express":
        X = X / f32(1.01 * norm + 1e-7)
        coeffs = PE
    elif kind == "keller":
        X = X / f32(norm + 1e-7)
        coeffs = [(3.4445, -4.7750, 2.0315)] * 5
    else:
        X = X / f32(norm + 1e-7)
        coeffs = [(1.875, -1.25, 0.375)] * ns_steps
    for a, b, c in coeffs:
        A = X @ X.T
        B = f32(b) * A + f32(c) * (A @ A)
        X = f32(a) * X + B @ X
    return X.T.contiguous() if tall else X


def muon_scale(kind, rows, cols):
    if kind == "moonlight":
        return f32(0.2 * math.sqrt(max(rows, cols)))
    return f32(math.sqrt(max(1.0, rows / cols)))


def muon_step(W, G, M, lr, mu, nesterov, wd, scale, kind, ns_steps):
    """In place on W, M; returns (O, delta)."""
    M.mul_(mu).add_(G, alpha=f32(1.0 - mu))
    U = G.mul(f32(1.0 - mu)).add(M, alpha=mu) if nesterov else M.clone()
    O = orth(U, kind, ns_steps)
    W0 = W.clone()
    W.mul_(f32(1.0 - lr * wd))
    W.add_(O, alpha=-f32(lr * muon_scale(scale, *W.shape)))
    return O, W - W0


MU = f32(0.95)
B1, B2, EPS = f32(0.9), f32(0.95), f32(1e-8)


def part_a():
    g = torch.Generator().manual_seed(4321)
    shapes = {"wide": (8, 12), "tall": (12, 8), "square": (6, 6)}
    out = {}
    W0 = {k: 0.1 * torch.randn(s, generator=g) for k, s in shapes.items()}
    Gs = {k: [torch.randn(s, generator=g) for _ in range(3)] for k, s in shapes.items()}
    lrs = [f32(0.01), f32(0.02), f32(0.015)]
    for k in shapes:
        out[f"init.{k}"] = W0[k].numpy()
        for s in range(3):
            out[f"grad{s}.{k}"] = Gs[k][s].numpy()
    out["muon_lrs"] = np.array(lrs, dtype=np.float32)
    runs = [("pe", "polar-express", 5, True, "default", f32(0.1)),
            ("keller", "keller", 5, True, "default", f32(0.1)),
            ("ns5", "newton-schulz", 5, True, "default", f32(0.1)),
            ("ns3", "newton-schulz", 3, True, "default", f32(0.1)),
            ("svd", "svd", 5, True, "default", f32(0.1)),
            ("plain", "polar-express", 5, False, "moonlight", f32(0.1)),
            ("nowd", "polar-express", 5, True, "default", 0.0)]
    for run, kind, ns, nest, scale, wd in runs:
        for k in shapes:
            W, M = W0[k].clone(), torch.zeros(shapes[k])
            for s in range(3):
                O, D = muon_step(W, Gs[k][s], M, lrs[s], MU, nest, wd, scale, kind, ns)
            out[f"{run}.W.{k}"] = W.numpy()
            out[f"{run}.M.{k}"] = M.numpy()
            out[f"{run}.O.{k}"] = O.numpy()
            out[f"{run}.D.{k}"] = D.numpy()
    # AdamW: torch's own implementation
    v0, m0 = 0.1 * torch.randn(50, generator=g), 0.1 * torch.randn(7, 5, generator=g)
    gv = [torch.randn(50, generator=g) for _ in range(3)]
    gm = [torch.randn(7, 5, generator=g) for _ in range(3)]
    out["adam.init.vec"], out["adam.init.mat"] = v0.numpy(), m0.numpy()
    for s in range(3):
        out[f"adam.grad{s}.vec"], out[f"adam.grad{s}.mat"] = gv[s].numpy(), gm[s].numpy()
    alrs = [f32(1e-3), f32(2e-3), f32(5e-4)]
    out["adam_lrs"] = np.array(alrs, dtype=np.float32)
    pv, pm = torch.nn.Parameter(v0.clone()), torch.nn.Parameter(m0.clone())
    opt = torch.optim.AdamW([pv, pm], lr=alrs[0], betas=(B1, B2), eps=EPS, weight_decay=f32(0.1))
    for s in range(3):
        for grp in opt.param_groups:
            grp["lr"] = alrs[s]
        pv.grad, pm.grad = gv[s].clone(), gm[s].clone()
        opt.step()
    out["adam.W.vec"], out["adam.W.mat"] = pv.detach().numpy(), pm.detach().numpy()
    out["adam.m.vec"] = opt.state[pv]["exp_avg"].numpy()
    out["adam.v.vec"] = opt.state[pv]["exp_avg_sq"].numpy()
    out["adam.m.mat"] = opt.state[pm]["exp_avg"].numpy()
    out["adam.v.mat"] = opt.state[pm]["exp_avg_sq"].numpy()
    # schedule: rows (kind 0 constant / 1 cosine, step, warmup, total, floor, multiplier)
    rows = []
    for kind in (0, 1):
        for warmup, total, floor in ((0, 10, 0.0), (3, 10, 0.125), (5, 5, 0.5), (4, 100, 0.25)):
            for step in range(1, total + 1):
                if warmup > 0 and step <= warmup:
                    mult = step / warmup
                elif kind == 0 or total <= warmup:
                    mult = 1.0
                else:
                    p = (step - warmup) / (total - warmup)
                    mult = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p))
                rows.append([kind, step, warmup, total, floor, mult])
    out["schedule"] = np.array(rows, dtype=np.float64)
    for k in list(out):
        if out[k].dtype != np.float64:
            out[k] = np.ascontiguousarray(out[k], dtype=np.float32)
    meta = {"script": "tests/golden/gen_optim.py", "part": "kernels", "seed": "4321", "dtype": "float32",
            "momentum": str(MU), "betas": f"{B1},{B2}", "eps": str(EPS)}
    meta.update(st.versions())
    path = os.path.join(here, "optim_kernels.safetensors")
    st.save(path, out, meta)
    print(f"  {os.path.relpath(path)}: {os.path.getsize(path)} bytes")


def train_run(cfg, init, batches, kind, orth_kind, keep_state):
    """Three steps; returns the tensors to keep and the losses."""
    model = tm.build(cfg)
    tm.load(model, init)
    named = dict(model.named_parameters())
    is_muon = {n: kind == "muon" and p.dim() == 2 and n not in ("embed.weight", "head.weight")
               for n, p in named.items()}
    adam_params = [p for n, p in named.items() if not is_muon[n]]
    gains = [p for n, p in named.items() if not is_muon[n] and p.dim() == 1]
    others = [p for n, p in named.items() if not is_muon[n] and p.dim() != 1]
    lr, alr, wd = f32(0.02), f32(1e-3), f32(0.01)
    groups = [{"params": others, "weight_decay": wd}]
    if gains:
        groups.append({"params": gains, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=alr, betas=(B1, B2), eps=EPS)
    momentum = {n: torch.zeros_like(p) for n, p in named.items() if is_muon[n]}
    losses = []
    for s, (tok, tgt) in enumerate(batches):
        step = s + 1
        mult = step / 2 if step <= 2 else 1.0       # warmup 2, then constant
        model.zero_grad()
        _, loss = model(tok, tgt)
        loss.backward()
        losses.append(loss.item())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for grp in opt.param_groups:
            grp["lr"] = f32(alr * mult)
        opt.step()
        with torch.no_grad():
            for n, p in named.items():
                if is_muon[n]:
                    muon_step(p.data, p.grad, momentum[n], f32(lr * mult), MU, True, wd, "default",
                              orth_kind, 5)
    keep = {}
    for n, p in named.items():
        keep["param." + n] = p.detach().numpy().copy()
        if not keep_state:
            continue
        if is_muon[n]:
            keep["muon_m." + n] = momentum[n].numpy().copy()
        else:
            keep["adam_m." + n] = opt.state[p]["exp_avg"].numpy().copy()
            keep["adam_v." + n] = opt.state[p]["exp_avg_sq"].numpy().copy()
    keep["loss"] = np.array(losses, dtype=np.float32)
    return keep


def part_b():
    # (run, config overrides, optimizer, orthogonaliser, keep optimizer state);
    # the first five share one init ("base.init.*"); state is kept where it
    # adds coverage, to keep the file small
    runs = [("pe", {}, "muon", "polar-express", True),
            ("keller", {}, "muon", "keller", False),
            ("ns", {}, "muon", "newton-schulz", False),
            ("svd", {}, "muon", "svd", False),
            ("adamw", {}, "adamw", None, True),
            ("merged", {"merged_qkvo": 1}, "muon", "polar-express", True),
            ("swiglu_untied", {"ffn": "swiglu", "untied_head": 1}, "muon", "polar-express", False)]
    out = {}
    meta = {"script": "tests/golden/gen_optim.py", "part": "train", "seed": "777", "dtype": "float32",
            "steps": "3", "muon_lr": "0.02", "adam_lr": "0.001", "wd": "0.01 (0 on gains)",
            "warmup": "2 (constant after)", "clip": "1.0", "momentum": str(MU), "nesterov": "1"}
    meta.update(st.versions())
    g = torch.Generator().manual_seed(777)
    base = tm.config("tiny", vocab_size=64, n_layers=1, batch_size=4)
    B, T, V = base["batch_size"], base["seq_len"], base["vocab_size"]
    batches = [(torch.randint(0, V, (B, T), generator=g), torch.randint(0, V, (B, T), generator=g))
               for _ in range(3)]
    for s, (tok, tgt) in enumerate(batches):
        out[f"tokens{s}"] = tok.numpy().astype(np.int64)
        out[f"targets{s}"] = tgt.numpy().astype(np.int64)
    for i, (run, opts, kind, orth_kind, keep_state) in enumerate(runs):
        cfg = tm.config("tiny", vocab_size=64, n_layers=1, batch_size=4, **opts)
        init_name = "base" if not opts else run
        if init_name != "base" or run == "pe":
            model = tm.build(cfg)
            tm.init_(model, cfg, 777 + i)
            init = tm.weights(model)
            for n, a in init.items():
                out[f"{init_name}.init.{n}"] = a
        else:
            init = {n[len("base.init."):]: a for n, a in out.items() if n.startswith("base.init.")}
        meta[f"{run}.init"] = init_name
        for k, a in train_run(cfg, init, batches, kind, orth_kind, keep_state).items():
            out[f"{run}.{k}"] = a
        meta[f"{run}.config"] = ",".join(f"{k}={v}" for k, v in cfg.items())
        meta[f"{run}.optimizer"] = kind if kind == "adamw" else f"muon/{orth_kind}"
    path = os.path.join(here, "optim_train.safetensors")
    st.save(path, out, meta)
    print(f"  {os.path.relpath(path)}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    part_a()
    part_b()
