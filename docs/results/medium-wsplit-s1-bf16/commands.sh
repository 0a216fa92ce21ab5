#!/usr/bin/env bash
# Session of 2026-12-05 (an Intel Xeon with AMX): the pipeline's own command, bf16 products on
# AMX for training and evaluation, two threads; other work shared the machine (times not quiet).
set -euo pipefail
make SIZE=medium SEED=1 CPU_MATH=bf16 runs/medium-s1/eval-il.summary.jsonl
