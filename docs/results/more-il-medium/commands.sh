#!/usr/bin/env bash
# Issue 14 (session of 2026-12-05, later): does a second pass of imitation move every finished
# SIZE=medium agent, as it moved seed 4's (../more-il-s4/)? Each seed's IL agent of the default
# recipe (1,500 updates of b = 8 over its 5,000 oracle trajectories: runs/medium-sS, made by
# `make SIZE=medium SEED=S CPU_MATH=bf16 runs/medium-sS/eval-il.summary.jsonl` with the recipe of
# that time) trained 1,500 more updates on the same data: fresh optimiser, lr 5e-5 (half the
# recipe's peak), 10% warm-up, linear decay, bf16 products, 2 threads, one seed after another.
# Both agents are evaluated again here, same code and mode, on the 500 test goals and the 13
# human instructions, and paired goal by goal. Seeds 5, 1 and 3 (seed 4: ../more-il-s4/).
set -euo pipefail
for s in 5 1 3; do
  R=runs/medium-s$s; O=runs/more-il-s$s
  mkdir -p $O
  bin/train-il -q --init $R/il.ckpt -b 8 --steps 1500 --lr 5e-5 --seed $s --threads 2 --cpu-math bf16 \
      --metrics $O/metrics.jsonl -o $O/more.ckpt $R/tok-oracle.jsonl.zst
  for a in il:$R/il.ckpt more:$O/more.ckpt; do
    n=${a%%:*}; c=${a#*:}
    bin/thompson-eval -q --fixed 500 --arm $n=$c --max-steps 15 --obs text_rich --seed $s --threads 2 \
        --cpu-math bf16 --summary $O/eval-$n.summary.jsonl --table $O/eval-$n.md -o $O/eval-$n.jsonl.zst \
        $R/goals-test.jsonl
    bin/goals -q --human -o $O/goals-human.jsonl
    bin/thompson-eval -q --fixed 13 --arm $n=$c --max-steps 15 --obs text_rich --seed $s --threads 2 \
        --cpu-math bf16 --summary $O/eval-human-$n.summary.jsonl --table $O/eval-human-$n.md \
        -o $O/eval-human-$n.jsonl.zst $O/goals-human.jsonl
  done
  bash scripts/paired.sh $O/eval-il.jsonl.zst $O/eval-more.jsonl.zst > $O/paired.md
done
