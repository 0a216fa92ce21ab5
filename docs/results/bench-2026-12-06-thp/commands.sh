#!/usr/bin/env bash
# Issue 16, 2 MiB pages for the model's arrays (lib/base/bigmem), the AMD EPYC, 2026-12-06, quiet.
# "before" is the build of the commit before bigmem's (a worktree at 72112a1^), "bigmem" this one.
set -euo pipefail
git worktree add -f /tmp/before 72112a1^ && make -C /tmp/before -j2 build/bench/model_bench bin/thompson-eval
TM="MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184"
step() { grep -oE 'training step:? [0-9.]+' | grep -oE '[0-9.]+$'; }
for i in 1 2 3 4; do   # rounds.txt
    a=$(/tmp/before/build/bench/model_bench minilm 4 --cpu-math bf16 | step)
    b=$(build/bench/model_bench minilm 4 --cpu-math bf16 | step)
    c=$(env $TM python3 bench/torch_model.py minilm 4 2 --math fp32 | step)
    d=$(env $TM THP_MEM_ALLOC_ENABLE=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python3 bench/torch_model.py minilm 4 2 --math fp32 | step)
    echo "round $i: C bf16 4K $a, C bf16 2M $b, torch fp32 $c, torch fp32 THP $d"
done
make bench-model   # bench-model.txt
for i in 1 2; do   # eval.txt: the agent of bench-2026-12-06-epyc/commands.sh
    for v in before bigmem; do
        b=bin; [ $v = before ] && b=/tmp/before/bin
        /usr/bin/time -f "$v %e s %M KB" $b/thompson-eval -q --cpu-math bf16 --fixed 500 --arm il=runs/small-s1/il.ckpt \
            --max-steps 15 --obs text_rich --seed 1 --threads 2 -o /tmp/eval-$v.jsonl.zst runs/small-s1/goals-test.jsonl
    done
done
cmp <(zstdcat /tmp/eval-before.jsonl.zst) <(zstdcat /tmp/eval-bigmem.jsonl.zst)
