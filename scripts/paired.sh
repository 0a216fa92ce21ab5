#!/usr/bin/env bash
# paired.sh BASE.jsonl[.zst] OTHER.jsonl[.zst]...: each agent against a base agent on the same goals,
# from fixed-budget evaluations (thompson-eval --fixed -o: one bandit record per goal). Prints a
# Markdown table: goals in common, goals only the base wins, goals only the other wins, the exact
# McNemar test's two-sided p (binomial on the discordant goals), and the mean score difference
# (other - base, 100 x reward) with its 95% interval (normal approximation over goals).
# BIN=dir of the tools [bin].
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: paired.sh BASE OTHER..." >&2; exit 2; }
bin=${BIN:-bin}
base=$1
shift
outcomes() { "$bin/records" -q -t bandit "$1" | jq -r '[.goal_id, (if .success then 1 else 0 end), .reward] | @tsv' | sort -t $'\t' -k1,1; }
echo "| agent | vs | goals | base only | agent only | McNemar p | score difference [95%] |"
echo "|:--|:--|--:|--:|--:|--:|:--|"
arm() { local a; a=$(basename "$1"); a=${a#eval-}; echo "${a%%.jsonl*}"; }
for other in "$@"; do
    join -t $'\t' <(outcomes "$base") <(outcomes "$other") |
        awk -F'\t' -v a="$(arm "$other")" -v b="$(arm "$base")" '
            function lchoose(n, k) { return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) }
            function lgamma(x,   s) { # Stirling series, exact enough for x >= 1 after shifting
                s = 0; while (x < 8) { s -= log(x); x++ }
                return s + (x - 0.5) * log(x) - x + 0.918938533204673 + 1 / (12 * x) - 1 / (360 * x ^ 3) + 1 / (1260 * x ^ 5) }
            { n++; if ($2 > $4) bo++; if ($4 > $2) ao++; d = 100 * ($5 - $3); s += d; ss += d * d }
            END {
                m = bo + ao; k = bo < ao ? bo : ao; p = 0
                for (i = 0; i <= k; i++) p += exp(lchoose(m, i) - m * log(2))
                p = m ? 2 * p : 1; if (p > 1) p = 1
                mean = s / n; sd = n > 1 ? sqrt((ss - n * mean * mean) / (n - 1)) : 0
                printf "| %s | %s | %d | %d | %d | %.2g | %+.1f [%+.1f, %+.1f] |\n", a, b, n, bo, ao, p, mean,
                       mean - 1.96 * sd / sqrt(n), mean + 1.96 * sd / sqrt(n) }'
done
