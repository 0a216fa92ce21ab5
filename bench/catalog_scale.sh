#!/usr/bin/env bash
# A synthetic catalog of N products through the whole path (issue 19; part 5's `make bench-scale`
# starts here): generation, conversion and mapped-index build (time, max RSS), sizes on disk,
# webshop-env's start until its first search answer from the JSON lines and mapped (warm, and
# cold: the mapped file's pages dropped from the page cache), its memory (private, file-backed
# shared), search time per instruction query (the 1k's 500 test goals, through the service), and
# 1 and SESSIONS (1,000) sessions in one webshop-env: requests/s and memory (bench/env_sessions.py).
# Usage: bench/catalog_scale.sh N [WORKDIR]   (WORKDIR kept; default runs/bench-scale-N)
#        JSON=0 skips the start from the JSON lines (minutes and gigabytes past ~100k products);
#        BIN=DIR takes the programs from DIR (default bin).
set -eu
cd "$(dirname "$0")/.."
b=${BIN:-bin}
n=${1:?usage: bench/catalog_scale.sh N [WORKDIR]}
w=${2:-runs/bench-scale-$n}
d=$w/data
mkdir -p "$d"
fifo=$w/requests.fifo

timed() {  # LABEL COMMAND...: wall time and max RSS
    local label=$1; shift
    python3 -c 'import resource, subprocess, sys, time
t = time.time(); rc = subprocess.call(sys.argv[2:]); t = time.time() - t
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("| %s | %.2f s | %.0f MB |" % (sys.argv[1], t, kb / 1024)); sys.exit(rc)' "$label" "$@"
}

serve() {  # LABEL REQUESTS: start webshop-env, answer the requests, memory while it is up
    local label=$1 requests=$2 lines t0 t1 pid
    lines=$(wc -l < "$requests")
    rm -f "$fifo" "$w/answers"; mkfifo "$fifo"
    t0=$(date +%s.%N)
    "$b/webshop-env" -q --data "$d" < "$fifo" > "$w/answers" & pid=$!
    exec 3> "$fifo"
    cat "$requests" >&3
    while [ "$(wc -l < "$w/answers")" -lt "$lines" ]; do sleep 0.005; done
    t1=$(date +%s.%N)
    awk -v l="$label" -v t="$(awk "BEGIN{print $t1 - $t0}")" -v n="$lines" '
        /^Rss:/ {rss = $2} /^Anonymous:/ {anon = $2}
        END {printf "| %s | %.3f s (%d requests, %.2f ms each with the start) | RSS %.0f MB: %.0f MB private, %.0f MB file-backed |\n",
             l, t, n, t * 1000 / n, rss / 1024, anon / 1024, (rss - anon) / 1024}' "/proc/$pid/smaps_rollup"
    exec 3>&-
    wait "$pid"
    grep -q '"ok":false' "$w/answers" && { echo "webshop-env answered an error: $(grep -m1 '"ok":false' "$w/answers")" >&2; exit 1; }
    return 0
}

drop_cache() {  # the mapped file's pages only (posix_fadvise), not the whole machine's
    python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$1"
}

echo "catalog-scale: $n products, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| step | time | max RSS / memory |"
echo "|:--|--:|--:|"
timed "catalog-synth -n $n" "$b/catalog-synth" -q -n "$n" -o "$w/raw.json.zst" -a "$d/items_ins_v2_1000.json"
timed "catalog-convert (raw to JSON lines)" "$b/catalog-convert" -q -a "$d/items_ins_v2_1000.json" \
    -o "$d/products.jsonl.zst" "$w/raw.json.zst"
rm -f "$d/products.wscat"
"$b/goals" -q -s test | python3 -c 'import json, sys
for line in sys.stdin: print(json.dumps({"op": "search", "query": json.loads(line)["instruction"]}))' > "$w/searches.jsonl"
head -1 "$w/searches.jsonl" > "$w/first.jsonl"
if [ "${JSON:-1}" != 0 ]; then
    serve "webshop-env from the JSON lines: first answer" "$w/first.jsonl"
fi
timed "catalog-convert --index (mapped catalog and index)" "$b/catalog-convert" -q --index "$d"
drop_cache "$d/products.wscat"
serve "webshop-env mapped, cold: first answer" "$w/first.jsonl"
serve "webshop-env mapped, warm: first answer" "$w/first.jsonl"
serve "webshop-env mapped: 500 instruction searches" "$w/searches.jsonl"
# Many sessions in one process: the 1k's test goals without their catalog_sha256 (the reset then
# takes them on any catalog; their products are not in it, which changes no step's cost).
"$b/goals" -q -s test | python3 -c 'import json, sys
for line in sys.stdin: g = json.loads(line); g.pop("catalog_sha256", None); print(json.dumps(g))' > "$w/goals.jsonl"
for s in 1 "${SESSIONS:-1000}"; do
    python3 bench/env_sessions.py "$b/webshop-env" "$d" "$w/goals.jsonl" "$s" 8
done
echo
printf 'on disk: raw %s, products.jsonl.zst %s, items_ins %s, products.wscat %s\n' \
    "$(du -h "$w/raw.json.zst" | cut -f1)" "$(du -h "$d/products.jsonl.zst" | cut -f1)" \
    "$(du -h "$d/items_ins_v2_1000.json" | cut -f1)" "$(du -h "$d/products.wscat" | cut -f1)"
