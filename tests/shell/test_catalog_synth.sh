# catalog-synth: a synthetic raw catalog that catalog-convert, goals and the oracle take whole.
. "$(dirname "$0")/lib.sh"
S=$BIN/catalog-synth

# ------------------------------------------------------------------ usage (no data needed)
expect_error "no product count is a usage error" 2 "^catalog-synth: -n/--products: how many products is required" "$S"
expect_error "-n 0 is a usage error" 2 "^catalog-synth: --products: expected an integer in \[1, " "$S" -n 0
expect_error "a seed that is not a number is a usage error" 2 "^catalog-synth: --seed: expected an integer" "$S" -n 5 --seed x
expect_error "unknown option is a usage error" 2 "Try 'catalog-synth --help'" "$S" --bogus
expect_error "both outputs on stdout is a usage error" 2 "cannot both go to stdout" "$S" -n 5 -a -
expect_error "a missing source directory" 1 "^catalog-synth: $T_TMP/nope: no WebShop data directory" "$S" -n 5 -d "$T_TMP/nope"
mkdir -p "$T_TMP/empty"
expect_error "a source directory without a catalog" 1 "^catalog-synth: $T_TMP/empty/products.jsonl: cannot open" \
    "$S" -n 5 -d "$T_TMP/empty"
check "--help and --version" bash -c "'$S' --help | grep -q 'Usage: catalog-synth' && '$S' --version | grep -q webshop-rl"

# ------------------------------------------------------------------ on the 1k catalog
if ! have_data; then skip "synthetic catalogs from the 1k" "no WebShop data at $WEBSHOP_DATA"; finish; fi

N=2000
"$S" -q -n $N -o "$T_TMP/raw.json" -a "$T_TMP/attrs.json"
check "same seed: byte-identical catalog and attributes" bash -c "
  '$S' -q -n $N -o '$T_TMP/raw2.json.zst' -a '$T_TMP/attrs2.json' &&
  zstdcat '$T_TMP/raw2.json.zst' | cmp - '$T_TMP/raw.json' && cmp '$T_TMP/attrs2.json' '$T_TMP/attrs.json'"
check "another seed: another catalog" bash -c "
  '$S' -q -n $N --seed 7 -o '$T_TMP/raw7.json' && ! cmp -s '$T_TMP/raw7.json' '$T_TMP/raw.json'"
check "a smaller catalog is a prefix of a larger one" bash -c "
  '$S' -q -n 300 -o '$T_TMP/raw300.json' &&
  head -c \$(( \$(wc -c < '$T_TMP/raw300.json') - 3 )) '$T_TMP/raw300.json' > '$T_TMP/head300' &&
  head -c \$(wc -c < '$T_TMP/head300') '$T_TMP/raw.json' | cmp - '$T_TMP/head300'"
check "ASINs: unique, 10 characters, synthetic, none real; attributes for the same ASINs" python3 -c "
import json, subprocess, sys
raw = json.load(open('$T_TMP/raw.json')); attrs = json.load(open('$T_TMP/attrs.json'))
asins = [p['asin'] for p in raw]
real = {json.loads(l)['id'] for l in subprocess.run(['zstdcat', '$WEBSHOP_DATA/products.jsonl.zst'],
        capture_output=True, text=True, check=True).stdout.splitlines()}
assert len(asins) == $N == len(set(asins)), 'duplicates'
assert all(len(a) == 10 and a.startswith('SYN') for a in asins), 'shape'
assert not set(asins) & real, 'a real ASIN'
assert set(attrs) == set(asins), 'attributes keys'
with_ins = sum('instruction' in e for e in attrs.values())
assert $N * 0.3 < with_ins < $N * 0.55, with_ins   # the 1k: 415 of 1,000
"
check "recombined: titles new, fields drawn within one category" python3 -c "
import json, subprocess
raw = json.load(open('$T_TMP/raw.json'))
real = [json.loads(l)['product'] for l in subprocess.run(['zstdcat', '$WEBSHOP_DATA/products.jsonl.zst'],
        capture_output=True, text=True, check=True).stdout.splitlines()]
titles = {p['name'] for p in real}
copied = sum(p['name'] in titles for p in raw)
assert copied < $N * 0.05, copied
assert len({p['name'] for p in raw}) > $N * 0.9
groups = {(p['category'], p['query']) for p in real}
assert all((p['category'], p['query']) in groups for p in raw)
"

mkdir -p "$T_TMP/cat"
check "catalog-convert --strict takes every product" bash -c "
  '$BIN/catalog-convert' --strict -a '$T_TMP/attrs.json' -o '$T_TMP/cat/products.jsonl.zst' '$T_TMP/raw.json' \
      2> '$T_TMP/convert.err' &&
  grep -q '$N products read, $N written; skipped 0 ' '$T_TMP/convert.err'"
cp "$T_TMP/attrs.json" "$T_TMP/cat/items_ins_v2_1000.json"
"$BIN/goals" -q -d "$T_TMP/cat" -s all -o "$T_TMP/goals.jsonl"
goals=$(wc -l < "$T_TMP/goals.jsonl")
check "goals builds WebShop's synthetic goals from it ($goals)" bash -c "
  [ $goals -gt 5000 ] && ! grep -v '\"asin\":\"SYN' '$T_TMP/goals.jsonl' | grep -q ."
# The oracle on the test split: 90.6% at seed 233 (the 1k's own: 95.8%); a target that its search
# does not list is the recombination at work, not a broken product.
"$BIN/goals" -q -d "$T_TMP/cat" -s test | "$BIN/rollout" -d "$T_TMP/cat" -p oracle -o /dev/null 2> "$T_TMP/oracle.err"
success=$(sed -n 's/.*success \([0-9.]*\)%.*/\1/p' "$T_TMP/oracle.err")
if [ -n "$success" ] && awk "BEGIN { exit !($success >= 80) }"; then ok "the oracle succeeds on $success% of the 500 test goals"
else fail "the oracle succeeds on most test goals" "$(tail -3 "$T_TMP/oracle.err")"; fi

# Interruption: the products made so far, as a complete array with their attributes.
"$S" -q -n 100000000 -o "$T_TMP/killed.json.zst" -a "$T_TMP/killed-attrs.json" &
synth=$!
sleep 1; kill -TERM $synth; wait $synth; status=$?
check "SIGTERM: exit 143, FILE.partial a complete array, attributes beside it" python3 -c "
import json, subprocess
assert $status == 143, $status
raw = json.loads(subprocess.run(['zstdcat', '$T_TMP/killed.json.zst.partial'], capture_output=True, check=True).stdout)
attrs = json.load(open('$T_TMP/killed-attrs.json.partial'))
assert len(raw) > 100 and set(attrs) == {p['asin'] for p in raw}, (len(raw), len(attrs))
import os; assert not os.path.exists('$T_TMP/killed.json.zst')
"
finish
