#!/usr/bin/env bash
# timed.sh TIMES.tsv STAGE COMMAND...: run COMMAND, then append "STAGE<TAB>seconds" to TIMES.tsv.
set -u
times=$1 stage=$2
shift 2
start=$(date +%s.%N)
"$@"
status=$?
[ "$status" -eq 0 ] && awk -v s="$stage" -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%s\t%.1f\n", s, b - a }' >> "$times"
exit "$status"
