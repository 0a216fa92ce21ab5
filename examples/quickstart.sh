#!/usr/bin/env bash
# A first look: goals of the test split, the oracle and a random agent playing them, the records.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/quickstart}
mkdir -p "$out"
bin/goals --split test -o "$out/test-goals.jsonl.zst"
echo "first test goal:"
{ zstdcat "$out/test-goals.jsonl.zst" || true; } | head -1 | jq -r .instruction
bin/rollout --policy oracle --summary "$out/oracle-summary.jsonl" -o "$out/oracle.jsonl.zst" "$out/test-goals.jsonl.zst"
bin/rollout --policy random -o "$out/random.jsonl.zst" "$out/test-goals.jsonl.zst"
echo "the oracle's first episode, step by step:"
{ zstdcat "$out/oracle.jsonl.zst" || true; } | head -1 | jq -r '.steps[] | "  [\(.page)] \(.action | .[0:90])"'
if [ -f models/minilm-l6/vocab.txt ]; then
    echo "tokens per state of the oracle's episodes (WordPiece, [CLS] ... [SEP]):"
    bin/tokenize -q "$out/oracle.jsonl.zst" | jq -s 'map(.state | length) | {states: length, mean: (add / length | floor), max: max}'
fi
