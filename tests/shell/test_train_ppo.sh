# train-ppo: a small on-policy run from a tiny IL checkpoint.
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "train-ppo" "no WebShop data at $WEBSHOP_DATA"; finish; fi
if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then skip "train-ppo" "no vocabulary: run make model"; finish; fi
"$BIN/goals" -q -s train -n 12 | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
"$BIN/train-il" -q --config tiny --threads 2 --lr 1e-3 -b 4 --steps 4 -o "$T_TMP/il.ckpt" "$T_TMP/tok.jsonl" > /dev/null
"$BIN/goals" -q -s train -n 30 > "$T_TMP/goals.jsonl"
ppo() { "$BIN/train-ppo" -q --init "$T_TMP/il.ckpt" --threads 2 --iterations 2 --rollouts 4 --parallel 4 --ppo-epochs 1 \
            --minibatches 2 --il-data "$T_TMP/tok.jsonl" "$@" "$T_TMP/goals.jsonl"; }
check "metrics and rollout log valid; the first update is on-policy (ratio 1)" bash -c "
  $(declare -f ppo); BIN='$BIN' T_TMP='$T_TMP'
  ppo -o '$T_TMP/p.ckpt' --rollout-log '$T_TMP/log.jsonl' > '$T_TMP/m.jsonl' &&
  python3 tests/validate.py --type metrics < '$T_TMP/m.jsonl' && python3 tests/validate.py --type trajectory < '$T_TMP/log.jsonl' &&
  [ \$(wc -l < '$T_TMP/log.jsonl') = 8 ] &&
  python3 -c '
import json
m = [json.loads(l) for l in open(\"$T_TMP/m.jsonl\")]
roll = [r for r in m if r[\"stage\"] == \"rollout\"]; upd = [r for r in m if r[\"stage\"] == \"ppo\"]
assert len(roll) == 2 and len(upd) == 4, (len(roll), len(upd))
assert abs(upd[0][\"approx_kl\"]) < 1e-5 and upd[0][\"clip_fraction\"] == 0, upd[0]
assert all(\"il_loss\" in u and u[\"entropy\"] > 0 for u in upd)
for l in open(\"$T_TMP/log.jsonl\"):
    t = json.loads(l)
    assert all(\"value\" in s and \"logp\" in s for s in t[\"steps\"])'"
check "same seed, same checkpoint bits" bash -c "
  $(declare -f ppo); BIN='$BIN' T_TMP='$T_TMP'
  ppo -o '$T_TMP/q.ckpt' > /dev/null && cmp '$T_TMP/p.ckpt' '$T_TMP/q.ckpt'"
check "--resume continues the iteration count: 1 iteration, then resumed to 2, equals 2 straight, bit for bit" bash -c "
  $(declare -f ppo); BIN='$BIN' T_TMP='$T_TMP'
  ppo --schedule constant --warmup 0 -o '$T_TMP/r2.ckpt' > /dev/null &&
  ppo --schedule constant --warmup 0 --iterations 1 -o '$T_TMP/r1.ckpt' > /dev/null &&
  ! cmp -s '$T_TMP/r1.ckpt' '$T_TMP/r2.ckpt' &&
  '$BIN/train-ppo' -q --resume '$T_TMP/r1.ckpt' --threads 2 --iterations 2 --rollouts 4 --parallel 4 --ppo-epochs 1 \
    --minibatches 2 --il-data '$T_TMP/tok.jsonl' --schedule constant --warmup 0 -o '$T_TMP/r1.ckpt' '$T_TMP/goals.jsonl' > '$T_TMP/r.jsonl' &&
  [ \$(grep -c '\"stage\": *\"rollout\"' '$T_TMP/r.jsonl') = 1 ] && cmp '$T_TMP/r1.ckpt' '$T_TMP/r2.ckpt'"
# The environment options are the trainers' shared ones: they shape the rollouts and the periodic
# evaluation alike, and a resumed run keeps them (an evaluation in text mode would judge a
# text_rich agent on pages it never saw).
check "--obs text_rich and --max-steps reach the rollouts; --resume keeps them" bash -c "
  $(declare -f ppo); BIN='$BIN' T_TMP='$T_TMP'
  ppo --iterations 1 --obs text_rich --max-steps 4 --rollout-log '$T_TMP/rich.jsonl' -o '$T_TMP/rich.ckpt' > /dev/null &&
  '$BIN/train-ppo' -q --resume '$T_TMP/rich.ckpt' --threads 2 --iterations 2 --rollouts 4 --parallel 4 --ppo-epochs 1 \
    --minibatches 2 --il-data '$T_TMP/tok.jsonl' --rollout-log '$T_TMP/rich2.jsonl' -o '$T_TMP/rich.ckpt' '$T_TMP/goals.jsonl' > /dev/null &&
  for f in rich rich2; do
    jq -e 'all(.steps[]; .obs | contains(\"[button]\")) and .n_steps <= 4' '$T_TMP/'\$f.jsonl > /dev/null || exit 1
  done"
check "--mark-chosen is a setting of the run: the checkpoint records it, a run without it records 0" bash -c "
  $(declare -f ppo); BIN='$BIN' T_TMP='$T_TMP'
  ppo --iterations 1 --obs text_rich --mark-chosen -o '$T_TMP/marked.ckpt' > /dev/null &&
  python3 -c '
import json, struct, sys
def settings(path):
    with open(path, \"rb\") as f:
        (n,) = struct.unpack(\"<Q\", f.read(8))
        return json.loads(json.loads(f.read(n))[\"__metadata__\"][\"settings\"])
assert settings(sys.argv[1])[\"mark-chosen\"] == 1 and settings(sys.argv[2])[\"mark-chosen\"] == 0
' '$T_TMP/marked.ckpt' '$T_TMP/rich.ckpt'"
check "--eval-goals plays with --obs and --catalog-seed (train-il)" bash -c "
  '$BIN/goals' -q -s test -n 4 --seed 7 > '$T_TMP/eval7.jsonl' &&
  ! '$BIN/train-il' -q --init '$T_TMP/il.ckpt' --threads 2 --steps 1 --eval-goals '$T_TMP/eval7.jsonl' --eval-n 4 \
      -o '$T_TMP/e.ckpt' '$T_TMP/tok.jsonl' > /dev/null 2>&1 &&
  '$BIN/train-il' -q --init '$T_TMP/il.ckpt' --threads 2 --steps 1 --eval-goals '$T_TMP/eval7.jsonl' --eval-n 4 \
      --catalog-seed 7 --obs text_rich -o '$T_TMP/e.ckpt' '$T_TMP/tok.jsonl' | grep -q '\"stage\": *\"eval\"'"
# The periodic evaluation plays in inference mode (bf16: the actions' encodings kept while it
# lasts) and goes back to training: the updates must not see it.
for math in fp32 bf16; do
    if [ $math = bf16 ] && ! grep -qw avx512_bf16 /proc/cpuinfo; then
        skip "--eval-goals leaves the training as it was ($math)" "no AVX512_BF16"; continue
    fi
    check "--eval-goals leaves the training as it was ($math): the same weights, bit for bit" bash -c "
      il() { '$BIN/train-il' -q --init '$T_TMP/il.ckpt' --threads 2 --steps 4 --cpu-math $math \"\$@\" '$T_TMP/tok.jsonl'; }
      il -o '$T_TMP/plain-$math.ckpt' > /dev/null &&
      il --eval-goals '$T_TMP/eval7.jsonl' --eval-n 4 --eval-every 2 --catalog-seed 7 --obs text_rich \
        -o '$T_TMP/evald-$math.ckpt' | [ \$(grep -c '\"stage\": *\"eval\"') = 2 ] &&
      python3 tests/ckpt_diff.py '$T_TMP/plain-$math.ckpt' '$T_TMP/evald-$math.ckpt' --max-rel 0"
done
check "--il-data: says how many single-action decisions it leaves out" bash -c "
  '$BIN/train-ppo' --init '$T_TMP/il.ckpt' --threads 2 --iterations 1 --rollouts 2 --parallel 2 --ppo-epochs 1 \
    --minibatches 1 --il-data '$T_TMP/tok.jsonl' -o '$T_TMP/w.ckpt' '$T_TMP/goals.jsonl' 2>&1 > /dev/null |
  grep -q -- '--il-data: [0-9]* decision(s) with a single valid action left out'"
expect_error "--valid is refused, not ignored" 2 "--valid is for train-il and train-dpo" "$BIN/train-ppo" -q --init "$T_TMP/il.ckpt" --valid x -o "$T_TMP/x.ckpt"
expect_error "--steps, -b and --oversample are refused, not ignored" 2 "--steps does not apply to train-ppo: its updates are --iterations" "$BIN/train-ppo" --steps 5 -o "$T_TMP/never.ckpt"
expect_error "no goals" 1 "no goals to play|no records" bash -c "'$BIN/train-ppo' -q --init '$T_TMP/il.ckpt' -o '$T_TMP/x.ckpt' < /dev/null"
finish
