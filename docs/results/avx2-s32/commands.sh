#!/usr/bin/env bash
# Session 32 (2026-12-07): the AVX2-only AMD EPYC (Zen 3 class, 2 cores) a fourth time; no GPU.
set -euo pipefail
# The default pipeline for a seed never run before, nothing else running during its imitation
# (a niced data check beside it, about 1% of a core):           pipeline-s12.log, small-s12-*
/usr/bin/time -v make SEED=12 pipeline-dpo
make SEED=12 runs/small-s12/goals-test.jsonl
/usr/bin/time -f '%e s wall, %M KB max RSS' bin/thompson-eval -q --fixed 500 --arm il=runs/small-s12/il.ckpt \
    --max-steps 15 --obs text_rich --seed 12 --table runs/small-s12/eval500-il.md \
    -o runs/small-s12/eval500-il.jsonl.zst runs/small-s12/goals-test.jsonl
# Who else wins on the first results page of the 500 test goals, and what two agents bought
# where they lost (their trajectories with the oracle's labels):            winners-s1[12].md
for s in 11 12; do
    bin/rollout -q -m runs/small-s$s/il.ckpt --oracle-labels --max-steps 15 --obs text_rich \
        -o runs/small-s$s/test-traj.jsonl.zst runs/small-s$s/goals-test.jsonl
    scripts/winners.py runs/small-s$s/goals-test.jsonl runs/small-s$s/test-traj.jsonl.zst   # winners-s$s.md
done
bin/rollout -q -p oracle --max-steps 15 --obs text_rich -o /tmp/oracle-test.jsonl.zst runs/small-s11/goals-test.jsonl
for s in 11 12; do   # losses-s1[12].md; then the episodes that go back from an item page (0 and 0)
    scripts/loss_kinds.py runs/small-s$s/test-traj.jsonl.zst /tmp/oracle-test.jsonl.zst runs/small-s$s/goals-test.jsonl
    bin/records -q runs/small-s$s/test-traj.jsonl.zst | jq -s '[.[] | [.steps[].action] | select(index("click[< prev]"))] | length'
done
# Relabelled imitation from seed 11's IL agent, with and without the recovery pages:
# recover-s11-kinds.txt, recover-s11-paired.md
R=runs/small-s11; X=$R/recover; mkdir -p $X
tail -n 1000 $R/goals-train.jsonl > $X/goals-relabel.jsonl
bin/rollout -q -m $R/il.ckpt --oracle-labels --temperature 1 --seed 111 --max-steps 15 --obs text_rich \
    -o $X/traj.jsonl.zst $X/goals-relabel.jsonl
python3 docs/results/avx2-s32/recoveries.py $X/goals-relabel.jsonl $X/traj.jsonl.zst $X/first.jsonl $X/recover.jsonl
bin/tokenize -q --oracle-target -o $X/first.tok.jsonl.zst $X/first.jsonl
bin/tokenize -q --oracle-target -o $X/recover.tok.jsonl.zst $X/recover.jsonl
common="--init $R/il.ckpt -b 8 --steps 120 --lr 2e-5 --oversample option=1 --seed 11"
bin/train-il $common --threads 1 -o $X/dagger.ckpt $X/first.tok.jsonl.zst &          # the two side by side
bin/train-il $common --threads 1 -o $X/recover.ckpt $X/first.tok.jsonl.zst $(printf "$X/recover.tok.jsonl.zst %.0s" $(seq 16)) &
wait
for w in 1 4 2; do    # the recovery pages once, four times, twice
    bin/train-il $common --threads 2 -o $X/recover$w.ckpt $X/first.tok.jsonl.zst $(printf "$X/recover.tok.jsonl.zst %.0s" $(seq $w))
done
for a in dagger recover recover1 recover2 recover4; do
    bin/thompson-eval -q --fixed 500 --arm $a=$X/$a.ckpt --max-steps 15 --obs text_rich --seed 11 \
        -o $X/eval-$a.jsonl.zst $R/goals-test.jsonl
done
bash scripts/paired.sh $R/eval500-il.jsonl.zst $X/eval-{dagger,recover1,recover2,recover4,recover}.jsonl.zst
bash scripts/paired.sh $X/eval-dagger.jsonl.zst $X/eval-{recover1,recover2,recover4,recover}.jsonl.zst
# The first 100 test goals played again to count the episodes that back out (< prev)
head -100 $R/goals-test.jsonl | bin/rollout -q -m $X/recover4.ckpt --max-steps 15 --obs text_rich |
    jq -s '[.[] | select([.steps[].action] | index("click[< prev]"))] | length'
# ... and for the pages given 16 times, the first 60: episodes with three or more < prev, and with nothing bought
head -60 $R/goals-test.jsonl | bin/rollout -q -m $X/recover.ckpt --max-steps 15 --obs text_rich |
    jq -s '[([.[] | select([.steps[].action | select(. == "click[< prev]")] | length >= 3)] | length),
            ([.[] | select(.asin | not)] | length)]'
# Seed 12, the same round (rollout seed 121), DAgger and the recovery pages once, the two trainings
# on one thread each:                           recover-s12-kinds.txt, recover-s12-paired.md
# (the commands above with R=runs/small-s12, --seed 121 for the rollout, --seed 12 for train-il and
#  thompson-eval, and recover1 = first.tok + recover.tok once)
