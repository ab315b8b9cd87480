#!/bin/sh
# make study: the research's core comparison at laptop scale (docs/experiments.md).
# Muon vs AdamW vs Muon with --precision bf16 on --model deep (22 layers),
# two seeds each, STEPS optimizer steps of 16 x 128 bytes. Leaves runs/study/
# with every run (checkpoint, metrics.csv, events.csv, run.json, plots) and
# runs/study/summary.md: a table of final metrics per run and per arm;
# runs/study/report.md: `muon report` on the six runs (the claims, measured).
# Usage: scripts/study.sh [MUON_BIN] [OUT_DIR]; STEPS (default 200), SEEDS
# ("1 2"), JOBS (lanes of runs at once, default 2) and THREADS (per run,
# default 1) from the environment. Two one-thread lanes keep both cores busy
# through the serial parts of every run (the optimizer's elementwise work,
# the plots) as well, and a run's numbers never depend on its thread count.
set -eu
MUON=${1:-./muon}
OUT=${2:-runs/study}
STEPS=${STEPS:-200}
SEEDS=${SEEDS:-"1 2"}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
COMMON="--model deep --steps $STEPS --track-every 25 --eval-every 50 --log-every 50 --threads $THREADS"
mkdir -p "$OUT"
start=$(date +%s)
run() { # arm seed
    case $1 in
        muon) flags="--optimizer muon" ;;
        adamw) flags="--optimizer adamw" ;;
        muon-bf16) flags="--optimizer muon --precision bf16" ;;
    esac
    dir="$OUT/$1-seed$2"
    t0=$(date +%s)
    # shellcheck disable=SC2086
    if "$MUON" train $COMMON $flags --seed "$2" --out "$dir" > "$dir.log" 2>&1; then
        echo "study: $1 seed $2: $(grep '^done:' "$dir.log") [$(( $(date +%s) - t0 )) s]"
    else
        cat "$dir.log" >&2
        touch "$OUT/.failed"
    fi
}
case $JOBS in
    ''|*[!0-9]*|0) echo "study: JOBS must be a whole number >= 1, got '$JOBS'" >&2; exit 2 ;;
esac
rm -f "$OUT/.failed"
# JOBS lanes, each running its share of the runs one after the other: run i
# (seed-major, arms in the order muon adamw muon-bf16) goes to lane i mod
# JOBS, so a lane never waits for the other lane's slower run to finish (the
# old run-in-pairs loop did, and every pair paid for its slower run)
lane() { # lane number
    i=0
    for seed in $SEEDS; do
        for arm in muon adamw muon-bf16; do
            if [ $((i % JOBS)) -eq "$1" ]; then run "$arm" "$seed"; fi
            i=$((i + 1))
        done
    done
}
j=0
while [ "$j" -lt "$JOBS" ]; do
    lane "$j" &
    j=$((j + 1))
done
wait
if [ -e "$OUT/.failed" ]; then rm -f "$OUT/.failed"; echo "study: a run failed" >&2; exit 1; fi
total=$(( $(date +%s) - start ))

# one row per run from its metrics.csv, events.csv and run.json
row() { # dir arm seed
    awk -F, -v arm="$2" -v seed="$3" -v evfile="$1/events.csv" -v json="$1/run.json" '
    NR == 1 { next }
    $2 == -1 && $4 == "loss" { loss = $5 }
    $2 == -1 && $4 == "val_loss" { val = $5 }
    $2 >= 0 { if ($1 + 0 > last) last = $1 + 0; if ($2 + 0 > L) L = $2 + 0;
              key[NR] = $1 SUBSEP $2 SUBSEP $4; v[NR] = $5 }
    END {
        for (i in key) {
            split(key[i], k, SUBSEP)
            s = k[1] + 0; l = k[2] + 0; m = k[3]
            if (s == 0 && m == "sigma_max") { s0 += v[i]; n0++ }
            if (s != last) continue
            if (m == "sigma_max") { sig += v[i]; ns++; bl[l] += v[i]; nl[l]++ }
            if (m == "alignment_left" && v[i] == v[i] + 0) { al += v[i]; na++ }
            if (m == "spectral_entropy") { en += v[i]; ne++ }
            if (m == "esd_alpha" && v[i] != "nan") { es += v[i]; nes++ }
        }
        # least-squares slope of the per-layer mean sigma_max against depth
        for (l = 0; l <= L; l++) if (nl[l]) { y = bl[l] / nl[l]; sx += l; sy += y; sxx += l * l; sxy += l * y; n++ }
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        first = bl[0] / nl[0]; lastl = bl[L] / nl[L]
        nev = 0
        while ((getline line < evfile) > 0) nev++
        if (nev > 0) nev--
        secs = "?"
        while ((getline line < json) > 0) if (line ~ /"seconds_total"/) { gsub(/[^0-9.]/, "", line); secs = line }
        printf "| %s | %s | %.4f | %.4f | %.3f | %.3f | %.4f | %.3f | %.3f | %.3f | %d | %.0f |\n", arm, seed, loss, val,
               (sig / ns) / (s0 / n0), lastl / first, slope, al / na, en / ne, es / nes, nev, secs
    }' "$1/metrics.csv"
}

report="$OUT/summary.md"
{
    echo "# make study: Muon vs AdamW vs Muon bf16 on --model deep"
    echo
    echo "$STEPS steps x 2048 tokens ($(( STEPS * 2048 )) tokens) per run, data/kjv.txt, $THREADS threads;"
    echo "wall time of the whole study: $total s ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m))."
    echo "Columns at the last tracked step: mean sigma_max over all matrices relative to step 0 (growth);"
    echo "mean sigma_max of the last layer over the first (stretch); slope of the per-layer mean"
    echo "sigma_max against depth; mean alignment_left, spectral_entropy, esd_alpha over all 132"
    echo "matrices; phase-transition candidates in events.csv; seconds of the run."
    echo
    echo "| arm | seed | loss | val loss | sigma growth | last/first | depth slope | alignment | entropy | esd alpha | events | s |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for seed in $SEEDS; do
        for arm in muon adamw muon-bf16; do row "$OUT/$arm-seed$seed" "$arm" "$seed"; done
    done
} > "$report.tmp"
mv "$report.tmp" "$report"
# the research's claims measured on the six runs, with the comparison figures
# (muon report: docs/research.md), beside the summary table
runs=""
for arm in muon adamw muon-bf16; do for seed in $SEEDS; do runs="$runs $OUT/$arm-seed$seed"; done; done
# shellcheck disable=SC2086 # one word per run directory
"$MUON" report $runs --out "$OUT" > /dev/null ||
    { echo "study: muon report failed" >&2; exit 1; }
echo "study: $total s; $report, $OUT/report.md"
