#!/usr/bin/env bash
# A first look at the record streams: goals of the test split, written compressed, read back.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/quickstart}
mkdir -p "$out"
bin/goals --split test -o "$out/test-goals.jsonl.zst"
echo "first two test goals:"
{ zstdcat "$out/test-goals.jsonl.zst" || true; } | head -2 | cut -c1-200
echo "train goals: $(bin/goals -q --split train | bin/records --type goal -c)"
