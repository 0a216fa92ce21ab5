# tokenize: trajectory and pair records to tokens records; labels, truncation, schema, errors.
# Most cases use a small vocabulary written here; those that need BERT's real one (fetched by
# `make model` into models/minilm-l6/) or the WebShop data skip without them.
. "$(dirname "$0")/lib.sh"
TOK="$BIN/tokenize"
V="$T_TMP/vocab.txt"
# ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 then 5.. ; added tokens 17..20
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' a b c d e search '[' ']' click buy '##s' now > "$V"

check "--help and --version" bash -c "'$TOK' --help | grep -q -- '--max-state-len' && '$TOK' --version | grep -q 'tokenize (webshop-rl)'"

cat > "$T_TMP/pairs.jsonl" <<'EOF'
{"type":"pair","v":1,"goal_id":4,"step":2,"obs":"a b [SEP] c","actions":["click[a]","buy now","clicks"],"chosen_index":1,"rejected_index":2,"source":"reference-argmax","ref_logp_chosen":-0.5,"ref_logp_rejected":-1.25,"ref_sha256":"5ab0bbd5c5e9b5c8d1a6a1b9e6f1d8c7b3a2f0e9d8c7b6a5f4e3d2c1b0a99887"}
{"type":"pair","v":1,"goal_id":5,"step":0,"obs":"[button] A [button_] [clicked button]E[clicked button_]","actions":["search[d e]","x"],"chosen_index":0,"rejected_index":1,"source":"random"}
EOF
check "pairs: ids, labels, ref_logp and ref_sha256 carried, schema" bash -c "
  '$TOK' -q --vocab '$V' '$T_TMP/pairs.jsonl' > '$T_TMP/pairs.out' &&
  python3 tests/validate.py --type tokens < '$T_TMP/pairs.out' &&
  python3 -c '
import json
r = [json.loads(l) for l in open(\"$T_TMP/pairs.out\")]
assert len(r) == 2, r
a, b = r
assert a[\"state\"] == [2, 5, 6, 3, 7, 3], a[\"state\"]
assert a[\"actions\"] == [[2, 13, 11, 5, 12, 3], [2, 14, 16, 3], [2, 13, 15, 3]], a[\"actions\"]
assert (a[\"goal_id\"], a[\"step\"], a[\"chosen\"], a[\"rejected\"]) == (4, 2, 1, 2)
assert a[\"ref_logp_chosen\"] == -0.5 and a[\"ref_logp_rejected\"] == -1.25 and a[\"source\"] == \"reference-argmax\"
assert a[\"ref_sha256\"] == \"5ab0bbd5c5e9b5c8d1a6a1b9e6f1d8c7b3a2f0e9d8c7b6a5f4e3d2c1b0a99887\" and \"ref_sha256\" not in b
assert len(a[\"vocab_sha256\"]) == 64 and \"target\" not in a and \"truncated\" not in a
assert b[\"state\"] == [2, 17, 5, 18, 19, 9, 20, 3], b[\"state\"]
assert b[\"actions\"] == [[2, 10, 11, 8, 9, 12, 3], [2, 1, 3]], b[\"actions\"]
assert \"ref_logp_chosen\" not in b'"
check "vocab_sha256 is the sha256sum of the vocabulary" bash -c "
  [ \"\$(head -1 '$T_TMP/pairs.out' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"vocab_sha256\"])')\" = \"\$(sha256sum < '$V' | cut -c1-64)\" ]"

cat > "$T_TMP/traj.jsonl" <<'EOF'
{"type":"trajectory","v":1,"goal_id":7,"instruction":"i","policy":"oracle","seed":0,"steps":[{"obs":"search a","actions":["search[a]"],"action":"search[a]","action_index":0},{"obs":"b c","actions":["click[b]","click[c]"],"action":"click[x]","action_index":-1},{"obs":"c","actions":["click[b]","buy now"],"action":"buy now","action_index":1}],"reward":1.0,"success":true,"n_steps":3}
EOF
check "trajectory: one record per step, action_index -1 skipped and counted" bash -c "
  '$TOK' --vocab '$V' < '$T_TMP/traj.jsonl' > '$T_TMP/traj.out' 2> '$T_TMP/traj.err' &&
  grep -q '1 steps skipped (action_index -1)' '$T_TMP/traj.err' &&
  python3 tests/validate.py --type tokens < '$T_TMP/traj.out' &&
  python3 -c '
import json
r = [json.loads(l) for l in open(\"$T_TMP/traj.out\")]
assert [(x[\"step\"], x[\"target\"]) for x in r] == [(0, 0), (2, 1)], r
assert r[1][\"state\"] == [2, 7, 3] and r[1][\"actions\"] == [[2, 13, 11, 6, 12, 3], [2, 14, 16, 3]], r[1]
assert all(x[\"reward\"] == 1.0 and x[\"success\"] is True and x[\"policy\"] == \"oracle\" for x in r)'"

check "pairs and trajectories mixed, several files, zstd out and back" bash -c "
  '$TOK' -q -z --vocab '$V' '$T_TMP/pairs.jsonl' '$T_TMP/traj.jsonl' -o '$T_TMP/mixed.zst' &&
  [ \"\$(head -c4 '$T_TMP/mixed.zst' | od -An -tx1 | tr -d ' ')\" = 28b52ffd ] &&
  '$BIN/records' -q '$T_TMP/mixed.zst' | python3 tests/validate.py --type tokens &&
  [ \$('$BIN/records' -q -c '$T_TMP/mixed.zst') = 4 ]"

# truncation: a 6-word state (8 ids framed), cut to 5 ids: 3 words kept
printf '%s\n' '{"type":"pair","v":1,"goal_id":0,"step":0,"obs":"a b c d e a","actions":["a b c d e","a"],"chosen_index":0,"rejected_index":1,"source":"random"}' > "$T_TMP/long.jsonl"
check "truncation: --max-state-len/--max-action-len count [CLS] and [SEP], the end is cut" bash -c "
  '$TOK' -q --vocab '$V' --max-state-len 5 --max-action-len 4 < '$T_TMP/long.jsonl' |
  python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[\"state\"] == [2, 5, 6, 7, 3], r[\"state\"]
assert r[\"actions\"] == [[2, 5, 6, 3], [2, 5, 3]], r[\"actions\"]
assert r[\"truncated\"] == 2, r'"
check "a text that fits the limit exactly is not counted as truncated" bash -c "
  '$TOK' -q --vocab '$V' --max-state-len 8 --max-action-len 7 < '$T_TMP/long.jsonl' |
  python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[\"state\"] == [2, 5, 6, 7, 8, 9, 5, 3] and len(r[\"actions\"][0]) == 7 and \"truncated\" not in r, r'"

expect_error "a goal record is rejected with its line" 1 "<stdin>:1: expected a trajectory or pair record, got a goal record" \
    bash -c "echo '{\"type\":\"goal\",\"v\":1}' | '$TOK' --vocab '$V'"
expect_error "a newer schema version is rejected" 1 "<stdin>:1: pair record of schema version 2, this build reads version 1" \
    bash -c "echo '{\"type\":\"pair\",\"v\":2}' | '$TOK' --vocab '$V'"
expect_error "action_index out of range names the step" 1 "<stdin>:2: steps\[0\]: action_index 3 out of range \(1 actions\)" \
    bash -c "{ head -1 '$T_TMP/pairs.jsonl'; echo '{\"type\":\"trajectory\",\"v\":1,\"goal_id\":1,\"steps\":[{\"obs\":\"a\",\"actions\":[\"b\"],\"action_index\":3}]}'; } | '$TOK' -q --vocab '$V'"
expect_error "an action_index naming another action is refused with file, line and step" 1 \
    "<stdin>:2: steps\[1\]: action_index 0 names \"click\[b\]\" but action is \"click\[c\]\"" \
    bash -c "{ head -1 '$T_TMP/pairs.jsonl'; sed 's/\"action\":\"click\[x\]\"/\"action\":\"click[c]\"/; s/\"action_index\":-1/\"action_index\":0/' '$T_TMP/traj.jsonl'; } | '$TOK' -q --vocab '$V'"
expect_error "action_index -1 for an action among the actions is refused" 1 \
    "<stdin>:1: steps\[1\]: action_index is -1 but action \"click\[c\]\" is actions\[1\]" \
    bash -c "sed 's/\"action\":\"click\[x\]\"/\"action\":\"click[c]\"/' '$T_TMP/traj.jsonl' | '$TOK' -q --vocab '$V'"
expect_error "--oracle-target checks oracle_index against oracle_action" 1 \
    "<stdin>:1: steps\[0\]: oracle_index 1 names \"b\" but oracle_action is \"a\"" \
    bash -c "echo '{\"type\":\"trajectory\",\"v\":1,\"goal_id\":1,\"steps\":[{\"obs\":\"a\",\"actions\":[\"a\",\"b\"],\"action\":\"a\",\"action_index\":0,\"oracle_action\":\"a\",\"oracle_index\":1}]}' | '$TOK' -q --oracle-target --vocab '$V'"
expect_error "a pair's rejected_index out of range" 1 "rejected_index 9 out of range \(2 actions\)" \
    bash -c "echo '{\"type\":\"pair\",\"v\":1,\"goal_id\":1,\"step\":0,\"obs\":\"a\",\"actions\":[\"a\",\"b\"],\"chosen_index\":0,\"rejected_index\":9}' | '$TOK' --vocab '$V'"
expect_error "a non-string action" 1 "<stdin>:1: \"actions\" must be an array of strings" \
    bash -c "echo '{\"type\":\"pair\",\"v\":1,\"goal_id\":1,\"step\":0,\"obs\":\"a\",\"actions\":[\"a\",2],\"chosen_index\":0,\"rejected_index\":1}' | '$TOK' --vocab '$V'"
expect_error "malformed JSON" 1 "<stdin>:1:.*malformed JSON" bash -c "echo '{\"type\":' | '$TOK' --vocab '$V'"
expect_error "a missing vocabulary" 1 "tokenize: $T_TMP/none.txt: No such file" "$TOK" --vocab "$T_TMP/none.txt"
expect_error "--max-state-len below 2 is a usage error" 2 "max-state-len" "$TOK" --vocab "$V" --max-state-len 1
expect_error "an unknown option is a usage error" 2 "Try 'tokenize --help'" "$TOK" --vocab "$V" --truncate start
check "no partial output file after an error" bash -c "
  ! echo '{\"type\":\"goal\",\"v\":1}' | '$TOK' -q --vocab '$V' -o '$T_TMP/err.jsonl' 2>/dev/null &&
  [ ! -e '$T_TMP/err.jsonl' ] && ! ls '$T_TMP'/err.jsonl.tmp-* >/dev/null 2>&1"

# ---- with BERT's vocabulary (make model) ----
REAL="$PROJECT_ROOT/models/minilm-l6/vocab.txt"
if [ ! -f "$REAL" ]; then
    skip "real vocabulary cases" "no $REAL (run 'make model' to fetch the pre-trained model)"
    finish
fi
check "real vocabulary: the default, [SEP] in the text is 102, WebShop tokens 30522.." bash -c "
  cd '$PROJECT_ROOT' &&
  echo '{\"type\":\"pair\",\"v\":1,\"goal_id\":0,\"step\":0,\"obs\":\"Instruction: [SEP] i need x [SEP] Search\",\"actions\":[\"[button] Buy Now [button_]\",\"[clicked button]x[clicked button_]\"],\"chosen_index\":0,\"rejected_index\":1,\"source\":\"random\"}' |
  '$TOK' -q | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[\"state\"] == [101, 7899, 1024, 102, 1045, 2342, 1060, 102, 3945, 102], r[\"state\"]
assert r[\"actions\"] == [[101, 30522, 4965, 2085, 30523, 102], [101, 30524, 1060, 30525, 102]], r[\"actions\"]
assert r[\"vocab_sha256\"] == \"$(awk '$2 == "vocab.txt" {print $1}' "$PROJECT_ROOT/models/minilm-l6.sha256")\"'"

if ! have_data; then skip "oracle trajectories on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi
check "oracle trajectories (text and text_rich): one valid record per step, instruction kept" bash -c "
  cd '$PROJECT_ROOT' &&
  '$BIN/goals' -q -n 3 | '$BIN/rollout' -q -p oracle > '$T_TMP/o.jsonl' &&
  '$BIN/goals' -q -n 3 | '$BIN/rollout' -q -p oracle --obs text_rich > '$T_TMP/or.jsonl' &&
  '$TOK' -q < '$T_TMP/o.jsonl' > '$T_TMP/o.tok' && '$TOK' -q '$T_TMP/or.jsonl' > '$T_TMP/or.tok' &&
  python3 tests/validate.py --type tokens < '$T_TMP/o.tok' &&
  python3 tests/validate.py --type tokens < '$T_TMP/or.tok' &&
  python3 -c '
import json
for traj, tok in ((\"$T_TMP/o.jsonl\", \"$T_TMP/o.tok\"), (\"$T_TMP/or.jsonl\", \"$T_TMP/or.tok\")):
    steps = [(t[\"goal_id\"], i, s) for t in map(json.loads, open(traj)) for i, s in enumerate(t[\"steps\"])]
    recs = [json.loads(l) for l in open(tok)]
    assert len(recs) == len(steps) and len(recs) > 6, (len(recs), len(steps))
    for (g, i, s), r in zip(steps, recs):
        assert (r[\"goal_id\"], r[\"step\"], r[\"target\"]) == (g, i, s[\"action_index\"]) and len(r[\"actions\"]) == len(s[\"actions\"])
        assert r[\"state\"][0] == 101 and r[\"state\"][-1] == 102 and len(r[\"state\"]) <= 512
        assert all(a[0] == 101 and a[-1] == 102 and len(a) <= 128 for a in r[\"actions\"])
first = [json.loads(next(open(f)))[\"state\"][:8] for f in (\"$T_TMP/o.tok\", \"$T_TMP/or.tok\")]
# the search page: [CLS] web ##sho ##p [SEP] instruction : [SEP] (text), no [SEP] but new lines (text_rich)
assert first[0] == [101, 4773, 22231, 2361, 102, 7899, 1024, 102], first[0]
assert first[1][:6] == [101, 4773, 22231, 2361, 7899, 1024], first[1]
rich = [json.loads(l) for l in open(\"$T_TMP/or.tok\")]
assert any(30522 in r[\"state\"] for r in rich) and any(30524 in r[\"state\"] for r in rich)'"
check "a long page is cut at the end: the state still starts with the instruction" bash -c "
  cd '$PROJECT_ROOT' &&
  '$TOK' -q --max-state-len 24 < '$T_TMP/o.jsonl' | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin]
assert all(len(x[\"state\"]) <= 24 for x in r)
assert all(x[\"state\"][1:4] == [7899, 1024, 102] for x in r if x[\"step\"] > 0), [x[\"state\"][:5] for x in r]
assert sum(1 for x in r if x.get(\"truncated\")) >= len(r) - 3'"
finish
