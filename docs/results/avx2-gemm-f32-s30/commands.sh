#!/usr/bin/env bash
# Session 30 (2026-12-07): the AVX2-only AMD EPYC (Zen 3 class, 2 cores) again. gemm_f32 against
# OpenBLAS's sgemm, the step before and after, and the 500-goal evaluation of session 29's two
# SIZE=small agents (seeds 7 and 8: make SIZE=small SEED=s runs/small-ss/il.ckpt runs/small-ss/goals-test.jsonl)
# with the build before (60cbcc1, copied to old/) and after, one at a time, nothing else running.
set -euo pipefail
make build/bench/gemm_bench build/bench/model_bench
for i in 1 2 3; do build/bench/gemm_bench; done                                   # gemm-bench.txt
for i in 1 2 3 4; do for b in old/model_bench build/bench/model_bench; do          # model-bench.txt
    $b minilm 4; done; done
for b in old/model_bench build/bench/model_bench; do $b minilm 4 --profile-ops; done   # profile-ops.txt (twice)
for s in 8 7; do R=runs/small-s$s
  for b in bin/thompson-eval old/thompson-eval; do                                  # eval-times.txt
    /usr/bin/time -f '%e s wall, %M KB max RSS' $b -q --fixed 500 --arm il=$R/il.ckpt --max-steps 15 \
        --obs text_rich --seed $s -o $R/eval500-$(basename $(dirname $b)).jsonl.zst $R/goals-test.jsonl
  done
done
python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 4            # paired-fp32.txt
make SIZE=small SEED=9 runs/small-s9/il.ckpt runs/small-s9/goals-test.jsonl     # small-s9-times.tsv
bin/thompson-eval -q --fixed 500 --arm il=runs/small-s9/il.ckpt --max-steps 15 --obs text_rich --seed 9 \
    -o runs/small-s9/eval500-il.jsonl.zst runs/small-s9/goals-test.jsonl            # small-s9-eval500-il.md (202 s)
old/train-il --cpu-math auto --bert models/minilm-l6 -b 8 --steps 80 --seed 9 -o old80.ckpt \
    runs/small-s9/tok-oracle.jsonl.zst                                              # 80 updates: 274.1 s (new: 318.6 s)
