# bench/model_bench --serve: the protocol bench/paired_step.py drives (one training step per line
# read, its seconds printed; "ready" first; a clean exit at the end of input).
. "$(dirname "$0")/lib.sh"
BENCH_DIR=${BENCH_DIR:-$PROJECT_ROOT/build/bench}
if [ ! -x "$BENCH_DIR/model_bench" ]; then skip "model_bench --serve" "no $BENCH_DIR/model_bench"; finish; fi
check "model_bench --serve: ready, then one positive time per line asked, exit 0 at end of input" bash -c "
  printf 'step\nstep\nstep\n' | '$BENCH_DIR/model_bench' tiny 1 --serve > '$T_TMP/out' &&
  [ \"\$(head -1 '$T_TMP/out')\" = ready ] && [ \$(wc -l < '$T_TMP/out') = 4 ] &&
  tail -n +2 '$T_TMP/out' | awk '!(\$1 > 0) { bad = 1 } END { exit bad }'"
check "model_bench --serve --ragged: the batch's lengths first (2 states of 256-511 tokens, '|', 24 actions of 3-13), then ready" bash -c "
  printf 'step\n' | '$BENCH_DIR/model_bench' tiny 2 --serve --ragged > '$T_TMP/ragged' &&
  head -1 '$T_TMP/ragged' | awk '\$1 == \"lengths\" && NF == 28 && \$4 == \"|\" && \$2 >= 256 && \$3 <= 511 && \$5 >= 3 && \$NF <= 13 { ok = 1 } END { exit !ok }' &&
  [ \"\$(sed -n 2p '$T_TMP/ragged')\" = ready ] && [ \$(wc -l < '$T_TMP/ragged') = 3 ]"
check "model_bench --serve: no line asked, no step taken" bash -c "
  '$BENCH_DIR/model_bench' tiny 1 --serve < /dev/null > '$T_TMP/none' && [ \"\$(cat '$T_TMP/none')\" = ready ]"
check "model_bench --cpu-maths: fp32, then bf16 exactly where --cpu-math bf16 starts (a CPU with AVX512_BF16)" bash -c "
  maths=\$('$BENCH_DIR/model_bench' --cpu-maths) &&
  if '$BENCH_DIR/model_bench' tiny 1 --cpu-math bf16 --serve < /dev/null > /dev/null 2>&1; then
    [ \"\$maths\" = 'fp32 bf16' ]; else [ \"\$maths\" = fp32 ]; fi"
expect_error "model_bench with an unknown size: exit 2 with its usage" 2 "unexpected argument 'huge'" \
    "$BENCH_DIR/model_bench" huge 4
finish
