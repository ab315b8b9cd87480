#!/bin/bash
# make bench-mpi: training throughput of one process against MPI ranks on
# this machine, all in one run (docs/distributed.md#measured). Each setting
# trains REPS times, interleaved, and the best tokens/s is kept (the machine
# may be shared); bytes and seconds of communication are rank 0's, from
# run.json, per step.
#
#   scripts/bench_mpi.sh MPI_MUON LOCAL_MUON [MODEL] [STEPS] [REPS]
set -eu
MPI_MUON=$(realpath "$1")
LOCAL_MUON=$(realpath "$2")
MODEL=${3:-nano}
STEPS=${4:-30}
REPS=${5:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$ROOT/build/bench_mpi
rm -rf "$W"
mkdir -p "$W"
export OMP_WAIT_POLICY=passive OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
F="--model $MODEL --steps $STEPS --track-every 0 --eval-every 0 --log-every 0 --data $ROOT/data/kjv.txt"
json() { # json FILE KEY: a number from run.json
    sed -n "s/.*\"$2\": \([0-9.e+-]*\).*/\1/p" "$1" | head -1
}
settings=("local-tree-1x2" "local-batch-1x2" "mpi-1x2" "mpi-2x1")
declare -A best bytes secs
for s in "${settings[@]}"; do best[$s]=0; done
for rep in $(seq "$REPS"); do
    for s in "${settings[@]}"; do
        d=$W/$s.$rep
        case $s in
            local-tree-1x2) "$LOCAL_MUON" train $F --threads 2 --out "$d" > /dev/null ;;
            local-batch-1x2) "$LOCAL_MUON" train $F --threads 2 --reduce batch --out "$d" > /dev/null ;;
            mpi-1x2) mpirun -np 1 --bind-to none "$MPI_MUON" train $F --threads 2 --out "$d" > /dev/null ;;
            mpi-2x1) mpirun -np 2 --bind-to core "$MPI_MUON" train $F --threads 1 --out "$d" > /dev/null ;;
        esac
        t=$(json "$d/run.json" tokens_per_s)
        if awk "BEGIN{exit !($t > ${best[$s]})}"; then
            best[$s]=$t
            bytes[$s]=$(json "$d/run.json" rank0_bytes_sent)
            secs[$s]=$(json "$d/run.json" rank0_comm_seconds)
        fi
    done
done
base=${best[local-tree-1x2]}
printf '%s, %s steps, best of %s (one run: ratios are to local tree 1x2)\n' "$MODEL" "$STEPS" "$REPS"
printf '%-22s %12s %8s %16s %16s\n' setting tokens/s ratio "MB sent/step" "comm ms/step"
for s in "${settings[@]}"; do
    printf '%-22s %12.0f %8.2f %16.2f %16.1f\n' "$s" "${best[$s]}" "$(awk "BEGIN{print ${best[$s]}/$base}")" \
        "$(awk "BEGIN{print ${bytes[$s]}/1e6/$STEPS}")" "$(awk "BEGIN{print ${secs[$s]}*1e3/$STEPS}")"
done
