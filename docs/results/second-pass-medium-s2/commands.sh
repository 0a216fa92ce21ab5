#!/usr/bin/env bash
# Issue 14: the relabelled stage as SIZE=medium's second pass (pipelines/secondpass.mk), seed 2:
# the first seed it was not tuned on (beta 1 was chosen on seed 1). The first pass (il-first),
# its rollout over all 5,410 train goals with the oracle's labels, the pairs and departures of
# its first divergences, then RPO (beta 1, the oracle's trajectories as anchors) and DAgger from
# the first pass with the second pass's budget, each on the 500 test goals.
# As run (session 25, a machine busy with other work): the first pass and the rollout on two
# threads; the two trainings side by side on one thread each (as seed 1's: TRAIN_ARGS adds
# --threads 1), both interrupted at updates 768 (RPO) and 779 (DAgger) with their .partial
# checkpoints saved, RPO resumed on two threads to its end; DAgger and the recipe's plain second
# pass (il) were left for a later session (below).
set -euo pipefail
R=runs/medium-s2
make SIZE=medium SEED=2 $R/eval-il-first.summary.jsonl $R/second.traj.jsonl.zst
make -j2 SIZE=medium SEED=2 TRAIN_ARGS="-b 8 --threads 1" $R/eval-second-rpo.summary.jsonl $R/eval-second-dagger.summary.jsonl
# (interrupted with SIGINT at about update 770, then RPO alone on two threads:)
toks=(); for c in $(seq 16); do toks+=($R/second.tok.jsonl.zst); done
bin/train-dpo --cpu-math auto --resume $R/second-rpo.ckpt.partial -b 8 --threads 2 --steps 1500 --lr 5e-5 --beta 1 --nll-coef 1 \
    --anchors $R/tok-oracle.jsonl.zst --seed 2 --metrics $R/second-rpo-metrics.jsonl -o $R/second-rpo.ckpt "${toks[@]}"
bin/thompson-eval --cpu-math auto --fixed 500 --arm second-rpo=$R/second-rpo.ckpt --max-steps 15 --obs text_rich --seed 2 \
    --summary $R/eval-second-rpo.summary.jsonl --table $R/eval-second-rpo.md -o $R/eval-second-rpo.jsonl.zst $R/goals-test.jsonl
bash scripts/paired.sh $R/eval-il-first.jsonl.zst $R/eval-second-rpo.jsonl.zst > $R/paired-first.md
# the rest (session 27, from a worktree at 5702b94, two threads, the machine shared with issue 16's
# work for part of it): DAgger resumed from its .partial (update 779), the recipe's plain second
# pass (il), their evaluations and the report against the first pass and il (report-second.md)
make SIZE=medium SEED=2 $R/report-second.md
