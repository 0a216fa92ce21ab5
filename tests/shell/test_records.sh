# The record plumbing end to end: plain/zstd in any direction, every bad input, interruption.
. "$(dirname "$0")/lib.sh"
R=$BIN/records

for i in $(seq 1 2000); do printf '{"type":"x","v":1,"i":%d,"s":"café \\"q\\" %d","r":%d.25}\n' "$i" "$i" "$i"; done > "$T_TMP/plain.jsonl"
check "plain stdin to plain stdout is lossless" bash -c "'$R' -q < '$T_TMP/plain.jsonl' | cmp - '$T_TMP/plain.jsonl'"
check "-z writes zstd that zstdcat | head reads" bash -c "'$R' -q -z < '$T_TMP/plain.jsonl' > '$T_TMP/c.zst' && zstd -t -q '$T_TMP/c.zst' && [ \"\$(zstdcat '$T_TMP/c.zst' | head -1)\" = \"\$(head -1 '$T_TMP/plain.jsonl')\" ]"
check "'-' reads compressed stdin" bash -c "'$R' -q - < '$T_TMP/c.zst' | cmp - '$T_TMP/plain.jsonl'"
check "-o FILE.zst compresses by name" bash -c "'$R' -q -o '$T_TMP/o.jsonl.zst' '$T_TMP/plain.jsonl' && zstd -t -q '$T_TMP/o.jsonl.zst' && [ \$('$R' -c '$T_TMP/o.jsonl.zst') = 2000 ]"
check "concatenated zstd files read as one stream" bash -c "cat '$T_TMP/c.zst' '$T_TMP/c.zst' > '$T_TMP/cc.zst' && [ \$('$R' -c '$T_TMP/cc.zst') = 4000 ]"
check "output of zstd(1) itself is read" bash -c "zstd -q -19 -c '$T_TMP/plain.jsonl' | '$R' -c | grep -qx 2000"
check "--type accepts matching records" bash -c "'$R' -q -t x < '$T_TMP/c.zst' > /dev/null"
check "-n N keeps the first N records, across inputs too" bash -c "
  '$R' -q -n 5 '$T_TMP/c.zst' | cmp - <(head -5 '$T_TMP/plain.jsonl') &&
  [ \$('$R' -q -n 2500 '$T_TMP/c.zst' '$T_TMP/plain.jsonl' | wc -l) = 2500 ] &&
  '$R' -q -n 3000 '$T_TMP/plain.jsonl' | cmp - '$T_TMP/plain.jsonl'"
check "--help and --version" bash -c "'$R' --help | grep -q Usage && '$R' --version | grep -q webshop-rl"

printf '{"type":"x","v":1}\n{"type":"x","v":1,"bad":tru}\n' > "$T_TMP/bad.jsonl"
expect_error "malformed JSON names file:line:column" 1 "^records: $T_TMP/bad.jsonl:2:[0-9]+: malformed JSON" "$R" "$T_TMP/bad.jsonl"
printf '{"type":"goal","v":1}\n' > "$T_TMP/goal.jsonl"
expect_error "wrong record type" 1 "goal.jsonl:1: expected a pair record, got a goal record" "$R" -t pair "$T_TMP/goal.jsonl"
expect_error "wrong schema version" 1 "goal record of schema version 1, this build reads version 7" "$R" -t goal -V 7 "$T_TMP/goal.jsonl"
expect_error "an unknown option named by the tool, not its path" 2 "^records: unknown option '--bogus'\$" "$R" --bogus
expect_error "a missing option value named" 2 "^records: option '--type' needs a value\$" "$R" --type
gzip -c "$T_TMP/goal.jsonl" > "$T_TMP/goal.jsonl.gz"
expect_error "gzip input named as such" 1 "goal.jsonl.gz: gzip-compressed input" "$R" "$T_TMP/goal.jsonl.gz"
expect_error "non-object record" 1 ":1: a record must be a JSON object" bash -c "echo '[1]' | '$R'"
expect_error "empty input" 1 "<stdin>: no records: the input is empty" bash -c "'$R' < /dev/null"
head -c 3000 "$T_TMP/c.zst" > "$T_TMP/trunc.zst"
expect_error "truncated zstd names the byte offset" 1 "truncated zstd frame: input ends at byte offset 3000" "$R" -c "$T_TMP/trunc.zst"
cp "$T_TMP/c.zst" "$T_TMP/corrupt.zst"; printf '\377\377\377\377' | dd of="$T_TMP/corrupt.zst" bs=1 seek=$(( $(stat -c %s "$T_TMP/c.zst") - 4 )) conv=notrunc 2>/dev/null
expect_error "corrupt zstd (checksum) names the byte offset" 1 "corrupt zstd data between byte offsets [0-9]+ and [0-9]+" "$R" -c "$T_TMP/corrupt.zst"
expect_error "missing file" 1 "nope.jsonl: cannot open: No such file" "$R" "$T_TMP/nope.jsonl"
expect_error "usage error exits 2" 2 "Try 'records --help'" "$R" --level 99
check "a failed run leaves no output file" bash -c "! '$R' -o '$T_TMP/never.jsonl' '$T_TMP/bad.jsonl' 2>/dev/null && [ ! -e '$T_TMP/never.jsonl' ] && ! ls '$T_TMP'/never.jsonl.tmp-* 2>/dev/null"

# Interruption: a writer killed mid-stream keeps every complete record, as a valid stream.
records_intact() {  # FILE: valid zstd, every line a record with consecutive i from 1
    zstd -t -q "$1" && zstdcat "$1" | python3 -c '
import json, sys
n = 0
for n, line in enumerate(sys.stdin, 1):
    assert json.loads(line)["i"] == n, line
assert n > 0
print(n)'
}
python3 -c '
import sys, time
for i in range(1, 10**9):
    sys.stdout.write("{\"type\":\"x\",\"v\":1,\"i\":%d,\"pad\":\"%s\"}\n" % (i, "p" * (i % 97)))
    if i % 5000 == 0: sys.stdout.flush(); time.sleep(0.01)
' 2>/dev/null | "$R" -q -o "$T_TMP/killed.jsonl.zst" &
writer=$!
sleep 1.5; kill -TERM $writer; wait $writer; status=$?
if [ "$status" -eq 143 ] && [ ! -e "$T_TMP/killed.jsonl.zst" ] && n=$(records_intact "$T_TMP/killed.jsonl.zst.partial") && [ "$n" -gt 1000 ]; then
    ok "SIGTERM mid-stream: exit 143, $n complete records kept in FILE.partial, no final FILE"
else
    fail "SIGTERM mid-stream keeps complete records" "status $status" "$(ls "$T_TMP")"
fi
# A signal while the first bytes are awaited: the interruption is reported (143), not the input
# closed later taken for an empty one. The FIFO's writer (fd 3) keeps the input open meanwhile.
mkfifo "$T_TMP/idle"; exec 3<>"$T_TMP/idle"
"$R" -q < "$T_TMP/idle" > /dev/null 2> "$T_TMP/idle.err" 3>&- &
reader=$!
sleep 0.5; kill -TERM $reader; sleep 1; exec 3>&-; wait $reader; status=$?
if [ "$status" -eq 143 ] && ! grep -q "empty" "$T_TMP/idle.err"; then ok "SIGTERM before the first record: exit 143"
else fail "SIGTERM before the first record: exit 143" "status $status" "$(cat "$T_TMP/idle.err")"; fi
# The same on stdout, compressed: the frame is ended so the downstream file is a valid stream.
( python3 -c '
import sys, time
for i in range(1, 10**9):
    sys.stdout.write("{\"type\":\"x\",\"v\":1,\"i\":%d}\n" % i)
    if i % 5000 == 0: sys.stdout.flush(); time.sleep(0.01)
' 2>/dev/null | "$R" -q -z > "$T_TMP/stdout.zst" ) &
sleep 1.5; pkill -INT -f "$R -q -z" ; wait
if n=$(records_intact "$T_TMP/stdout.zst") && [ "$n" -gt 1000 ]; then ok "SIGINT on a zstd stdout writer: $n complete records, valid frame"
else fail "SIGINT on a zstd stdout writer" "$(ls -la "$T_TMP")"; fi
finish
