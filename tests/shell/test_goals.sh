# goals: the catalog loader and the goal records on the real data, and the check of where
# goals come from by the tools that play them.
. "$(dirname "$0")/lib.sh"
G=$BIN/goals
if ! have_data; then skip "goals on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi

check "6,910 synthetic goals: 500 test, 1000 eval, 5410 train" bash -c "
  [ \$('$G' -q -s all | wc -l) = 6910 ] && [ \$('$G' -q -s test | wc -l) = 500 ] &&
  [ \$('$G' -q -s eval | wc -l) = 1000 ] && [ \$('$G' -q -s train | wc -l) = 5410 ]"
check "every goal record matches schemas/goal.schema.json" bash -c "'$G' -q -s all | python3 tests/validate.py --type goal"
check "human goals match the schema" bash -c "'$G' -q --human -s all | python3 tests/validate.py --type goal"
check "same seed, same bytes; another seed, another shuffle" bash -c "
  '$G' -q -s all > '$T_TMP/a' && '$G' -q -s all > '$T_TMP/b' && cmp -s '$T_TMP/a' '$T_TMP/b' &&
  '$G' -q -s all --seed 7 > '$T_TMP/c' && ! cmp -s '$T_TMP/a' '$T_TMP/c' &&
  [ \"\$(sort '$T_TMP/a' | cut -d, -f5- | sort | md5sum)\" != x ]"
check "goal ids are 0..6909 in order, splits by id" bash -c "
  '$G' -q -s all | python3 -c '
import json, sys
for i, l in enumerate(sys.stdin):
    g = json.loads(l); assert g[\"goal_id\"] == i
    assert g[\"split\"] == (\"test\" if i < 500 else \"eval\" if i < 1500 else \"train\")'"
check "instruction text follows WebShop's template" bash -c "
  '$G' -q -s all | python3 -c '
import json, sys
for l in sys.stdin:
    g = json.loads(l); ins = g[\"instruction\"]
    opts = \", and \".join(f\"{k}: {v}\" for k, v in sorted(g[\"goal_options\"].items()))
    if opts: assert \" with \" + opts in ins, ins
    if g[\"price_upper\"] is None: assert \"price lower than\" not in ins
    else: assert ins.endswith(\", and price lower than %.2f dollars\" % g[\"price_upper\"]), ins'"
check "synthetic goals in WebShop's order: its rule, then Python's random.seed(233) + shuffle (and seed 7)" bash -c "
  '$G' -q -s all | python3 tests/goal_order.py '$WEBSHOP_DATA' 233 &&
  '$G' -q -s all --seed 7 | python3 tests/goal_order.py '$WEBSHOP_DATA' 7"
check "-o goals.jsonl.zst writes zstd, -n limits" bash -c "'$G' -q -n 7 -o '$T_TMP/g.jsonl.zst' && [ \$('$BIN/records' -c -t goal '$T_TMP/g.jsonl.zst') = 7 ]"
cat > "$T_TMP/human.json" <<'H'
{"B06Y3VLDFB": [{"asin": "B06Y3VLDFB", "instruction": "i need a reclaimed wood console table.",
                 "instruction_attributes": ["solid wood"], "instruction_options": ["natural"]},
                {"asin": "B06Y3VLDFB", "instruction": "skipped: no attributes", "instruction_attributes": [],
                 "instruction_options": []}]}
H
check "--human-file reads items_human_ins format (goals without attributes skipped, as WebShop)" bash -c "
  '$G' -q --human-file '$T_TMP/human.json' -s all > '$T_TMP/h.jsonl' && [ \$(wc -l < '$T_TMP/h.jsonl') = 1 ] &&
  python3 tests/validate.py --type goal < '$T_TMP/h.jsonl' &&
  grep -q '\"instruction\":\"i need a reclaimed wood console table, and price lower than' '$T_TMP/h.jsonl' &&
  grep -q '\"goal_options\":\[\"natural\"\]' '$T_TMP/h.jsonl'"
echo '{"NOTANASIN": []}' > "$T_TMP/bad-human.json"
expect_error "--human-file with an unknown ASIN" 1 "bad-human.json: ASIN NOTANASIN is not in the catalog" "$G" --human-file "$T_TMP/bad-human.json"
check "goal records name their catalog (one hash for every goal, seed and split) and seed" bash -c "
  { '$G' -q -n 3 --seed 7; '$G' -q -s train -n 2; '$G' -q --human -n 2; } | python3 -c '
import json, re, sys
g = [json.loads(l) for l in sys.stdin]
assert len({x[\"catalog_sha256\"] for x in g}) == 1 and re.fullmatch(\"[0-9a-f]{64}\", g[0][\"catalog_sha256\"]), g
assert [x[\"seed\"] for x in g] == [7, 7, 7, 233, 233, 233, 233], g'"

# Tools that play goals check where they come from. Another catalog: the real one less its
# last product; a copy with the products decompressed and reformatted is the same catalog.
"$G" -q -n 2 > "$T_TMP/g2.jsonl"
mkdir -p "$T_TMP/other" "$T_TMP/plain"
zstdcat "$WEBSHOP_DATA/products.jsonl.zst" | head -n -1 > "$T_TMP/other/products.jsonl"
zstdcat "$WEBSHOP_DATA/products.jsonl.zst" |
    python3 -c 'import json, sys; [print(json.dumps(json.loads(l), separators=(",", ":"), ensure_ascii=False)) for l in sys.stdin]' \
    > "$T_TMP/plain/products.jsonl"
cp "$WEBSHOP_DATA/items_ins_v2_1000.json" "$T_TMP/other/"; cp "$WEBSHOP_DATA/items_ins_v2_1000.json" "$T_TMP/plain/"
for play in "rollout -p oracle" "gen-traj --oracle" "thompson-eval --arm oracle --arm random --runs 1 --rounds 2"; do
    tool=${play%% *}
    expect_error "$tool refuses goals of another catalog, naming file and line" 1 \
        "$tool: .*g2.jsonl:1: goal 0 was made from another catalog \(catalog_sha256 [0-9a-f]{12}\.\.\., .*other/products.jsonl is [0-9a-f]{12}\.\.\.\)" \
        bash -c "'$BIN/'$play -q --data '$T_TMP/other' '$T_TMP/g2.jsonl'"
done
expect_error "rollout refuses goals made with another seed than --catalog-seed" 1 \
    "<stdin>:1: goal 0 was made with --seed 7 but the catalog is priced with seed 233: play it with --catalog-seed 7" \
    bash -c "'$G' -q -n 1 --seed 7 | '$BIN/rollout' -q -p oracle"
check "the same catalog reformatted, the goals' seed as --catalog-seed, and old goals without the fields play" bash -c "
  ! zstdcat '$WEBSHOP_DATA/products.jsonl.zst' | cmp -s - '$T_TMP/plain/products.jsonl' &&
  '$BIN/rollout' -q -p oracle --data '$T_TMP/plain' '$T_TMP/g2.jsonl' > /dev/null &&
  '$G' -q -n 1 --seed 7 | '$BIN/rollout' -q -p oracle --catalog-seed 7 > /dev/null &&
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    g = json.loads(l); del g[\"catalog_sha256\"], g[\"seed\"]; print(json.dumps(g))' '$T_TMP/g2.jsonl' |
  '$BIN/rollout' -q -p oracle --data '$T_TMP/other' > /dev/null"
expect_error "unknown split is a usage error" 2 "expected test, eval, train or all" "$G" -s bogus
expect_error "missing data directory" 1 "no WebShop data directory" "$G" --data "$T_TMP/none"
mkdir -p "$T_TMP/broken"; printf '{"id":"A","contents":"x","product":{"asin":"A"}}\n{"id":"B",\n' > "$T_TMP/broken/products.jsonl"
expect_error "a corrupt catalog names file and line" 1 "products.jsonl:2:[0-9]+: malformed JSON" "$G" --data "$T_TMP/broken"
finish
