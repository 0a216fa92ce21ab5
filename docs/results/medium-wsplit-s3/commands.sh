#!/usr/bin/env bash
# How the figures of this folder were made (session of 2026-12-05, an Intel Xeon with AMX;
# OPENBLAS_CORETYPE unset). Run from the repository root. The pipeline's own command is
#   make SIZE=medium SEED=3 runs/medium-s3/eval-il.summary.jsonl
# (train-il's default recipe: results pages and options twice an epoch); this run added held-out
# passes and was cut in two: updates 1-154 at one thread beside another seed, then resumed at two.
set -euo pipefail
R=runs; RUN=$R/medium-s3
make SIZE=medium SEED=3 RUNS_ROOT=$R $RUN/tok-oracle.jsonl.zst $RUN/goals-eval.jsonl $RUN/goals-test.jsonl
# the probe set: 200 oracle episodes of eval goals (200 results pages, 429 options, 200 buys)
bin/gen-traj -q --oracle -n 200 --seed 7 --max-steps 15 --obs text_rich $RUN/goals-eval.jsonl |
    bin/tokenize -q > $R/held-out.tok.jsonl
bin/train-il -q --bert models/minilm-l6 -b 8 --steps 1500 --seed 3 --threads 1 --stop-after 154 \
    --valid $R/held-out.tok.jsonl --eval-every 300 --metrics $RUN/il-metrics.jsonl -o $RUN/il.ckpt \
    $RUN/tok-oracle.jsonl.zst
bin/train-il -q --resume $RUN/il.ckpt.partial --threads 2 --valid $R/held-out.tok.jsonl --eval-every 300 \
    --metrics $RUN/il-metrics.jsonl -o $RUN/il.ckpt $RUN/tok-oracle.jsonl.zst
make SIZE=medium SEED=3 RUNS_ROOT=$R $RUN/eval-il.summary.jsonl $RUN/eval-human-il.summary.jsonl
# the same agent, the same 500 goals, with bf16 products (AMX): eval-il-bf16.md
bin/thompson-eval -q --fixed 500 --arm il=$RUN/il.ckpt --max-steps 15 --obs text_rich --seed 3 --threads 2 \
    --cpu-math bf16 --summary $RUN/eval-il-bf16.summary.jsonl --table $RUN/eval-il-bf16.md \
    -o $RUN/eval-il-bf16.jsonl.zst $RUN/goals-test.jsonl
