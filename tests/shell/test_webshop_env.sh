# webshop-env: the JSON-lines service, scripted sessions and a storm of bad requests.
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "webshop-env on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi
E=$BIN/webshop-env
goal=$("$BIN/goals" -q -n 2 | tail -1) # goal 1: two options, colour and size
opt() { echo "$goal" | python3 -c "import json,sys; print(json.load(sys.stdin)['goal_options']['$1'])"; }
asin=$(echo "$goal" | python3 -c 'import json,sys; print(json.load(sys.stdin)["asin"].lower())')
cat > "$T_TMP/session.jsonl" <<REQ
{"op":"reset","goal_id":1,"id":1}
{"op":"step","action":"click[next >]"}
{"op":"step","action":"search[$(echo "$goal" | python3 -c 'import json,sys; print(json.load(sys.stdin)["instruction"])')]"}
{"op":"step","action":"click[$asin]"}
{"op":"step","action":"click[$(opt color)]"}
{"op":"step","action":"click[$(opt size)]"}
{"op":"step","action":"click[buy now]"}
{"op":"reset","session":"b","goal":$goal,"obs":"text_rich"}
{"op":"observe","session":"b"}
{"op":"close","session":"b"}
{"op":"step","session":"b","action":"click[x]"}
REQ
"$E" -q < "$T_TMP/session.jsonl" > "$T_TMP/out.jsonl"
check "a scripted session: invalid click, search, open, options, buy -> reward 1" python3 -c "
import json
r = [json.loads(l) for l in open('$T_TMP/out.jsonl')]
assert len(r) == 11
assert r[0]['ok'] and r[0]['id'] == 1 and r[0]['page'] == 'search' and r[0]['has_search_bar']
assert r[1]['ok'] and not r[1]['valid'] and r[1]['page'] == 'search'
assert r[2]['page'] == 'results' and 'click[$asin]' in r[2]['actions']
assert r[3]['page'] == 'item'
assert r[6]['done'] and r[6]['reward'] == 1.0 and r[6]['reward_info']['r_option'] == 1.0, r[6]
assert r[7]['ok'] and r[8]['observation'].startswith('WebShop\nInstruction:')
assert r[9]['ok'] and not r[10]['ok'] and 'no session' in r[10]['error']"

check "reward, fuzz, normalize_color, search and nouns ops" bash -c "
cat <<'REQ' | '$E' -q | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin]
assert r[0][\"ok\"] and r[0][\"reward\"] == 1.0 and r[0][\"r_type\"] == 1.0, r[0]
assert r[1][\"ok\"] and r[1][\"r_att\"] == 0.5 and r[1][\"n_att_matched\"] == 1, r[1]
assert r[2][\"ratio\"] == 100 and r[3][\"color\"] == \"black\" and r[3][\"matched\"]
assert r[4][\"color\"] == \"plain\" and not r[4][\"matched\"], r[4]
assert r[8][\"ok\"] and r[8][\"title_score\"] == 1.0, r[8]
assert len(r[5][\"asins\"]) == 50 and r[6][\"ok\"] and \"table\" in r[6][\"nouns\"], r[6]
assert not r[7][\"ok\"] and \"unknown asin\" in r[7][\"error\"]'
{\"op\":\"reward\",\"goal\":$goal,\"asin\":\"$(echo "$asin" | tr a-z A-Z)\",\"options\":{\"color\":\"$(opt color)\",\"size\":\"$(opt size)\"}}
{\"op\":\"reward\",\"goal\":{\"attributes\":[\"oak\",\"steel\"],\"name\":\"Oak table\"},\"product\":{\"Title\":\"Oak table\"}}
{\"op\":\"fuzz\",\"a\":\"x-large\",\"b\":\"size x large\"}
{\"op\":\"normalize_color\",\"text\":\"jet black\"}
{\"op\":\"normalize_color\",\"text\":\"plain\"}
{\"op\":\"search\",\"query\":\"men shorts\"}
{\"op\":\"nouns\",\"text\":\"Solid Oak Console Table\"}
{\"op\":\"reward\",\"goal\":{},\"asin\":\"NOPE\"}
{\"op\":\"reward\",\"goal\":{\"attributes\":[],\"name\":\"Oak table\"},\"product\":{\"name\":\"Oak table\",\"Title\":\"Steel chair\"}}
REQ"

# 100,000 random and malformed requests: every one answered, the service never exits early.
python3 - "$T_TMP/storm.jsonl" <<'PY'
import json, random, sys
rng = random.Random(7)
actions = ["click[next >]", "click[< prev]", "click[back to search]", "click[buy now]", "click[description]",
           "click[features]", "click[reviews]", "click[large]", "click[black]", "search[shoes]", "search[]",
           "click[]", "nonsense", "", "click[b09hx5cd2d]", "search[" + "x" * 3000 + "]", "click[\u00e9\u4e2d]"]
with open(sys.argv[1], "w") as out:
    for i in range(100000):
        k = rng.random()
        s = rng.randrange(8)
        if k < 0.08:
            req = {"op": "reset", "session": s, "goal_id": rng.randrange(-5, 7000)}
        elif k < 0.70:
            req = {"op": "step", "session": s, "action": rng.choice(actions)}
        elif k < 0.75:
            req = {"op": rng.choice(["reward", "fuzz", "normalize_color", "search", "nouns", "observe", "close",
                                     "bogus", None, 7])}
        elif k < 0.80:
            req = {"op": "reward", "goal": rng.choice([{}, {"attributes": 5}, {"goal_options": "x"}, []]),
                   "product": rng.choice([{}, {"Title": 3}, {"BulletPoints": "x"}, None]), "options": [1]}
        elif k < 0.85:
            req = {"op": "step", "session": rng.choice([[1], {"a": 1}, 1.5, None]), "action": 5}
        elif k < 0.90:
            out.write(rng.choice(['{"op":"step"', '[1,2]', '"str"', '{op:1}', '{"op":"reset"}}', '\x01\x02',
                                  '{"op":"reset","goal_id":1e400}', 'null']) + "\n")
            continue
        else:
            req = {"op": "reset", "session": s, "goal": rng.choice([{}, {"instruction": 5}, {"attributes": ["a"]}]),
                   "max_steps": rng.choice([1, 3, 0, -1, "x", 10**12])}
        out.write(json.dumps(req) + "\n")
PY
"$E" -q < "$T_TMP/storm.jsonl" > "$T_TMP/storm.out" 2> "$T_TMP/storm.err"; status=$?
answered=$(wc -l < "$T_TMP/storm.out")
if [ "$status" -eq 0 ] && [ "$answered" -eq 100000 ] && python3 -c "
import json
ok = err = 0
for l in open('$T_TMP/storm.out'):
    r = json.loads(l); ok += r['ok']; err += not r['ok']
    assert r['ok'] or r['error']
assert ok > 10000 and err > 10000, (ok, err)
"; then ok "100,000 random and malformed requests: each answered, exit 0"
else fail "100,000 random and malformed requests" "status $status, $answered answers" "$(tail -c 300 "$T_TMP/storm.err")"; fi
# Bounded requests: fuzz over 64 KiB strings and request lines over 16 MiB are answered with an
# error and the service reads on.
python3 - "$T_TMP/big.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    a = " ".join("a%d" % i for i in range(12000))[:65536]
    b = " ".join("b%d" % i for i in range(12000))[:65536]
    out.write(json.dumps({"op": "fuzz", "a": a, "b": b, "id": 1}) + "\n")
    out.write(json.dumps({"op": "fuzz", "a": a + " c", "b": b, "id": 2}) + "\n")
    out.write(json.dumps({"op": "nouns", "text": "x" * (17 << 20), "id": 3}) + "\n")
    out.write(json.dumps({"op": "fuzz", "a": "x-large", "b": "size x large", "id": 4}) + "\n")
PY
timeout 60 "$E" -q < "$T_TMP/big.jsonl" > "$T_TMP/big.out" 2> "$T_TMP/big.err"; status=$?
if [ "$status" -eq 0 ] && python3 -c "
import json
r = [json.loads(l) for l in open('$T_TMP/big.out')]
assert len(r) == 4, len(r)
assert r[0]['ok'] and r[0]['id'] == 1
assert not r[1]['ok'] and 'at most 65536 bytes' in r[1]['error'] and r[1]['id'] == 2, r[1]
assert not r[2]['ok'] and 'line longer than 16777216 bytes' in r[2]['error'], r[2]
assert r[3]['ok'] and r[3]['ratio'] == 100 and r[3]['id'] == 4
"; then ok "fuzz over 64 KiB and a request over 16 MiB: error answers, the service reads on"
else fail "fuzz over 64 KiB and a request over 16 MiB" "status $status" "$(head -c 300 "$T_TMP/big.err")" "$(cut -c1-200 "$T_TMP/big.out")"; fi

# A signal during a long request (a reward over two texts of 6 million characters, minutes of
# work) ends the service at once with 128 + signal; the earlier request was answered.
python3 - "$T_TMP/slow.jsonl" <<'PY'
import json, sys
a = " ".join("a%d" % i for i in range(800000))[:6000000]
b = " ".join("b%d" % i for i in range(800000))[:6000000]
with open(sys.argv[1], "w") as out:
    out.write(json.dumps({"op": "normalize_color", "text": "navy blue", "id": 1}) + "\n")
    out.write(json.dumps({"op": "reward", "goal": {"attributes": [a], "name": "x"},
                          "product": {"Title": "y", "Attributes": [b]}, "id": 2}) + "\n")
PY
mkfifo "$T_TMP/slow.in"; exec 3<>"$T_TMP/slow.in"
"$E" -q < "$T_TMP/slow.in" > "$T_TMP/slow.out" 2> "$T_TMP/slow.err" 3>&- &
pid=$!
cat "$T_TMP/slow.jsonl" >&3
for _ in $(seq 100); do [ -s "$T_TMP/slow.out" ] && break; sleep 0.1; done
sleep 1; kill -TERM $pid; start=$(date +%s)
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -KILL $pid; echo "# still running 10 s after SIGTERM"; }
wait $pid; status=$?; exec 3>&-
if [ "$status" -eq 143 ] && [ $(( $(date +%s) - start )) -le 5 ] && [ "$(wc -l < "$T_TMP/slow.out")" -eq 1 ]; then
    ok "SIGTERM during a long request: exit 143 at once"
else fail "SIGTERM during a long request: exit 143 at once" "status $status" "$(cat "$T_TMP/slow.err")"; fi
echo "$goal" > "$T_TMP/goal.json"
check "reset refuses a goal made with another seed than the service's, and one of another catalog" bash -c "
  { printf '{\"op\":\"reset\",\"goal\":%s}\\n' \"\$('$BIN/goals' -q -n 1 --seed 7)\";
    printf '{\"op\":\"reset\",\"goal\":%s}\\n' \"\$(sed 's/\"catalog_sha256\":\"./\"catalog_sha256\":\"x/' '$T_TMP/goal.json')\"; } |
  '$E' -q | python3 -c '
import json, sys
r = [json.loads(l) for l in sys.stdin]
assert not r[0][\"ok\"] and \"reset: goal 0 was made with --seed 7 but the catalog is priced with seed 233\" in r[0][\"error\"], r[0]
assert not r[1][\"ok\"] and \"goal 1 was made from another catalog\" in r[1][\"error\"], r[1]'"
finish
