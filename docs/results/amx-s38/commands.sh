#!/usr/bin/env bash
# Session 38 (2026-12-08): the Intel Xeon with AMX and AVX512_BF16 of sessions 36-37 (2 cores; bf16
# products, the pipelines' CPU_MATH=auto); no GPU. Run from the repository root. runs36/ and
# runs37/ hold sessions 36 and 37's SIZE=medium pipeline-relabel runs (amx-s36/, amx-s37/commands.sh).
set -euo pipefail
EP="--max-steps 15 --obs text_rich"
mkdir -p runs38/analysis
A=runs38/analysis

# 1. Where seeds 1-4's IL agents lose: their argmax on the 500 test goals with the oracle labelling
#    every state, the oracle's own episodes; losses by kind (loss_kinds.py), what the pages could
#    have told (winners.py), and option clicks against the oracle's order (option-order.py).
for R in runs36/medium-s1 runs36/medium-s2 runs37/medium-s3 runs37/medium-s4; do
    s=${R##*-s}
    bin/rollout -q --cpu-math auto -m $R/il.ckpt --oracle-labels --seed $s --threads 1 $EP -o $A/il-test-s$s.jsonl.zst $R/goals-test.jsonl
    [ -f $A/oracle-test.jsonl.zst ] || bin/rollout -q -p oracle --seed 1 $EP -o $A/oracle-test.jsonl.zst $R/goals-test.jsonl
    python3 scripts/loss_kinds.py $A/il-test-s$s.jsonl.zst $A/oracle-test.jsonl.zst $R/goals-test.jsonl > $A/losses-s$s.md
    python3 scripts/winners.py $R/goals-test.jsonl $A/il-test-s$s.jsonl.zst > $A/winners-s$s.md
done
python3 docs/results/amx-s38/option-order.py $A/oracle-test.jsonl.zst $A/il-test-s{1,2,3,4}.jsonl.zst

# 2. The 13 human instructions for each run's IL, RPO round 3 and DAgger round 3 (pipeline-paper's
#    targets), and the table over seeds 1-4.
for R in runs36/medium-s1 runs36/medium-s2 runs37/medium-s3 runs37/medium-s4; do
    s=${R##*-s}
    make SIZE=medium SEED=$s RUNS_ROOT=${R%/*} QUIET=-q \
        $R/eval-human-il.summary.jsonl $R/eval-human-relabel-3.summary.jsonl $R/eval-human-dagger-3.summary.jsonl
done
bash pipelines/paper.sh docs/results/amx-s38 medium 2 3 runs36/medium-s1 runs36/medium-s2 runs37/medium-s3 \
    runs37/medium-s4 > docs/results/amx-s38/seeds-1-4-report.md

# 3. Imitation with the oracle's options in any order (OPTION_ORDER=any), seeds 1 and 2 side by
#    side on one thread each; their page-order twins are session 36's runs (the first passes
#    evaluated here too).
for s in 1 2; do
    R=runs38/medium-s$s
    OMP_NUM_THREADS=1 make SIZE=medium SEED=$s RUNS_ROOT=runs38 OPTION_ORDER=any QUIET=-q \
        $R/il-first.ckpt $R/eval-il-first.summary.jsonl $R/il.ckpt $R/eval-il.summary.jsonl &
done
wait
for s in 1 2; do
    make SIZE=medium SEED=$s RUNS_ROOT=runs36 QUIET=-q runs36/medium-s$s/eval-il-first.summary.jsonl
    bash scripts/paired.sh runs36/medium-s$s/eval-il-first.jsonl.zst runs38/medium-s$s/eval-il-first.jsonl.zst
    bash scripts/paired.sh runs36/medium-s$s/eval-il.jsonl.zst runs38/medium-s$s/eval-il.jsonl.zst
done
