#!/usr/bin/env bash
# Session 33: a second relabelled round (DAgger's second iteration) from session 32's round-1
# agents of one seed, with and without the recovery pages. Round 1's recovery agent was trained on
# item pages labelled `< prev` but never saw the results page it returns to (the product marked
# [clicked button]); playing that agent again puts those states, and its wrong back-outs, in the
# data. Usage: round2.sh SEED THREADS   (runs/small-sSEED/recover from avx2-s32/commands.sh)
set -euo pipefail
s=$1; t=$2
R=runs/small-s$s; X=$R/recover; Y=$R/round2; mkdir -p $Y
sed -n 3411,4410p $R/goals-train.jsonl > $Y/goals-relabel.jsonl   # the 1,000 train goals before round 1's
for a in dagger recover1; do
    bin/rollout -q -m $X/$a.ckpt --oracle-labels --temperature 1 --seed ${s}2 --max-steps 15 --obs text_rich \
        --threads $t --summary $Y/traj-$a.summary.jsonl -o $Y/traj-$a.jsonl.zst $Y/goals-relabel.jsonl
    python3 docs/results/avx2-s32/recoveries.py $Y/goals-relabel.jsonl $Y/traj-$a.jsonl.zst \
        $Y/first-$a.jsonl $Y/recover-$a.jsonl > $Y/kinds-$a.txt
    bin/tokenize -q --oracle-target -o $Y/first-$a.tok.jsonl.zst $Y/first-$a.jsonl
    bin/tokenize -q --oracle-target -o $Y/recover-$a.tok.jsonl.zst $Y/recover-$a.jsonl
done
common="-b 8 --steps 120 --lr 2e-5 --oversample option=1 --seed $s --threads $t"
bin/train-il -q $common --init $X/dagger.ckpt -o $Y/dagger2.ckpt --metrics $Y/dagger2.metrics $Y/first-dagger.tok.jsonl.zst
bin/train-il -q $common --init $X/recover1.ckpt -o $Y/recover2.ckpt --metrics $Y/recover2.metrics \
    $Y/first-recover1.tok.jsonl.zst $Y/recover-recover1.tok.jsonl.zst
for a in dagger2 recover2; do
    bin/thompson-eval -q --fixed 500 --arm $a=$Y/$a.ckpt --max-steps 15 --obs text_rich --seed $s --threads $t --table $Y/eval-$a.md \
        -o $Y/eval-$a.jsonl.zst $R/goals-test.jsonl
done
bash scripts/paired.sh $R/eval500-il.jsonl.zst $X/eval-dagger.jsonl.zst $X/eval-recover1.jsonl.zst \
    $Y/eval-dagger2.jsonl.zst $Y/eval-recover2.jsonl.zst > $Y/paired.md
bash scripts/paired.sh $Y/eval-dagger2.jsonl.zst $Y/eval-recover2.jsonl.zst >> $Y/paired.md
