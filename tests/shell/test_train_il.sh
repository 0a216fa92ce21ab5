# train-il: determinism, resume, interruption, metrics, bad inputs; rollout --model on the result.
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "train-il on oracle trajectories" "no WebShop data at $WEBSHOP_DATA"; finish; fi
if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then skip "train-il" "no vocabulary: run make model"; finish; fi
T=$BIN/train-il
"$BIN/goals" -q -s train -n 12 | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
run() { "$T" -q --config tiny --threads 2 --lr 1e-3 -b 4 --seed 5 "$@" "$T_TMP/tok.jsonl"; }

check "same seed and threads: bit-identical checkpoints and optimiser state" bash -c "
  $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --steps 6 -o '$T_TMP/a.ckpt' > '$T_TMP/a.metrics' && run --steps 6 -o '$T_TMP/b.ckpt' > /dev/null &&
  cmp '$T_TMP/a.ckpt' '$T_TMP/b.ckpt' && cmp '$T_TMP/a.ckpt.optim' '$T_TMP/b.ckpt.optim'"
# --cpu-math bf16: products with bf16 inputs and fp32 sums (lib/model/gemm_bf16), whose sums run in
# one order on any thread count; the rest of the step is fp32. Its losses stay within 2% of fp32's.
if grep -qw avx512_bf16 /proc/cpuinfo; then
    check "--cpu-math bf16: the same bits twice and on 1 and 2 threads; losses within 2% of fp32's" bash -c "
      $(declare -f run); T='$T' T_TMP='$T_TMP'
      run --steps 6 --cpu-math bf16 -o '$T_TMP/h.ckpt' > '$T_TMP/h.metrics' &&
      run --steps 6 --cpu-math bf16 -o '$T_TMP/h2.ckpt' > /dev/null &&
      \"\$T\" -q --config tiny --threads 1 --lr 1e-3 -b 4 --seed 5 --steps 6 --cpu-math bf16 -o '$T_TMP/h1.ckpt' \
          '$T_TMP/tok.jsonl' > /dev/null &&
      cmp '$T_TMP/h.ckpt' '$T_TMP/h2.ckpt' && cmp '$T_TMP/h.ckpt.optim' '$T_TMP/h2.ckpt.optim' &&
      cmp '$T_TMP/h.ckpt' '$T_TMP/h1.ckpt' && cmp '$T_TMP/h.ckpt.optim' '$T_TMP/h1.ckpt.optim' &&
      ! cmp -s '$T_TMP/h.ckpt' '$T_TMP/a.ckpt' &&
      jq -n -e --slurpfile f '$T_TMP/a.metrics' --slurpfile h '$T_TMP/h.metrics' \
          '[range(\$f | length) as \$i | (\$h[\$i].loss - \$f[\$i].loss) / \$f[\$i].loss | fabs] | max < 0.02'"
else
    expect_error "--cpu-math bf16 on a CPU without AVX512_BF16: exit 1, with the reason" 1 "lacks AVX512_BF16" \
        "$T" -q --config tiny --cpu-math bf16 --steps 1 -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
fi
check "--cpu-math auto: bf16's bits where the CPU has AVX512_BF16, else fp32's" bash -c "
  $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --steps 6 --cpu-math auto -o '$T_TMP/auto.ckpt' > /dev/null &&
  if grep -qw avx512_bf16 /proc/cpuinfo; then cmp '$T_TMP/auto.ckpt' '$T_TMP/h.ckpt'; else cmp '$T_TMP/auto.ckpt' '$T_TMP/a.ckpt'; fi"
check "--cpu-math auto without -q: stderr says what the products run as (and why fp32)" bash -c "
  '$T' --config tiny --threads 2 --lr 1e-3 -b 4 --seed 5 --steps 1 --cpu-math auto -o '$T_TMP/said.ckpt' \
      --metrics '$T_TMP/said.metrics' '$T_TMP/tok.jsonl' 2> '$T_TMP/said.err' &&
  if grep -qw avx512_bf16 /proc/cpuinfo; then grep -q 'train-il: --cpu-math auto: products in bf16 (' '$T_TMP/said.err'
  else grep -q 'train-il: --cpu-math auto: products in fp32 ([^)]*): this CPU lacks AVX512_BF16' '$T_TMP/said.err'; fi"
expect_error "--cpu-math with an unknown name: exit 1" 1 "--cpu-math fp8: not fp32, bf16 or auto" \
    "$T" -q --config tiny --cpu-math fp8 --steps 1 -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
check "metrics records match the schema, one per update" bash -c "
  [ \$(wc -l < '$T_TMP/a.metrics') = 6 ] && python3 tests/validate.py --type metrics < '$T_TMP/a.metrics'"
check "a run in two slices (--stop-after, --resume CKPT.partial) equals the straight run, bit for bit" bash -c "
  $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --steps 6 --stop-after 3 -o '$T_TMP/c.ckpt' > /dev/null && [ ! -e '$T_TMP/c.ckpt' ] &&
  \"\$T\" -q --threads 2 --lr 1e-3 -b 4 --steps 6 --resume '$T_TMP/c.ckpt.partial' -o '$T_TMP/c.ckpt' '$T_TMP/tok.jsonl' > /dev/null &&
  cmp '$T_TMP/a.ckpt' '$T_TMP/c.ckpt' && [ ! -e '$T_TMP/c.ckpt.partial' ] && [ ! -e '$T_TMP/c.ckpt.partial.optim' ]"
# --resume restores the run's settings; the metrics file goes on. Timings aside, the resumed
# run's records and checkpoint are the straight run's.
run_s() { "$T" -q --config tiny --threads 2 --seed 5 --lr 2e-3 --head-lr 4e-3 -b 3 --warmup 2 --schedule cosine \
    --min-lr 1e-4 --clip 0.5 --weight-decay 0.05 --oversample option=2 "$@" "$T_TMP/tok.jsonl"; }
untimed() { jq -c 'del(.elapsed_s, .tokens_per_s, .states_per_s)' "$1"; }
check "--resume without the options: the checkpoint's settings, the straight run's bits, the metrics file appended" bash -c "
  $(declare -f run_s untimed); T='$T' T_TMP='$T_TMP'
  run_s --steps 8 --metrics '$T_TMP/s.metrics' -o '$T_TMP/s.ckpt' &&
  run_s --steps 8 --stop-after 3 --metrics '$T_TMP/r.metrics' -o '$T_TMP/r.ckpt' 2> /dev/null &&
  \"\$T\" -q --threads 2 --resume '$T_TMP/r.ckpt.partial' --metrics '$T_TMP/r.metrics' -o '$T_TMP/r.ckpt' '$T_TMP/tok.jsonl' 2> '$T_TMP/r.err' &&
  cmp '$T_TMP/s.ckpt' '$T_TMP/r.ckpt' && [ ! -s '$T_TMP/r.err' ] && diff <(untimed '$T_TMP/s.metrics') <(untimed '$T_TMP/r.metrics')"
check "--resume with an option given again: it overrides the checkpoint's, said on stderr" bash -c "
  $(declare -f run_s); T='$T' T_TMP='$T_TMP'
  run_s --steps 8 --stop-after 3 -o '$T_TMP/o.ckpt' > /dev/null 2>&1 &&
  \"\$T\" -q --threads 2 --resume '$T_TMP/o.ckpt.partial' --lr 5e-4 --seed 9 -o '$T_TMP/o.ckpt' '$T_TMP/tok.jsonl' 2> '$T_TMP/o.err' > '$T_TMP/o.metrics' &&
  grep -q -- \"--lr 0.0005 overrides the checkpoint's 0.002\" '$T_TMP/o.err' && grep -q -- '--seed 9 ignored' '$T_TMP/o.err' &&
  [ \$(wc -l < '$T_TMP/o.err') = 2 ] && jq -s -e 'length == 5 and .[-1].step == 8' '$T_TMP/o.metrics' > /dev/null"
"$T" -q --config tiny --threads 1 -b 2 --steps 100000 -o "$T_TMP/i.ckpt" "$T_TMP/tok.jsonl" > "$T_TMP/i.metrics" 2> "$T_TMP/i.err" &
pid=$!
for _ in $(seq 50); do [ -s "$T_TMP/i.metrics" ] && break; sleep 0.2; done
kill -INT $pid; wait $pid; status=$?
# the target exists only for a complete run: an interrupted one is CKPT.partial
if [ "$status" -eq 130 ] && grep -q "checkpoint saved to $T_TMP/i.ckpt.partial" "$T_TMP/i.err" && [ ! -e "$T_TMP/i.ckpt" ] &&
   "$T" -q --threads 1 -b 2 --steps 100000 --stop-after 1 --resume "$T_TMP/i.ckpt.partial" -o "$T_TMP/i.ckpt" "$T_TMP/tok.jsonl" > /dev/null; then
    ok "SIGINT: exit 130, CKPT.partial saved (no CKPT), the run resumes from it"
else fail "SIGINT saves a resumable CKPT.partial, not CKPT" "status $status" "$(cat "$T_TMP/i.err")" "$(ls "$T_TMP")"; fi
# SIGKILL cannot be caught: what survives is the last periodic save (--save-minutes, 10 by default)
"$T" -q --config tiny --threads 1 -b 2 --steps 100000 --save-minutes 0.005 -o "$T_TMP/k.ckpt" "$T_TMP/tok.jsonl" > "$T_TMP/k.metrics" &
pid=$!
for _ in $(seq 100); do [ -e "$T_TMP/k.ckpt.partial" ] && break; sleep 0.1; done
sleep 0.5; kill -KILL $pid; wait $pid 2> /dev/null
check "SIGKILL: the periodic save (--save-minutes) is left in CKPT.partial, and resumes" bash -c "
  [ ! -e '$T_TMP/k.ckpt' ] && '$T' -q --threads 1 -b 2 --steps 100000 --stop-after 1 --resume '$T_TMP/k.ckpt.partial' \
      -o '$T_TMP/k.ckpt' '$T_TMP/tok.jsonl' > '$T_TMP/k2.metrics' && jq -e '.step > 1' '$T_TMP/k2.metrics' > /dev/null"

"$T" --config tiny --threads 1 -b 2 --steps 100000 -o "$T_TMP/hup.ckpt" "$T_TMP/tok.jsonl" > "$T_TMP/hup.metrics" 2> "$T_TMP/hup.err" &
pid=$!
for _ in $(seq 50); do [ -s "$T_TMP/hup.metrics" ] && break; sleep 0.2; done
kill -HUP $pid; wait $pid; status=$?
[ "$status" -eq 129 ] && grep -q "checkpoint saved to $T_TMP/hup.ckpt.partial" "$T_TMP/hup.err" && ok "SIGHUP: exit 129, checkpoint saved, as on SIGTERM" ||
    fail "SIGHUP: exit 129, checkpoint saved" "status $status" "$(cat "$T_TMP/hup.err")"

check "rollout --model: trajectories with log-probs and values" bash -c "
  '$BIN/goals' -q -s test -n 4 | '$BIN/rollout' -q -m '$T_TMP/a.ckpt' --parallel 3 --temperature 1 --seed 2 > '$T_TMP/m.jsonl' &&
  python3 tests/validate.py --type trajectory < '$T_TMP/m.jsonl' &&
  python3 -c '
import json
n = 0
for l in open(\"$T_TMP/m.jsonl\"):
    t = json.loads(l); n += 1
    assert t[\"policy\"].endswith(\"a.ckpt\")
    scored = [s for s in t[\"steps\"] if \"logp\" in s]
    assert scored and all(s[\"logp\"] <= 0 for s in scored)
assert n == 4'"
# Same seed and --parallel: the same bytes. Another --parallel packs other batches, so matrix
# products may round differently in the last bit: the same episodes, log-probs within 1e-5.
check "rollout --model: same seed same bytes; other --parallel, same episodes" bash -c "
  '$BIN/goals' -q -s test -n 4 | '$BIN/rollout' -q -m '$T_TMP/a.ckpt' --parallel 3 --temperature 1 --seed 2 | cmp - '$T_TMP/m.jsonl' &&
  '$BIN/goals' -q -s test -n 4 | '$BIN/rollout' -q -m '$T_TMP/a.ckpt' --parallel 1 --temperature 1 --seed 2 > '$T_TMP/m1.jsonl' &&
  python3 -c '
import json
for x, y in zip(map(json.loads, open(\"$T_TMP/m.jsonl\")), map(json.loads, open(\"$T_TMP/m1.jsonl\"))):
    assert x[\"reward\"] == y[\"reward\"] and len(x[\"steps\"]) == len(y[\"steps\"])
    for s, t in zip(x[\"steps\"], y[\"steps\"]):
        assert s[\"action\"] == t[\"action\"] and abs(s.get(\"logp\", 0) - t.get(\"logp\", 0)) < 1e-5'"

run --steps 5 --eval-every 2 --valid "$T_TMP/tok.jsonl" -o "$T_TMP/v.ckpt" > "$T_TMP/v.metrics"
n_choices=$(jq -s 'map(select((.actions | length) > 1)) | length' "$T_TMP/tok.jsonl")
check "--valid: held-out metrics at the start, every --eval-every updates and at the end" python3 -c "
import json, subprocess
subprocess.run(['python3', 'tests/validate.py', '--type', 'metrics'], stdin=open('$T_TMP/v.metrics'), check=True)
v = [r for r in map(json.loads, open('$T_TMP/v.metrics')) if r['stage'] == 'valid']
assert [r['step'] for r in v] == [0, 2, 4, 5], v
assert all(r['of'] == 'il' and r['states'] == $n_choices and r['loss'] > 0 and 0 <= r['accuracy'] <= 1 for r in v), v"
check "--valid with a learning rate of 0: the same loss before and after" bash -c "
  $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --steps 2 --lr 0 --weight-decay 0 --valid '$T_TMP/tok.jsonl' -o '$T_TMP/z.ckpt' |
    jq -s -e 'map(select(.stage == \"valid\") | .loss) | length == 2 and .[0] == .[1]' > /dev/null"
jq -c 'select((.actions | length) == 1)' "$T_TMP/tok.jsonl" > "$T_TMP/forced.jsonl"
"$T" --config tiny --threads 1 --steps 1 -o "$T_TMP/f.ckpt" "$T_TMP/tok.jsonl" "$T_TMP/forced.jsonl" 2> "$T_TMP/f.err" > /dev/null
grep -q "$(( $(wc -l < "$T_TMP/forced.jsonl") * 2 )) decision(s) with a single valid action left out" "$T_TMP/f.err" &&
    ok "decisions with a single valid action are left out, and said so" ||
    fail "decisions with a single valid action are left out" "$(cat "$T_TMP/f.err")"
expect_error "data of single-action decisions only: nothing to learn, refused" 1 "no records to learn from" \
    "$T" -q --config tiny -o "$T_TMP/x.ckpt" "$T_TMP/forced.jsonl"

"$BIN/goals" -q -s test -n 6 | "$BIN/rollout" -q -p oracle > "$T_TMP/held-out.jsonl"
check "scripts/decision_accuracy.sh: a row per kind of decision, every non-search state counted once" bash -c "
  BIN='$BIN' scripts/decision_accuracy.sh '$T_TMP/a.ckpt' '$T_TMP/held-out.jsonl' > '$T_TMP/kinds.md' &&
  [ \$(grep -cE '^\| (results|option|buy|navigation) \|' '$T_TMP/kinds.md') = 4 ] &&
  [ \$(awk -F'|' 'NR > 2 { n += \$3 } END { print n }' '$T_TMP/kinds.md') = \
    \$(jq '[.steps[] | select(.action | startswith(\"search[\") | not)] | length' '$T_TMP/held-out.jsonl' | paste -sd+ | bc) ]"

check "--valid by kind: each kind's means are those of its decisions alone, and the kinds add up" bash -c "
  '$BIN/tokenize' -q '$T_TMP/held-out.jsonl' > '$T_TMP/held-out.tok' &&
  '$T' -q --init '$T_TMP/a.ckpt' --steps 0 --threads 1 --valid '$T_TMP/held-out.tok' -o '$T_TMP/k.ckpt' '$T_TMP/held-out.tok' |
    jq -c 'select(.stage == \"valid\")' > '$T_TMP/all.valid' &&
  jq -e '(.by_kind | keys | length) >= 3 and ([.by_kind[].states] | add) == .states' '$T_TMP/all.valid' > /dev/null &&
  for kind in results option buy; do
    jq -c --arg k \$kind 'select(.kind == \$k)' '$T_TMP/held-out.tok' > '$T_TMP/one.tok' &&
    '$T' -q --init '$T_TMP/a.ckpt' --steps 0 --threads 1 --valid '$T_TMP/one.tok' -o '$T_TMP/k.ckpt' '$T_TMP/one.tok' |
      jq -c 'select(.stage == \"valid\") | {states, loss, accuracy}' > '$T_TMP/one.valid' &&
    [ \"\$(jq -c --arg k \$kind '.by_kind[\$k]' '$T_TMP/all.valid')\" = \"\$(cat '$T_TMP/one.valid')\" ] || exit 1
  done"

# --oversample: an epoch visits each option decision N times (more updates per epoch);
# --head-lr 0: the head's tensors keep their initial values while the encoder learns.
n_all=$(jq -s 'map(select((.actions | length) > 1)) | length' "$T_TMP/tok.jsonl")
n_opt=$(jq -s 'map(select((.actions | length) > 1 and .kind == "option")) | length' "$T_TMP/tok.jsonl")
check "--oversample option=3: each option decision visited 3 times an epoch" bash -c "
  [ $n_opt -gt 0 ] && $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --epochs 1 --oversample option=3 -o '$T_TMP/os.ckpt' > '$T_TMP/os.metrics' &&
  [ \$(grep -c '\"stage\":\"il\"' '$T_TMP/os.metrics') = $(( (n_all + 2 * n_opt + 3) / 4 )) ]"
n_res=$(jq -s 'map(select((.actions | length) > 1 and .kind == "results")) | length' "$T_TMP/tok.jsonl")
check "by default each option and each results-page decision is visited twice an epoch; --oversample replaces that whole" bash -c "
  [ $n_res -gt 0 ] && $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --epochs 1 -o '$T_TMP/os.ckpt' > '$T_TMP/os.metrics' &&
  [ \$(grep -c '\"stage\":\"il\"' '$T_TMP/os.metrics') = $(( (n_all + n_opt + n_res + 3) / 4 )) ] &&
  run --epochs 1 --oversample buy=1 -o '$T_TMP/os.ckpt' > '$T_TMP/os.metrics' &&
  [ \$(grep -c '\"stage\":\"il\"' '$T_TMP/os.metrics') = $(( (n_all + 3) / 4 )) ]"
jq -c 'del(.kind)' "$T_TMP/tok.jsonl" > "$T_TMP/nokind.jsonl"
expect_error "--oversample on records without a kind: refused, saying why" 1 "do not say their decision" \
    "$T" -q --config tiny --oversample option=2 -o "$T_TMP/x.ckpt" "$T_TMP/nokind.jsonl"
expect_error "--oversample with an unknown kind: usage error" 2 "--oversample: expected KIND=N" \
    "$T" -q --config tiny --oversample options=2 -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
# What shapes a new model is refused for a checkpoint's (it keeps its own config); item titles are on
# for new models and recorded in the checkpoint's config.
expect_error "--item-titles with --init: usage error" 2 "--item-titles shapes a new model" \
    "$T" -q --init "$T_TMP/os.ckpt" --item-titles no -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
check "new models record item titles in their config (on by default, off with --item-titles no)" bash -c "
  $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --steps 0 --item-titles no -o '$T_TMP/nt.ckpt' > /dev/null &&
  python3 -c '
import json, struct
def config(path):
    b = open(path, \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]
    return json.loads(json.loads(b[8:8 + n])[\"__metadata__\"][\"config\"])
assert config(\"$T_TMP/os.ckpt\")[\"item_titles\"] is True
assert config(\"$T_TMP/nt.ckpt\")[\"item_titles\"] is False'"
check "--head-lr 0: the head keeps its initial weights, the encoder moves" bash -c "
  $(declare -f run); T='$T' T_TMP='$T_TMP'
  run --steps 0 -o '$T_TMP/h0.ckpt' > /dev/null && run --steps 3 --warmup 0 --head-lr 0 -o '$T_TMP/h3.ckpt' > /dev/null &&
  python3 -c '
import json, struct
def tensors(path):
    b = open(path, \"rb\").read(); n = struct.unpack(\"<Q\", b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v[\"data_offsets\"][0]:8 + n + v[\"data_offsets\"][1]] for k, v in h.items() if k != \"__metadata__\"}
a, b = tensors(\"$T_TMP/h0.ckpt\"), tensors(\"$T_TMP/h3.ckpt\")
head = [k for k in a if not k.startswith((\"embeddings.\", \"encoder.\"))]
assert head and all(a[k] == b[k] for k in head), head
assert any(a[k] != b[k] for k in a if k.startswith(\"encoder.\"))'"

# A damaged checkpoint is refused by every reader (here rollout and --resume), naming it: a
# flipped byte in the tensor data (its checksum), a NaN weight (with the checksum made to match).
python3 -c "
import hashlib, json, struct, sys
b = bytearray(open('$T_TMP/a.ckpt', 'rb').read()); n = struct.unpack('<Q', b[:8])[0]
b[-3] ^= 0x01; open('$T_TMP/flip.ckpt', 'wb').write(b); b[-3] ^= 0x01
h = json.loads(b[8:8 + n]); t = h['linear_2.weight']['data_offsets']
b[8 + n + t[0]:8 + n + t[0] + 4] = struct.pack('<f', float('nan'))
old = h['__metadata__']['data_sha256'].encode(); new = hashlib.sha256(b[8 + n:]).hexdigest().encode()
b[:8 + n] = b[:8 + n].replace(old, new); open('$T_TMP/nan.ckpt', 'wb').write(b)"
expect_error "a flipped byte in the tensor data: refused (checksum), naming the file" 1 "flip.ckpt: the tensor data does not match its checksum" \
    bash -c "'$BIN/goals' -q -s test -n 1 | '$BIN/rollout' -q -m '$T_TMP/flip.ckpt'"
expect_error "a NaN weight: refused, naming the file and the tensor" 1 "nan.ckpt: tensor 'linear_2.weight' holds a NaN or infinite value" \
    bash -c "'$BIN/goals' -q -s test -n 1 | '$BIN/rollout' -q -m '$T_TMP/nan.ckpt'"
cp "$T_TMP/a.ckpt.optim" "$T_TMP/flip.ckpt.optim"
expect_error "--resume of a damaged checkpoint: refused" 1 "flip.ckpt: the tensor data does not match" \
    "$T" -q --resume "$T_TMP/flip.ckpt" -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
head -c 300 "$T_TMP/a.ckpt" > "$T_TMP/trunc.ckpt"
expect_error "a truncated checkpoint is refused with its name" 1 "trunc.ckpt" "$T" -q --resume "$T_TMP/trunc.ckpt" -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
python3 -c "
import json
for l in open('$T_TMP/tok.jsonl'):
    r = json.loads(l); r.pop('target'); print(json.dumps(r)); break" > "$T_TMP/notarget.jsonl"
expect_error "tokens without a target name file and line" 1 "notarget.jsonl:1: no \"target\"" "$T" -q --config tiny -o "$T_TMP/x.ckpt" "$T_TMP/notarget.jsonl"
# Outputs and inputs are checked before the first update: no metrics record, nothing trained.
expect_error "-o in a missing directory: refused before the first update" 1 "nodir/x.ckpt: cannot write the checkpoint" \
    "$T" --config tiny --steps 2 -o "$T_TMP/nodir/x.ckpt" "$T_TMP/tok.jsonl"
[ ! -s "$T_TMP/ee.out" ] && ok "-o in a missing directory: no update run" || fail "-o in a missing directory: no update run" "$(head -c 300 "$T_TMP/ee.out")"
python3 -c "
import json
r = json.loads(open('$T_TMP/tok.jsonl').readline()); r['state'] = r['state'] * (600 // len(r['state']) + 1)
print(open('$T_TMP/tok.jsonl').readline().strip()); print(json.dumps(r))" > "$T_TMP/long.jsonl"
expect_error "a state longer than the model's positions: refused at loading, naming file and line" 1 \
    "long.jsonl:2: \"state\" has [0-9]+ tokens, more than the model's 512 positions" \
    "$T" --config tiny --steps 2 -o "$T_TMP/x.ckpt" "$T_TMP/long.jsonl"
[ ! -s "$T_TMP/ee.out" ] && ok "a state too long: no update run" || fail "a state too long: no update run" "$(head -c 300 "$T_TMP/ee.out")"
expect_error "-o is required" 2 "-o CKPT is required" "$T" --config tiny
[ ! -e "$T_TMP/x.ckpt" ] && ok "failed runs leave no checkpoint" || fail "failed runs leave no checkpoint"
finish
