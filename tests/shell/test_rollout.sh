# rollout: the built-in policies on the real catalog; trajectory records and their schema.
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "rollout on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi
"$BIN/goals" -q -s test > "$T_TMP/test.jsonl"
check "oracle on the 500 test goals: >= 90% success, trajectories valid" bash -c "
  '$BIN/rollout' -q -p oracle --summary '$T_TMP/oracle-summary.jsonl' < '$T_TMP/test.jsonl' > '$T_TMP/oracle.jsonl' &&
  [ \$(wc -l < '$T_TMP/oracle.jsonl') = 500 ] &&
  python3 tests/validate.py --type trajectory < '$T_TMP/oracle.jsonl' &&
  python3 tests/validate.py --type summary < '$T_TMP/oracle-summary.jsonl' &&
  python3 -c '
import json, sys
s = {r[\"measure\"]: r[\"value\"] for r in map(json.loads, open(\"$T_TMP/oracle-summary.jsonl\"))}
assert s[\"success_rate\"] >= 0.9 and s[\"target_in_results\"] >= 0.95, s'"
check "--mark-chosen: text_rich marks a chosen value with a double quote, which WebShop's page never marks" bash -c "
  jq -c 'select(any(.goal_options[]; contains(\"\\\"\")))' '$T_TMP/test.jsonl' | head -1 > '$T_TMP/quoted.jsonl' &&
  [ -s '$T_TMP/quoted.jsonl' ] &&
  '$BIN/rollout' -q -p oracle --obs text_rich < '$T_TMP/quoted.jsonl' > '$T_TMP/webshop-marks.jsonl' &&
  '$BIN/rollout' -q -p oracle --obs text_rich --mark-chosen < '$T_TMP/quoted.jsonl' > '$T_TMP/chosen-marks.jsonl' &&
  python3 -c '
import json
plain, marked = (json.loads(open(f).readline()) for f in (\"$T_TMP/webshop-marks.jsonl\", \"$T_TMP/chosen-marks.jsonl\"))
assert [s[\"action\"] for s in plain[\"steps\"]] == [s[\"action\"] for s in marked[\"steps\"]] and marked[\"success\"]
value = next(v for v in json.loads(open(\"$T_TMP/quoted.jsonl\").read())[\"goal_options\"].values() if chr(34) in v)
k = next(i for i, s in enumerate(plain[\"steps\"]) if s[\"action\"] == \"click[%s]\" % value)
mark = \"[clicked button] %s [clicked button_]\" % value
assert mark in marked[\"steps\"][k + 1][\"obs\"] and (\"You have clicked %s.\" % value) in marked[\"steps\"][k + 1][\"obs\"]
assert mark not in plain[\"steps\"][k + 1][\"obs\"] and plain[\"steps\"][k + 1][\"obs\"] == plain[\"steps\"][k][\"obs\"]
'"
check "every oracle step is one of the state's valid actions" python3 -c "
import json
for line in open('$T_TMP/oracle.jsonl'):
    t = json.loads(line)
    for s in t['steps']:
        assert s['actions'][s['action_index']] == s['action'], s
    assert t['n_steps'] == len(t['steps'])
    assert t['success'] == (t['reward'] == 1.0)"
check "random policy: valid trajectories, at most 15 steps, same seed same bytes" bash -c "
  '$BIN/rollout' -q -p random --seed 3 < '$T_TMP/test.jsonl' > '$T_TMP/r1' &&
  '$BIN/rollout' -q -p random --seed 3 < '$T_TMP/test.jsonl' > '$T_TMP/r2' && cmp -s '$T_TMP/r1' '$T_TMP/r2' &&
  '$BIN/rollout' -q -p random --seed 4 < '$T_TMP/test.jsonl' > '$T_TMP/r3' && ! cmp -s '$T_TMP/r1' '$T_TMP/r3' &&
  python3 tests/validate.py --type trajectory < '$T_TMP/r1' &&
  python3 -c '
import json
for l in open(\"$T_TMP/r1\"):
    t = json.loads(l); assert t[\"n_steps\"] <= 15
    for s in t[\"steps\"]: assert s[\"action_index\"] >= 0'"
check "--obs text_rich and --max-steps" bash -c "
  head -3 '$T_TMP/test.jsonl' | '$BIN/rollout' -q -p oracle --obs text_rich --max-steps 2 |
  python3 -c '
import json, sys
for l in sys.stdin:
    t = json.loads(l); assert t[\"n_steps\"] == 2 and t[\"reward\"] == 0
    assert \"[button] Back to Search [button_]\" in t[\"steps\"][1][\"obs\"]'"
expect_error "unknown policy is a usage error" 2 "expected random or oracle" "$BIN/rollout" -p greedy
expect_error "a non-goal record is rejected with its line" 1 "<stdin>:1: expected a goal record, got a x record" \
    bash -c "echo '{\"type\":\"x\",\"v\":1}' | '$BIN/rollout' -p random"
# Interrupted while waiting for more goals: the trajectories played and their summary are kept
# under .partial, the summary marked "interrupted"; the final names are not written.
mkfifo "$T_TMP/goals.in"; exec 3<>"$T_TMP/goals.in"
"$BIN/rollout" -q -p oracle -o "$T_TMP/cut.jsonl" --summary "$T_TMP/cut-summary.jsonl" < "$T_TMP/goals.in" 3>&- &
pid=$!
head -5 "$T_TMP/test.jsonl" >&3
sleep 3; kill -TERM $pid; wait $pid; status=$?; exec 3>&-
if [ "$status" -eq 143 ] && [ ! -e "$T_TMP/cut.jsonl" ] && [ ! -e "$T_TMP/cut-summary.jsonl" ] &&
   python3 tests/validate.py --type summary < "$T_TMP/cut-summary.jsonl.partial" > /dev/null && python3 -c '
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
assert len(t) == 5 and s and all(r["interrupted"] is True and r["count"] == 5 for r in s), s' \
    "$T_TMP/cut.jsonl.partial" "$T_TMP/cut-summary.jsonl.partial"; then
    ok "SIGTERM: exit 143, trajectories and their summary kept as .partial, marked interrupted"
else fail "SIGTERM keeps the trajectories and their summary as .partial" "status $status" "$(ls "$T_TMP")"; fi
finish
