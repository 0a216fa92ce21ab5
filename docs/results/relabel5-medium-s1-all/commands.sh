#!/usr/bin/env bash
# Issue 14, session of 2026-12-06 (the AMD EPYC, 2 cores, bf16): one relabelled round over every
# train goal from SIZE=medium seed 1's two-pass IL agent, its departures weighted 16 times, RPO
# and DAgger with the same weights and updates, each paired with the IL agent on the 500 test goals.
set -euo pipefail
R=runs/medium-s1 COPIES=16 STEPS=600 LR=3e-5
EP="--max-steps 15 --obs text_rich"
# The IL agent: SIZE=medium's two passes (86.8% here; the first pass 82.8%)
make SIZE=medium SEED=1 CPU_MATH=bf16 $R/il.ckpt $R/goals-test.jsonl $R/eval-il.summary.jsonl
# The agent's argmax on all 5,410 train goals, the oracle judging every state it reaches
bin/rollout -q --cpu-math bf16 -m $R/il.ckpt --oracle-labels --temperature 0 --seed 1 $EP \
    -o $R/round.traj.jsonl.zst $R/goals-train.jsonl
# Each episode cut after its first divergence (as make pipeline-relabel does)
FIRST='(.steps | map(.action_index != .oracle_index) | index(true)) as $k | if $k == null then . else .steps |= .[:$k + 1] | .n_steps = $k + 1 end'
bin/records -q $R/round.traj.jsonl.zst | jq -c "$FIRST" > $R/round.first.jsonl
bin/pair-prefs -q --cpu-math bf16 --rejected agent --ref $R/il.ckpt --ref-logps -o $R/round.pairs.jsonl.zst $R/round.first.jsonl
bin/tokenize -q -o $R/round.tok.jsonl.zst $R/round.pairs.jsonl.zst
bin/tokenize -q --oracle-target -o $R/round.anchors.jsonl.zst $R/round.first.jsonl
# The departure states alone (each diverged episode's last state), DAgger's copies of them
jq -c 'select(.steps[-1].action_index != .steps[-1].oracle_index) | .steps |= .[-1:] | .n_steps = 1' \
    $R/round.first.jsonl > $R/round.departures.jsonl
bin/tokenize -q --oracle-target -o $R/round.departures.tok.jsonl.zst $R/round.departures.jsonl
pairs=(); deps=()
for c in $(seq $COPIES); do pairs+=($R/round.tok.jsonl.zst); deps+=($R/round.departures.tok.jsonl.zst); done
# Side by side, one thread each
bin/train-dpo -q --cpu-math bf16 --threads 1 --init $R/il.ckpt -b 8 --steps $STEPS --lr $LR --beta 0.1 --nll-coef 1 \
    --anchors $R/round.anchors.jsonl.zst --seed 1 --metrics $R/rpo-metrics.jsonl -o $R/rpo.ckpt "${pairs[@]}" &
bin/train-il -q --cpu-math bf16 --threads 1 --init $R/il.ckpt -b 8 --steps $STEPS --lr $LR --oversample option=1 --seed 1 \
    --metrics $R/dagger-metrics.jsonl -o $R/dagger.ckpt $R/round.anchors.jsonl.zst "${deps[@]}" &
wait
for a in rpo dagger; do
    bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm $a=$R/$a.ckpt $EP --seed 1 \
        --summary $R/eval-$a.summary.jsonl --table $R/eval-$a.md -o $R/eval-$a.jsonl.zst $R/goals-test.jsonl
done
bash scripts/paired.sh $R/eval-il.jsonl.zst $R/eval-rpo.jsonl.zst $R/eval-dagger.jsonl.zst
# The control: a third pass of plain imitation on the oracle's trajectories, the same updates and rate
bin/train-il -q --cpu-math bf16 --threads 2 --init $R/il.ckpt -b 8 --steps $STEPS --lr $LR --seed 1 \
    --metrics $R/third-metrics.jsonl -o $R/third.ckpt $R/tok-oracle.jsonl.zst
bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm third=$R/third.ckpt $EP --seed 1 \
    --summary $R/eval-third.summary.jsonl --table $R/eval-third.md -o $R/eval-third.jsonl.zst $R/goals-test.jsonl
bash scripts/paired.sh $R/eval-il.jsonl.zst $R/eval-third.jsonl.zst
# Where the IL agent loses (losses.md): its argmax on the 500 test goals with the oracle judging
# every state, the oracle's own episodes, and the losses by kind
bin/rollout -q --cpu-math bf16 -m $R/il.ckpt --oracle-labels --seed 1 --threads 2 $EP -o /tmp/il-test-traj.jsonl.zst $R/goals-test.jsonl
bin/rollout -q -p oracle --seed 1 $EP -o /tmp/oracle-test-traj.jsonl.zst $R/goals-test.jsonl
python3 scripts/loss_kinds.py /tmp/il-test-traj.jsonl.zst /tmp/oracle-test-traj.jsonl.zst $R/goals-test.jsonl > $R/losses.md
