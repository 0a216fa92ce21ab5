#!/usr/bin/env bash
# Issue 14, part 4 at SIZE=small (session of 2026-12-05, code of e1c5ac9): the study's comparison
# on WebShop's split with today's default recipe, seeds 1-5 one after another, bf16 products on
# AMX (an Intel Xeon), two threads, every agent on all 500 test goals (SIZE=small's default
# evaluates 100) and the 13 human instructions, each paired with its own IL start. Nothing else
# ran beside seeds 1-4 (seed 5's last stages shared the cores with the suite; see the note).
set -euo pipefail
export OMP_NUM_THREADS=2
for s in 1 2 3 4 5; do
    make pipeline-paper SIZE=small SEEDS=$s CPU_MATH=bf16 TEST_N=500 RUNS_ROOT=runs PAPER_DIR=runs/paper-small-s$s
done
# the table over the five seeds (report.md here)
bash pipelines/paper.sh docs/results/part4-small small 1 2 runs/small-s1 runs/small-s2 runs/small-s3 runs/small-s4 \
    runs/small-s5 > docs/results/part4-small/report.md
