#!/usr/bin/env bash
# Session of 2026-12-05 (an Intel Xeon with AMX): relabel round 1 and DAgger from seed 4's IL agent
# (runs/medium-s4, made by medium-wsplit-s4-bf16/commands.sh), the agent's argmax on 2,000 train goals.
set -euo pipefail
make SIZE=medium SEED=4 CPU_MATH=bf16 RELABEL_TEMPERATURE=0 RELABEL_GOALS=2000 \
    runs/medium-s4/eval-relabel-1.summary.jsonl runs/medium-s4/eval-dagger.summary.jsonl
bash scripts/paired.sh runs/medium-s4/eval-il.jsonl.zst runs/medium-s4/eval-relabel-1.jsonl.zst runs/medium-s4/eval-dagger.jsonl.zst
