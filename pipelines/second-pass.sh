#!/usr/bin/env bash
# second-pass.sh SIZE RUN_DIR...: pipeline-second-pass over seeds (one RUN_DIR each, its
# report-second.md made): each second pass against the first pass it starts from and against the
# recipe's (il), seed by seed (scripts/paired.sh: exact McNemar test, score difference), then per
# agent the mean gain in success points and on how many seeds it beats its start (p < 0.01, more
# goals won than lost) -- issue 14's bar for a preference stage is 4 of 5 seeds and +3 points.
# BIN=dir of the tools [bin].
set -euo pipefail
size=$1
shift
runs=("$@")
agents=(il second-dagger second-rpo)
label() { case $1 in il) echo "imitation (the recipe)" ;; second-dagger) echo DAgger ;; *) echo RPO ;; esac; }
success() { jq -r --arg arm "$2" 'select(.scope == $arm and .measure == "success_rate") | .value * 1000 | round / 10' \
    "$1/eval-$2.summary.jsonl"; }
seed() { local r; r=$(basename "$1"); echo "${r##*-s}"; }
# "base_only agent_only p" of paired.sh's row for OTHER against BASE
discordant() { BIN=${BIN:-bin} bash scripts/paired.sh "$1" "$2" | awk -F' *\\| *' 'NR == 3 { print $5, $6, $7 }'; }

echo "# The relabelled stage as the second pass (size $size, seeds: ${#runs[@]})"
echo
echo "Each agent trains from its seed's first-pass agent with the second pass's budget; success on"
echo "the test goals (%), and paired with the first pass and with the recipe's second pass (il):"
echo "goals only the base wins / only the agent wins, exact McNemar p."
echo
echo "| seed | first pass | agent | success | vs first pass | p | vs il | p |"
echo "|--:|--:|:--|--:|:--|--:|:--|--:|"
declare -A gain beats
for r in "${runs[@]}"; do
    first=$(success "$r" il-first)
    for a in "${agents[@]}"; do
        s=$(success "$r" "$a")
        read -r fb fa fp < <(discordant "$r/eval-il-first.jsonl.zst" "$r/eval-$a.jsonl.zst")
        vs_il="" il_p=""
        if [ "$a" != il ]; then
            read -r ib ia il_p < <(discordant "$r/eval-il.jsonl.zst" "$r/eval-$a.jsonl.zst")
            vs_il="$ib / $ia"
        fi
        echo "| $(seed "$r") | $first | $(label "$a") | $s | $fb / $fa | $fp | $vs_il | $il_p |"
        gain[$a]="${gain[$a]:-} $(awk -v s="$s" -v f="$first" 'BEGIN { printf "%.1f", s - f }')"
        if awk -v p="$fp" -v b="$fb" -v w="$fa" 'BEGIN { exit !(p < 0.01 && w > b) }'; then
            beats[$a]=$((${beats[$a]:-0} + 1))
        fi
    done
done
echo
echo "| agent | mean gain over the first pass (points) | gains by seed | seeds it beats its start on (p < 0.01) |"
echo "|:--|--:|:--|--:|"
for a in "${agents[@]}"; do
    mean=$(echo "${gain[$a]}" | awk '{ for (i = 1; i <= NF; i++) s += $i; printf "%+.1f", s / NF }')
    echo "| $(label "$a") | $mean |${gain[$a]} | ${beats[$a]:-0} of ${#runs[@]} |"
done
