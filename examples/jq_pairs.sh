#!/usr/bin/env bash
# A stage replaced by a program of your own: preference pairs from trajectories by a rule written
# in jq, in place of pair-prefs. Any program that writes records of schemas/pair.schema.json can
# stand there; tokenize and train-dpo take its output as they take pair-prefs'.
#
# The rule here: in each state with two or more valid actions, chosen = the trajectory's action,
# rejected = the action listed after it (wrapping around), source "x-jq-next" (an x- name marks a
# rule of one's own). Deterministic, no model needed.
#
#   examples/jq_pairs.sh TRAJECTORIES... > pairs.jsonl
#   bin/goals -s train -n 50 | bin/gen-traj --oracle | examples/jq_pairs.sh | bin/tokenize |
#       bin/train-dpo --init il.ckpt --ref il.ckpt --metrics dpo-metrics.jsonl -o dpo.ckpt
set -euo pipefail
bin=${BIN:-$(dirname "$0")/../bin}
"$bin/records" -q -t trajectory "$@" | jq -c '
    . as $t
    | .steps | to_entries[]
    | .key as $step | .value as $s
    | ($s.actions | length) as $n
    | select($n >= 2 and $s.action_index >= 0)
    | {type: "pair", v: 1, goal_id: $t.goal_id, step: $step, obs: $s.obs, actions: $s.actions,
       chosen_index: $s.action_index, rejected_index: (($s.action_index + 1) % $n), source: "x-jq-next"}'
