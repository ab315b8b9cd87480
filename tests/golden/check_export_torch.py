"""Checks `muon export` against PyTorch: the exported file loads into
tests/golden/torch_model.py's Model with load_state_dict(strict=True) and the
model's parameters then equal the file's tensors exactly. Not a golden
generator (it needs ./muon and a checkpoint): run it by hand,
  /usr/bin/python3 tests/golden/check_export_torch.py EXPORTED.safetensors"""
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import torch_model  # noqa: E402
import st  # noqa: E402

path = sys.argv[1]
tensors, meta = st.load(path)
cfg = torch_model.config("nano", **{k[7:]: (float(v) if "." in v or "e" in v else int(v)) if k[7:] not in ("ffn",) else v
                                    for k, v in meta.items() if k.startswith("config.")})
model = torch_model.build(cfg)
# the three lines the README shows:
state = {k: torch.from_numpy(v) for k, v in tensors.items()}
model.load_state_dict(state, strict=True)
for name, p in model.named_parameters():
    assert torch.equal(p.detach(), state[name]), name
print("load_state_dict(strict=True): ok,", len(state), "tensors, config", {k: cfg[k] for k in ("d_model", "n_layers", "vocab_size")})
