#!/usr/bin/env bash
# Session 35 (2026-12-07): the AVX2-only AMD EPYC (Zen 3 class, 2 cores, fp32) a seventh time; no GPU.
# DAgger's aggregate: a relabelled round trained on the anchors of every round so far instead of
# its own round's alone (Ross, Gordon and Bagnell 2011), from the round-1 agents and round-2 data of
# sessions 33 (seeds 11, 12: ../avx2-s33/commands.sh, rounds by hand) and 34 (seeds 9, 10:
# ../avx2-s34/commands.sh, runs34/), the same 120 updates and settings as the pipeline's round.
# Seeds side by side on one thread each.
set -euo pipefail
agg() {   # agg SEED ROUND1_CKPT GOALS_TEST ANCHORS...: round 2 on both rounds' anchors, then 500 test goals
    s=$1; init=$2; goals=$3; shift 3; out=runs35/small-s$s; mkdir -p $out
    bin/train-il -q --threads 1 --cpu-math auto --init $init -b 8 --steps 120 --lr 2e-5 --oversample option=1 \
        --seed $s --metrics $out/dagger-agg-2.metrics.jsonl -o $out/dagger-agg-2.ckpt "$@"
    bin/thompson-eval -q --threads 1 --cpu-math auto --fixed 500 --arm dagger-agg-2=$out/dagger-agg-2.ckpt --max-steps 15 \
        --obs text_rich --seed $s --summary $out/eval-dagger-agg-2.summary.jsonl --table $out/eval-dagger-agg-2.md \
        -o $out/eval-dagger-agg-2.jsonl.zst $goals
}
for s in 9 10; do R=runs34/small-s$s
    agg $s $R/dagger-1.ckpt $R/goals-test.jsonl $R/dagger-1.anchors.jsonl.zst $R/dagger-2.anchors.jsonl.zst &
done; wait
for s in 11 12; do R=runs/small-s$s
    agg $s $R/recover/dagger.ckpt $R/goals-test.jsonl $R/recover/first.tok.jsonl.zst $R/round2/first-dagger.tok.jsonl.zst &
done; wait
# Seed 9 by the pipeline itself: session 34's files, round 2 of each family made again (RPO on both
# rounds' pairs and anchors; dagger-2 is agg()'s checkpoint above, copied in: the same command).
mkdir -p runs35/pipe && cp -a runs34/small-s9 runs35/pipe/small-s9
( cd runs35/pipe/small-s9 && rm -f relabel-2.pairs.jsonl.zst relabel-2.tok.jsonl.zst relabel-2.ckpt* eval-relabel-2.* \
      report-relabel.md dagger-2.ckpt* eval-dagger-2.* training-* &&
  cp ../../small-s9/dagger-agg-2.ckpt dagger-2.ckpt && cp ../../small-s9/dagger-agg-2.ckpt.optim dagger-2.ckpt.optim )
knobs="SIZE=small RUNS_ROOT=runs35/pipe RELABEL_GOALS=1000 TEST_N=500 RELABEL_ROUNDS=2"
OMP_NUM_THREADS=1 make $knobs SEED=9 pipeline-relabel &    # seed9-report-relabel.md (plots left out)
# Seed 7 (no relabelled round had been tried on it; its SIZE=small IL agent from session 29,
# ../avx2-2026-12-06-s29/): DAgger's two rounds by the pipeline, round 2 on the aggregate, and the
# IL agent evaluated again on the 500 test goals (session 29's evaluation played 100).
mkdir -p runs35/pipe/small-s7
( cd runs29/small-s7 && cp -a goals-train.jsonl goals-test.jsonl traj-oracle.jsonl.zst tok-oracle.jsonl.zst \
      il.ckpt il.ckpt.optim il-metrics.jsonl times.tsv ../../runs35/pipe/small-s7/ )
p=runs35/pipe/small-s7
OMP_NUM_THREADS=1 make $knobs SEED=7 $p/eval-dagger-1.summary.jsonl $p/eval-dagger-2.summary.jsonl $p/eval-il.summary.jsonl
wait
BIN=bin bash scripts/paired.sh $p/eval-il.jsonl.zst $p/eval-dagger-1.jsonl.zst $p/eval-dagger-2.jsonl.zst   # seed7-paired.md
bin/gen-traj -q --oracle --seed 10 --max-steps 15 --obs text_rich -o /tmp/oracle-test.jsonl.zst runs34/small-s10/goals-test.jsonl
bash scripts/decision_accuracy.sh runs35/small-s10/dagger-agg-2.ckpt /tmp/oracle-test.jsonl.zst   # seed10-agg-decisions.md
