# Sourced by every shell test: TAP lines for tests/run, a scratch directory, data discovery.
set -u
T_FAILED=0
T_TMP=$(mktemp -d); trap 'rm -rf "$T_TMP"' EXIT
BIN=${BIN:-$PROJECT_ROOT/bin}
WEBSHOP_DATA=${WEBSHOP_DATA:-$PROJECT_ROOT/../shared/webshop-1k}
export WEBSHOP_DATA

ok()   { echo "ok - $1"; }
fail() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; T_FAILED=1; }
skip() { echo "ok - $1 # SKIP $2"; }
# check NAME COMMAND...: passes when the command succeeds.
check() { local name=$1; shift; if "$@" >"$T_TMP/check.out" 2>&1; then ok "$name"; else fail "$name" "$(head -c 600 "$T_TMP/check.out")"; fi; }
# oracle_pairs TOKENS OUT: preference pairs from tokenized oracle steps (states with 2+ actions):
# chosen = the oracle's action, rejected = the next action in the list.
oracle_pairs() {
    python3 -c "
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if len(r['actions']) < 2: continue
    r['chosen'] = r.pop('target'); r['rejected'] = (r['chosen'] + 1) % len(r['actions'])
    print(json.dumps(r))" "$1" > "$2"
}
have_data() { [ -f "$WEBSHOP_DATA/products.jsonl.zst" ] && [ -f "$WEBSHOP_DATA/items_ins_v2_1000.json" ]; }
# expect_error NAME STATUS PATTERN COMMAND...: the command must exit STATUS with PATTERN on stderr.
expect_error() {
    local name=$1 want=$2 pattern=$3; shift 3
    "$@" >"$T_TMP/ee.out" 2>"$T_TMP/ee.err"; local got=$?
    if [ "$got" -eq "$want" ] && grep -qE -- "$pattern" "$T_TMP/ee.err"; then ok "$name"
    else fail "$name" "exit $got (want $want), stderr: $(head -c 400 "$T_TMP/ee.err")" "want pattern: $pattern"; fi
}
finish() { exit "$T_FAILED"; }
