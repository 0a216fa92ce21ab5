#!/usr/bin/env bash
# Issue 14: the relabelled stage as SIZE=medium's second pass (pipelines/secondpass.mk), seed 3
# (not tuned on: beta 1 was chosen on seed 1). The first pass (il-first), its rollout over all
# 5,410 train goals with the oracle's labels, the pairs of its first divergences, then RPO (beta
# 1, the oracle's trajectories as anchors) from the first pass with the second pass's budget;
# each agent on the 500 test goals, paired goal by goal.
# As run (session 26): from a worktree at 5702b94, two threads, the machine shared with issue
# 16's work (about 7 minutes of SIGSTOP pauses inside the first pass for quiet timings, the
# suite beside it for ten minutes).
set -euo pipefail
R=runs/medium-s3
make SIZE=medium SEED=3 $R/eval-il-first.summary.jsonl $R/eval-second-rpo.summary.jsonl
bash scripts/paired.sh $R/eval-il-first.jsonl.zst $R/eval-second-rpo.jsonl.zst > $R/paired-first.md
# the rest: DAgger (session 26), the recipe's plain second pass il (session 27, from the same
# worktree, two threads) and the report against the first pass and il (report-second.md)
make SIZE=medium SEED=3 $R/report-second.md
# the table over seeds 2 and 3 (seeds-2-3.md; seed 1's runs predate the pipeline's layout)
bash pipelines/second-pass.sh medium runs/medium-s2 runs/medium-s3 > seeds-2-3.md
