"""PyTorch CPU reference timing for muon's model benchmark (muon_bench_model):
forward+backward of the same architecture (tests/golden/torch_model.py),
float32, config `nano` (B=16, T=128) unless told otherwise, best of N.

  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/golden/bench_torch_model.py
  /usr/bin/python3 tests/golden/bench_torch_model.py --threads 2

(On the 2-core reference machine Debian's torch 1.13 did best with its
matmuls on 2 OpenBLAS threads and OpenMP at 1.) Not a test: prints numbers."""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_model as tm  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="nano")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--ffn", default="relu2")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = tm.config(args.model, ffn=args.ffn)
    model = tm.build(cfg)
    tm.init_(model, cfg, 1)
    B, T, V = cfg["batch_size"], cfg["seq_len"], cfg["vocab_size"]
    g = torch.Generator().manual_seed(2)
    tok = torch.randint(0, V, (B, T), generator=g)
    tgt = torch.randint(0, V, (B, T), generator=g)
    best, best_f = 1e30, 1e30
    for rep in range(args.reps + 1):
        model.zero_grad(set_to_none=False)
        t0 = time.perf_counter()
        _, loss = model(tok, tgt)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        if rep:
            best, best_f = min(best, t2 - t0), min(best_f, t1 - t0)
    env = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                     "OPENBLAS_CORETYPE") if k in os.environ)
    print(f"torch {torch.__version__} {args.model} ffn={args.ffn} B={B} T={T} threads={torch.get_num_threads()} "
          f"{env}: {best * 1e3:.2f} ms/step (forward {best_f * 1e3:.2f} ms), "
          f"{B * T / best:.0f} tokens/s, best of {args.reps}")


if __name__ == "__main__":
    main()
