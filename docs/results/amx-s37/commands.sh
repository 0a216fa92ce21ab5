#!/usr/bin/env bash
# Session 37 (2026-12-07): the Intel Xeon with AMX and AVX512_BF16 of session 36 (2 cores; bf16
# products, the pipelines' CPU_MATH=auto); no GPU. Run from the repository root.
set -euo pipefail

# 1. Do the relabelled rounds need goals the imitation never saw? Departures and wins on goals
#    imitated and not, in the round-1 rollouts: step 4 below.

# 2. One round on the eval split's 1,000 goals (RELABEL_SPLIT=eval: never imitated), from session
#    36's IL agents, seeds 1 then 2 on one thread (beside step 3). The run directories hold session
#    36's imitation files (hard links: goals, tok-oracle, il-first.ckpt, il.ckpt, eval-il.*), so
#    make starts at the round.
for s in 1 2; do
    R=runs37e/medium-s$s
    mkdir -p $R
    for f in goals-train.jsonl goals-test.jsonl tok-oracle.jsonl.zst il-first.ckpt il-first-metrics.jsonl il.ckpt \
             il-metrics.jsonl eval-il.jsonl.zst eval-il.md eval-il.summary.jsonl eval-relabel-0.summary.jsonl; do
        ln -f runs36/medium-s$s/$f $R/$f
    done
    OMP_NUM_THREADS=1 make SIZE=medium SEED=$s RUNS_ROOT=runs37e RELABEL_SPLIT=eval RELABEL_ROUNDS=1 QUIET=-q \
        $R/eval-relabel-1.summary.jsonl $R/eval-dagger-1.summary.jsonl $R/report-relabel.md
done &

# 3. make SIZE=medium pipeline-relabel from scratch for seeds 3 and 4 (not tuned on), side by side
#    on one thread each, each round of both families before the next.
for s in 3 4; do
    R=runs37/medium-s$s; targets=
    for t in eval-relabel-0 eval-relabel-1 eval-dagger-1 eval-relabel-2 eval-dagger-2 eval-relabel-3 eval-dagger-3; do
        targets="$targets $R/$t.summary.jsonl"
    done
    OMP_NUM_THREADS=1 make SIZE=medium SEED=$s RUNS_ROOT=runs37 QUIET=-q $targets $R/report-relabel.md &
done
wait

# 4. Round 1's departures on imitated goals and on others: session 36's seeds 1 and 2, the eval
#    split's round (2.), seeds 3 and 4 (3.).
bash docs/results/amx-s37/seen-unseen.sh runs36/medium-s1 runs36/medium-s2 runs37e/medium-s1 runs37e/medium-s2 \
    runs37/medium-s3 runs37/medium-s4 > docs/results/amx-s37/seen-unseen.md
