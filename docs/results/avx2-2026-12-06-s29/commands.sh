#!/usr/bin/env bash
# Session 29 (2026-12-06): an AMD EPYC of family 25 (Zen 3 class), 2 cores, AVX2 and FMA only (no
# AVX-512, no AVX512_BF16): the suite, the products and the step, PyTorch beside, and SIZE=small
# for two seeds never run before, every product in fp32 (--cpu-math auto's choice here).
set -euo pipefail
grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E 'avx|amx'          # avx avx2: nothing more
make test                                                          # suite.txt (its skips and totals)
make build/bench/gemm_bench build/bench/model_bench
build/bench/gemm_bench                                             # gemm-bench.txt
build/bench/model_bench minilm 4                                   # model-bench.txt
build/bench/model_bench minilm 4 --cpu-math fp32 --profile-ops     # the kernel table (a noisier run)
make bench-model PAIRED_ROUNDS=10   # bench-model.txt (as it ran before the mends: autocast paired, the ragged line failed)
python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 4            # paired-fp32.txt
python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions 4 --ragged   # (the mended bench-model runs both)
for s in 7 8; do                                     # one at a time, nothing else running but edits
  R=runs/small-s$s
  make SIZE=small SEED=$s $R/il.ckpt $R/goals-test.jsonl                           # small-s$s-times.tsv
  /usr/bin/time -v bin/thompson-eval -q --fixed 500 --arm il=$R/il.ckpt --max-steps 15 --obs text_rich --seed $s \
      --summary $R/eval500-il.summary.jsonl --table $R/eval500-il.md -o $R/eval500-il.jsonl.zst \
      $R/goals-test.jsonl                                                          # small-s$s-eval500-il.md
done
make SIZE=small SEED=7 pipeline-dpo    # the rest of seed 7's default pipeline: small-s7-report-dpo.md, small-s7-times.tsv
