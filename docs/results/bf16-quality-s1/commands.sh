#!/usr/bin/env bash
# Issue 16's quality check (session of 2026-12-05, an Intel Xeon with AMX; OPENBLAS_CORETYPE unset):
# seed 1, SIZE=medium's data and settings, 600 updates in fp32 and in bf16, one thread each (run
# side by side with other jobs: their wall times in times.tsv are not quiet), held-out accuracy by
# kind every 100 updates, then the 500 test goals, each agent in its own math.
set -euo pipefail
R=runs; RUN=$R/medium-s1; Q=$R/bf16-quality
make SIZE=medium SEED=1 RUNS_ROOT=$R $RUN/tok-oracle.jsonl.zst $RUN/goals-eval.jsonl $RUN/goals-test.jsonl
bin/gen-traj -q --oracle -n 200 --seed 7 --max-steps 15 --obs text_rich $RUN/goals-eval.jsonl |
    bin/tokenize -q > $R/held-out.tok.jsonl
mkdir -p $Q
for math in fp32 bf16; do
    bin/train-il -q --bert models/minilm-l6 -b 8 --steps 600 --seed 1 --threads 1 --cpu-math $math \
        --valid $R/held-out.tok.jsonl --eval-every 100 --metrics $Q/$math.metrics.jsonl -o $Q/$math.ckpt \
        $RUN/tok-oracle.jsonl.zst
    bin/thompson-eval -q --fixed 500 --arm il-$math=$Q/$math.ckpt --max-steps 15 --obs text_rich --seed 1 \
        --threads 1 --cpu-math $math --summary $Q/eval-$math.summary.jsonl --table $Q/eval-$math.md \
        -o $Q/eval-$math.jsonl.zst $RUN/goals-test.jsonl
done
bash scripts/paired.sh $Q/eval-fp32.jsonl.zst $Q/eval-bf16.jsonl.zst > $Q/paired.md
# seconds per update, two threads, nothing else running: the first 40 updates of the same schedule
for math in fp32 bf16; do
    bin/train-il -q --bert models/minilm-l6 -b 8 --steps 1500 --stop-after 40 --seed 1 --threads 2 \
        --cpu-math $math --save-minutes 0 --metrics $Q/speed-$math.metrics.jsonl -o $Q/speed-$math.ckpt \
        $RUN/tok-oracle.jsonl.zst
done
# Again with the attention of a322541 (probabilities computed again in the backward, whole-block
# backward products) and the gradient norm in eight lanes: the bf16 run alone (one thread, beside
# another job), its held-out curve in held-out-bf16-now.tsv, eval-bf16-now.md, paired-bf16-now.md
# (against the fp32 agent above)
bin/train-il -q --bert models/minilm-l6 -b 8 --steps 600 --seed 1 --threads 1 --cpu-math bf16 \
    --valid $R/held-out.tok.jsonl --eval-every 100 --metrics $Q/bf16-now.metrics.jsonl -o $Q/bf16-now.ckpt \
    $RUN/tok-oracle.jsonl.zst
bin/thompson-eval -q --fixed 500 --arm il-bf16-new=$Q/bf16-now.ckpt --max-steps 15 --obs text_rich --seed 1 \
    --threads 1 --cpu-math bf16 --summary $Q/eval-bf16-now.summary.jsonl --table $Q/eval-bf16-now.md \
    -o $Q/eval-bf16-now.jsonl.zst $RUN/goals-test.jsonl
bash scripts/paired.sh $Q/eval-fp32.jsonl.zst $Q/eval-bf16-now.jsonl.zst > $Q/paired-bf16-now.md
# Again with the code of session 2026-12-05 evening (f35d0c0: attention's softmax unnormalised in
# place, small blocks in plain loops, row sums in lanes, LayerNorm backward in float, GELU inside
# its products): the bf16 run alone (one thread, beside another job), held-out-bf16-final.tsv,
# eval-bf16-final.md, paired-bf16-final.md (against the fp32 agent above)
bin/train-il -q --bert models/minilm-l6 -b 8 --steps 600 --seed 1 --threads 1 --cpu-math bf16 \
    --valid $R/held-out.tok.jsonl --eval-every 100 --metrics $Q/bf16-final.metrics.jsonl -o $Q/bf16-final.ckpt \
    $RUN/tok-oracle.jsonl.zst
bin/thompson-eval -q --fixed 500 --arm il-bf16-final=$Q/bf16-final.ckpt --max-steps 15 --obs text_rich --seed 1 \
    --threads 1 --cpu-math bf16 --summary $Q/eval-bf16-final.summary.jsonl --table $Q/eval-bf16-final.md \
    -o $Q/eval-bf16-final.jsonl.zst $RUN/goals-test.jsonl
bash scripts/paired.sh $Q/eval-fp32.jsonl.zst $Q/eval-bf16-final.jsonl.zst > $Q/paired-bf16-final.md
# Time to an agent, end to end (session 2026-12-05, late; the code of the search's window bounds,
# the model code unchanged since f35d0c0's successors): two threads, nothing else running, the
# 500 test goals played by train-il itself every 100 updates (their time taken out of the
# training time), then the final agent again by thompson-eval; time-to-2threads.tsv,
# eval-time-to-2threads.md
bin/train-il -q --bert models/minilm-l6 -b 8 --steps 600 --seed 1 --threads 2 --cpu-math bf16 \
    --eval-goals $RUN/goals-test.jsonl --eval-every 100 --eval-n 500 --obs text_rich --max-steps 15 \
    --save-minutes 0 --metrics $Q/time-to.metrics.jsonl -o $Q/time-to.ckpt $RUN/tok-oracle.jsonl.zst
bin/thompson-eval -q --fixed 500 --arm il-bf16-2t=$Q/time-to.ckpt --max-steps 15 --obs text_rich --seed 1 \
    --threads 2 --cpu-math bf16 --summary $Q/eval-time-to.summary.jsonl --table $Q/eval-time-to-2threads.md \
    -o $Q/eval-time-to.jsonl.zst $RUN/goals-test.jsonl
