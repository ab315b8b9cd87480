"""Golden data for --precision bf16 (docs/precision.md): five training steps
of a small `tiny` model (parameters kept after steps 1, 2 and 5) in PyTorch 1.13 (CPU) with exactly the rounding the
docs define, written tests/golden/bf16_train.safetensors.

What is bf16 here (round-to-nearest-even throughout):
  - parameters: rounded to bf16 at the start and after every optimizer step
    (the optimizer's own arithmetic and state -- momentum, Adam moments --
    are float32);
  - every linear layer (Q, K, V, O, up, down, the tied head) multiplies a
    bf16-rounded input by its bf16 weight with float32 accumulation and a
    float32 result; backward rounds the output gradient to bf16 and uses the
    rounded input, the rounding passing gradients straight through. PyTorch
    on CPU has no bf16-in/fp32-out matmul, so this is a float32 matmul of
    bf16-valued tensors -- the same products, exact in float32, summed in
    float32 (a bf16 GEMM's accumulation before its output rounding);
  - Muon's orthogonaliser on bf16 values: every matmul takes bf16 inputs,
    accumulates in float32 and rounds its result to bf16 (see bmm: PyTorch
    1.13's CPU bf16 matmul does not do that for small inner dimensions), and
    the scalar multiplies are done in float32 and rounded once, as PyTorch 2's
    kernels do (PyTorch 1.13 would round the scalars to bf16 first; the
    research code ran PyTorch 2). This is linalg/orth.c's MUON_ORTH_BF16.
Everything else (norms, attention, RoPE, loss) is float32, as in the fp32
model. Run with /usr/bin/python3."""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import st  # noqa: E402
import torch_model as tm  # noqa: E402

f32 = lambda x: float(np.float32(x))  # noqa: E731
bf = lambda x: x.bfloat16().float()   # noqa: E731

PE = [(8.156554524902461, -22.48329292557795, 15.878769915207462),
      (4.042929935166739, -2.808917465908714, 0.5000178451051316),
      (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
      (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
      (2.3465413258596377, -1.7097828382687081, 0.42323551169305323)]
MU = f32(0.95)
B1, B2, EPS = f32(0.9), f32(0.95), f32(1e-8)
STEPS = 5


class Bf16Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        xb = bf(x)
        ctx.save_for_backward(xb, w)
        return xb @ w.t()

    @staticmethod
    def backward(ctx, g):
        xb, w = ctx.saved_tensors
        gb = bf(g)
        dx = gb @ w
        dw = gb.reshape(-1, gb.shape[-1]).t() @ xb.reshape(-1, xb.shape[-1])
        return dx, dw


def bf16_linear(x, w, bias=None):
    assert bias is None
    return Bf16Linear.apply(x, w)


def bmm(x, y):
    """A bf16 matmul as defined: bf16 inputs, float32 accumulation, one
    rounding of the result. Written as a float32 matmul of the bf16 values
    because PyTorch 1.13's own CPU bf16 matmul does not accumulate in float32
    for every shape: with an inner dimension of 16 or 8 it differs from the
    float32 sum in 156 of 256 (16x16x16) entries, while for 64 it agrees
    exactly (measured here; the docs record it)."""
    return (x.float() @ y.float()).bfloat16()


def orth_bf16(G):
    """Polar Express on bf16 values, scalars in float32 (MUON_ORTH_BF16)."""
    X = G.bfloat16()
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.T
    den = torch.linalg.norm(X.double()).float().bfloat16()        # a correctly rounded norm
    den = (den.float() * f32(1.01)).bfloat16()
    den = (den.float() + f32(1e-7)).bfloat16()
    X = (X.float() / den.float()).bfloat16()
    for a, b, c in PE:
        A = bmm(X, X.T)
        B = bmm((A.float() * f32(c)).bfloat16(), A)                # Python: c * A @ A = (c * A) @ A
        B = ((A.float() * f32(b)).bfloat16().float() + B.float()).bfloat16()
        Y = bmm(B, X)
        X = ((X.float() * f32(a)).bfloat16().float() + Y.float()).bfloat16()
    X = X.float()
    return X.T.contiguous() if tall else X


def muon_step(W, G, M, lr):
    M.mul_(MU).add_(G, alpha=f32(1.0 - MU))
    U = G.mul(f32(1.0 - MU)).add(M, alpha=MU)
    O = orth_bf16(U)
    W.mul_(f32(1.0 - lr * 0.0))
    W.add_(O, alpha=-f32(lr * f32(math.sqrt(max(1.0, W.shape[0] / W.shape[1])))))
    W.copy_(bf(W))


def main():
    torch.set_num_threads(1)
    F.linear = bf16_linear                      # every nn.Linear and tm's F.linear calls
    torch.nn.functional.linear = bf16_linear
    cfg = tm.config("tiny", vocab_size=64, n_layers=2, batch_size=4)
    model = tm.build(cfg)
    tm.init_(model, cfg, 4242)
    init = tm.weights(model)
    out = {"init." + n: a for n, a in init.items()}
    g = torch.Generator().manual_seed(4243)
    B, T, V = cfg["batch_size"], cfg["seq_len"], cfg["vocab_size"]
    batches = [(torch.randint(0, V, (B, T), generator=g), torch.randint(0, V, (B, T), generator=g)) for _ in range(STEPS)]
    for s, (tok, tgt) in enumerate(batches):
        out[f"tokens{s}"] = tok.numpy().astype(np.int64)
        out[f"targets{s}"] = tgt.numpy().astype(np.int64)
    named = dict(model.named_parameters())
    with torch.no_grad():
        for p in named.values():
            p.copy_(bf(p))
    is_muon = {n: p.dim() == 2 and n != "embed.weight" for n, p in named.items()}
    adam = [p for n, p in named.items() if not is_muon[n]]
    gains = [p for p in adam if p.dim() == 1]
    others = [p for p in adam if p.dim() != 1]
    lr, alr = f32(0.02), f32(1e-3)
    opt = torch.optim.AdamW([{"params": others, "weight_decay": 0.0}, {"params": gains, "weight_decay": 0.0}],
                            lr=alr, betas=(B1, B2), eps=EPS)
    momentum = {n: torch.zeros_like(p) for n, p in named.items() if is_muon[n]}
    losses = []
    for s, (tok, tgt) in enumerate(batches):
        model.zero_grad()
        _, loss = model(tok, tgt)
        loss.backward()
        losses.append(loss.item())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()                                     # constant lr: no schedule in this check
        with torch.no_grad():
            for p in adam:
                p.copy_(bf(p))
            for n, p in named.items():
                if is_muon[n]:
                    muon_step(p.data, p.grad, momentum[n], lr)
        if s in (0, 1):
            for n, p in named.items():
                out["param%d.%s" % (s + 1, n)] = p.detach().numpy().copy()
    for n, p in named.items():
        a = p.detach().numpy().copy()
        assert np.array_equal(a, bf(p.detach()).numpy()), n
        out["param." + n] = a
        if is_muon[n]:
            out["muon_m." + n] = momentum[n].numpy().copy()
    out["loss"] = np.array(losses, dtype=np.float32)
    meta = {"script": "tests/golden/gen_bf16.py", "config": ",".join(f"{k}={v}" for k, v in cfg.items()),
            "steps": str(STEPS), "muon_lr": "0.02", "adam_lr": "0.001", "wd": "0", "clip": "1.0",
            "momentum": str(MU), "schedule": "constant, no warmup", "orth": "polar-express, bf16 (PyTorch 2 scalars)"}
    meta.update(st.versions())
    for k in list(out):
        if out[k].dtype != np.int64:
            out[k] = np.ascontiguousarray(out[k], dtype=np.float32)
    path = os.path.join(here, "bf16_train.safetensors")
    st.save(path, out, meta)
    print("  losses", ", ".join("%.6f" % x for x in losses))
    print(f"  {os.path.relpath(path)}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
