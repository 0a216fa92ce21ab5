# Data-parallel training under mpirun (Open MPI, 2 ranks on the CPU backend): the same updates as
# one process with the whole batch, up to the order of floating-point sums.
. "$(dirname "$0")/lib.sh"
if ! command -v mpirun > /dev/null; then skip "data-parallel training" "no mpirun (make deps installs openmpi-bin)"; finish; fi
if ! have_data; then skip "data-parallel training" "no WebShop data at $WEBSHOP_DATA"; finish; fi
if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then skip "data-parallel training" "no vocabulary: run make model"; finish; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
# Under make asan: full stacks, so that tests/lsan.supp recognises what Open MPI's unloaded
# plugins allocated.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
mpi2() { mpirun -n 2 --oversubscribe "$@"; }
# Tensors the IL and DPO losses cannot move (attention key biases: softmax over keys; linear_2's
# bias: softmax over actions): their gradient is rounding noise, which AdamW turns into full steps.
GAUGE='key\.bias|linear_2\.bias'
"$BIN/goals" -q -s train -n 12 | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
il() { "$BIN/train-il" -q --config tiny --threads 1 --lr 1e-3 -b 8 --seed 5 --steps 20 "$@" "$T_TMP/tok.jsonl"; }

il -o "$T_TMP/one.ckpt" > "$T_TMP/one.metrics"
check "train-il, 2 ranks: runs, rank 0 alone writes 20 metrics records" bash -c "
  $(declare -f il mpi2); BIN='$BIN' T_TMP='$T_TMP'
  mpi2 \"\$BIN/train-il\" -q --config tiny --threads 1 --lr 1e-3 -b 8 --seed 5 --steps 20 -o '$T_TMP/two.ckpt' \
      '$T_TMP/tok.jsonl' > '$T_TMP/two.metrics' &&
  [ \$(wc -l < '$T_TMP/two.metrics') = 20 ] && python3 tests/validate.py --type metrics < '$T_TMP/two.metrics' &&
  jq -e 'select(.step == 20) | .ranks == 2 and .states == 8' '$T_TMP/two.metrics'"
check "train-il, 2 ranks: per-step loss as the 1-rank run's (mean over all 8 states)" python3 -c "
import json
a = [json.loads(l) for l in open('$T_TMP/one.metrics')]
b = [json.loads(l) for l in open('$T_TMP/two.metrics')]
assert len(a) == len(b) == 20
for x, y in zip(a, b):
    assert abs(x['loss'] - y['loss']) <= 1e-5 * max(1, abs(x['loss'])), (x, y)
    assert x['accuracy'] == y['accuracy'], (x, y)"
# Weights over 10 updates, not 20: the model's max (bi-attention) and ReLUs make a near-tie flip
# when the weights differ in the last bits, after which two runs part for good (the losses above
# stay within 1e-5). On these 12 goals the 3-rank run meets one at update 11 (gradient norms 2e-4
# apart there, 1e-7 before), the 2-rank run between updates 6 and 14 depending on the kernels'
# rounding (weights within 1e-6 at 10 updates, 1.3e-4 in one tensor at 20).
il --steps 10 -o "$T_TMP/one10.ckpt" > /dev/null
check "train-il, 2 ranks x 4 states = 1 rank x 8: weights within 1e-5 relative after 10 updates" bash -c "
  mpirun -n 2 --oversubscribe '$BIN/train-il' -q --config tiny --threads 1 --lr 1e-3 -b 8 --seed 5 --steps 10 \
      -o '$T_TMP/two10.ckpt' '$T_TMP/tok.jsonl' > /dev/null &&
  python3 tests/ckpt_diff.py '$T_TMP/one10.ckpt' '$T_TMP/two10.ckpt' --max-rel 1e-5 --ignore '$GAUGE'"
check "train-il, 3 ranks over batches of 8 (shards 3+3+2) match too (10 updates)" bash -c "
  mpirun -n 3 --oversubscribe '$BIN/train-il' -q --config tiny --threads 1 --lr 1e-3 -b 8 --seed 5 --steps 10 \
      -o '$T_TMP/three.ckpt' '$T_TMP/tok.jsonl' > /dev/null &&
  python3 tests/ckpt_diff.py '$T_TMP/one10.ckpt' '$T_TMP/three.ckpt' --max-rel 1e-5 --ignore '$GAUGE'"

oracle_pairs "$T_TMP/tok.jsonl" "$T_TMP/pairs.jsonl"
dpo() { "$BIN/train-dpo" -q --init "$T_TMP/one.ckpt" --ref "$T_TMP/one.ckpt" --threads 1 -b 8 --steps 10 --lr 1e-3 "$@" "$T_TMP/pairs.jsonl"; }
dpo -o "$T_TMP/dpo1.ckpt" > /dev/null
check "train-dpo, 2 ranks: weights within 1e-5 relative of the 1-rank run" bash -c "
  mpirun -n 2 --oversubscribe '$BIN/train-dpo' -q --init '$T_TMP/one.ckpt' --ref '$T_TMP/one.ckpt' --threads 1 -b 8 \
      --steps 10 --lr 1e-3 -o '$T_TMP/dpo2.ckpt' '$T_TMP/pairs.jsonl' > /dev/null &&
  python3 tests/ckpt_diff.py '$T_TMP/dpo1.ckpt' '$T_TMP/dpo2.ckpt' --max-rel 1e-5 --ignore '$GAUGE'"

# Metrics to a file: after SIGINT mpirun stops forwarding the ranks' stdout, and rank 0 would
# block writing metrics there until mpirun kills the job. It kills the ranks
# odls_base_sigkill_timeout seconds after its SIGTERM (1 by default): on a loaded machine, under
# the sanitizers, the update in progress and the save took longer and the run was lost.
mpirun -n 2 --oversubscribe --mca odls_base_sigkill_timeout 60 "$BIN/train-il" --config tiny --threads 1 -b 4 --steps 100000 -o "$T_TMP/int.ckpt" \
    --metrics "$T_TMP/int.metrics" "$T_TMP/tok.jsonl" > /dev/null 2> "$T_TMP/int.err" &
pid=$!
for _ in $(seq 50); do [ -n "$(find "$T_TMP" -name 'int.metrics*' -size +0c)" ] && break; sleep 0.2; done
kill -INT $pid; wait $pid
steps=$(wc -l < "$T_TMP/int.metrics")
if [ "$(grep -c "interrupted after update $steps: checkpoint saved to $T_TMP/int.ckpt.partial" "$T_TMP/int.err")" = 1 ] &&
   "$BIN/train-il" -q --threads 1 -b 4 --steps 100000 --stop-after 1 --resume "$T_TMP/int.ckpt.partial" -o "$T_TMP/int.ckpt" \
       "$T_TMP/tok.jsonl" > "$T_TMP/int2.metrics" && jq -e ".step == $((steps + 1))" "$T_TMP/int2.metrics" > /dev/null; then
    ok "SIGINT to mpirun: every rank stops after the same update, rank 0 saves, the run resumes"
else fail "SIGINT to mpirun saves a resumable checkpoint" "$(cat "$T_TMP/int.err")"; fi

"$BIN/goals" -q -s train -n 20 > "$T_TMP/goals.jsonl"
check "train-ppo, 2 ranks: each plays its own episodes, updates stay in step" bash -c "
  mpirun -n 2 --oversubscribe '$BIN/train-ppo' -q --init '$T_TMP/one.ckpt' --threads 1 --iterations 2 --rollouts 4 \
      --parallel 4 --ppo-epochs 2 --minibatches 3 --il-data '$T_TMP/tok.jsonl' -o '$T_TMP/ppo2.ckpt' \
      '$T_TMP/goals.jsonl' > '$T_TMP/ppo2.metrics' &&
  python3 tests/validate.py --type metrics < '$T_TMP/ppo2.metrics' &&
  jq -se '[.[] | select(.stage == \"rollout\")] | length == 2 and all(.episodes == 8)' '$T_TMP/ppo2.metrics' &&
  [ -s '$T_TMP/ppo2.ckpt' ]"
finish
