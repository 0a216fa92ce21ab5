#!/usr/bin/env bash
# Session 34 (2026-12-07): the AVX2-only AMD EPYC (Zen 3 class, 2 cores, fp32) a sixth time; no GPU.
# make pipeline-relabel with a new block of train goals each round (relabel.mk, goals-relabel-k),
# from the SIZE=small IL agents of seeds 9 and 10 (made by ../avx2-gemm-f32-s30/commands.sh and
# ../avx2-s31/commands.sh; neither seed had been used for the relabelled rounds), 1,000 goals a
# round as in session 33's rounds by hand, all 500 test goals. DAgger's rounds first, the two seeds
# side by side on one thread each; then seed 9's RPO rounds on both threads (time: seed 10's RPO
# rounds were not run).
set -euo pipefail
R=runs34
for s in 9 10; do   # the IL run copied in, timestamps kept: make finds it up to date
    mkdir -p $R/small-s$s
    cp -a runs/small-s$s/{goals-train.jsonl,goals-test.jsonl,traj-oracle.jsonl.zst,tok-oracle.jsonl.zst,il.ckpt,il.ckpt.optim,il-metrics.jsonl,times.tsv} $R/small-s$s/
done
knobs="SIZE=small RUNS_ROOT=$R RELABEL_GOALS=1000 TEST_N=500 RELABEL_ROUNDS=2"
for s in 9 10; do
    OMP_NUM_THREADS=1 make $knobs SEED=$s $R/small-s$s/eval-dagger-1.summary.jsonl $R/small-s$s/eval-dagger-2.summary.jsonl &
done; wait
OMP_NUM_THREADS=2 make $knobs SEED=9 pipeline-relabel    # seed9-report-relabel.md (its plots left out)
BIN=bin bash scripts/paired.sh $R/small-s10/eval-il.jsonl.zst $R/small-s10/eval-dagger-{1,2}.jsonl.zst   # seed10-paired.md
bin/gen-traj -q --oracle --seed 10 --max-steps 15 --obs text_rich -o /tmp/oracle-test.jsonl.zst $R/small-s10/goals-test.jsonl
for a in il dagger-1 dagger-2; do bash scripts/decision_accuracy.sh $R/small-s10/$a.ckpt /tmp/oracle-test.jsonl.zst; done   # seed10-decisions.md
