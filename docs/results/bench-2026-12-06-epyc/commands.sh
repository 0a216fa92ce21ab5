#!/usr/bin/env bash
# Issue 16 on the AMD EPYC (family 25 model 17, Zen 4 class; 2 cores, no AMX), session of
# 2026-12-06: the benchmarks, an agent to time the evaluation with, the evaluation with and without
# the kept action encodings, and the time to an agent. Nothing else running unless said.
set -euo pipefail
D=docs/results/bench-2026-12-06-epyc
make bench-gemm > $D/gemm-bench.txt
make bench-model > $D/bench-model.txt
# C bf16 step against PyTorch eager fp32, alternating rounds (the script's loop, written out):
for i in 1 2 3 4; do
    build/bench/model_bench minilm 4 --cpu-math bf16 | grep 'training step'
    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 \
        python3 bench/torch_model.py minilm 4 2 --math fp32 | grep 'training step'
done
# An agent: SIZE=small's imitation, seed 1, bf16 (614.7 s)
make runs/small-s1/il.ckpt SIZE=small SEED=1 CPU_MATH=bf16
bin/goals -q -s test -o runs/small-s1/goals-test.jsonl
# The 500-goal evaluation: kept encodings (the default) and none; fp32
for mb in 1024 0; do
    /usr/bin/time -f "%e s" bin/thompson-eval -q --cpu-math bf16 --encoding-cache $mb --fixed 500 \
        --arm il=runs/small-s1/il.ckpt --max-steps 15 --obs text_rich --seed 1 --threads 2 \
        -o /tmp/eval-$mb.jsonl.zst runs/small-s1/goals-test.jsonl
done
cmp <(zstdcat /tmp/eval-1024.jsonl.zst) <(zstdcat /tmp/eval-0.jsonl.zst)
/usr/bin/time -f "%e s" bin/thompson-eval -q --fixed 500 --arm il=runs/small-s1/il.ckpt --max-steps 15 \
    --obs text_rich --seed 1 --threads 2 -o /tmp/eval-fp32.jsonl.zst runs/small-s1/goals-test.jsonl
# Time to an agent: seed 1, SIZE=medium's data, bf16, 2 threads, the 500 test goals played every
# 100 updates by train-il itself (their time taken out): time-to.tsv
make SIZE=medium SEED=1 runs/medium-s1/tok-oracle.jsonl.zst runs/medium-s1/goals-test.jsonl
bin/train-il -q --bert models/minilm-l6 -b 8 --steps 600 --seed 1 --threads 2 --cpu-math bf16 \
    --eval-goals runs/medium-s1/goals-test.jsonl --eval-every 100 --eval-n 500 --obs text_rich --max-steps 15 \
    --save-minutes 0 --metrics runs/time-to/time-to.metrics.jsonl -o runs/time-to/time-to.ckpt \
    runs/medium-s1/tok-oracle.jsonl.zst
# SIZE=medium's first pass, the 500 test goals every 300 updates: time-to-first-pass.tsv
bin/train-il -q --bert models/minilm-l6 -b 8 --steps 1500 --seed 1 --threads 2 --cpu-math bf16 \
    --eval-goals runs/medium-s1/goals-test.jsonl --eval-every 300 --eval-n 500 --obs text_rich --max-steps 15 \
    --save-minutes 0 --metrics runs/time-to/first-pass.metrics.jsonl -o runs/time-to/first-pass.ckpt \
    runs/medium-s1/tok-oracle.jsonl.zst
