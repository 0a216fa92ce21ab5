# thompson-eval plots: cd into this directory and run `gnuplot plots.gp`.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 960,560 noenhanced font ",11"
} else {
    set terminal png size 960,560 noenhanced
}
set datafile separator "\t"
set datafile missing "?"
set key outside right top
set grid
set xlabel "round"
set xrange [1:100]
arms = "il dpo"
n_arms = 2

set output "success-run0.png"
set title "Running success rate, run 0 (Thompson sampling)"
set ylabel "success rate (%)"
set yrange [0:100]
plot for [i=1:n_arms] "running-run0.tsv" using 1:(column(3*i-1)) with lines lw 2 title word(arms, i)
set output "score-run0.png"
set title "Running score, run 0 (Thompson sampling)"
set ylabel "score (100 x mean reward)"
plot for [i=1:n_arms] "running-run0.tsv" using 1:(column(3*i)) with lines lw 2 title word(arms, i)

set output "pulls.png"
set title "Pulls per arm (1 runs x 100 rounds)"
unset xrange
set autoscale y
set yrange [0:*]
set xlabel "arm"
set ylabel "pulls"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics nomirror
plot for [r=2:2] "pulls.tsv" using r:xtic(1) title columnheader(r)
