#!/usr/bin/env bash
# Session 33: round2.sh's recovery arm again, with the states after each back-out (continued.py)
# in place of the item pages alone. Usage: round2c.sh SEED THREADS (after round2.sh SEED)
set -euo pipefail
s=$1; t=$2
R=runs/small-s$s; X=$R/recover; Y=$R/round2
python3 docs/results/avx2-s33/continued.py $Y/goals-relabel.jsonl $Y/traj-recover1.jsonl.zst \
    $Y/continued-recover1.jsonl > $Y/continued-recover1.txt
bin/tokenize -q --oracle-target -o $Y/continued-recover1.tok.jsonl.zst $Y/continued-recover1.jsonl
bin/train-il -q -b 8 --steps 120 --lr 2e-5 --oversample option=1 --seed $s --threads $t --init $X/recover1.ckpt \
    -o $Y/recover2c.ckpt --metrics $Y/recover2c.metrics $Y/first-recover1.tok.jsonl.zst $Y/continued-recover1.tok.jsonl.zst
bin/thompson-eval -q --fixed 500 --arm recover2c=$Y/recover2c.ckpt --max-steps 15 --obs text_rich --seed $s --threads $t \
    --table $Y/eval-recover2c.md -o $Y/eval-recover2c.jsonl.zst $R/goals-test.jsonl
{ bash scripts/paired.sh $R/eval500-il.jsonl.zst $Y/eval-recover2c.jsonl.zst
  bash scripts/paired.sh $Y/eval-dagger2.jsonl.zst $Y/eval-recover2c.jsonl.zst | tail -n 1
  bash scripts/paired.sh $Y/eval-recover2.jsonl.zst $Y/eval-recover2c.jsonl.zst | tail -n 1; } > $Y/paired-recover2c.md
