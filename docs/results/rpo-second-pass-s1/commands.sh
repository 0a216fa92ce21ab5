#!/usr/bin/env bash
# Issue 14: the preference stage as SIZE=medium's second pass. From seed 1's first-pass agent
# (82.8%), relabelled on-policy pairs over every train goal; then, side by side on one thread
# each, for the second pass's updates and rate (1,500 at 5e-5): RPO with the oracle's own
# trajectories as anchors, and DAgger (imitation of the same trajectories plus the departure
# states with the oracle's action), each departure given 16 times. Paired on the 500 test goals
# against the recipe's second pass of plain imitation (86.8%) and the first pass itself.
set -euo pipefail
# run from the repository root; R holds il-first.ckpt and tok-oracle.jsonl.zst of `make SIZE=medium SEED=1 CPU_MATH=bf16 runs/medium-s1/il.ckpt` and that run's eval-il.jsonl.zst
R=runs/medium-s1 COPIES=16 STEPS=1500 LR=5e-5
EP="--max-steps 15 --obs text_rich"
s() { local t=$(date +%s); "$@"; echo "$1 $(( $(date +%s) - t ))" >> $R/times.txt; }
s bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm first=$R/il-first.ckpt $EP --seed 1 \
    --summary $R/eval-first.summary.jsonl --table $R/eval-first.md -o $R/eval-first.jsonl.zst $R/goals-test.jsonl
s bin/rollout -q --cpu-math bf16 -m $R/il-first.ckpt --oracle-labels --temperature 0 --seed 1 $EP \
    -o $R/round.traj.jsonl.zst $R/goals-train.jsonl
FIRST='(.steps | map(.action_index != .oracle_index) | index(true)) as $k | if $k == null then . else .steps |= .[:$k + 1] | .n_steps = $k + 1 end'
bin/records -q $R/round.traj.jsonl.zst | jq -c "$FIRST" > $R/round.first.jsonl
s bin/pair-prefs -q --cpu-math bf16 --rejected agent --ref $R/il-first.ckpt --ref-logps -o $R/round.pairs.jsonl.zst $R/round.first.jsonl
bin/tokenize -q -o $R/round.tok.jsonl.zst $R/round.pairs.jsonl.zst
jq -c 'select(.steps[-1].action_index != .steps[-1].oracle_index) | .steps |= .[-1:] | .n_steps = 1' \
    $R/round.first.jsonl > $R/round.departures.jsonl
bin/tokenize -q --oracle-target -o $R/round.departures.tok.jsonl.zst $R/round.departures.jsonl
pairs=(); deps=()
for c in $(seq $COPIES); do pairs+=($R/round.tok.jsonl.zst); deps+=($R/round.departures.tok.jsonl.zst); done
s bin/train-dpo -q --cpu-math bf16 --threads 1 --init $R/il-first.ckpt -b 8 --steps $STEPS --lr $LR --beta 0.1 --nll-coef 1 \
    --anchors $R/tok-oracle.jsonl.zst --seed 1 --metrics $R/rpo2-metrics.jsonl -o $R/rpo2.ckpt "${pairs[@]}" &
s bin/train-il -q --cpu-math bf16 --threads 1 --init $R/il-first.ckpt -b 8 --steps $STEPS --lr $LR --seed 1 \
    --metrics $R/dagger2-metrics.jsonl -o $R/dagger2.ckpt $R/tok-oracle.jsonl.zst "${deps[@]}" &
wait
for a in rpo2 dagger2; do
    s bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm $a=$R/$a.ckpt $EP --seed 1 \
        --summary $R/eval-$a.summary.jsonl --table $R/eval-$a.md -o $R/eval-$a.jsonl.zst $R/goals-test.jsonl
done
bash scripts/paired.sh $R/eval-first.jsonl.zst $R/eval-il.jsonl.zst $R/eval-rpo2.jsonl.zst $R/eval-dagger2.jsonl.zst > $R/paired-first.md
bash scripts/paired.sh $R/eval-il.jsonl.zst $R/eval-rpo2.jsonl.zst $R/eval-dagger2.jsonl.zst > $R/paired-il.md
