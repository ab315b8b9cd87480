"""Golden data for the model suite: the `tiny` transformer in PyTorch
(tests/golden/torch_model.py, float32) on a fixed batch, one file per
architecture variant:

  model_default.safetensors  squared ReLU, tied head, separate Q/K/V/O, GQA (4 heads, 2 KV)
  model_swiglu.safetensors   ffn = swiglu
  model_untied.safetensors   untied_head = 1
  model_merged.safetensors   merged_qkvo = 1
  model_layers.safetensors   each layer alone (RMSNorm, QK-norm, RoPE, GQA attention,
                             relu2, SwiGLU, cross-entropy): random inputs and upstream
                             gradients, outputs and input/gain gradients by autograd

Each holds: every parameter by its muon name (gains 1-D), tokens and targets
(B,T) as I64, logits (B,T,V), loss (1), and grad.<name> for every parameter.
Weights come from torch.manual_seed(seed): matrices and embedding
N(0, 0.02^2), gains 1 + 0.1 N(0,1) (not 1, so gain gradients and the gain's
use in forward are both exercised). The metadata lists the config fields
(muon_config_set keys) so the C test builds the same model.
Run with /usr/bin/python3 (Debian's numpy and torch)."""
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import st  # noqa: E402
import torch_model as tm  # noqa: E402

VARIANTS = [
    ("default", {}),
    ("swiglu", {"ffn": "swiglu"}),
    ("untied", {"untied_head": 1}),
    ("merged", {"merged_qkvo": 1}),
]
SEED = 1234


def main():
    torch.set_num_threads(1)
    for i, (name, opts) in enumerate(VARIANTS):
        cfg = tm.config("tiny", **opts)
        model = tm.build(cfg)
        seed = SEED + i
        tm.init_(model, cfg, seed)
        g = torch.Generator().manual_seed(seed + 100)
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if p.dim() == 1:
                    p.add_(0.1 * torch.randn(p.shape, generator=g))
        B, T, V = cfg["batch_size"], cfg["seq_len"], cfg["vocab_size"]
        tokens = torch.randint(0, V, (B, T), generator=g)
        targets = torch.randint(0, V, (B, T), generator=g)
        logits, loss = model(tokens, targets)
        loss.backward()
        out = tm.weights(model)
        for k, v in tm.grads(model).items():
            out["grad." + k] = v
        out["tokens"] = tokens.numpy().astype(np.int64)
        out["targets"] = targets.numpy().astype(np.int64)
        out["logits"] = logits.detach().numpy().astype(np.float32)
        out["loss"] = np.array([loss.item()], dtype=np.float32)
        meta = {"script": "tests/golden/gen_model.py", "variant": name, "seed": str(seed),
                "dtype": "float32", "init": "matrices N(0,0.02^2), gains 1+0.1*N(0,1)"}
        meta.update(st.versions())
        meta["param_count"] = str(sum(p.numel() for p in model.parameters()))
        for k, v in cfg.items():
            meta["config." + k] = str(v)
        path = os.path.join(here, f"model_{name}.safetensors")
        st.save(path, out, meta)
        print(f"  {os.path.relpath(path)}: loss {loss.item():.6f}, {os.path.getsize(path)} bytes")


def layers(seed=99):
    """Per-layer forward and backward on random inputs (float32 autograd).
    Names: <layer>.<tensor>; upstream gradients are <layer>.dy."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=g)).requires_grad_(True)

    out = {}
    eps = 1e-6
    # RMSNorm over C = 24 (G = 1) and QK-norm: 3 heads of HS = 8 sharing one gain
    for name, N, G, n in (("rmsnorm", 32, 1, 24), ("qknorm", 32, 3, 8)):
        x, w, dy = rnd(N, G * n), rnd(n, scale=0.3), torch.randn(N, G * n, generator=g)
        with torch.no_grad():
            w += 1.0
        norm = tm.RMSNorm(n, eps)
        with torch.no_grad():
            norm.weight.copy_(w)
        y = norm(x.view(N, G, n)).reshape(N, G * n)
        y.backward(dy)
        out.update({f"{name}.x": x, f"{name}.g": norm.weight.detach(), f"{name}.dy": dy, f"{name}.y": y,
                    f"{name}.dx": x.grad, f"{name}.dg": norm.weight.grad})
    # RoPE: B 2, T 16, 3 heads of HS 8 (forward; backward is the transposed rotation)
    B, T, H, HS = 2, 16, 3, 8
    x, dy = rnd(B, T, H, HS), torch.randn(B, T, H, HS, generator=g)
    cos, sin = tm.rope_tables(T, HS, 10000.0)
    y = tm.apply_rope(x.transpose(1, 2), cos, sin).transpose(1, 2)
    y.backward(dy)
    out.update({"rope.x": x, "rope.dy": dy, "rope.y": y, "rope.dx": x.grad})
    # causal GQA attention core: 4 query heads on 2 KV heads, HS 8
    NH, NKV = 4, 2
    q, k, v = rnd(B, T, NH, HS), rnd(B, T, NKV, HS), rnd(B, T, NKV, HS)
    dy = torch.randn(B, T, NH * HS, generator=g)
    rep = NH // NKV
    qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2).repeat_interleave(rep, 1), v.transpose(1, 2).repeat_interleave(rep, 1)
    att = (qh @ kh.transpose(-2, -1)) * (1.0 / HS ** 0.5)
    att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
    y = (att @ vh).transpose(1, 2).reshape(B, T, NH * HS)
    y.backward(dy)
    out.update({"attn.q": q, "attn.k": k, "attn.v": v, "attn.dy": dy, "attn.y": y,
                "attn.dq": q.grad, "attn.dk": k.grad, "attn.dv": v.grad})
    # feed-forward activations on (32, 40)
    h, dy = rnd(32, 40), torch.randn(32, 40, generator=g)
    y = torch.nn.functional.relu(h).square()
    y.backward(dy)
    out.update({"relu2.h": h, "relu2.dy": dy, "relu2.y": y, "relu2.dh": h.grad})
    h, gate, dy = rnd(32, 40), rnd(32, 40, scale=3.0), torch.randn(32, 40, generator=g)
    y = torch.nn.functional.silu(gate) * h
    y.backward(dy)
    out.update({"swiglu.h": h, "swiglu.gate": gate, "swiglu.dy": dy, "swiglu.y": y,
                "swiglu.dh": h.grad, "swiglu.dgate": gate.grad})
    # mean cross-entropy over 32 rows of 20 classes (logits of scale 3)
    z = rnd(32, 20, scale=3.0)
    tgt = torch.randint(0, 20, (32,), generator=g)
    loss = torch.nn.functional.cross_entropy(z, tgt)
    loss.backward()
    out.update({"ce.logits": z, "ce.targets": tgt, "ce.loss": loss.reshape(1), "ce.dlogits": z.grad})
    arrays = {}
    for name, t in out.items():
        a = t.detach().numpy()
        arrays[name] = a.astype(np.int64) if a.dtype == np.int64 else a.astype(np.float32)
    meta = {"script": "tests/golden/gen_model.py", "variant": "layers", "seed": str(seed),
            "dtype": "float32", "norm_eps": str(eps), "rope_base": "10000"}
    meta.update(st.versions())
    path = os.path.join(here, "model_layers.safetensors")
    st.save(path, arrays, meta)
    print(f"  {os.path.relpath(path)}: {len(arrays)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
    layers()
