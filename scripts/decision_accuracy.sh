#!/usr/bin/env bash
# decision_accuracy.sh CKPT TRAJECTORIES...: where an agent goes wrong. Teacher-forced accuracy and
# loss of the model in CKPT on the states of preferred trajectories (e.g. gen-traj --oracle on
# held-out goals), by kind of decision: the results page (which product to open), an option of
# the item page, buy now, other navigation. The search step has one valid action and is left out.
# Uses tokenize (which says each decision's kind) and train-il --steps 0 --valid (forward passes
# only); BIN=dir of the tools [bin].
# Prints a Markdown table.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: decision_accuracy.sh CKPT TRAJECTORIES..." >&2; exit 2; }
bin=${BIN:-bin}
ckpt=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/records" -q -t trajectory "$@" | "$bin/tokenize" -q > "$tmp/all.tok.jsonl"
echo "| decision | states | accuracy | loss (nats) |"
echo "|:--|--:|--:|--:|"
for kind in results option buy navigation; do
    # tokenize says each decision's kind (lib/webshop/env.h, ws_decision_kind_of)
    jq -c --arg kind "$kind" 'select(.kind == $kind)' "$tmp/all.tok.jsonl" > "$tmp/$kind.tok.jsonl"
    if [ ! -s "$tmp/$kind.tok.jsonl" ]; then
        echo "| $kind | 0 | | |"
        continue
    fi
    "$bin/train-il" -q --init "$ckpt" --steps 0 --valid "$tmp/$kind.tok.jsonl" -o "$tmp/unchanged.ckpt" \
        "$tmp/$kind.tok.jsonl" |
        jq -r --arg kind "$kind" 'select(.stage == "valid") | "| \($kind) | \(.states) | \(.accuracy * 1000 | round / 1000) | \(.loss * 100 | round / 100) |"'
done
