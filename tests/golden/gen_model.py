"""Golden data for the model suite: the `tiny` transformer in PyTorch
(tests/golden/torch_model.py, float32) on a fixed batch, one file per
architecture variant:

  model_default.safetensors  squared ReLU, tied head, separate Q/K/V/O, GQA (4 heads, 2 KV)
  model_swiglu.safetensors   ffn = swiglu
  model_untied.safetensors   untied_head = 1
  model_merged.safetensors   merged_qkvo = 1

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
        for k, v in cfg.items():
            meta["config." + k] = str(v)
        path = os.path.join(here, f"model_{name}.safetensors")
        st.save(path, out, meta)
        print(f"  {os.path.relpath(path)}: loss {loss.item():.6f}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
