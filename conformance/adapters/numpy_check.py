"""Checks a RESULTS file against the muon conformance suite with NumPy alone
(no muon build): the same rule as `muon verify` (docs/conformance.md#verify).

    python3 conformance/adapters/numpy_check.py conformance/suite results.safetensors [more.safetensors...]

Per element |got - want| <= atol + rtol |want|; an expected NaN or inf
passes only when matched exactly. Prints one line per failing tensor, the
worst error/tolerance ratio per case, and the first failing case in
pipeline order. Exit 0 all pass, 1 any fails, 2 bad input (one line)."""
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402


def bad(msg):
    print(f"numpy_check: {msg}", file=sys.stderr)
    sys.exit(2)


def load_results(paths):
    out = {}
    for p in paths:
        files = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".safetensors")) \
            if os.path.isdir(p) else [p]
        for f in files:
            try:
                for k, v in st_io.load(f).items():
                    if k in out:
                        bad(f"tensor {k} appears twice in the results")
                    out[k] = (v, f)
            except (OSError, ValueError) as e:
                bad(f"results {f}: {e}")
    return out


def compare(got, want, rtol, atol):
    """(number of bad elements, worst |error| / tolerance)."""
    got, want = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    fin = np.isfinite(want)
    nonfin_bad = int(np.sum(~fin & ~((np.isnan(want) & np.isnan(got)) | (want == got))))
    d = np.abs(got[fin] - want[fin])
    d[~np.isfinite(d)] = np.inf
    tol = atol + rtol * np.abs(want[fin])
    nbad = int(np.sum(~(d <= tol))) + nonfin_bad
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(d == 0, 0.0, d / tol)
    worst = float(np.max(q)) if q.size else 0.0
    return nbad, (np.inf if nonfin_bad else worst)


def main():
    if len(sys.argv) < 3:
        bad("usage: numpy_check.py SUITE RESULTS...")
    suite = sys.argv[1]
    try:
        with open(os.path.join(suite, "manifest.json")) as f:
            man = json.load(f)
    except (OSError, ValueError) as e:
        bad(f"{suite}/manifest.json: {e}")
    if man.get("format") != "muon-conformance/1":
        bad(f"suite format {man.get('format')!r} is not muon-conformance/1")
    res = load_results(sys.argv[2:])
    n = fails = 0
    origin = None
    for case in man["cases"]:
        info = case["files"]["expected"]
        path = os.path.join(suite, info["path"])
        raw = open(path, "rb").read()
        if len(raw) != info["bytes"] or "%08x" % (zlib.crc32(raw) & 0xFFFFFFFF) != info["crc32"]:
            bad(f"{path}: size or CRC-32 differs from the manifest (corrupted suite)")
        exp = st_io.load(path)
        worst = 0.0
        for e in case["expected"]:
            name = f"{case['id']}/{e['name']}"
            if name not in res:
                bad(f"results: tensor {name} is missing")
            got, where = res[name]
            if got.dtype != np.float32 or list(got.shape) != e["shape"]:
                bad(f"results {where}: {name} is {got.dtype} {list(got.shape)}, the suite asks for F32 {e['shape']}")
            nbad, ratio = compare(got, exp[e["name"]], e["rtol"], e["atol"])
            n += 1
            worst = max(worst, ratio)
            if nbad:
                fails += 1
                origin = origin or (case["id"], e["name"], e["doc"])
                print(f"FAIL {name}: {nbad} of {got.size} elements outside atol {e['atol']:g} + rtol {e['rtol']:g}"
                      f" (worst err/tol {ratio:.3g})")
        print(f"  {case['id']:42s} worst err/tol {worst:9.3g}")
    print(f"{n} tensors: {n - fails} PASS, {fails} FAIL")
    if origin:
        print(f"likely origin: {origin[0]} (first failing case in pipeline order), tensor {origin[1]}; see {origin[2]}")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
