#!/usr/bin/env bash
# Session 33: what the preference loss adds in round 2. The same states as round2.sh's DAgger
# (round 1's DAgger agent's episodes cut at their first divergence), trained as pipelines/relabel.mk
# trains a round at SIZE=small: the pair at each divergence (chosen = the oracle's action,
# rejected = the agent's, reference log-probabilities of the round's agent) given 4 times, every
# state an anchor, RPO (beta 1, NLL 1), 120 updates at 2e-5. Usage: rpo2.sh SEED THREADS
set -euo pipefail
s=$1; t=$2
R=runs/small-s$s; X=$R/recover; Y=$R/round2
bin/pair-prefs -q --rejected agent --ref $X/dagger.ckpt --ref-logps --threads $t -o $Y/pairs-dagger.jsonl.zst $Y/first-dagger.jsonl
bin/tokenize -q -o $Y/pairs-dagger.tok.jsonl.zst $Y/pairs-dagger.jsonl.zst
bin/train-dpo -q --init $X/dagger.ckpt -b 8 --steps 120 --lr 2e-5 --beta 1 --nll-coef 1 --seed $s --threads $t \
    --anchors $Y/first-dagger.tok.jsonl.zst --metrics $Y/rpo2.metrics -o $Y/rpo2.ckpt \
    $(printf "$Y/pairs-dagger.tok.jsonl.zst %.0s" $(seq 4))
bin/thompson-eval -q --fixed 500 --arm rpo2=$Y/rpo2.ckpt --max-steps 15 --obs text_rich --seed $s --threads $t \
    --table $Y/eval-rpo2.md -o $Y/eval-rpo2.jsonl.zst $R/goals-test.jsonl
{ bash scripts/paired.sh $R/eval500-il.jsonl.zst $Y/eval-rpo2.jsonl.zst
  bash scripts/paired.sh $Y/eval-dagger2.jsonl.zst $Y/eval-rpo2.jsonl.zst | tail -n 1; } > $Y/paired-rpo2.md
