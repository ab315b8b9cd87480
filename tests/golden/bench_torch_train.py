"""PyTorch 1.13 CPU baseline for `muon bench`'s training row: one whole
training step of `nano` (forward, backward, clip_grad_norm_(1.0), Muon with
polar-express on every hidden matrix in float32, torch.optim.AdamW on the
embedding and gains), the same model (tests/golden/torch_model.py) and the same
Muon iteration as gen_optim.py. Prints tokens/s (best of N steps after a
warm-up, the machine is shared) and the share of the step spent in the Muon
update.

Run: /usr/bin/python3 tests/golden/bench_torch_train.py [steps]
Threads: PyTorch's best 2-core setting on the reference machine was
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 (OPENBLAS_CORETYPE unset);
  1 core: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1."""
import os
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gen_optim as go  # noqa: E402
import torch_model as tm  # noqa: E402


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cfg = tm.config("nano")
    model = tm.build(cfg)
    tm.init_(model, cfg, 1)
    named = dict(model.named_parameters())
    muon = {n for n, p in named.items() if p.dim() == 2 and n not in ("embed.weight", "head.weight")}
    adam = torch.optim.AdamW([p for n, p in named.items() if n not in muon], lr=1e-3,
                             betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    mom = {n: torch.zeros_like(named[n]) for n in muon}
    B, T, V = cfg["batch_size"], cfg["seq_len"], cfg["vocab_size"]
    g = torch.Generator().manual_seed(7)
    tok = torch.randint(0, V, (B, T), generator=g)
    tgt = torch.randint(0, V, (B, T), generator=g)
    best, best_muon = 1e30, 0.0
    for s in range(steps + 1):
        t0 = time.perf_counter()
        model.zero_grad()
        _, loss = model(tok, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        adam.step()
        t1 = time.perf_counter()
        with torch.no_grad():
            for n in muon:
                p = named[n]
                go.muon_step(p.data, p.grad, mom[n], 0.02, 0.95, True, 0.0, "default", "polar-express", 5)
        t2 = time.perf_counter()
        if s > 0 and t2 - t0 < best:
            best, best_muon = t2 - t0, t2 - t1
    print(f"torch {torch.__version__} nano step, torch threads {torch.get_num_threads()} "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '-')}): "
          f"{B * T / best:.0f} tokens/s, {best * 1e3:.1f} ms/step, Muon update {100 * best_muon / best:.1f}% "
          f"(best of {steps})")


if __name__ == "__main__":
    main()
