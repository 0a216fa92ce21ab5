#!/usr/bin/env bash
# Issue 16, session 27 (AMD EPYC, 2 cores). A training (issue 14's second passes) ran beside;
# every timing below was taken with it paused (kill -STOP).
# BEFORE: a build of c682d65 (main before this session), AFTER: this session's commit.
set -euo pipefail
D=docs/results/bench-2026-12-06-s27
# the rows of C shared out by MR-row panels (gemm-rows-ab.txt): both builds in turn, six times
gcc -O2 -fopenmp -I"$BEFORE/lib/model" $D/two_threads.c "$BEFORE/build/libwebshop.a" -lopenblas -lm -o /tmp/two-threads-before
gcc -O2 -fopenmp -Ilib/model $D/two_threads.c build/libwebshop.a -lopenblas -lm -o /tmp/two-threads-after
for r in 1 2 3 4 5 6; do for b in before after; do
    OMP_NUM_THREADS=2 /tmp/two-threads-$b | sed "s/^/$b /"
done; done > $D/gemm-rows-ab.txt
awk '{ k = $1 " " $3 " " $5 " " $7; s[k] += $8; n[k]++ } END { for (k in s) printf "%s mean %.1f\n", k, s[k] / n[k] }' \
    $D/gemm-rows-ab.txt | sort -k2,2n -k3,3n -k4,4n
