#!/bin/bash
# The distributed tests (make test-mpi; docs/distributed.md): the MPI build
# against the single-process build, on 1-4 ranks (oversubscribed on a small
# machine). Every check compares whole files with cmp: checkpoints (every
# parameter and optimizer tensor, and the metadata) and metrics.csv must be
# the same bytes whatever the rank count. Each run gets its own directory
# and the same relative --out, so the recorded settings match too.
#
#   tests/mpi/run.sh MPI_MUON LOCAL_MUON
set -u
MPI_MUON=$(realpath "$1")
LOCAL_MUON=$(realpath "$2")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/build/test_mpi
rm -rf "$W"
mkdir -p "$W"
# a 300 kB slice of the corpus: the final whole-split evaluation stays short
head -c 300000 "$ROOT/data/kjv.txt" > "$W/corpus.txt"

export OMP_WAIT_POLICY=passive
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # CI runs as root
export OMPI_MCA_btl_vader_single_copy_mechanism=none               # containers forbid CMA
export OMPI_MCA_rmaps_base_oversubscribe=1                         # more ranks than cores
MPIRUN="mpirun --oversubscribe"

pass=0
fail=0
check() { # check CONDITION-STATUS MESSAGE
    if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok   mpi         $2"; else fail=$((fail + 1)); echo "FAIL mpi         $2"; fi
}
same() { # same DIR_A DIR_B WHAT: checkpoint and metrics.csv byte-identical
    cmp -s "$W/$1/run/checkpoint.safetensors" "$W/$2/run/checkpoint.safetensors"
    check $? "$3: checkpoint of $2 == $1, byte for byte"
    cmp -s "$W/$1/run/metrics.csv" "$W/$2/run/metrics.csv"
    check $? "$3: metrics.csv of $2 == $1, byte for byte"
}
local_run() { # local_run DIR THREADS FLAGS...
    local d=$1 t=$2
    shift 2
    mkdir -p "$W/$d"
    (cd "$W/$d" && "$LOCAL_MUON" train "$@" --threads "$t" --out run > out.txt 2> err.txt)
}
mpi_run() { # mpi_run DIR RANKS THREADS FLAGS...
    local d=$1 n=$2 t=$3
    shift 3
    mkdir -p "$W/$d"
    (cd "$W/$d" && $MPIRUN -np "$n" "$MPI_MUON" train "$@" --threads "$t" --out run > out.txt 2> err.txt)
}
muon_lines() { grep -c '^muon: ' "$W/$1/err.txt"; }

DATA="--data $W/corpus.txt --log-every 1"

# ---- bit-identity: tiny, batch 12 (divisible by 1, 2, 3 and 4) ----
T="--model tiny --batch-size 12 --steps 6 --track-every 2 --eval-every 3 --eval-batches 2 $DATA"
local_run tiny.local 1 $T
check $? "tiny: single-process build, 1 thread"
mpi_run tiny.np1 1 2 $T
check $? "tiny: MPI build, 1 rank x 2 threads"
same tiny.local tiny.np1 "tiny 1 rank"
for n in 2 3 4; do
    mpi_run tiny.np$n $n 1 $T
    check $? "tiny: $n ranks x 1 thread (exit status)"
    same tiny.local tiny.np$n "tiny $n ranks"
done
grep -q "distributed: 4 ranks x 1 thread, 3 sequences per rank, gradient tree of 2 nodes per rank" "$W/tiny.np4/out.txt"
check $? "tiny 4 ranks: 3 sequences each, 2 tree nodes each (the tree does not align with the ranks)"

# the other layouts: AdamW everywhere, merged [Q;K;V;O], SwiGLU, untied head
V="--model tiny --batch-size 6 --steps 4 --track-every 2 --eval-every 2 --eval-batches 1 --optimizer adamw --merged-qkvo --ffn swiglu --untied-head $DATA"
local_run variant.local 2 $V
mpi_run variant.np3 3 1 $V
same variant.local variant.np3 "adamw/merged/swiglu/untied 3 ranks"

# ---- nano, its default batch 16: 2 and 4 ranks ----
N="--model nano --steps 3 --track-every 3 --eval-every 3 --eval-batches 1 $DATA"
local_run nano.local 2 $N
check $? "nano: single-process build, 2 threads"
for n in 2 4; do
    mpi_run nano.np$n $n 1 $N
    same nano.local nano.np$n "nano $n ranks"
done

# ---- resume with a different rank count ----
mpi_run resume.np2 2 1 $T --stop-after 3
check $? "resume: 2 ranks stop after step 3 (exit status 0, as --stop-after)"
(cd "$W/resume.np2" && $MPIRUN -np 3 "$MPI_MUON" train --resume run/checkpoint.safetensors --threads 1 > out2.txt 2> err2.txt)
check $? "resume: 3 ranks continue the 2-rank checkpoint"
cmp -s "$W/tiny.local/run/checkpoint.safetensors" "$W/resume.np2/run/checkpoint.safetensors"
check $? "2 ranks to step 3, then 3 ranks to step 6: checkpoint == the straight 6-step run, byte for byte"
# a stopped run also tracks the step it stops at: its log is that of one
# process stopped and resumed the same way
local_run resume.local 1 $T --stop-after 3
(cd "$W/resume.local" && "$LOCAL_MUON" train --resume run/checkpoint.safetensors --threads 1 > out2.txt 2> err2.txt)
same resume.local resume.np2 "stopped at 3 and resumed: 2 then 3 ranks vs one process"

# ---- refused input: one line, exit status 2, nothing written ----
mpi_run bad.div 3 1 --model tiny --batch-size 4 --steps 2 $DATA
st=$?
[ $st -ne 0 ] && [ "$(muon_lines bad.div)" = 1 ] && grep -q "batch-size 4 is not a multiple of the 3 ranks" "$W/bad.div/err.txt" && [ ! -e "$W/bad.div/run" ]
check $? "batch 4 on 3 ranks: one line naming both, no output directory (exit $st)"
mpi_run bad.reduce 2 1 --model tiny --steps 2 --reduce batch $DATA
st=$?
[ $st -ne 0 ] && [ "$(muon_lines bad.reduce)" = 1 ] && grep -q "reduce batch runs on one process only" "$W/bad.reduce/err.txt" && [ ! -e "$W/bad.reduce/run" ]
check $? "--reduce batch on 2 ranks: refused in one line (exit $st)"
mpi_run bad.flag 2 1 --model tiny --steps 2 --lr banana $DATA
st=$?
[ $st -ne 0 ] && [ "$(muon_lines bad.flag)" = 1 ]
check $? "a bad flag on 2 ranks: one line, not one per rank (exit $st)"
mkdir -p "$W/bad.cmd"
(cd "$W/bad.cmd" && $MPIRUN -np 2 "$MPI_MUON" analyze "$W/tiny.local/run/checkpoint.safetensors" > out.txt 2> err.txt)
st=$?
[ $st -ne 0 ] && [ "$(muon_lines bad.cmd)" = 1 ] && grep -q "only 'muon train' runs on several MPI ranks" "$W/bad.cmd/err.txt"
check $? "analyze on 2 ranks: refused in one line (exit $st)"

mpi_run bad.data 2 1 --model tiny --steps 2 --data "$W/no-such-corpus.txt" --log-every 1
st=$?
[ $st -ne 0 ] && [ "$(muon_lines bad.data)" = 1 ] && grep -q "no-such-corpus" "$W/bad.data/err.txt"
check $? "a missing data file on 2 ranks: one line naming it (exit $st)"
mpi_run diverge 2 1 --model tiny --steps 6 --lr 1e30 --adam-lr 1e30 --warmup 0 --ckpt-every 1 $DATA
st=$?
[ $st -ne 0 ] && [ "$(muon_lines diverge)" = 1 ] && grep -q "diverged" "$W/diverge/err.txt" && grep -q '"status": "diverged"' "$W/diverge/run/run.json"
check $? "lr 1e30 on 2 ranks: 'diverged' said once, run.json records it (exit $st)"

# ---- Ctrl-C on mpirun: every rank stops after the same step, checkpoint kept ----
C="--model nano --steps 40 --track-every 0 --eval-every 0 --batch-size 4 $DATA"
mkdir -p "$W/sigint"
(cd "$W/sigint" && exec $MPIRUN -np 2 "$MPI_MUON" train $C --threads 1 --out run > out.txt 2> err.txt) &
pid=$!
for _ in $(seq 600); do grep -q "^step      2/" "$W/sigint/out.txt" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
wait $pid
st=$?
grep -q "^stopped after step" "$W/sigint/out.txt" && [ -s "$W/sigint/run/checkpoint.safetensors" ]
check $? "SIGINT to mpirun: 'stopped after step N' and a checkpoint (mpirun exit $st)"
(cd "$W/sigint" && $MPIRUN -np 2 "$MPI_MUON" train --resume run/checkpoint.safetensors --threads 1 > out2.txt 2> err2.txt)
check $? "SIGINT: the run continues from its checkpoint"
local_run sigint.local 2 $C
same sigint.local sigint "stopped by SIGINT at step $(sed -n 's/^stopped after step \([0-9]*\).*/\1/p' "$W/sigint/out.txt"), resumed"

# ---- a rank dies: the job ends, naming it; the last checkpoint survives ----
D="--model nano --steps 400 --track-every 0 --eval-every 0 --batch-size 4 --ckpt-every 2 $DATA"
mkdir -p "$W/death"
(cd "$W/death" && exec $MPIRUN -np 2 "$MPI_MUON" train $D --threads 1 --out run > out.txt 2> err.txt) &
pid=$!
for _ in $(seq 600); do grep -q "^step      5/" "$W/death/out.txt" 2>/dev/null && break; sleep 0.1; done
victim=$(pgrep -P "$pid" -f "muon train" | tail -1)
[ -z "$victim" ] && victim=$(pgrep -f "$MPI_MUON train $D" | tail -1)
kill -KILL $victim
wait $pid
st=$?
[ $st -ne 0 ] && grep -q "exited on signal 9" "$W/death/err.txt"
check $? "kill -9 of one rank: mpirun ends the job and names the rank (exit $st)"
(cd "$W/death" && "$LOCAL_MUON" train --resume run/checkpoint.safetensors --steps 8 --threads 2 --out run > out2.txt 2> err2.txt)
st=$?
[ $st -eq 0 ] || grep -q "nothing to do for --steps 8" "$W/death/err2.txt"
check $? "kill -9: the last checkpoint loads and the run continues in one process (exit $st)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
