#!/usr/bin/env bash
# Issue 14: the second-pass comparison (pipelines/secondpass.mk), seed 4 (not tuned on), as for
# seeds 2 and 3. As run (session 28): from a worktree at 5702b94 (the build the other seeds'
# second passes used), two threads, the machine shared with issue 16's work (its timings taken
# with this paused) and the suite under the sanitizers: the times in times.tsv are not quiet.
# The session ended in the rollout of the first pass's agent on the train goals; DAgger and RPO,
# and the report against the first pass and il, are the next session's (the same command). Its
# machine (session 29) was fresh and had no AVX512_BF16: the command starts over, and only on a
# CPU with bf16 products (CPU_MATH=bf16 says so, where auto would quietly give another agent).
set -euo pipefail
R=runs/medium-s4
make SIZE=medium SEED=4 CPU_MATH=bf16 $R/report-second.md
# so far: the first pass and the recipe's plain second pass, paired (paired-il.md)
bash scripts/paired.sh $R/eval-il-first.jsonl.zst $R/eval-il.jsonl.zst > paired-il.md
