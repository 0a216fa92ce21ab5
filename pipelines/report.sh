#!/usr/bin/env bash
# report.sh [--thompson NAME] RUN_DIR TITLE ARM...: a Markdown report of a pipeline run: the
# fixed-budget evaluation of each arm on the test goals (from eval-<arm>.summary.jsonl), the
# Thompson-sampling table thompson-NAME.md with its plots when asked, training metrics at the last
# update, and the wall time of every stage.
set -euo pipefail
thompson=
if [ "${1:-}" = --thompson ]; then thompson=$2; shift 2; fi
run=$1 title=$2
shift 2
echo "# $title"
echo
echo "Fixed-budget evaluation on the test goals (success = reward 1; score = 100 x mean reward; 95% intervals)."
echo
echo "| agent | episodes | success rate % [95% Wilson] | score [95% t] |"
echo "|:--|--:|:--|:--|"
for arm in "$@"; do
    jq -rs --arg arm "$arm" '
        (map(select(.scope == $arm and .measure == "success_rate")) | first) as $s |
        (map(select(.scope == $arm and .measure == "score")) | first) as $c |
        "| \($arm) | \($s.count) | \($s.value * 1000 | round / 10) [\($s.ci_low * 1000 | round / 10), \($s.ci_high * 1000 | round / 10)] | \($c.value * 10 | round / 10) [\($c.ci_low * 10 | round / 10), \($c.ci_high * 10 | round / 10)] |"' \
        "$run/eval-$arm.summary.jsonl"
done
if [ -n "$thompson" ]; then
    echo
    sed 's/^# /## /' "$run/thompson-$thompson.md"
    plots=$run/plots-$thompson
    if [ -d "$plots" ]; then
        for p in "$plots"/*.png; do echo; echo "![$(basename "$p" .png)](plots-$thompson/$(basename "$p"))"; done
    fi
fi
echo
echo "## Training (last update)"
echo
echo "| stage | updates | loss | accuracy | tokens/s |"
echo "|:--|--:|--:|--:|--:|"
for m in "$run"/*metrics.jsonl; do
    [ -f "$m" ] || continue
    jq -rs --arg f "$(basename "$m" .jsonl)" '
        map(select(.stage == "il" or .stage == "dpo" or .stage == "ppo")) | select(length > 0) | last |
        "| \($f) | \(.step) | \(.loss * 1000 | round / 1000) | \(if .accuracy then (.accuracy * 1000 | round / 1000) else "" end) | \(.tokens_per_s | round) |"' "$m"
done
echo
echo "## Wall time per stage"
echo
echo "| stage | seconds |"
echo "|:--|--:|"
awk -F'\t' '{printf "| %s | %s |\n", $1, $2}' "$run/times.tsv"
