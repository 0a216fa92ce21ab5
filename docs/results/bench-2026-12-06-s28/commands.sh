#!/usr/bin/env bash
# Issue 16, session 28 (AMD EPYC, 2 cores). MAIN: a checkout and build of 9476dfb (before this
# session). A training (issue 14's seed 4) ran beside; every
# timing below was taken with it paused (kill -STOP).
set -euo pipefail
D=docs/results/bench-2026-12-06-s28
make build/bench/model_bench
# where attention's time goes: a sampled profile of 25 steps with call graphs, each sample of the
# attention kernels put under products' kernel, packing, exponentials, small products or the rest
yes | head -25 | OMP_NUM_THREADS=2 perf record -q --call-graph dwarf,16384 -F 499 -o /tmp/perf-s28.data \
    build/bench/model_bench minilm 4 --cpu-math bf16 --serve > /dev/null
perf script -i /tmp/perf-s28.data -F ip,sym > /tmp/perf-s28.txt
awk 'BEGIN { RS = "" }
     /cpu_attention_(forward|backward)/ {
         t = "backward"; if (/cpu_attention_forward/) t = "forward"
         if (/small_p/) k = "small products"
         else if (/exp_rows|ws_expf/) k = "exponentials"
         else if (/pair_block|pack_by_rows|pack_panel|row_pairs|convert_rows/) k = "packing"
         else if (/microkernel|tile_product|dpbf16/) k = "products (kernel)"
         else k = "the rest"
         n[t " " k]++; all[t]++ }
     END { for (x in n) { split(x, f, " "); printf "%s %5.1f%% of %d samples\n", x, 100 * n[x] / all[f[1]], all[f[1]] } }' \
    /tmp/perf-s28.txt | sort > $D/attention-profile.txt
# one product for Q, K and V against three (qkv-fusion.txt)
gcc -O2 -fopenmp -Ilib/model $D/qkv_fusion.c build/libwebshop.a -lopenblas -lm -o /tmp/qkv-fusion
for r in 1 2 3; do for m in forward weight-gradient; do for n in 3 1; do
    OMP_NUM_THREADS=2 /tmp/qkv-fusion $m $n
done; done; done > $D/qkv-fusion.txt
# paired with PyTorch, before the rows change and with the script as it was (PyTorch on glibc's
# malloc defaults) (paired-4.txt, paired-8.txt)
python3 "$MAIN/bench/paired_step.py" "$MAIN/build/bench/model_bench" 20 2 --decisions 4 > $D/paired-4.txt
python3 "$MAIN/bench/paired_step.py" "$MAIN/build/bench/model_bench" 10 2 --decisions 8 > $D/paired-8.txt
# PyTorch's malloc kept (the scripts now set it themselves) against glibc's defaults (the scripts
# as they were: MAIN, a checkout of the commit before), the same C build, three alternating pairs of
# 10 rounds (default-N.txt, kept-N.txt); then the C step kernel by kernel before (MAIN's build) and
# after the word embeddings' rows change, twice each (profile-main-N.txt, profile-exp-N.txt)
for r in 1 2 3; do
    python3 "$MAIN/bench/paired_step.py" build/bench/model_bench 10 2 --decisions 4 > $D/default-$r.txt
    python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 4 > $D/kept-$r.txt
done
for r in 1 2; do
    OMP_NUM_THREADS=2 "$MAIN/build/bench/model_bench" minilm 4 --cpu-math bf16 --profile-ops > $D/profile-main-$r.txt
    OMP_NUM_THREADS=2 build/bench/model_bench minilm 4 --cpu-math bf16 --profile-ops > $D/profile-exp-$r.txt
done
# after both changes: the fixed batch (paired-kept-4.txt) and a ragged one shaped like the real
# data's, which PyTorch pads (paired-ragged-4.txt, paired-ragged-8.txt)
python3 bench/paired_step.py build/bench/model_bench 15 2 --decisions 4 --ragged > $D/paired-ragged-4.txt
python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 8 --ragged > $D/paired-ragged-8.txt
python3 bench/paired_step.py build/bench/model_bench 15 2 --decisions 4 > $D/paired-kept-4.txt
