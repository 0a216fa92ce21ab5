#!/usr/bin/env bash
# decision_accuracy.sh CKPT TRAJECTORIES...: where an agent goes wrong. Teacher-forced accuracy and
# loss of the model in CKPT on the states of preferred trajectories (e.g. gen-traj --oracle on
# held-out goals), by kind of decision: the results page (which product to open), an option of
# the item page, buy now, other navigation. The search step has one valid action and is left out.
# Uses tokenize (which says each decision's kind) and one forward pass of train-il --steps 0
# --valid, whose "valid" record has the means by kind ("by_kind"); during training the same
# --valid gives them every --eval-every updates. BIN=dir of the tools [bin].
# Prints a Markdown table.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: decision_accuracy.sh CKPT TRAJECTORIES..." >&2; exit 2; }
bin=${BIN:-bin}
ckpt=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/records" -q -t trajectory "$@" | "$bin/tokenize" -q > "$tmp/all.tok.jsonl"
"$bin/train-il" -q --init "$ckpt" --steps 0 --valid "$tmp/all.tok.jsonl" -o "$tmp/unchanged.ckpt" "$tmp/all.tok.jsonl" |
    jq -r 'select(.stage == "valid") | (.by_kind // {}) as $k |
        "| decision | states | accuracy | loss (nats) |", "|:--|--:|--:|--:|",
        (["results", "option", "buy", "navigation"][] as $kind | $k[$kind] as $r |
         if $r then "| \($kind) | \($r.states) | \($r.accuracy * 1000 | round / 1000) | \($r.loss * 100 | round / 100) |"
         else "| \($kind) | 0 | | |" end)'
