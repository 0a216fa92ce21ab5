#!/usr/bin/env bash
# Issue 14, part 4 (session of 2026-12-05): the study's preference stages (DPO on oracle-generated
# pairs, PPO, two rounds of DPO self-learning) from today's SIZE=medium IL agents, seeds 5 and 4
# (86.4% and 86.6%, medium-wsplit-s5-bf16/ and medium-wsplit-s4-bf16/), bf16 products, one thread
# each (another job beside them: the stages' wall times are not quiet), each agent on the 500 test
# goals and the 13 human instructions, paired with its IL start; the table by pipelines/paper.sh.
set -euo pipefail
export OMP_NUM_THREADS=1
for s in 5 4; do
    RUN=runs/medium-s$s    # the IL agent's run folder (il.ckpt, tok-oracle.jsonl.zst, eval-il.*)
    make SIZE=medium SEED=$s CPU_MATH=bf16 RUN=$RUN $RUN/eval-dpo.summary.jsonl $RUN/eval-ppo.summary.jsonl \
        $RUN/report-selflearn.md
    make SIZE=medium SEED=$s CPU_MATH=bf16 RUN=$RUN $RUN/eval-human-il.summary.jsonl $RUN/eval-human-dpo.summary.jsonl \
        $RUN/eval-human-ppo.summary.jsonl $RUN/eval-human-self-2.summary.jsonl
done
bash pipelines/paper.sh docs/results/part4-medium medium 2 1 runs/medium-s5 runs/medium-s4 > report.md
# Seeds 3, 1 and 2 (a later session; the first-pass IL agents of 3 and 1, 87.0% and 82.2%, and
# seed 2's agent of the two-pass recipe, 87.2%), two threads, nothing else running, so the stages'
# wall times are quiet; report-s3.md, report-s1.md and report-s2.md by pipelines/paper.sh
export OMP_NUM_THREADS=2
for s in 3 1 2; do
    RUN=runs/medium-s$s
    make SIZE=medium SEED=$s CPU_MATH=bf16 RUN=$RUN $RUN/eval-dpo.summary.jsonl $RUN/eval-ppo.summary.jsonl \
        $RUN/report-selflearn.md
    make SIZE=medium SEED=$s CPU_MATH=bf16 RUN=$RUN $RUN/eval-human-il.summary.jsonl $RUN/eval-human-dpo.summary.jsonl \
        $RUN/eval-human-ppo.summary.jsonl $RUN/eval-human-self-2.summary.jsonl
    bash pipelines/paper.sh docs/results/part4-medium medium 2 1 $RUN > report-s$s.md
done
