#!/usr/bin/env bash
# Session 36 (2026-12-07): an Intel Xeon with AMX and AVX512_BF16 (2 cores; bf16 products, the
# pipelines' CPU_MATH=auto); no GPU. SIZE=medium's relabelled rounds with DAgger's aggregate (each
# round on the data of every round so far), from scratch: imitation (two passes), then RPO's and
# DAgger's rounds, seeds 1 and 2 side by side on one thread each. The targets are named in the
# order they were wanted (each round of both families before the next round), so that a session
# cut short has the first rounds of both; all three rounds finished. seed*-report-relabel.md are
# the runs' report-relabel.md (plots left out), seed*-times.tsv their times.tsv.
set -euo pipefail
for s in 1 2; do
    R=runs36/medium-s$s; targets=
    for t in eval-relabel-0 eval-relabel-1 eval-dagger-1 eval-relabel-2 eval-dagger-2 eval-relabel-3 eval-dagger-3; do
        targets="$targets $R/$t.summary.jsonl"
    done
    OMP_NUM_THREADS=1 make SIZE=medium SEED=$s RUNS_ROOT=runs36 QUIET=-q $targets $R/report-relabel.md &
done
wait
