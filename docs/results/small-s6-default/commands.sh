#!/usr/bin/env bash
# Session of 2026-12-05 (an Intel Xeon with AMX, fp32: the default CPU_MATH), two threads, nothing
# else running: SIZE=small's imitation for a seed never run before, then all 500 test goals.
set -euo pipefail
make SIZE=small SEED=6 runs/small-s6/il.ckpt runs/small-s6/goals-test.jsonl
bin/thompson-eval -q --fixed 500 --arm il=runs/small-s6/il.ckpt --max-steps 15 --obs text_rich --seed 6 \
    --summary runs/small-s6/eval500-il.summary.jsonl --table runs/small-s6/eval500-il.md \
    -o runs/small-s6/eval500-il.jsonl.zst runs/small-s6/goals-test.jsonl
