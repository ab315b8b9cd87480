#!/bin/sh
# Regenerates the fixture runs of the report golden test (tests/golden/report_runs/):
# four short real runs of `tiny` widened to 4 layers (Muon and AdamW, seeds 1 and 2),
# their metrics.csv cut down to the rows the report reads. Needs ./muon (make);
# then `make golden` (gen_report.py) recomputes the expected values from them.
set -e
cd "$(dirname "$0")/../.."
out=tests/golden/report_runs
tmp=build/report_runs_tmp
rm -rf "$tmp"
for opt in muon adamw; do
  for seed in 1 2; do
    ./muon train --model tiny --n-layers 4 --steps 40 --track-every 5 --eval-every 20 \
      --log-every 0 --ckpt-every 0 --optimizer $opt --seed $seed --threads 1 \
      --out "$tmp/${opt}_s$seed" > /dev/null
    mkdir -p "$out/${opt}_s$seed"
    cp "$tmp/${opt}_s$seed/run.json" "$out/${opt}_s$seed/run.json"
    # keep: header, model rows, and the matrix metrics the report uses
    grep -E '^step,|,model,|,(sigma_max|spectral_entropy|alignment_left|update_sv_max),' \
      "$tmp/${opt}_s$seed/metrics.csv" > "$out/${opt}_s$seed/metrics.csv"
  done
done
rm -rf "$tmp"
