#!/bin/bash
# The scaling model of docs/distributed.md#a-scaling-model-for-blueberry-nano:
# a step's time on N nodes from one node's measured figures and a stated
# network, for the research batch (8 sequences of 2048 tokens) and for one
# sequence per node. A model on paper, not a measurement.
#
#   scripts/scaling_model.sh T_SEQ T_MUON [GBIT_PER_S] [LATENCY_US]
#     T_SEQ   seconds of one sequence's forward + backward on one node
#     T_MUON  seconds of one step's Muon updates (all 132 matrices) on one node
set -eu
T_SEQ=$1
T_MUON=$2
GBIT=${3:-100}
LAT_US=${4:-2}
awk -v tseq="$T_SEQ" -v tmuon="$T_MUON" -v gbit="$GBIT" -v lat="$LAT_US" 'BEGIN {
    P = 63595776; T = 2048; TOKENS = 500e6
    # Muon cost ~ r c min(r,c) per matrix: per layer up and down (2048x512)
    # 2 x 537M, q and o 2 x 134M, k and v 2 x 67M; 22 layers. One matrix is
    # never split, so one rank takes at least the largest matrix.
    biggest = 2048 * 512 * 512; total = 22 * (2 * 2048 * 512 * 512 + 2 * 512 * 512 * 512 + 2 * 256 * 512 * 512)
    beta = gbit * 1e9 / 8; alpha = lat * 1e-6
    printf "blueberry-nano, %d parameters; network %g Gbit/s, %g us latency; node: T_seq %.2f s, T_muon %.2f s\n", P, gbit, lat, tseq, tmuon
    printf "%-6s %-6s %-5s %10s %10s %10s %10s %12s %14s\n", "nodes", "batch", "ranks", "fwd+bwd s", "muon s", "comm s", "step s", "tokens/s", "500M tokens"
    split("1 8 32 128", nodes, " ")
    for (i = 1; i <= 4; i++) for (policy = 0; policy < 2; policy++) {
        N = nodes[i]
        B = policy == 0 ? 8 : N            # the research batch, or one sequence per node
        if (policy == 1 && N <= 8) continue
        R = N < B ? N : B                  # ranks must divide the batch: at most B of them
        while (B % R) R--
        comp = (B / R) * tseq
        muon = tmuon * (1 / R > biggest / total ? 1 / R : biggest / total)
        # all-to-all of the node sums, then all-gather of the parameters: each
        # rank sends (R-1)/R of P floats in each, pairwise (R-1 messages)
        comm = R > 1 ? 2 * ((R - 1) * alpha + (R - 1) / R * P * 4 / beta) : 0
        step = comp + muon + comm
        tps = B * T / step
        h = TOKENS / tps / 3600
        printf "%-6d %-6d %-5d %10.2f %10.3f %10.3f %10.2f %12.0f %12.1f h\n", N, B, R, comp, muon, comm, step, tps, h
    }
}'
