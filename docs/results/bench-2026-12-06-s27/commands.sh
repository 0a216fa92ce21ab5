#!/usr/bin/env bash
# Issue 16, session 27 (AMD EPYC, 2 cores). A training (issue 14's second passes) ran beside;
# every timing below was taken with it paused (kill -STOP).
# BEFORE: a build of c682d65 (main before this session); TOK: a token file of oracle trajectories
# (runs/medium-s3/tok-oracle.jsonl.zst).
set -euo pipefail
D=docs/results/bench-2026-12-06-s27
# the rows of C shared out by MR-row panels (gemm-rows-ab.txt): both builds in turn, six times
gcc -O2 -fopenmp -I"$BEFORE/lib/model" $D/two_threads.c "$BEFORE/build/libwebshop.a" -lopenblas -lm -o /tmp/two-threads-before
gcc -O2 -fopenmp -Ilib/model $D/two_threads.c build/libwebshop.a -lopenblas -lm -o /tmp/two-threads-after
for r in 1 2 3 4 5 6; do for b in before after; do
    OMP_NUM_THREADS=2 /tmp/two-threads-$b | sed "s/^/$b /"
done; done > $D/gemm-rows-ab.txt
awk '{ k = $1 " " $3 " " $5 " " $7; s[k] += $8; n[k]++ } END { for (k in s) printf "%s mean %.1f\n", k, s[k] / n[k] }' \
    $D/gemm-rows-ab.txt | sort -k2,2n -k3,3n -k4,4n
# the step kernel by kernel (profile-ops-4.txt, profile-ops-8.txt)
for d in 4 8; do
    OMP_NUM_THREADS=2 build/bench/model_bench minilm $d --cpu-math bf16 --profile-ops > $D/profile-ops-$d.txt
done
# the same bits: three updates of imitation on real data (seed 3's oracle trajectories), both builds, 1 and 2 threads
for b in "$BEFORE/bin" bin; do for t in 1 2; do
    "$b/train-il" -q --cpu-math bf16 --bert models/minilm-l6 -b 8 --steps 3 --seed 1 --threads $t \
        -o /tmp/same-$t-$(basename "$(dirname "$(realpath "$b")")").ckpt "$TOK" > /dev/null
done; done
md5sum /tmp/same-*.ckpt
# paired with PyTorch, after the changes (paired-4.txt, paired-8.txt)
python3 bench/paired_step.py build/bench/model_bench 20 2 --decisions 4 > $D/paired-4.txt
python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 8 > $D/paired-8.txt
# again at the session's end, nothing else running (paired-quiet-4.txt, paired-quiet-8.txt)
python3 bench/paired_step.py build/bench/model_bench 30 2 --decisions 4 > $D/paired-quiet-4.txt
python3 bench/paired_step.py build/bench/model_bench 15 2 --decisions 8 > $D/paired-quiet-8.txt
# the 500-goal evaluation with this build, against the pipeline's records of the same agent
R=runs/medium-s3
/usr/bin/time -f "%e s" bin/thompson-eval -q --cpu-math auto --fixed 500 --arm il=$R/il.ckpt --max-steps 15 --obs text_rich \
    --seed 3 --summary /tmp/ev.summary.jsonl -o /tmp/ev.jsonl.zst $R/goals-test.jsonl
cmp <(zstdcat /tmp/ev.jsonl.zst) <(zstdcat $R/eval-il.jsonl.zst)
