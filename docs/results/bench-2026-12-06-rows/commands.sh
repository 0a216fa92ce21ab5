#!/usr/bin/env bash
# Issue 16, A blocks converted in place (gemm_bf16), the AMD EPYC, 2026-12-06; nothing else running.
# "before" is the build of the commit before the change (a worktree at its parent), "rows" this one.
set -euo pipefail
C=$(git log --format=%H -1 --grep='converted to pairs in place')
git worktree add -f /tmp/before $C^ && make -C /tmp/before -j2 build/bench/model_bench build/bench/gemm_bench bin/train-il bin/thompson-eval
make -j2 build/bench/model_bench build/bench/gemm_bench
/tmp/before/build/bench/gemm_bench > gemm-before.txt; build/bench/gemm_bench > gemm-rows.txt
TM="MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184"
step() { grep -oE 'training step:? [0-9.]+' | grep -oE '[0-9.]+$'; }
fwd() { grep -oE 'inference mode\): [0-9.]+' | grep -oE '[0-9.]+$'; }
for i in 1 2 3 4 5 6; do   # rounds.txt
    a=$(/tmp/before/build/bench/model_bench minilm 4 --cpu-math bf16); b=$(build/bench/model_bench minilm 4 --cpu-math bf16)
    c=$(env $TM python3 bench/torch_model.py minilm 4 2 --math fp32 | step)
    echo "round $i: C bf16 before $(step <<<"$a") (forward $(fwd <<<"$a")), rows $(step <<<"$b") (forward $(fwd <<<"$b")), torch fp32 $c"
done
make bench-model   # bench-model.txt
# the same bits: a 3-update bf16 train-il from a checkpoint, and a 100-goal evaluation
R=runs/medium-s1
head -100 $R/goals-test.jsonl > /tmp/g100.jsonl
for v in before rows; do
    b=bin; [ $v = before ] && b=/tmp/before/bin
    $b/train-il -q --init $R/il.ckpt --steps 3 --cpu-math bf16 --threads 2 --seed 3 -o /tmp/ck-$v.ckpt $R/round.departures.tok.jsonl.zst
    $b/thompson-eval -q --cpu-math bf16 --fixed 100 --arm il=$R/il.ckpt --max-steps 15 --obs text_rich --seed 1 \
        --threads 2 -o /tmp/eval-$v.jsonl.zst /tmp/g100.jsonl
done
cmp /tmp/ck-before.ckpt /tmp/ck-rows.ckpt && cmp <(zstdcat /tmp/eval-before.jsonl.zst) <(zstdcat /tmp/eval-rows.jsonl.zst) && echo "same bits"
