#!/usr/bin/env bash
# paper.sh OUT_DIR SIZE SELF_ROUNDS RUN_DIR...: the study's comparison table over seeds: success
# rate and score of IL, PPO, DPO (oracle-generated data) and DPO self-learning on the test goals,
# mean and standard deviation over the runs (one per seed), with the wall time of each agent's
# training stages, summed over what it needs.
set -euo pipefail
out=$1 size=$2 rounds=$3
shift 3
echo "# Reproduction of Feng & Feng 2024 (size $size, seeds: ${#})"
echo
echo "Success rate and score on the test goals (fixed budget, argmax policies), mean ± standard"
echo "deviation over seeds; training wall time in seconds (mean over seeds) on this machine."
echo
echo "| agent | success rate % | score | training s | seeds |"
echo "|:--|--:|--:|--:|--:|"
row() {  # LABEL ARM STAGE_REGEX
    local label=$1 arm=$2 stages=$3
    for run in "$@"; do :; done
    for run in "${runs[@]}"; do
        jq -r --arg arm "$arm" 'select(.scope == $arm and (.measure == "success_rate" or .measure == "score")) |
            "\(.measure) \(.value)"' "$run/eval-$arm.summary.jsonl"
        awk -F'\t' -v re="$stages" '$1 ~ re { s += $2 } END { printf "time %.1f\n", s }' "$run/times.tsv"
    done | awk -v label="$label" -v n="${#runs[@]}" '
        { v[$1] += $2; v2[$1] += $2 * $2 }
        END {
            ms = 100 * v["success_rate"] / n; ss = 100 * sqrt(v2["success_rate"] / n - (v["success_rate"] / n) ^ 2)
            mc = v["score"] / n; sc = sqrt(v2["score"] / n - (v["score"] / n) ^ 2)
            if (n > 1)
                printf "| %s | %.1f ± %.1f | %.1f ± %.1f | %.0f | %d |\n", label, ms, ss, mc, sc, v["time"] / n, n
            else  # one seed: no spread to report
                printf "| %s | %.1f | %.1f | %.0f | 1 |\n", label, ms, mc, v["time"]
        }'
}
runs=("$@")
row "IL (oracle data)" il '^(gen-traj|tokenize|train-il)$'
row "PPO" ppo '^(gen-traj|tokenize|train-il|train-ppo)$'
row "DPO (oracle-generated data)" dpo '^(gen-traj|tokenize|train-il|pair-prefs|tokenize-pairs|train-dpo)$'
# only rounds 1..ROUNDS count: a run may hold more rounds than the table reports
row "DPO self-learning ($rounds round(s))" "self-$rounds" "^(gen-traj|tokenize|train-il|self-.*-($(seq -s '|' 1 "$rounds")))\$"
echo
echo "Per-seed reports: $(printf '%s/report-ppo.md ' "${runs[@]}")"
