#!/usr/bin/env bash
# Issue 14: one round of expert-relabelled preferences (RPO) from the SIZE=medium seed-1 IL agent,
# on 200 unseen train goals, evaluated on the 500 test goals and paired with the IL agent.
# Usage (from the project root): bash docs/results/relabel-medium-s1/commands.sh THREADS
set -u
T=${1:-1}
B=bin   # the tools (this session: a copy of bin/ taken before the run)
R=runs/medium-s1   # the SIZE=medium seed-1 run (il.ckpt, goals-train.jsonl, goals-test.jsonl, eval500-il.jsonl.zst)

tail -n 200 $R/goals-train.jsonl > $R/goals-relabel.jsonl
t0=$(date +%s)
$B/rollout -q -m $R/il.ckpt --oracle-labels --temperature 1 --seed 11 --max-steps 15 --obs text_rich --threads $T \
    --summary $R/relabel-1.rollout-summary.jsonl -o $R/relabel-1.traj.jsonl.zst $R/goals-relabel.jsonl
t1=$(date +%s)
$B/pair-prefs -q --rejected agent --ref $R/il.ckpt --ref-logps --threads $T -o $R/relabel-1.pairs.jsonl.zst $R/relabel-1.traj.jsonl.zst
$B/tokenize -q -o $R/relabel-1.tok.jsonl.zst $R/relabel-1.pairs.jsonl.zst
t2=$(date +%s)
$B/train-dpo -q --init $R/il.ckpt -b 8 --steps 200 --lr 1e-5 --beta 0.1 --nll-coef 1 --seed 1 --threads $T \
    --metrics $R/relabel-1.metrics.jsonl -o $R/relabel-1.ckpt $R/relabel-1.tok.jsonl.zst
t3=$(date +%s)
$B/thompson-eval -q --fixed 500 --arm relabel-1=$R/relabel-1.ckpt --max-steps 15 --obs text_rich --seed 1 --threads $T \
    --summary $R/eval500-relabel-1.summary.jsonl --table $R/eval500-relabel-1.md -o $R/eval500-relabel-1.jsonl.zst $R/goals-test.jsonl
t4=$(date +%s)
printf 'relabel-rollout\t%s\nrelabel-pairs\t%s\nrelabel-train-dpo\t%s\neval-relabel-1\t%s\n' $((t1-t0)) $((t2-t1)) $((t3-t2)) $((t4-t3)) >> $R/times.tsv
echo "pairs: $($B/records -q -c $R/relabel-1.pairs.jsonl.zst), states: $(zstdcat $R/relabel-1.traj.jsonl.zst | jq -s 'map(.steps | length) | add')"
tail -1 $R/eval500-relabel-1.md
BIN=$B bash scripts/paired.sh $R/eval500-il.jsonl.zst $R/eval500-relabel-1.jsonl.zst
