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
finish
