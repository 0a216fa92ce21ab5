#!/usr/bin/env bash
# Session of 2026-12-05 (an Intel Xeon with AMX): relabel round 1 and DAgger from seed 4's IL agent
# (runs/medium-s4, made by medium-wsplit-s4-bf16/commands.sh), the agent's argmax on 2,000 train
# goals, in a run folder of its own (its IL files linked) so that the sampled round can sit beside it.
# DAgger's round 1 was the target `dagger` then; since session 33 it is `dagger-1`, the same stage.
set -euo pipefail
R=runs/medium-s4-argmax
mkdir -p $R
for f in goals-train.jsonl goals-test.jsonl traj-oracle.jsonl.zst tok-oracle.jsonl.zst il.ckpt il.ckpt.optim \
         eval-il.summary.jsonl eval-il.jsonl.zst eval-il.md; do
    ln -sf "$PWD/runs/medium-s4/$f" $R/$f
done
make SIZE=medium SEED=4 CPU_MATH=bf16 RUN=$R RELABEL_TEMPERATURE=0 RELABEL_GOALS=2000 \
    $R/eval-relabel-1.summary.jsonl $R/eval-dagger-1.summary.jsonl
bash scripts/paired.sh $R/eval-il.jsonl.zst $R/eval-relabel-1.jsonl.zst $R/eval-dagger-1.jsonl.zst
# the pipeline's own (sampled) round beside it, in runs/medium-s4 itself
make SIZE=medium SEED=4 CPU_MATH=bf16 runs/medium-s4/eval-relabel-1.summary.jsonl runs/medium-s4/eval-dagger-1.summary.jsonl
bash scripts/paired.sh runs/medium-s4/eval-il.jsonl.zst runs/medium-s4/eval-relabel-1.jsonl.zst runs/medium-s4/eval-dagger-1.jsonl.zst
