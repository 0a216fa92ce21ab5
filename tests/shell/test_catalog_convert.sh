# catalog-convert: WebShop's raw catalog to products.jsonl, byte for byte as WebShop builds it.
. "$(dirname "$0")/lib.sh"
C=$BIN/catalog-convert

# ------------------------------------------------------------------ bad input (no data needed)
P='{"name":"N","full_description":"D","pricing":"$1","images":["i"],"product_category":"c","small_description":"s","customization_options":"","asin":"ASIN","category":"c","query":"q"}'
one() { printf '%s' "$P" | sed "s/ASIN/$1/"; }
b1=$(one B1); off=$(( ${#b1} + 3 ))   # '[', B1, ', '
printf '[%s, %s' "$b1" "$(one B2 | head -c 50)" > "$T_TMP/trunc.json"
expect_error "truncated element names the element and offsets" 1 \
    "^catalog-convert: $T_TMP/trunc.json: truncated input: element \[1\] starting at byte offset $off is incomplete at the end of the input \(byte offset $((off + 50))\)" \
    "$C" -q "$T_TMP/trunc.json"
printf '[%s, %s' "$(one B1)" "$(one B2)" > "$T_TMP/unclosed.json"
expect_error "an unclosed array is truncated input" 1 \
    "unclosed.json: truncated input: the input ends at byte offset 359 before the array's closing '\]' \(elements complete: 2\)" \
    "$C" -q "$T_TMP/unclosed.json"
printf '[%s] [' "$(one B1)" > "$T_TMP/garbage.json"
expect_error "trailing garbage" 1 "garbage.json: byte offset [0-9]+: trailing garbage after the array's closing" "$C" -q "$T_TMP/garbage.json"
printf '[%s, {"name": tru}, {"page": NaN}, %s]' "$(one B1)" "$(one B2)" > "$T_TMP/malformed.json"
check "an element that is not JSON is skipped with its index and offset, and counted" bash -c "
  '$C' '$T_TMP/malformed.json' > '$T_TMP/malformed.out' 2> '$T_TMP/malformed.err' && [ \$(wc -l < '$T_TMP/malformed.out') = 2 ] &&
  grep -q 'skipped: $T_TMP/malformed.json: element \[1\] at byte offset [0-9]*: malformed JSON' '$T_TMP/malformed.err' &&
  grep -q 'element \[2\] at byte offset [0-9]*: malformed JSON.*invalid token' '$T_TMP/malformed.err' &&
  grep -q '4 products read, 2 written; skipped 2 (0 ASIN .*, 0 duplicate ASIN, 2 malformed)' '$T_TMP/malformed.err'"
expect_error "--strict: an element that is not JSON is fatal" 1 \
    "^catalog-convert: $T_TMP/malformed.json: element \[1\] at byte offset [0-9]+: malformed JSON" \
    "$C" -q --strict "$T_TMP/malformed.json"
expect_error "an object is not a catalog" 1 "<stdin>: byte offset 0: expected a JSON array" bash -c "echo '{}' | '$C' -q"
expect_error "empty input" 1 "<stdin>: empty input: expected a JSON array" bash -c "'$C' -q < /dev/null"
expect_error "missing file" 1 "nope.json: cannot open: No such file" "$C" -q "$T_TMP/nope.json"
expect_error "two inputs are a usage error" 2 "one raw catalog at a time" "$C" a.json b.json
expect_error "unknown option is a usage error" 2 "Try 'catalog-convert --help'" "$C" --bogus
expect_error "attributes must be an object" 1 "attrs.json: byte offset 0: expected a JSON object" \
    bash -c "echo '[]' > '$T_TMP/attrs.json' && echo '[]' | '$C' -q --attributes '$T_TMP/attrs.json'"
check "--help and --version" bash -c "'$C' --help | grep -q 'Usage: catalog-convert' && '$C' --version | grep -q webshop-rl"
check "an empty array converts to an empty stream" bash -c "echo ' [ ] ' | '$C' -q > '$T_TMP/empty.out' && [ ! -s '$T_TMP/empty.out' ]"

printf '[%s, %s, %s, %s, %s]' "$(one B1)" "$(one nan)" "$(one B1)" "$(one B0123456789)" \
    "$(one B3 | sed 's/"images":\["i"\]/"images":[]/')" > "$T_TMP/skips.json"
check "skips: WebShop's reasons counted, a malformed product warned about and counted" bash -c "
  '$C' '$T_TMP/skips.json' > '$T_TMP/skips.out' 2> '$T_TMP/skips.err' && [ \$(wc -l < '$T_TMP/skips.out') = 1 ] &&
  grep -q 'element \[4\] at byte offset [0-9]*: skipped, malformed: asin B3: \"images\" is empty' '$T_TMP/skips.err' &&
  grep -q '5 products read, 1 written; skipped 4 (2 ASIN \"nan\" or longer than 10 characters, 1 duplicate ASIN, 1 malformed)' '$T_TMP/skips.err'"
expect_error "--strict makes a malformed product fatal" 1 \
    "skips.json: element \[4\] at byte offset [0-9]+: asin B3: \"images\" is empty.*\(WebShop's loader would fail on it\)" \
    "$C" -q --strict "$T_TMP/skips.json"
check "a failed run leaves no output file" bash -c "
  ! '$C' -q -o '$T_TMP/never.jsonl' '$T_TMP/trunc.json' 2>/dev/null && [ ! -e '$T_TMP/never.jsonl' ] &&
  ! ls '$T_TMP'/never.jsonl.tmp-* 2>/dev/null"
check "-q is silent" bash -c "'$C' -q '$T_TMP/skips.json' 2>&1 >/dev/null | wc -c | grep -qx 0"

# Interruption: a slow raw stream killed mid-way keeps every complete product in FILE.partial.
python3 -c '
import sys, time
sys.stdout.write("[")
for i in range(10**9):
    sys.stdout.write("%s{\"name\":\"N\",\"full_description\":\"D\",\"pricing\":\"$1\",\"images\":[\"i\"],\"product_category\":\"c\",\"small_description\":\"s\",\"customization_options\":\"\",\"asin\":\"A%07d\",\"category\":\"c\",\"query\":\"q\"}" % ("," if i else "", i))
    if i % 2000 == 0: sys.stdout.flush(); time.sleep(0.01)
' 2>/dev/null | "$C" -q -o "$T_TMP/killed.jsonl.zst" 2>/dev/null &
conv=$!
sleep 1.5; kill -TERM $conv; wait $conv; status=$?
if [ "$status" -eq 143 ] && [ ! -e "$T_TMP/killed.jsonl.zst" ] && zstd -t -q "$T_TMP/killed.jsonl.zst.partial" &&
   n=$(zstdcat "$T_TMP/killed.jsonl.zst.partial" | python3 -c '
import json, sys
n = 0
for n, line in enumerate(sys.stdin, 1):
    assert json.loads(line)["id"] == "A%07d" % (n - 1)
print(n)') && [ "$n" -gt 100 ]; then
    ok "SIGTERM mid-stream: exit 143, $n complete products kept in FILE.partial"
else
    fail "SIGTERM mid-stream keeps complete products" "status $status" "$(ls "$T_TMP")"
fi

# ------------------------------------------------------------------ parity on the real catalog
if ! have_data; then skip "parity with WebShop's products.jsonl" "no WebShop data at $WEBSHOP_DATA"; finish; fi

zstdcat "$WEBSHOP_DATA/products.jsonl.zst" > "$T_TMP/real.jsonl"
# Rebuild WebShop's raw products from the normalised ones: the raw fields are kept there; the raw
# price text is "$a" or "$a - $b". Vary what the loader must undo (price formats, an empty price,
# query case and blanks, keys it pops) and add the products it skips.
cat > "$T_TMP/mkraw.py" <<'EOF'
import json, re, sys
from decimal import Decimal
NORM = {'Title', 'Description', 'Reviews', 'Rating', 'BulletPoints', 'Price', 'options', 'option_to_image',
        'Attributes', 'instructions', 'MainImage'}
def loader_price(text):
    return [float(Decimal(re.sub(r'[^\d.]', '', x))) for x in text.split('$')[1:]]
src, out_raw, out_human = sys.argv[1:4]
raws, human = [], {}
for i, line in enumerate(open(src, encoding='utf-8')):
    p = json.loads(line)['product']
    raw = {}
    for k, v in p.items():
        if k in NORM:
            continue
        if k == 'pricing':
            prices = [float(x) for x in re.findall(r'\$([0-9.e+-]+)', p['Price'])]
            v = ' - '.join('$' + repr(x) for x in prices)
            assert loader_price(v) == p['pricing'], (v, p['pricing'])
            if i % 4 == 1 and len(prices) == 1 and loader_price('$' + format(prices[0], ',.2f')) == prices:
                v = '$' + format(prices[0], ',.2f')
            if p['Price'] == '$100.0' and i % 2 == 0:
                v = ''
        if k == 'query' and i % 3 == 0 and v.upper().lower() == v:
            v = '  ' + v.upper() + ' \t'
        raw[k] = v
    if i % 5 == 0:
        raw.update(brand='Brand', list_price='$1.00', seller_id='X', small_description_old='old')
    if 'instructions' in p:
        human[p['asin']] = p['instructions']
    raws.append(raw)
for at, asin in ((10, 'nan'), (20, 'B0123456789'), (30, raws[2]['asin'])):
    extra = dict(raws[at % 7]); extra['asin'] = asin; extra['name'] = 'skipped'; raws.insert(at, extra)
human['B000000000'] = [{'instruction': 'not in the catalog'}]
json.dump(raws, open(out_raw, 'w', encoding='utf-8'))
json.dump(human, open(out_human, 'w', encoding='utf-8'))
EOF
# Our lines, re-serialised by Python's json.dumps, must equal WebShop's lines byte for byte.
cat > "$T_TMP/compare.py" <<'EOF'
import json, sys
ours = [l.rstrip('\n') for l in open(sys.argv[1], encoding='utf-8')]
real = [l.rstrip('\n') for l in open(sys.argv[2], encoding='utf-8')][:len(ours) if len(sys.argv) > 3 else None]
lines = products = contents = 0
for a, b in zip(ours, real):
    da, db = json.loads(a), json.loads(b)
    lines += json.dumps(da) == b
    products += json.dumps(da['product']) == json.dumps(db['product'])
    contents += da['id'] == db['id'] and da['contents'] == db['contents']
print(f"{len(ours)}/{len(real)} lines: {lines} identical lines, {products} identical products, {contents} identical contents")
sys.exit(0 if len(ours) == len(real) == lines == products == contents else 1)
EOF
python3 "$T_TMP/mkraw.py" "$T_TMP/real.jsonl" "$T_TMP/raw.json" "$T_TMP/human.json"
INS=$WEBSHOP_DATA/items_ins_v2_1000.json
if "$C" --attributes "$INS" --human "$T_TMP/human.json" "$T_TMP/raw.json" > "$T_TMP/ours.jsonl" 2> "$T_TMP/ours.err" &&
   result=$(python3 "$T_TMP/compare.py" "$T_TMP/ours.jsonl" "$T_TMP/real.jsonl"); then
    ok "parity: $result"
else
    fail "parity with WebShop's products.jsonl" "$result" "$(head -c 400 "$T_TMP/ours.err")"
fi
check "summary counts WebShop's skips" grep -q \
    '1003 products read, 1000 written; skipped 3 (2 ASIN "nan" or longer than 10 characters, 1 duplicate ASIN, 0 malformed)' \
    "$T_TMP/ours.err"
check "zstd input, -z output and stdin give the same bytes" bash -c "
  zstd -q -c '$T_TMP/raw.json' > '$T_TMP/raw.json.zst' &&
  '$C' -q -z -a '$INS' -H '$T_TMP/human.json' < '$T_TMP/raw.json.zst' | zstdcat | cmp - '$T_TMP/ours.jsonl'"
check "-o FILE.jsonl.zst writes a zstd stream the catalog loader reads" bash -c "
  '$C' -q -a '$INS' -H '$T_TMP/human.json' -o '$T_TMP/products.jsonl.zst' '$T_TMP/raw.json' &&
  zstd -t -q '$T_TMP/products.jsonl.zst' && zstdcat '$T_TMP/products.jsonl.zst' | cmp - '$T_TMP/ours.jsonl'"
if [ -x "$BIN/goals" ]; then
    mkdir -p "$T_TMP/data" && cp "$T_TMP/products.jsonl.zst" "$T_TMP/data/" && ln -s "$INS" "$T_TMP/data/items_ins_v2_1000.json"
    check "the converted catalog yields WebShop's 6,910 goals, same bytes as the real one" bash -c "
      [ \"\$('$BIN/goals' -q -s all --data '$T_TMP/data' | md5sum)\" = \"\$('$BIN/goals' -q -s all | md5sum)\" ] &&
      [ \$('$BIN/goals' -q -s all --data '$T_TMP/data' | wc -l) = 6910 ]"
    # --index: the mapped catalog serves the same goals, searches and episodes as the JSON lines
    mkdir -p "$T_TMP/mapped" && cp -p "$T_TMP/data/products.jsonl.zst" "$T_TMP/mapped/" &&
        ln -s "$INS" "$T_TMP/mapped/items_ins_v2_1000.json"
    check "--index DIR writes DIR/products.wscat; the same files give the same bytes" bash -c "
      '$C' -q --index '$T_TMP/mapped' && cp '$T_TMP/mapped/products.wscat' '$T_TMP/first.wscat' &&
      '$C' --index '$T_TMP/mapped' 2> '$T_TMP/index.err' && cmp '$T_TMP/first.wscat' '$T_TMP/mapped/products.wscat' &&
      grep -q 'products.wscat: 1000 products in' '$T_TMP/index.err'"
    check "mapped: the same goals (synthetic and human) as the JSON lines" bash -c "
      for h in '' --human; do [ \"\$('$BIN/goals' -q -s all \$h --data '$T_TMP/mapped' | md5sum)\" = \
          \"\$('$BIN/goals' -q -s all \$h --data '$T_TMP/data' | md5sum)\" ] || exit 1; done"
    check "mapped: webshop-env's search and the oracle's episodes as from the JSON lines" bash -c "
      '$BIN/goals' -q -s test --data '$T_TMP/data' > '$T_TMP/test-goals.jsonl' &&
      python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.dumps({\"op\": \"search\", \"query\": json.loads(l)[\"instruction\"]}))' \
          '$T_TMP/test-goals.jsonl' > '$T_TMP/searches.jsonl' &&
      for d in data mapped; do '$BIN/webshop-env' -q --data '$T_TMP/'\$d < '$T_TMP/searches.jsonl' > '$T_TMP/search-'\$d &&
          '$BIN/rollout' -q --policy oracle --data '$T_TMP/'\$d '$T_TMP/test-goals.jsonl' > '$T_TMP/oracle-'\$d || exit 1; done &&
      [ \$(grep -c '\"ok\":true' '$T_TMP/search-mapped') = 500 ] && cmp '$T_TMP/search-data' '$T_TMP/search-mapped' &&
      cmp '$T_TMP/oracle-data' '$T_TMP/oracle-mapped'"
    head -c 100000 "$T_TMP/first.wscat" > "$T_TMP/mapped/products.wscat"
    expect_error "a truncated products.wscat is refused, naming it" 1 \
        "^goals: $T_TMP/mapped/products.wscat: truncated or incomplete" "$BIN/goals" -q --data "$T_TMP/mapped"
    cp "$T_TMP/first.wscat" "$T_TMP/mapped/products.wscat" && touch -d '2001-01-01' "$T_TMP/mapped/products.jsonl.zst"
    expect_error "a products.wscat older than its products file is refused as stale" 1 \
        "^goals: $T_TMP/mapped/products.wscat: stale: the products file changed since .*catalog-convert --index" \
        "$BIN/goals" -q --data "$T_TMP/mapped"
    expect_error "--index takes no raw catalog" 2 "--index DIR reads the directory's files" "$C" --index "$T_TMP/mapped" x.json
fi
check "-n 100 writes WebShop's first 100 documents (resources_100)" bash -c "
  '$C' -q -n 100 -a '$INS' -H '$T_TMP/human.json' '$T_TMP/raw.json' > '$T_TMP/first100.jsonl' &&
  [ \$(wc -l < '$T_TMP/first100.jsonl') = 100 ] && python3 '$T_TMP/compare.py' '$T_TMP/first100.jsonl' '$T_TMP/real.jsonl' prefix"
check "without --attributes every product gets DUMMY_ATTR" bash -c "
  '$C' -q '$T_TMP/raw.json' | python3 -c '
import json, sys
n = 0
for n, l in enumerate(sys.stdin, 1):
    assert json.loads(l)[\"product\"][\"Attributes\"] == [\"DUMMY_ATTR\"]
assert n == 1000'"
finish
