#!/usr/bin/env bash
# seen-unseen.sh RUN_DIR...: for each round-1 rollout of pipeline-relabel (relabel-1.first.jsonl:
# the IL agent sampling on the round's goals, train or eval, episodes cut at their first divergence), the
# departure and win rates on goals whose oracle trajectory the imitation data holds against goals
# it does not (tok-oracle.jsonl.zst's goal ids: gen-traj keeps N_TRAJ won trajectories, so the
# goals it passes over are mostly ones the oracle loses). Prints a Markdown table.
# BIN=dir of the tools [bin].
set -euo pipefail
bin=${BIN:-bin}
echo "| run | round-1 goals | how many | departures | episodes won |"
echo "|:--|:--|--:|--:|--:|"
for run in "$@"; do
    seen=$(mktemp)
    "$bin/records" -q "$run/tok-oracle.jsonl.zst" | jq -r '.goal_id' | sort -u > "$seen"
    jq -r '[.goal_id, (if .steps[-1].action_index != .steps[-1].oracle_index then 1 else 0 end),
            (if .reward == 1 then 1 else 0 end)] | @tsv' "$run/relabel-1.first.jsonl" |
        awk -F'\t' -v run="$(basename "$(dirname "$run")")/$(basename "$run")" -v seen_file="$seen" '
            BEGIN { while ((getline g < seen_file) > 0) seen[g] = 1 }
            { k = ($1 in seen) ? "imitated" : "not imitated"; n[k]++; d[k] += $2; w[k] += $3 }
            END { for (k in n) printf "| %s | %s | %d | %d (%.1f%%) | %.1f%% |\n", run, k, n[k], d[k], 100 * d[k] / n[k], 100 * w[k] / n[k] }' |
        sort
    rm -f "$seen"
done
