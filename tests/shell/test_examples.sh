# The examples that replace a stage with a program of one's own (examples/, README "Stages of your
# own"), at a tiny size: their records pass the schemas and the next stage takes them.
. "$(dirname "$0")/lib.sh"

"$BIN/goals" -q -s train -n 8 | "$BIN/gen-traj" -q --oracle --obs text_rich -o "$T_TMP/traj.jsonl.zst"
check "jq rule in place of pair-prefs: valid pair records, one per state with a choice" bash -c "
  bash examples/jq_pairs.sh '$T_TMP/traj.jsonl.zst' > '$T_TMP/pairs.jsonl' &&
  python3 tests/validate.py --type pair < '$T_TMP/pairs.jsonl' > /dev/null &&
  want=\$('$BIN/records' -q '$T_TMP/traj.jsonl.zst' | jq -s 'map([.steps[] | select((.actions | length) >= 2)] | length) | add') &&
  [ \$(wc -l < '$T_TMP/pairs.jsonl') = \$want ] &&
  jq -e 'select(.rejected_index == .chosen_index) ' '$T_TMP/pairs.jsonl' > /dev/null; [ \$? = 4 ]"
"$BIN/tokenize" -q "$T_TMP/traj.jsonl.zst" > "$T_TMP/tok.jsonl"
"$BIN/train-il" -q --config tiny --threads 1 --steps 2 -b 4 --metrics /dev/null -o "$T_TMP/il.ckpt" "$T_TMP/tok.jsonl"
check "... and tokenize and train-dpo take them" bash -c "
  '$BIN/tokenize' -q '$T_TMP/pairs.jsonl' | '$BIN/train-dpo' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 1 --steps 2 -b 4 \
      --metrics /dev/null -o '$T_TMP/dpo.ckpt' && [ -s '$T_TMP/dpo.ckpt' ]"

check "a Python policy through webshop-env: valid trajectory records, one per goal" bash -c "
  '$BIN/goals' -q -s test -n 4 | WEBSHOP_ENV='$BIN/webshop-env' python3 examples/python_policy.py > '$T_TMP/py.jsonl' &&
  [ \$(wc -l < '$T_TMP/py.jsonl') = 4 ] &&
  python3 tests/validate.py --type trajectory < '$T_TMP/py.jsonl' > /dev/null &&
  jq -e 'select(.policy == \"x-python-heuristic\" and .n_steps == (.steps | length) and .n_steps > 0)' '$T_TMP/py.jsonl' > /dev/null"
check "... and tokenize and pair-prefs take its trajectories" bash -c "
  [ \$('$BIN/tokenize' -q '$T_TMP/py.jsonl' | wc -l) -gt 0 ] &&
  '$BIN/pair-prefs' -q --rejected random '$T_TMP/py.jsonl' | '$BIN/records' -q -t pair -c > /dev/null"
# A trainer in PyTorch (optional): same loss as train-il on the same full batch, and a checkpoint
# our tools play.
if ! python3 -c 'import torch' 2> /dev/null; then
  skip "a PyTorch trainer in place of train-il" "torch is not installed (pip install torch)"
else
  "$BIN/train-il" -q --config tiny --segments none --item-titles no --steps 0 --metrics /dev/null -o "$T_TMP/init.ckpt" "$T_TMP/tok.jsonl"
  N=$(jq -s 'map(select((.actions | length) >= 2)) | length' "$T_TMP/tok.jsonl")
  check "a PyTorch trainer: its first full-batch loss is train-il's (same checkpoint, same decisions)" bash -c "
    c=\$('$BIN/train-il' -q --init '$T_TMP/init.ckpt' -b $N --steps 1 --oversample option=1 --threads 1 -o '$T_TMP/c1.ckpt' \
        '$T_TMP/tok.jsonl' | jq .loss) &&
    t=\$(python3 examples/torch_trainer.py --init '$T_TMP/init.ckpt' -b $N --steps 1 --threads 1 -o '$T_TMP/t1.ckpt' \
        '$T_TMP/tok.jsonl' | jq .loss) &&
    python3 -c 'import sys; c, t = float(sys.argv[1]), float(sys.argv[2]); assert abs(c - t) < 1e-5 * c, (c, t)' \$c \$t"
  check "... its checkpoint plays in rollout and trains on in train-il" bash -c "
    python3 examples/torch_trainer.py --init '$T_TMP/init.ckpt' -b 4 --steps 6 --lr 1e-3 --threads 1 -o '$T_TMP/torch.ckpt' \
        '$T_TMP/tok.jsonl' > '$T_TMP/torch-metrics.jsonl' && [ \$(wc -l < '$T_TMP/torch-metrics.jsonl') = 6 ] &&
    '$BIN/goals' -q -s test -n 2 | '$BIN/rollout' -q -m '$T_TMP/torch.ckpt' --threads 1 | '$BIN/records' -q -t trajectory -c |
        grep -qx 2 &&
    '$BIN/train-il' -q --init '$T_TMP/torch.ckpt' --steps 1 -b 4 --threads 1 --metrics /dev/null -o '$T_TMP/c2.ckpt' '$T_TMP/tok.jsonl'"
  expect_error "... and refuses a checkpoint whose inputs it does not build" 1 "plain inputs only" \
      python3 examples/torch_trainer.py --init "$T_TMP/il.ckpt" --steps 1 -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
fi
finish
