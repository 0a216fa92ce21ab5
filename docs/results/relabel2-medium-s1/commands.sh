#!/usr/bin/env bash
# Issue 14, second relabelled round from the SIZE=medium seed-1 IL agent (runs/medium-s1, the old
# goal split and observations: the tools at commit 5689147, before issue 18's merge).
# Variant A: every state of the sampled episodes relabelled; variant B: each episode cut after its
# first divergence from the oracle. Each with RPO (pairs + anchors) and DAgger (anchors alone).
# Usage (from the project root): bash docs/results/relabel2-medium-s1/commands.sh THREADS
set -u
T=${1:-1}
B=bin
R=runs/medium-s1   # il.ckpt, goals-train.jsonl, goals-test.jsonl, eval500-il.jsonl.zst
O=$R/relabel2
mkdir -p $O
tail -n 1000 $R/goals-train.jsonl > $O/goals.jsonl
$B/rollout -q -m $R/il.ckpt --oracle-labels --temperature 1 --seed 11 --max-steps 15 --obs text_rich --threads $T \
    --summary $O/roll.summary.jsonl -o $O/roll.traj.jsonl.zst $O/goals.jsonl
# A: every state
$B/pair-prefs -q --rejected agent --ref $R/il.ckpt --ref-logps --threads $T -o $O/pairs.jsonl.zst $O/roll.traj.jsonl.zst
$B/tokenize -q -o $O/pairs.tok.jsonl.zst $O/pairs.jsonl.zst
$B/tokenize -q --oracle-target -o $O/anchor.tok.jsonl.zst $O/roll.traj.jsonl.zst
# B: cut after the first divergence (pipelines/relabel.mk's FIRST_DIVERGENCE)
$B/records -q $O/roll.traj.jsonl.zst | jq -c '(.steps | map(.action_index != .oracle_index) | index(true)) as $k |
    if $k == null then . else .steps |= .[:$k + 1] | .n_steps = $k + 1 end' > $O/first.jsonl
$B/pair-prefs -q --rejected agent --ref $R/il.ckpt --ref-logps --threads $T -o $O/first.pairs.jsonl.zst $O/first.jsonl
$B/tokenize -q -o $O/first.pairs.tok.jsonl.zst $O/first.pairs.jsonl.zst
$B/tokenize -q --oracle-target -o $O/first.anchor.tok.jsonl.zst $O/first.jsonl

P=$O/first.pairs.tok.jsonl.zst
$B/train-dpo -q --init $R/il.ckpt --anchors $O/anchor.tok.jsonl.zst -b 8 --steps 300 --lr 2e-5 --beta 0.1 --nll-coef 1 \
    --seed 1 --threads $T --metrics $O/rpoA.metrics.jsonl -o $O/rpoA.ckpt $O/pairs.tok.jsonl.zst
$B/train-il -q --init $R/il.ckpt -b 8 --steps 300 --lr 2e-5 --oversample option=1 --seed 1 --threads $T \
    --metrics $O/daggerA.metrics.jsonl -o $O/daggerA.ckpt $O/anchor.tok.jsonl.zst
$B/train-dpo -q --init $R/il.ckpt --anchors $O/first.anchor.tok.jsonl.zst -b 8 --steps 200 --lr 2e-5 --beta 0.1 --nll-coef 1 \
    --seed 1 --threads $T --metrics $O/rpoB.metrics.jsonl -o $O/rpoB.ckpt $P $P $P $P
$B/train-il -q --init $R/il.ckpt -b 8 --steps 200 --lr 2e-5 --oversample option=1 --seed 1 --threads $T \
    --metrics $O/daggerB.metrics.jsonl -o $O/daggerB.ckpt $O/first.anchor.tok.jsonl.zst
for a in rpoA daggerA rpoB daggerB; do
  $B/thompson-eval -q --fixed 500 --arm $a=$O/$a.ckpt --max-steps 15 --obs text_rich --seed 1 --threads $T \
      --summary $O/eval500-$a.summary.jsonl --table $O/eval500-$a.md -o $O/eval500-$a.jsonl.zst $R/goals-test.jsonl
  BIN=$B bash scripts/paired.sh $R/eval500-il.jsonl.zst $O/eval500-$a.jsonl.zst
done
