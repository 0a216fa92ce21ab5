#!/usr/bin/env bash
# Issue 14: what the preference loss adds to DAgger when its push is bounded. Session 23's RPO as
# the second pass (../rpo-second-pass-s1/, beta 0.1) drove the pairs' margin to 4.6 (46 nats
# between chosen and rejected) while the anchors' NLL rose. The same data and budget (seed 1's
# first pass, the 733 relabelled divergences x16, the oracle's trajectories as anchors, 1,500
# updates at 5e-5, b 8, one thread each, side by side) with beta 1 and beta 0.3, where
# -log sigmoid(beta d) saturates within a few nats. RPO with --nll-coef 1 and --anchor-coef 1 is
# DAgger's loss plus the DPO term, so its difference to DAgger (88.6%) is the preference loss's.
set -euo pipefail
# run from the repository root after ../rpo-second-pass-s1/commands.sh (R: its run directory;
# round.tok.jsonl.zst, eval-first/il/dagger2.jsonl.zst are its files)
R=runs/medium-s1 O=runs/medium-s1/rpo-beta COPIES=16 STEPS=1500 LR=5e-5
EP="--max-steps 15 --obs text_rich"
mkdir -p $O
s() { local t=$(date +%s); "$@"; echo "$1 $(( $(date +%s) - t ))" >> $O/times.txt; }
pairs=() fpairs=()
for c in $(seq $COPIES); do pairs+=($R/round.tok.jsonl.zst); done
for beta in 1 0.3; do
    s bin/train-dpo -q --cpu-math bf16 --threads 1 --init $R/il-first.ckpt -b 8 --steps $STEPS --lr $LR --beta $beta --nll-coef 1 \
        --anchors $R/tok-oracle.jsonl.zst --seed 1 --metrics $O/rpo-b$beta-metrics.jsonl -o $O/rpo-b$beta.ckpt "${pairs[@]}" &
done
wait
for a in rpo-b1 rpo-b0.3; do
    s bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm $a=$O/$a.ckpt $EP --seed 1 \
        --summary $O/eval-$a.summary.jsonl --table $O/eval-$a.md -o $O/eval-$a.jsonl.zst $R/goals-test.jsonl
done
bash scripts/paired.sh $R/eval-first.jsonl.zst $O/eval-rpo-b1.jsonl.zst $O/eval-rpo-b0.3.jsonl.zst > $O/paired-first.md
{ bash scripts/paired.sh $R/eval-dagger2.jsonl.zst $O/eval-rpo-b1.jsonl.zst $O/eval-rpo-b0.3.jsonl.zst
  bash scripts/paired.sh $R/eval-rpo2.jsonl.zst $O/eval-rpo-b1.jsonl.zst $O/eval-rpo-b0.3.jsonl.zst | tail -2; } > $O/paired-dagger.md
bash scripts/paired.sh $R/eval-il.jsonl.zst $O/eval-rpo-b1.jsonl.zst $O/eval-rpo-b0.3.jsonl.zst > $O/paired-il.md
# the metrics over the first and last 100 updates (margin, the pairs' chosen NLL, the anchors' NLL),
# with session 23's beta 0.1 run (rpo2) beside them
for f in $O/rpo-b1-metrics.jsonl $O/rpo-b0.3-metrics.jsonl $R/rpo2-metrics.jsonl; do
    a=$(basename $f -metrics.jsonl)
    jq -s -c --arg a $a '[.[:100], .[-100:]] | map({margin: (map(.margin) | add / length), nll: (map(.nll) | add / length),
        anchor_nll: (map(select(.anchors > 0) | .anchor_nll) | add / length), accuracy: (map(.accuracy) | add / length)}) | {agent: $a, first_100: .[0], last_100: .[1]}' $f
done > $O/metrics-spans.jsonl

# beta 1 on the finished agent: seed 1's two-pass 86.8% with the round over all train goals of
# ../relabel5-medium-s1-all/commands.sh (its run directory, here F: 486 divergences x16, their
# episodes' states as anchors, 600 updates at 3e-5, two threads), where beta 0.1 gave 85.8% and
# DAgger 86.6%
F=runs/medium-s1-relabel5
for c in $(seq $COPIES); do fpairs+=($F/round.tok.jsonl.zst); done
s bin/train-dpo -q --cpu-math bf16 --threads 2 --init $F/il.ckpt -b 8 --steps 600 --lr 3e-5 --beta 1 --nll-coef 1 \
    --anchors $F/round.anchors.jsonl.zst --seed 1 --metrics $O/rpo-il-b1-metrics.jsonl -o $O/rpo-il-b1.ckpt "${fpairs[@]}"
s bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm rpo-il-b1=$O/rpo-il-b1.ckpt $EP --seed 1 \
    --summary $O/eval-rpo-il-b1.summary.jsonl --table $O/eval-rpo-il-b1.md -o $O/eval-rpo-il-b1.jsonl.zst $F/goals-test.jsonl
{ bash scripts/paired.sh $F/eval-il.jsonl.zst $O/eval-rpo-il-b1.jsonl.zst $F/eval-rpo.jsonl.zst $F/eval-dagger.jsonl.zst
  bash scripts/paired.sh $F/eval-rpo.jsonl.zst $O/eval-rpo-il-b1.jsonl.zst | tail -1
  bash scripts/paired.sh $F/eval-dagger.jsonl.zst $O/eval-rpo-il-b1.jsonl.zst | tail -1; } > $O/paired-finished.md

# the same two on the finished agent with another training seed (data order), side by side on one
# thread each: does beta 1's edge hold?
deps=()
for c in $(seq $COPIES); do deps+=($F/round.departures.tok.jsonl.zst); done
s bin/train-dpo -q --cpu-math bf16 --threads 1 --init $F/il.ckpt -b 8 --steps 600 --lr 3e-5 --beta 1 --nll-coef 1 \
    --anchors $F/round.anchors.jsonl.zst --seed 2 --metrics $O/rpo-il-b1-s2-metrics.jsonl -o $O/rpo-il-b1-s2.ckpt "${fpairs[@]}" &
s bin/train-il -q --cpu-math bf16 --threads 1 --init $F/il.ckpt -b 8 --steps 600 --lr 3e-5 --oversample option=1 --seed 2 \
    --metrics $O/dagger-il-s2-metrics.jsonl -o $O/dagger-il-s2.ckpt $F/round.anchors.jsonl.zst "${deps[@]}" &
wait
for a in rpo-il-b1-s2 dagger-il-s2; do
    s bin/thompson-eval -q --cpu-math bf16 --fixed 500 --arm $a=$O/$a.ckpt $EP --seed 1 \
        --summary $O/eval-$a.summary.jsonl --table $O/eval-$a.md -o $O/eval-$a.jsonl.zst $F/goals-test.jsonl
done
{ bash scripts/paired.sh $F/eval-il.jsonl.zst $O/eval-rpo-il-b1-s2.jsonl.zst $O/eval-dagger-il-s2.jsonl.zst
  bash scripts/paired.sh $O/eval-dagger-il-s2.jsonl.zst $O/eval-rpo-il-b1-s2.jsonl.zst | tail -1; } > $O/paired-finished-s2.md
