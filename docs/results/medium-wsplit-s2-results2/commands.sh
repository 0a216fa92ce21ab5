#!/usr/bin/env bash
# How the figures of this folder were made (session of 2026-12-05; OPENBLAS_CORETYPE unset, so
# OpenBLAS's AVX-512 kernels). Run from the repository root.
set -euo pipefail
R=runs/probe; mkdir -p $R
# seed 2's medium data, and 200 held-out oracle episodes on the eval goals (the probe set)
make SIZE=medium SEED=2 runs/medium-s2/tok-oracle.jsonl.zst runs/medium-s2/goals-eval.jsonl
bin/gen-traj -q --oracle -n 200 --seed 7 --max-steps 15 --obs text_rich runs/medium-s2/goals-eval.jsonl |
    bin/tokenize -q > $R/held-out.tok.jsonl
# probe-first-300.tsv: the medium schedule's first 300 updates, one thread each, the two recipes
# side by side; held-out accuracy by kind every 100 updates. (The session ran this in slices of
# --stop-after 100 with scripts/decision_accuracy.sh between them; --valid now reports by_kind.)
for recipe in option=2 option=2,results=2; do
    bin/train-il -q --bert models/minilm-l6 -b 8 --steps 1500 --stop-after 300 --seed 2 --threads 1 \
        --oversample $recipe --valid $R/held-out.tok.jsonl --eval-every 100 \
        --metrics $R/$recipe.metrics.jsonl -o $R/$recipe.ckpt runs/medium-s2/tok-oracle.jsonl.zst &
done
wait
# the full run: option=2,results=2 continued to the schedule's end at two threads (the session
# resumed at update 318), then the 500 test goals
bin/train-il -q --resume $R/option=2,results=2.ckpt.partial --threads 2 --eval-every 300 \
    --valid $R/held-out.tok.jsonl --metrics $R/option=2,results=2.metrics.jsonl -o $R/il.ckpt \
    runs/medium-s2/tok-oracle.jsonl.zst
bin/goals -q -s test -o $R/goals-test.jsonl
bin/thompson-eval -q --fixed 500 --arm il=$R/il.ckpt --max-steps 15 --obs text_rich --seed 2 --threads 2 \
    --summary $R/eval-il.summary.jsonl --table $R/eval-il.md -o $R/eval-il.jsonl.zst $R/goals-test.jsonl
# probe-seed3.tsv: the same two recipes on seed 3's data (make SIZE=medium SEED=3
# runs/medium-s3/tok-oracle.jsonl.zst), --valid by kind every 100 updates (the session stopped
# them near 200 and resumed them to 300, then scored the 300-update checkpoints with --steps 0 --valid)
for recipe in option=2 option=2,results=2; do
    bin/train-il -q --bert models/minilm-l6 -b 8 --steps 1500 --stop-after 300 --seed 3 --threads 1 \
        --oversample $recipe --valid $R/held-out.tok.jsonl --eval-every 100 \
        --metrics $R/s3-$recipe.metrics.jsonl -o $R/s3-$recipe.ckpt runs/medium-s3/tok-oracle.jsonl.zst &
done
wait
