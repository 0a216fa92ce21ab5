#!/usr/bin/env bash
# Session 31 (2026-12-07): the AVX2-only AMD EPYC (Zen 3 class, 2 cores) a third time.
# old/ = a worktree of 059d8f8 built (make bin/train-il bin/thompson-eval); sgemm/ = one of afe37e8
# (session 29: sgemm everywhere); this commit's build in bin/.
set -euo pipefail
# SIZE=small, seeds 10 and 11 (never run before), nothing else running:   small-s1[01]-times.tsv
# (seed 11 the same with 11 for 10, its evaluation with --table runs/small-s11/eval500-il.md)
make SIZE=small SEED=10 runs/small-s10/il.ckpt runs/small-s10/goals-test.jsonl
/usr/bin/time -f '%e s wall, %M KB max RSS' bin/thompson-eval -q --fixed 500 --arm il=runs/small-s10/il.ckpt \
    --max-steps 15 --obs text_rich --seed 10 -o runs/small-s10/eval500-il.jsonl.zst runs/small-s10/goals-test.jsonl
# The training step, real runs: 30 updates each, builds in turn              train-alternating.txt
for b in old/bin/train-il sgemm/bin/train-il bin/train-il; do
    $b -q --cpu-math auto --bert models/minilm-l6 -b 8 --steps 30 --seed 9 -o /tmp/t.ckpt --metrics /tmp/t.metrics \
        runs/small-s9/tok-oracle.jsonl.zst; tail -1 /tmp/t.metrics
done
# gemm_f32 with and without the prefetch, alternating, against sgemm:         ab-prefetch.txt
git show 059d8f8:lib/model/gemm_f32.c > /tmp/head_gemm.c
I="$(find lib -type d -printf '-I%p ') -I/usr/include/x86_64-linux-gnu/openblas-openmp"
gcc -O2 -fopenmp $I -Dws_gemm_f32=ws_gemm_f32_head -Dws_gemm_f32_supported=sup_head \
    -Dws_gemm_f32_preferred=pref_head -c /tmp/head_gemm.c -o /tmp/head.o
gcc -O2 -fopenmp $I docs/results/avx2-s31/ab_prefetch.c /tmp/head.o build/libwebshop.a \
    -L/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -lm -o /tmp/ab_prefetch
for t in 2 1; do for s in "1920 384 384 NT" "1920 1536 384 NT" "1920 384 1536 NT" "384 384 32 NT" "384 32 384 NN" "384 32 384 TN"; do
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t /tmp/ab_prefetch $s 21; done; done
# The evaluation, 100 goals, the two builds in turn:                          eval-ab.txt
head -100 runs/small-s10/goals-test.jsonl > /tmp/goals100.jsonl
for b in old/bin/thompson-eval bin/thompson-eval; do
    $b -q --fixed 100 --arm il=runs/small-s10/il.ckpt --max-steps 15 --obs text_rich --seed 10 -o /tmp/e.jsonl.zst /tmp/goals100.jsonl
done
