#!/usr/bin/env bash
# paper.sh OUT_DIR SIZE SELF_ROUNDS RELABEL_ROUNDS RUN_DIR...: the comparison table over seeds:
# success rate and score of IL, PPO, DPO (oracle-generated data), DPO self-learning, the
# relabelled preferences and DAgger on the test goals and on the human instructions, mean and
# standard deviation over the runs (one per seed), with the wall time of each agent's training
# stages, summed over what it needs; then each fine-tuned agent against its own IL start, seed by
# seed (scripts/paired.sh: exact McNemar test, score difference), and how many seeds it beats
# that start on (p < 0.01, more goals won than lost). BIN=dir of the tools [bin].
set -euo pipefail
out=$1 size=$2 rounds=$3 relabel_rounds=$4
shift 4
runs=("$@")
prior_rounds() { seq -s '|' 1 "$1"; }
# the IL agent's stages, which every agent's time includes (train-il-more: a size's second pass)
il="gen-traj|tokenize|train-il|train-il-more"
# label, arm, the training stages (times.tsv names) its wall time sums
agents=(
    "IL (oracle data)|il|^($il)\$"
    "PPO|ppo|^($il|train-ppo)\$"
    "DPO (oracle-generated data)|dpo|^($il|pair-prefs|tokenize-pairs|train-dpo)\$"
    # only rounds 1..ROUNDS count: a run may hold more rounds than the table reports
    "DPO self-learning ($rounds round(s))|self-$rounds|^($il|self-.*-($(prior_rounds "$rounds")))\$"
    "Relabelled RPO ($relabel_rounds round(s))|relabel-$relabel_rounds|^($il|relabel-.*-($(prior_rounds "$relabel_rounds")))\$"
    # DAgger's round 1 plays relabel-1's rollout (relabel-rollout-1)
    "DAgger ($relabel_rounds round(s))|dagger-$relabel_rounds|^($il|relabel-rollout-1|dagger-.*-($(prior_rounds "$relabel_rounds")))\$"
)

echo "# Reproduction of Feng & Feng 2024 and beyond (size $size, seeds: ${#runs[@]})"
echo
echo "Success rate and score (fixed budget, argmax policies) on the test goals and on WebShop's human"
echo "instructions, mean ± standard deviation over seeds; training wall time in seconds (mean over"
echo "seeds) on this machine."
echo
echo "| agent | success rate % | score | human: success % | human: score | training s | seeds |"
echo "|:--|--:|--:|--:|--:|--:|--:|"
# success and score of one summary file as "NAME_success V" and "NAME_score V" lines (nothing when absent)
measures() {
    [ -f "$2" ] || return 0
    jq -r --arg arm "$3" --arg name "$1" 'select(.scope == $arm and (.measure == "success_rate" or .measure == "score")) |
        "\($name)_\(.measure) \(.value)"' "$2"
}
for agent in "${agents[@]}"; do
    IFS='|' read -r label arm stages <<< "$agent"
    for run in "${runs[@]}"; do
        measures test "$run/eval-$arm.summary.jsonl" "$arm"
        measures human "$run/eval-human-$arm.summary.jsonl" "$arm"
        awk -F'\t' -v re="$stages" '$1 ~ re { s += $2 } END { printf "time %.1f\n", s }' "$run/times.tsv"
    done | awk -v label="$label" '
        { v[$1] += $2; v2[$1] += $2 * $2; n[$1]++ }
        function cell(name, scale,   m, var) {
            if (!n[name]) return "n/a"
            m = scale * v[name] / n[name]
            if (n[name] == 1) return sprintf("%.1f", m)
            var = v2[name] / n[name] - (v[name] / n[name]) ^ 2  # rounding can take it below 0
            return sprintf("%.1f ± %.1f", m, scale * sqrt(var > 0 ? var : 0))
        }
        END {
            # an agent no run has: no time either (the IL stages alone match its pattern)
            time = n["test_success_rate"] ? sprintf("%.0f", v["time"] / n["time"]) : "n/a"
            printf "| %s | %s | %s | %s | %s | %s | %d |\n", label, cell("test_success_rate", 100), cell("test_score", 1),
                   cell("human_success_rate", 100), cell("human_score", 1), time, n["test_success_rate"]
        }'
done
echo
echo "Each fine-tuned agent against its own IL start on the same test goals, seed by seed:"
echo
paired_rows=$(mktemp)
trap 'rm -f "$paired_rows"' EXIT
for run in "${runs[@]}"; do
    others=()
    for agent in "${agents[@]:1}"; do
        IFS='|' read -r _ arm _ <<< "$agent"
        [ -f "$run/eval-$arm.jsonl.zst" ] && others+=("$run/eval-$arm.jsonl.zst")
    done
    [ ${#others[@]} -gt 0 ] || continue
    echo "$(basename "$run"):"
    echo
    bash "$(dirname "$0")/../scripts/paired.sh" "$run/eval-il.jsonl.zst" "${others[@]}" | tee -a "$paired_rows"
    echo
done
echo "Seeds on which the agent beats its IL start (exact McNemar p < 0.01, more goals won than lost),"
echo "and the mean success difference over seeds:"
echo
echo "| agent | seeds beating IL | mean success difference, points |"
echo "|:--|--:|--:|"
for agent in "${agents[@]:1}"; do
    IFS='|' read -r label arm _ <<< "$agent"
    awk -F' *[|] *' -v arm="$arm" -v label="$label" '
        $2 == arm { n++; d += ($6 - $5) / $4; if ($7 < 0.01 && $6 > $5) won++ }
        END { if (n) printf "| %s | %d of %d | %+.1f |\n", label, won, n, 100 * d / n }' "$paired_rows"
done
echo
echo "Per-seed reports: $(printf '%s/report-relabel.md ' "${runs[@]}")"
