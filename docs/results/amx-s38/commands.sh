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
    python3 scripts/loss_kinds.py $A/il-test-s$s.jsonl.zst $A/oracle-test.jsonl.zst $R/goals-test.jsonl > docs/results/amx-s38/losses-s$s.md
    python3 scripts/winners.py $R/goals-test.jsonl $A/il-test-s$s.jsonl.zst > docs/results/amx-s38/winners-s$s.md
done
python3 docs/results/amx-s38/option-order.py runs36/medium-s1/goals-test.jsonl $A/oracle-test.jsonl.zst $A/il-test-s{1,2,3,4}.jsonl.zst

# 2. The 13 human instructions for each run's IL, RPO round 3 and DAgger round 3 (pipeline-paper's
#    targets), and the table over seeds 1-4.
for R in runs36/medium-s1 runs36/medium-s2 runs37/medium-s3 runs37/medium-s4; do
    s=${R##*-s}
    make SIZE=medium SEED=$s RUNS_ROOT=${R%/*} QUIET=-q \
        $R/eval-human-il.summary.jsonl $R/eval-human-relabel-3.summary.jsonl $R/eval-human-dagger-3.summary.jsonl
done
bash pipelines/paper.sh docs/results/amx-s38 medium 2 3 runs36/medium-s1 runs36/medium-s2 runs37/medium-s3 \
    runs37/medium-s4 > docs/results/amx-s38/seeds-1-4-report.md

# 3. Imitation with the oracle's options in any order, seeds 1 and 2 side by side on one thread
#    each, at commit 3128714 (gen-traj --option-order any, the knob OPTION_ORDER; reverted by the
#    next commit but one, f45a98b); their page-order twins are session 36's runs (the first passes
#    evaluated here too).
git worktree add ../any-order 3128714
(cd ../any-order && ln -sfn "$OLDPWD/models" models && make -j2 &&
 for s in 1 2; do
     R=$OLDPWD/runs38/medium-s$s
     OMP_NUM_THREADS=1 make SIZE=medium SEED=$s RUNS_ROOT=$OLDPWD/runs38 OPTION_ORDER=any QUIET=-q \
         $R/il-first.ckpt $R/eval-il-first.summary.jsonl $R/il.ckpt $R/eval-il.summary.jsonl &
 done; wait)
for s in 1 2; do
    make SIZE=medium SEED=$s RUNS_ROOT=runs36 QUIET=-q runs36/medium-s$s/eval-il-first.summary.jsonl
    bash scripts/paired.sh runs36/medium-s$s/eval-il-first.jsonl.zst runs38/medium-s$s/eval-il-first.jsonl.zst
    bash scripts/paired.sh runs36/medium-s$s/eval-il.jsonl.zst runs38/medium-s$s/eval-il.jsonl.zst
    bin/rollout -q --cpu-math auto -m runs38/medium-s$s/il.ckpt --oracle-labels --seed $s --threads 2 $EP \
        -o $A/any-test-s$s.jsonl.zst runs36/medium-s$s/goals-test.jsonl
done
bin/rollout -q --cpu-math auto -m runs36/medium-s1/il-first.ckpt --oracle-labels --seed 1 --threads 1 $EP \
    -o $A/first-page-s1.jsonl.zst runs36/medium-s1/goals-test.jsonl
bin/rollout -q --cpu-math auto -m runs38/medium-s1/il-first.ckpt --oracle-labels --seed 1 --threads 1 $EP \
    -o $A/first-any-s1.jsonl.zst runs36/medium-s1/goals-test.jsonl
python3 docs/results/amx-s38/option-order.py runs36/medium-s1/goals-test.jsonl $A/oracle-test.jsonl.zst $A/il-test-s{1,2,3,4}.jsonl.zst \
    $A/first-page-s1.jsonl.zst $A/first-any-s1.jsonl.zst $A/any-test-s{1,2}.jsonl.zst > docs/results/amx-s38/option-order.md

# 4. Observations that mark exactly the chosen option values (MARK_CHOSEN=yes), seed 1 on two
#    threads; its WebShop-page twin is session 36's run.
R=runs38m/medium-s1
OMP_NUM_THREADS=2 make SIZE=medium SEED=1 RUNS_ROOT=runs38m MARK_CHOSEN=yes QUIET=-q \
    $R/il-first.ckpt $R/eval-il-first.summary.jsonl $R/il.ckpt $R/eval-il.summary.jsonl
bash scripts/paired.sh runs36/medium-s1/eval-il-first.jsonl.zst $R/eval-il-first.jsonl.zst
bash scripts/paired.sh runs36/medium-s1/eval-il.jsonl.zst $R/eval-il.jsonl.zst

# 5. The page-trained IL agents of seeds 1-4 evaluated on marked pages (--mark-chosen), one thread,
#    each paired with its own evaluation on WebShop's page.
for R in runs36/medium-s1 runs36/medium-s2 runs37/medium-s3 runs37/medium-s4; do
    s=${R##*-s}
    bin/thompson-eval -q --cpu-math auto --threads 1 --fixed 500 --arm il-marked=$R/il.ckpt $EP --mark-chosen --seed $s \
        --summary $A/eval-marked-s$s.summary.jsonl -o $A/eval-marked-s$s.jsonl.zst $R/goals-test.jsonl
    bash scripts/paired.sh $R/eval-il.jsonl.zst $A/eval-marked-s$s.jsonl.zst
done
