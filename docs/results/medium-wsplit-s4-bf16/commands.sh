#!/usr/bin/env bash
# Session of 2026-12-05 (an Intel Xeon with AMX): the pipeline's own command, bf16 products on
# AMX for training and evaluation, two threads, nothing else running.
set -euo pipefail
make SIZE=medium SEED=4 CPU_MATH=bf16 runs/medium-s4/eval-il.summary.jsonl
