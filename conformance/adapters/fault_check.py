"""Runs the PyTorch adapter once per known fault (torch_adapter.py --inject)
and checks that `muon verify` FAILs (exit 1) naming the case where the fault
first shows, in pipeline order. Used by `make conformance-torch`.

    /usr/bin/python3 conformance/adapters/fault_check.py ./muon conformance/suite build/conformance"""
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
# fault -> the case verify must name as the likely origin (the first case the
# fault touches, in pipeline order), and why
EXPECT = {
    "no-orth": ("muon.nesterov.default.wide", "the Muon step's O is the orthogonaliser's output"),
    "no-nesterov": ("muon.nesterov.default.wide", "U is the Nesterov blend"),
    "scale-no-sqrt": ("muon.nesterov.default.tall", "the first tall matrix (wide ones have scale 1 either way)"),
    "tall-no-transpose": ("orth.polar-express.tall.bf16", "in exact arithmetic X X^T X = X (X^T X): only the bf16 "
                          "bit-level case sees the other rounding"),
    "spectral-norm": ("orth.polar-express.square.fp32", "X0 is the normalised input"),
    "zero-lr-first-step": ("schedule.cosine", "the multiplier at step 1"),
    "bf16-for-fp32": ("orth.polar-express.square.fp32", "the first fp32 case"),
    "no-clip": ("clip.above", "the first case whose gradient norm exceeds max_norm"),
}


def main():
    muon, suite, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    bad = 0
    print(f"{'fault':20s} {'verify':6s} {'failing tensors':>15s}  likely origin (expected)")
    for fault, (want, why) in EXPECT.items():
        res = os.path.join(work, f"torch_{fault}.safetensors")
        subprocess.run([sys.executable, os.path.join(here, "torch_adapter.py"), suite, "--out", res,
                        "--inject", fault], check=True, stdout=subprocess.DEVNULL)
        p = subprocess.run([muon, "verify", suite, res, "--json"], capture_output=True, text=True)
        rep = json.loads(p.stdout) if p.returncode in (0, 1) else None
        origin = rep["likely_origin"]["case"] if rep and rep["likely_origin"] else None
        ok = p.returncode == 1 and origin == want
        bad += not ok
        print(f"{fault:20s} {'FAIL' if p.returncode == 1 else 'exit %d' % p.returncode:6s} "
              f"{rep['fail'] if rep else '-':>15}  {origin} ({'as expected' if ok else 'WANTED ' + want}: {why})")
    print(f"fault injection: {len(EXPECT) - bad} of {len(EXPECT)} faults caught and located")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
