#!/usr/bin/env bash
# Issue 14 probe (session of 2026-12-05): is a finished SIZE=medium agent short of imitation? Seed 4's
# 86.6% IL agent (medium-wsplit-s4-bf16/: 1,500 updates of b = 8 over 5,000 oracle trajectories)
# trained 1,500 more updates on the same data: fresh optimiser, lr 5e-5 (half the recipe's peak),
# 10% warm-up, linear decay; bf16 products, one thread (another job beside it: 3,760 s, not quiet);
# then the 500 test goals, paired goal by goal with the IL agent's evaluation (same seed and settings).
set -euo pipefail
R=runs/medium-s4; O=runs/more-il-s4
mkdir -p $O
bin/train-il -q --init $R/il.ckpt -b 8 --steps 1500 --lr 5e-5 --seed 4 --threads 1 --cpu-math bf16 \
    --metrics $O/metrics.jsonl -o $O/more.ckpt $R/tok-oracle.jsonl.zst
bin/thompson-eval -q --fixed 500 --arm more=$O/more.ckpt --max-steps 15 --obs text_rich --seed 4 --threads 1 \
    --cpu-math bf16 --summary $O/eval-more.summary.jsonl --table $O/eval-more.md -o $O/eval-more.jsonl.zst \
    $R/goals-test.jsonl
bash scripts/paired.sh $R/eval-il.jsonl.zst $O/eval-more.jsonl.zst > $O/paired.md
