#!/usr/bin/env bash
# report.sh [--thompson NAME] RUN_DIR TITLE ARM...: a Markdown report of a pipeline run: the
# fixed-budget evaluation of each arm on the test goals (from eval-<arm>.summary.jsonl), the
# Thompson-sampling table thompson-NAME.md with its plots when asked, training metrics at the last
# update with each trainer's curves (training-<metrics>.png beside the report, drawn by gnuplot
# when it is installed: loss and accuracy as 50-update running means, held-out accuracy), and the
# wall time of every stage.
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
# the curves: 50-update running means of loss and accuracy, and the held-out accuracy
if command -v gnuplot > /dev/null; then
    for m in "$run"/*metrics.jsonl; do
        [ -f "$m" ] || continue
        name=$(basename "$m" .jsonl) data=$run/training-$name.tsv
        jq -r 'select(.stage == "il" or .stage == "dpo" or .stage == "ppo") | [.step, .loss, (.accuracy // "?")] | @tsv' "$m" |
            awk -F'\t' -v w=50 '{ n++; l[n % w] = $2; a[n % w] = $3; k = n < w ? n : w; sl = sa = 0; na = 0
                for (i = 0; i < k; i++) { sl += l[i]; if (a[i] != "?") { sa += a[i]; na++ } }
                printf "%s\t%g\t%s\n", $1, sl / k, na ? sa / na : "?" }' > "$data"
        jq -r 'select(.stage == "valid") | [.step, .accuracy] | @tsv' "$m" > "$run/training-$name-valid.tsv"
        [ -s "$data" ] || continue
        (cd "$run" && gnuplot -e "set terminal pngcairo size 900,450 noenhanced; set output 'training-$name.png';
            set datafile separator '\t'; set datafile missing '?'; set grid; set key outside right top;
            set title '$name: loss and accuracy (50-update running means), held-out accuracy';
            set xlabel 'update'; set ylabel 'loss'; set y2label 'accuracy'; set y2range [-0.02:1.02]; set ytics nomirror; set y2tics;
            plot 'training-$name.tsv' using 1:2 with lines lw 2 title 'loss',
                 '' using 1:3 axes x1y2 with lines lw 2 title 'accuracy',
                 'training-$name-valid.tsv' using 1:2 axes x1y2 with linespoints lw 2 pt 7 title 'held-out accuracy'" 2> /dev/null) &&
            { echo; echo "![$name](training-$name.png)"; }
    done
fi
echo
echo "## Wall time per stage"
echo
echo "| stage | seconds |"
echo "|:--|--:|"
awk -F'\t' '{printf "| %s | %s |\n", $1, $2}' "$run/times.tsv"
