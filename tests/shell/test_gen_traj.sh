# gen-traj: the oracle's successful episodes, rejection sampling of a tiny model's rollouts with
# loop removal, the import of human demonstrations; schema, counts, determinism, bad inputs.
. "$(dirname "$0")/lib.sh"
G=$BIN/gen-traj
FIXTURE=$PROJECT_ROOT/tests/fixtures/human_trajs_sample.jsonl

# --import-human needs no catalog
check "--import-human: one trajectory per line, valid, policy human, search step as search[query]" bash -c "
  '$G' --import-human '$FIXTURE' > '$T_TMP/h.jsonl' 2> '$T_TMP/h.err' &&
  python3 tests/validate.py --type trajectory < '$T_TMP/h.jsonl' &&
  grep -q 'human: 3 lines, 3 trajectories, 11 steps (1 with the action not among the available ones), 1 with a known reward' '$T_TMP/h.err' &&
  python3 -c '
import json
ts = [json.loads(l) for l in open(\"$T_TMP/h.jsonl\")]
src = [json.loads(l) for l in open(\"$FIXTURE\")]
assert [t[\"goal_id\"] for t in ts] == [0, 1, 2]
for t, s in zip(ts, src):
    assert t[\"policy\"] == \"human\" and t[\"n_steps\"] == len(s[\"actions\"]) == len(t[\"steps\"])
    assert t[\"steps\"][0][\"actions\"] == [s[\"actions\"][0]] and t[\"steps\"][0][\"action_index\"] == 0
    assert t[\"steps\"][0][\"action\"].startswith(\"search[\")
    for st, obs, a in zip(t[\"steps\"], s[\"states\"], s[\"actions\"]):
        assert st[\"obs\"] == obs and st[\"action\"] == a
        assert st[\"action_index\"] == -1 or st[\"actions\"][st[\"action_index\"]] == a
        assert all(x.startswith(\"click[\") or x.startswith(\"search[\") for x in st[\"actions\"])
    if \"reward\" in s:
        assert t[\"reward_known\"] and t[\"reward\"] == s[\"reward\"] and t[\"success\"]
    else:
        assert t[\"reward_known\"] is False and t[\"reward\"] == 0 and t[\"success\"] is False
assert ts[0][\"instruction\"].startswith(\"i want to buy a folding storage box ottoman\")
assert ts[1][\"steps\"][3][\"action_index\"] == -1  # click[add to cart] is not available
'"
expect_error "--import-human: a line not in the format names file and line" 1 "bad.jsonl:2: no \"states\" list" \
    bash -c "{ head -1 '$FIXTURE'; echo '{\"actions\": []}'; } > '$T_TMP/bad.jsonl'; '$G' --import-human '$T_TMP/bad.jsonl'"
expect_error "--import-human: a missing file" 1 "no-such.jsonl" "$G" --import-human "$T_TMP/no-such.jsonl"
expect_error "one mode at a time" 2 "give one of --oracle, --model CKPT and --import-human FILE" "$G" --oracle --import-human "$FIXTURE"
expect_error "no mode" 2 "give one of" "$G"
expect_error "--attempts is capped" 2 "--attempts: expected an integer in \[1, 1000\]" "$G" --oracle --attempts 1001

if ! have_data; then skip "gen-traj on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi
"$BIN/goals" -q -s train > "$T_TMP/train.jsonl"

check "--import-human with goal records: goal_id by instruction, unmatched lines skipped" bash -c "
  '$BIN/goals' -q --human -s all > '$T_TMP/human-goals.jsonl' &&
  '$G' --import-human '$FIXTURE' '$T_TMP/human-goals.jsonl' > '$T_TMP/hg.jsonl' 2> '$T_TMP/hg.err' &&
  grep -q '1 not matched to a goal' '$T_TMP/hg.err' &&
  python3 -c '
import json
goals = [json.loads(l) for l in open(\"$T_TMP/human-goals.jsonl\")]
ts = [json.loads(l) for l in open(\"$T_TMP/hg.jsonl\")]
assert len(ts) == 2
norm = lambda s: \" \".join(s.lower().replace(chr(34), \"\").replace(chr(39), \"\").split()).split(\", and price lower than\")[0]
for t in ts:
    g = [g for g in goals if g[\"goal_id\"] == t[\"goal_id\"]][0]
    assert norm(g[\"instruction\"]) == norm(t[\"instruction\"]), (g[\"instruction\"], t[\"instruction\"])
'"

check "--oracle --n 10 on train goals: 10 successful trajectories, valid, summary" bash -c "
  '$G' --oracle --n 10 < '$T_TMP/train.jsonl' > '$T_TMP/o.jsonl' 2> '$T_TMP/o.err' &&
  [ \$(wc -l < '$T_TMP/o.jsonl') = 10 ] &&
  python3 tests/validate.py --type trajectory < '$T_TMP/o.jsonl' &&
  grep -qE 'oracle: [0-9]+ goals tried, 10 trajectories kept' '$T_TMP/o.err' &&
  python3 -c '
import json
ids = []
for l in open(\"$T_TMP/o.jsonl\"):
    t = json.loads(l); ids.append(t[\"goal_id\"])
    assert t[\"reward\"] == 1.0 and t[\"success\"] and t[\"policy\"] == \"oracle\" and t[\"attempt\"] == 1
    assert t[\"n_steps\"] == len(t[\"steps\"])
    for s in t[\"steps\"]:
        assert s[\"actions\"][s[\"action_index\"]] == s[\"action\"]
assert ids == sorted(ids) and len(set(ids)) == 10
'"
check "--oracle: same input, same bytes; -o FILE.zst" bash -c "
  '$G' -q --oracle --n 10 -o '$T_TMP/o2.jsonl.zst' < '$T_TMP/train.jsonl' &&
  zstdcat '$T_TMP/o2.jsonl.zst' | cmp - '$T_TMP/o.jsonl'"
expect_error "a non-goal record is rejected with its line" 1 "<stdin>:1: expected a goal record, got a x record" \
    bash -c "echo '{\"type\":\"x\",\"v\":1}' | '$G' --oracle"

if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then
    skip "gen-traj --model (rejection sampling)" "no vocabulary: run make model"; finish
fi
expect_error "a missing checkpoint is named" 1 "no-such.ckpt" bash -c "head -2 '$T_TMP/train.jsonl' | '$G' -m '$T_TMP/no-such.ckpt'"
head -12 "$T_TMP/train.jsonl" | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
"$BIN/train-il" -q --config tiny --steps 3 -o "$T_TMP/tiny.ckpt" "$T_TMP/tok.jsonl" > /dev/null
# text_rich shows the chosen options and the opened products, so after loop removal no two
# steps may share page and observation. --min-reward 0 keeps every episode that buys, which
# gives the loop removal (and its replay check) real episodes to work on.
check "--model, --min-reward 0, text_rich: counts, attempts, loops removed, no repeated state" bash -c "
  sed -n '20,26p' '$T_TMP/train.jsonl' |
  '$G' -m '$T_TMP/tiny.ckpt' --obs text_rich --attempts 2 --min-reward 0 --parallel 4 --seed 3 > '$T_TMP/m0.jsonl' 2> '$T_TMP/m0.err' &&
  python3 tests/validate.py --type trajectory < '$T_TMP/m0.jsonl' &&
  python3 -c '
import json, re
err = open(\"$T_TMP/m0.err\").read()
m = re.search(r\"(\d+) goals tried, (\d+) trajectories kept \([0-9.]+%\), (\d+) attempts, (\d+) loops removed \((\d+) steps\), 0 replay failures\", err)
assert m, err
goals, kept, attempts, loops, removed = map(int, m.groups())
ts = [json.loads(l) for l in open(\"$T_TMP/m0.jsonl\")]
assert goals == 7 and kept == len(ts) and 2 * goals - kept <= attempts <= 2 * goals  # 2 per goal not kept
assert loops == sum(t.get(\"loops_removed\", 0) for t in ts)
assert removed == sum(t.get(\"steps_removed\", 0) for t in ts)
for t in ts:
    assert t[\"asin\"] is not None and 1 <= t[\"attempt\"] <= 2 and t[\"policy\"].endswith(\"tiny.ckpt\")
    assert t[\"seed\"] == 3000 + t[\"attempt\"] - 1
    assert t[\"n_steps\"] == len(t[\"steps\"])
    keys = [(s[\"page\"], s[\"obs\"]) for s in t[\"steps\"]]
    assert len(set(keys)) == len(keys), \"a state repeats\"
    for s in t[\"steps\"][1:]:
        assert s[\"actions\"][s[\"action_index\"]] == s[\"action\"] and s[\"logp\"] <= 0
print(\"kept\", kept, \"loops\", loops, \"steps removed\", removed, file=open(\"$T_TMP/m0.note\", \"w\"))
'"
check "--model: an attempt replays with rollout --seed s*1000+a (before loop removal)" bash -c "
  sed -n '22,23p' '$T_TMP/train.jsonl' |
  '$G' -q -m '$T_TMP/tiny.ckpt' --obs text_rich --attempts 2 --min-reward 0 --parallel 4 --seed 3 --no-prune > '$T_TMP/np.jsonl' &&
  python3 -c '
import json, subprocess
ts = [json.loads(l) for l in open(\"$T_TMP/np.jsonl\")]
goals = {json.loads(l)[\"goal_id\"]: l for l in open(\"$T_TMP/train.jsonl\")}
t = ts[0]
out = subprocess.run([\"$BIN/rollout\", \"-q\", \"-m\", \"$T_TMP/tiny.ckpt\", \"--obs\", \"text_rich\", \"--temperature\", \"1\",
                      \"--seed\", str(t[\"seed\"])], input=goals[t[\"goal_id\"]], capture_output=True, text=True, check=True).stdout
r = json.loads(out)
assert [s[\"action\"] for s in r[\"steps\"]] == [s[\"action\"] for s in t[\"steps\"]] and r[\"reward\"] == t[\"reward\"]
'"
check "--model, reward 1 required: kept trajectories succeed, loop-free; same seed same bytes" bash -c "
  run() { sed -n '30,32p' '$T_TMP/train.jsonl' | '$G' -m '$T_TMP/tiny.ckpt' --attempts 2 --parallel 4 --seed 1 --max-steps 8 \"\$@\"; }
  run > '$T_TMP/m1.jsonl' 2> '$T_TMP/m1.err' && run -q | cmp - '$T_TMP/m1.jsonl' &&
  grep -qE ': 3 goals tried, [0-3] trajectories kept \([0-9.]+%\), [3-6] attempts' '$T_TMP/m1.err' &&
  { [ ! -s '$T_TMP/m1.jsonl' ] || python3 tests/validate.py --type trajectory < '$T_TMP/m1.jsonl'; } &&
  python3 -c '
import json
for l in open(\"$T_TMP/m1.jsonl\"):
    t = json.loads(l)
    assert t[\"reward\"] == 1.0 and t[\"success\"]
'"
finish
