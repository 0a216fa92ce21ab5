#!/usr/bin/env bash
# Session 33 (2026-12-07): the AVX2-only AMD EPYC (Zen 3 class, 2 cores, fp32) a fifth time; no GPU.
# A second relabelled round from session 32's round-1 agents (runs/small-s1[12]/recover, made by
# ../avx2-s32/commands.sh), the two seeds side by side on one thread each.
set -euo pipefail
d=docs/results/avx2-s33
for s in 11 12; do bash $d/round2.sh $s 1 & done; wait    # DAgger and the recovery pages, round 2
for s in 11 12; do bash $d/rpo2.sh $s 1 & done; wait      # RPO on DAgger-2's states
for s in 11 12; do bash $d/round2c.sh $s 1 & done; wait   # recovery pages with the states after a back-out
for s in 11 12; do   # round2-s$s-kinds.md, round2-s$s-paired.md
    for a in dagger recover1; do
        bin/records -q runs/small-s$s/round2/traj-$a.jsonl.zst | jq -c -s -f $d/backouts.jq
    done
done
