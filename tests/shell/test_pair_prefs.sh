# pair-prefs: pairs from preferred trajectories with the random rule and a tiny reference model;
# schema, the rules (rejected != chosen, next-best), reference log-probs, determinism, bad inputs.
. "$(dirname "$0")/lib.sh"
P=$BIN/pair-prefs
FIXTURE=$PROJECT_ROOT/tests/fixtures/human_trajs_sample.jsonl

# The pairs of a trajectory file must be exactly its states with a label and 2+ actions, in order,
# chosen = the trajectory's action there, rejected another valid action.
cat > "$T_TMP/check_pairs.py" <<'EOF'
import json, sys
trajs, pairs = sys.argv[1], sys.argv[2]
want = []
for l in open(trajs):
    t = json.loads(l)
    for i, s in enumerate(t["steps"]):
        if s["action_index"] >= 0 and len(s["actions"]) >= 2:
            want.append((t["goal_id"], i, s))
got = [json.loads(l) for l in open(pairs)]
assert len(got) == len(want), (len(got), len(want))
for p, (gid, i, s) in zip(got, want):
    assert (p["goal_id"], p["step"]) == (gid, i)
    assert p["obs"] == s["obs"] and p["actions"] == s["actions"]
    assert p["chosen_index"] == s["action_index"]
    assert p["rejected_index"] != p["chosen_index"] and 0 <= p["rejected_index"] < len(p["actions"])
EOF

check "--rejected random on human demonstrations: search and unlabeled steps skipped" bash -c "
  '$BIN/gen-traj' -q --import-human '$FIXTURE' > '$T_TMP/h.jsonl' &&
  '$P' --rejected random < '$T_TMP/h.jsonl' > '$T_TMP/hp.jsonl' 2> '$T_TMP/hp.err' &&
  python3 tests/validate.py --type pair < '$T_TMP/hp.jsonl' && python3 '$T_TMP/check_pairs.py' '$T_TMP/h.jsonl' '$T_TMP/hp.jsonl' &&
  grep -q 'random: 3 trajectories, 11 states, 7 pairs; skipped 3 single-action states and 1 steps without a valid action' '$T_TMP/hp.err'"
expect_error "a non-trajectory record is rejected with its line" 1 "<stdin>:2: expected a trajectory record, got a goal record" \
    bash -c "{ head -1 '$T_TMP/h.jsonl'; echo '{\"type\":\"goal\",\"v\":1}'; } | '$P' --rejected random"
expect_error "an action_index outside the actions names file, line and step" 1 "bad.jsonl:1: step 1: action_index 7 outside the 4 actions" \
    bash -c "head -1 '$T_TMP/h.jsonl' | sed 's/\"action_index\": *2/\"action_index\":7/' > '$T_TMP/bad.jsonl'; '$P' --rejected random '$T_TMP/bad.jsonl'"
expect_error "an action_index naming another action than the step's action is refused" 1 \
    "mismatch.jsonl:1: step 1: action_index 0 names \"click\[.*\]\" but action is" \
    bash -c "head -1 '$T_TMP/h.jsonl' | sed 's/\"action_index\": *2/\"action_index\":0/' > '$T_TMP/mismatch.jsonl'; '$P' --rejected random '$T_TMP/mismatch.jsonl'"
expect_error "no rule and no reference is a usage error" 2 "give --ref CKPT" "$P"
expect_error "--rejected argmax needs --ref" 2 "--rejected argmax needs --ref CKPT" "$P" --rejected argmax
expect_error "--ref-logps needs --ref" 2 "--ref-logps needs --ref CKPT" "$P" --rejected random --ref-logps
expect_error "an unknown rule" 2 "--rejected: expected sample, argmax, random or agent" "$P" --rejected best
expect_error "a missing checkpoint is named" 1 "no-such.ckpt" "$P" --ref "$T_TMP/no-such.ckpt" "$T_TMP/h.jsonl"

if ! have_data; then skip "pair-prefs on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi
"$BIN/goals" -q -s train -n 40 | "$BIN/gen-traj" -q --oracle --n 30 > "$T_TMP/o.jsonl"

check "--rejected random on oracle trajectories: valid pairs, every labeled multi-action state" bash -c "
  '$P' --rejected random --seed 4 '$T_TMP/o.jsonl' > '$T_TMP/r.jsonl' 2> '$T_TMP/r.err' &&
  python3 tests/validate.py --type pair < '$T_TMP/r.jsonl' && python3 '$T_TMP/check_pairs.py' '$T_TMP/o.jsonl' '$T_TMP/r.jsonl' &&
  grep -q 'random: 30 trajectories, ' '$T_TMP/r.err' &&
  python3 -c '
import json
for l in open(\"$T_TMP/r.jsonl\"):
    p = json.loads(l); assert p[\"source\"] == \"random\" and \"ref_logp_chosen\" not in p
'"
check "--rejected random: same seed same bytes (stdin or file), another seed other pairs" bash -c "
  '$P' -q --rejected random --seed 4 < '$T_TMP/o.jsonl' | cmp - '$T_TMP/r.jsonl' &&
  '$P' -q --rejected random --seed 5 '$T_TMP/o.jsonl' > '$T_TMP/r5.jsonl' && ! cmp -s '$T_TMP/r5.jsonl' '$T_TMP/r.jsonl'"
check "-o FILE.zst: the same records, compressed" bash -c "
  '$P' -q --rejected random --seed 4 -o '$T_TMP/r.jsonl.zst' '$T_TMP/o.jsonl' && zstdcat '$T_TMP/r.jsonl.zst' | cmp - '$T_TMP/r.jsonl'"

if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then
    skip "pair-prefs --ref (a reference model)" "no vocabulary: run make model"; finish
fi
"$BIN/goals" -q -s train -n 12 | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
"$BIN/train-il" -q --config tiny --steps 3 -o "$T_TMP/tiny.ckpt" "$T_TMP/tok.jsonl" > /dev/null
head -8 "$T_TMP/o.jsonl" > "$T_TMP/o12.jsonl"

check "--ref --rejected sample --ref-logps: valid pairs, log-probs, sample or next best" bash -c "
  '$P' --ref '$T_TMP/tiny.ckpt' --rejected sample --ref-logps --seed 2 '$T_TMP/o12.jsonl' > '$T_TMP/s.jsonl' 2> '$T_TMP/s.err' &&
  python3 tests/validate.py --type pair < '$T_TMP/s.jsonl' && python3 '$T_TMP/check_pairs.py' '$T_TMP/o12.jsonl' '$T_TMP/s.jsonl' &&
  python3 -c '
import json, re
n = nb = 0
for l in open(\"$T_TMP/s.jsonl\"):
    p = json.loads(l); n += 1
    assert p[\"source\"] in (\"reference-sample\", \"reference-next-best\")
    assert p[\"ref_logp_chosen\"] <= 0 and p[\"ref_logp_rejected\"] <= 0
    nb += p[\"source\"] == \"reference-next-best\"
err = open(\"$T_TMP/s.err\").read()
assert re.search(r\"%d pairs; .*; %d rejected by the next-best rule\" % (n, nb), err), err
'"
check "--ref-logps: every pair names its reference, the checkpoint's data_sha256" bash -c "
  python3 -c '
import json, struct, sys
f = open(sys.argv[1], \"rb\"); n = struct.unpack(\"<Q\", f.read(8))[0]
want = json.loads(f.read(n))[\"__metadata__\"][\"data_sha256\"]
got = {json.loads(l)[\"ref_sha256\"] for l in open(sys.argv[2])}
assert got == {want}, (got, want)' '$T_TMP/tiny.ckpt' '$T_TMP/s.jsonl'"
check "--ref --rejected sample: same seed same bytes; --batch changes nothing but rounding" bash -c "
  '$P' -q --ref '$T_TMP/tiny.ckpt' --rejected sample --ref-logps --seed 2 < '$T_TMP/o12.jsonl' | cmp - '$T_TMP/s.jsonl' &&
  '$P' -q --ref '$T_TMP/tiny.ckpt' --rejected sample --ref-logps --seed 2 --batch 3 '$T_TMP/o12.jsonl' > '$T_TMP/s3.jsonl' &&
  python3 -c '
import json
for a, b in zip(map(json.loads, open(\"$T_TMP/s.jsonl\")), map(json.loads, open(\"$T_TMP/s3.jsonl\"))):
    assert (a[\"step\"], a[\"rejected_index\"], a[\"source\"]) == (b[\"step\"], b[\"rejected_index\"], b[\"source\"])
    assert abs(a[\"ref_logp_chosen\"] - b[\"ref_logp_chosen\"]) < 1e-5
'"
check "--ref --rejected argmax: the reference's best, or its next best where that is the chosen" bash -c "
  '$P' -q --ref '$T_TMP/tiny.ckpt' --rejected argmax --ref-logps '$T_TMP/o12.jsonl' > '$T_TMP/a.jsonl' &&
  python3 tests/validate.py --type pair < '$T_TMP/a.jsonl' && python3 '$T_TMP/check_pairs.py' '$T_TMP/o12.jsonl' '$T_TMP/a.jsonl' &&
  python3 -c '
import json
for l in open(\"$T_TMP/a.jsonl\"):
    p = json.loads(l)
    if p[\"source\"] == \"reference-argmax\":   # the best action: at least as likely as the chosen one
        assert p[\"ref_logp_rejected\"] >= p[\"ref_logp_chosen\"]
    else:                                     # the chosen one was the best
        assert p[\"source\"] == \"reference-next-best\" and p[\"ref_logp_chosen\"] >= p[\"ref_logp_rejected\"]
'"
# The reference scores a state exactly as the agent that played it: the log-probs rollout
# records for the model's own actions come back as ref_logp_chosen.
check "--ref-logps: the log-probs of the model's own rollouts, as the agent computed them" bash -c "
  '$BIN/goals' -q -s train -n 3 | '$BIN/rollout' -q -m '$T_TMP/tiny.ckpt' --temperature 1 --seed 1 > '$T_TMP/m.jsonl' &&
  '$P' -q --ref '$T_TMP/tiny.ckpt' --rejected random --ref-logps '$T_TMP/m.jsonl' > '$T_TMP/mp.jsonl' &&
  python3 -c '
import json
logp = {}
for l in open(\"$T_TMP/m.jsonl\"):
    t = json.loads(l)
    for i, s in enumerate(t[\"steps\"]):
        if \"logp\" in s: logp[(t[\"goal_id\"], i)] = s[\"logp\"]
n = 0
for l in open(\"$T_TMP/mp.jsonl\"):
    p = json.loads(l); n += 1
    assert p[\"source\"] == \"random\"
    assert abs(p[\"ref_logp_chosen\"] - logp[(p[\"goal_id\"], p[\"step\"])]) < 1e-4, p
assert n > 0
'"
# Relabelled on-policy states: the tiny agent plays (sampling) with the oracle's action recorded
# at every state it reaches; a pair exactly where the two differ, chosen = the oracle's.
"$BIN/goals" -q -s train -n 12 | "$BIN/rollout" -q -m "$T_TMP/tiny.ckpt" --oracle-labels --temperature 1 --seed 4 \
    --max-steps 8 --obs text_rich > "$T_TMP/ol.jsonl"
check "rollout --oracle-labels: every step says the oracle's action, valid there" python3 -c "
import json, subprocess
subprocess.run(['python3', 'tests/validate.py', '--type', 'trajectory'], stdin=open('$T_TMP/ol.jsonl'), check=True)
n = 0
for l in open('$T_TMP/ol.jsonl'):
    for s in json.loads(l)['steps']:
        n += 1
        assert 0 <= s['oracle_index'] < len(s['actions']) and s['actions'][s['oracle_index']] == s['oracle_action'], s
assert n > 12"
check "rollout --oracle-labels: where the agent departs, both outcomes; its action stands exactly when it does as well" python3 -c "
import json
departed = stood = 0
for l in open('$T_TMP/ol.jsonl'):
    for s in json.loads(l)['steps']:
        if 'oracle_outcome' not in s:
            assert s['oracle_action'] == s['action'] and 'action_outcome' not in s and 'oracle_own_action' not in s, s
            continue
        departed += 1
        o, a = s['oracle_outcome'], s['action_outcome']
        as_well = a['reward'] > o['reward'] or (a['reward'] == o['reward'] and a['steps'] <= o['steps'])
        if 'oracle_own_action' in s:
            stood += 1
            assert as_well and s['oracle_action'] == s['action'] and s['oracle_own_action'] != s['action'], s
        else:
            assert not as_well and s['oracle_action'] != s['action'], s
assert departed > 0, departed"
check "pair-prefs --rejected agent: a pair where agent and oracle differ, none where they agree" bash -c "
  '$P' -q --rejected agent '$T_TMP/ol.jsonl' > '$T_TMP/ag.jsonl' &&
  python3 tests/validate.py --type pair < '$T_TMP/ag.jsonl' &&
  python3 -c '
import json
want = []
for l in open(\"$T_TMP/ol.jsonl\"):
    t = json.loads(l)
    for i, s in enumerate(t[\"steps\"]):
        if len(s[\"actions\"]) >= 2 and s[\"action_index\"] >= 0 and s[\"oracle_index\"] != s[\"action_index\"]:
            want.append((t[\"goal_id\"], i, s[\"oracle_index\"], s[\"action_index\"]))
got = [json.loads(l) for l in open(\"$T_TMP/ag.jsonl\")]
assert want and [(p[\"goal_id\"], p[\"step\"], p[\"chosen_index\"], p[\"rejected_index\"]) for p in got] == want
assert all(p[\"source\"] == \"agent\" for p in got)
'"
check "tokenize --oracle-target: the oracle's action is each state's target (DAgger)" bash -c "
  '$BIN/tokenize' -q --oracle-target '$T_TMP/ol.jsonl' | jq -c .target > '$T_TMP/dt.txt' &&
  jq -c '.steps[] | .oracle_index' '$T_TMP/ol.jsonl' | cmp - '$T_TMP/dt.txt'"
expect_error "--rejected agent on trajectories without oracle labels: refused, saying why" 1 "rollout --oracle-labels" \
    "$P" -q --rejected agent "$T_TMP/o12.jsonl"
expect_error "rollout --oracle-labels without a model: usage error" 2 "give --model" \
    "$BIN/rollout" -q -p oracle --oracle-labels /dev/null
finish
