#!/usr/bin/env bash
# Issue 16, session 26 (AMD EPYC, 2 cores). A training (issue 14's seed 3) ran all session; the
# step timings were taken with it paused (kill -STOP) for one to two minutes each.
# BEFORE: a build of 5702b94 (the commit before the small products' change), AFTER: 834d80b or later.
set -euo pipefail
# the actions' small products' share of the step (one thread, real-shaped ragged batches of 8
# decisions: states 256-511 tokens, actions 3-13), each build
for b in "$BEFORE/build/bench/model_bench" build/bench/model_bench; do
    printf 'x\n%.0s' $(seq 10) | OMP_NUM_THREADS=1 perf record -F 499 -o small.data "$b" minilm 8 --cpu-math bf16 --serve --ragged > /dev/null
    perf report -i small.data --no-children --stdio --sort sym | grep -E "small_product|clear_page_erms"
done
# the same bits: three updates of imitation on real data, both builds, both precisions
for m in bf16 fp32; do for b in "$BEFORE/bin" bin; do
    "$b/train-il" -q --cpu-math $m --bert models/minilm-l6 -b 8 --steps 3 --seed 1 --threads 1 \
        -o /tmp/small-$m-$(basename "$(dirname "$b")").ckpt "$TOK" > /dev/null
done; done
# paired with PyTorch (paired-quiet-4.txt, paired-quiet-8.txt)
python3 bench/paired_step.py build/bench/model_bench 20 2 --decisions 4
python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 8
# the build before and after in turn, 8 rounds each (paired-before-after.txt)
for b in "$BEFORE/build/bench/model_bench" build/bench/model_bench "$BEFORE/build/bench/model_bench" build/bench/model_bench; do
    python3 bench/paired_step.py "$b" 8 2 --decisions 4 | tail -5
done
# the bi-attention's own time (biattn-timed.txt): each build with a temporary patch to lib/model/model.c
# printing omp_get_wtime() differences around be->biattn_forward and be->biattn_backward to stderr,
# saved as /tmp/mb-timed (5702b94) and /tmp/mb-timed-new (6af34b4), then in turn, 2 threads:
for b in /tmp/mb-timed /tmp/mb-timed-new /tmp/mb-timed /tmp/mb-timed-new; do
    printf 'x\n%.0s' $(seq 5) | OMP_NUM_THREADS=2 $b minilm 4 --cpu-math bf16 --serve 2>&1 | grep biattn | tail -8 |
        awk '{ s[$2] += $3; n[$2]++ } END { printf "fwd %.2f bwd %.2f ms\n", s["fwd"] / n["fwd"], s["bwd"] / n["bwd"] }'
done
# the whole step, the two builds in turn (biattn-ab.txt)
for r in 1 2 3 4; do for b in "$BEFORE/build/bench/model_bench" build/bench/model_bench; do
    printf 'x\n%.0s' 1 2 3 4 5 6 | "$b" minilm 4 --cpu-math bf16 --serve | awk '/^[0-9]/ { s += $1; n++ } END { print s / n }'
done; done
# after the bi-attention change (paired-after-biattn-4.txt)
python3 bench/paired_step.py build/bench/model_bench 12 2 --decisions 4
