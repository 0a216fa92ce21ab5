# bench/model_bench --serve: the protocol bench/paired_step.py drives (one training step per line
# read, its seconds printed; "ready" first; a clean exit at the end of input).
. "$(dirname "$0")/lib.sh"
BENCH_DIR=${BENCH_DIR:-$PROJECT_ROOT/build/bench}
if [ ! -x "$BENCH_DIR/model_bench" ]; then skip "model_bench --serve" "no $BENCH_DIR/model_bench"; finish; fi
check "model_bench --serve: ready, then one positive time per line asked, exit 0 at end of input" bash -c "
  printf 'step\nstep\nstep\n' | '$BENCH_DIR/model_bench' tiny 1 --serve > '$T_TMP/out' &&
  [ \"\$(head -1 '$T_TMP/out')\" = ready ] && [ \$(wc -l < '$T_TMP/out') = 4 ] &&
  tail -n +2 '$T_TMP/out' | awk '!(\$1 > 0) { bad = 1 } END { exit bad }'"
check "model_bench --serve: no line asked, no step taken" bash -c "
  '$BENCH_DIR/model_bench' tiny 1 --serve < /dev/null > '$T_TMP/none' && [ \"\$(cat '$T_TMP/none')\" = ready ]"
finish
