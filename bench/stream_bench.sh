#!/usr/bin/env bash
# Record throughput of lib/io/stream: read zstd + parse + serialise + write zstd level 3 (the
# `records` tool), next to the floor `zstd -d | wc -l` and `jq -c .` on the same file.
# Usage: bench/stream_bench.sh [REPEAT]   (REPEAT copies of the 6,910 goal records; default 25)
set -eu
cd "$(dirname "$0")/.."
repeat=${1:-25}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bin/goals -q -s all > "$tmp/goals.jsonl"
for _ in $(seq "$repeat"); do cat "$tmp/goals.jsonl"; done > "$tmp/in.jsonl"
zstd -q -3 "$tmp/in.jsonl" -o "$tmp/in.jsonl.zst"
bytes=$(stat -c %s "$tmp/in.jsonl"); records=$(wc -l < "$tmp/in.jsonl")
printf 'input: %d records, %.1f MB plain, %.1f MB zstd -3 (%s)\n' "$records" "$(awk "BEGIN{print $bytes/1e6}")" \
    "$(awk "BEGIN{print $(stat -c %s "$tmp/in.jsonl.zst")/1e6}")" "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

run() {  # NAME COMMAND: best of 3 wall times
    local name=$1 best=999999 t0 t1 dt; shift
    for _ in 1 2 3; do
        t0=$(date +%s.%N); bash -c "$*" > /dev/null; t1=$(date +%s.%N)
        best=$(awk "BEGIN{d=$t1-$t0; print (d<$best)?d:$best}")
    done
    awk -v n="$name" -v t="$best" -v b="$bytes" -v r="$records" \
        'BEGIN{printf "%-52s %7.3f s %8.1f MB/s %10.0f records/s\n", n, t, b/t/1e6, r/t}'
}
run "records (zstd in, parse, zstd -3 out)" "bin/records -q -z < $tmp/in.jsonl.zst"
run "records (plain in, parse, plain out)" "bin/records -q < $tmp/in.jsonl"
run "zstd -d | wc -l (decompression floor)" "zstd -d -c $tmp/in.jsonl.zst | wc -l"
if command -v jq > /dev/null; then
    run "zstd -d | jq -c . (jq parse+print)" "zstd -d -c $tmp/in.jsonl.zst | jq -c ."
    run "zstd -d | jq -c . | zstd -3 (same job as records)" "zstd -d -c $tmp/in.jsonl.zst | jq -c . | zstd -q -3"
fi
