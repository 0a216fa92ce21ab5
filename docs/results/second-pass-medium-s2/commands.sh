#!/usr/bin/env bash
# Issue 14: the relabelled stage as SIZE=medium's second pass (pipelines/secondpass.mk), seed 2:
# the first seed it was not tuned on (beta 1 was chosen on seed 1). The first pass (il-first),
# its rollout over all 5,410 train goals with the oracle's labels, the pairs and departures of
# its first divergences, then RPO (beta 1, the oracle's trajectories as anchors) and DAgger from
# the first pass with the second pass's budget, each on the 500 test goals.
# This session ran the first pass and the rollout on two threads, then the two trainings side by
# side on one thread each (as seed 1's were: TRAIN_ARGS adds --threads 1); the recipe's plain
# second pass (il) was left for a later session, so report-second.md is not made yet.
set -euo pipefail
R=runs/medium-s2
make SIZE=medium SEED=2 $R/eval-il-first.summary.jsonl $R/second.traj.jsonl.zst
make -j2 SIZE=medium SEED=2 TRAIN_ARGS="-b 8 --threads 1" $R/eval-second-rpo.summary.jsonl $R/eval-second-dagger.summary.jsonl
bash scripts/paired.sh $R/eval-il-first.jsonl.zst $R/eval-second-rpo.jsonl.zst $R/eval-second-dagger.jsonl.zst > $R/paired-first.md
bash scripts/paired.sh $R/eval-second-dagger.jsonl.zst $R/eval-second-rpo.jsonl.zst > $R/paired-dagger.md
# the rest of the pipeline's report (the recipe's second pass, il, and the table against it):
#   make SIZE=medium SEED=2 pipeline-second-pass
