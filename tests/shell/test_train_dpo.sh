# train-dpo on pairs derived from tokenized oracle steps; the first update starts at the reference.
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "train-dpo" "no WebShop data at $WEBSHOP_DATA"; finish; fi
if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then skip "train-dpo" "no vocabulary: run make model"; finish; fi
"$BIN/goals" -q -s train -n 12 | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
"$BIN/train-il" -q --config tiny --threads 2 --lr 1e-3 -b 4 --steps 4 -o "$T_TMP/il.ckpt" "$T_TMP/tok.jsonl" > /dev/null
oracle_pairs "$T_TMP/tok.jsonl" "$T_TMP/pairs.jsonl"
D=$BIN/train-dpo
check "first update at the reference: loss log 2, margin 0, kl 0; metrics valid" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 3 --lr 1e-3 --beta 0.5 \
      -o '$T_TMP/dpo.ckpt' '$T_TMP/pairs.jsonl' > '$T_TMP/m.jsonl' &&
  python3 tests/validate.py --type metrics < '$T_TMP/m.jsonl' &&
  python3 -c '
import json, math
m = [json.loads(l) for l in open(\"$T_TMP/m.jsonl\")]
assert len(m) == 3 and m[0][\"stage\"] == \"dpo\"
assert abs(m[0][\"loss\"] - math.log(2)) < 1e-5 and abs(m[0][\"margin\"]) < 1e-5 and abs(m[0][\"kl\"]) < 1e-6, m[0]
assert all(k in m[-1] for k in (\"accuracy\", \"reward_chosen\", \"reward_rejected\", \"tokens_per_s\"))'"
check "reference log-probs from the records give the same run as --ref" bash -c "
  python3 -c '
import json
for l in open(\"$T_TMP/pairs.jsonl\"):
    r = json.loads(l); r[\"ref_logp_chosen\"] = 0.0; r[\"ref_logp_rejected\"] = 0.0; print(json.dumps(r))' > '$T_TMP/pairs-ref.jsonl' &&
  '$D' -q --init '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 2 -o '$T_TMP/dpo2.ckpt' '$T_TMP/pairs-ref.jsonl' > /dev/null"
# Records naming their reference (pair-prefs --ref-logps writes ref_sha256, tokenize carries it).
IL_SHA=$(python3 -c '
import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(json.loads(f.read(n))["__metadata__"]["data_sha256"])' "$T_TMP/il.ckpt")
name_ref() {  # name_ref SHA_OF_FIRST SHA_OF_THE_REST < pairs-ref.jsonl
    python3 -c '
import json, sys
for i, l in enumerate(sys.stdin):
    r = json.loads(l); r["ref_sha256"] = sys.argv[1] if i == 0 else sys.argv[2]; print(json.dumps(r))' "$@"
}
name_ref "$IL_SHA" "$IL_SHA" < "$T_TMP/pairs-ref.jsonl" > "$T_TMP/pairs-same.jsonl"
name_ref "$(printf '0%.0s' $(seq 64))" "$(printf '0%.0s' $(seq 64))" < "$T_TMP/pairs-ref.jsonl" > "$T_TMP/pairs-other.jsonl"
name_ref "$IL_SHA" "$(printf '0%.0s' $(seq 64))" < "$T_TMP/pairs-ref.jsonl" > "$T_TMP/pairs-mixed.jsonl"
check "pairs whose reference is --init's checkpoint: no warning" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 1 -o '$T_TMP/dpo3.ckpt' '$T_TMP/pairs-same.jsonl' > /dev/null 2> '$T_TMP/same.err' &&
  ! grep -q 'reference' '$T_TMP/same.err'"
check "pairs of another reference than --init: trained, with a warning naming both checksums" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 1 -o '$T_TMP/dpo4.ckpt' '$T_TMP/pairs-other.jsonl' > /dev/null 2> '$T_TMP/other.err' &&
  grep -q \"train-dpo: the pairs' reference log-probabilities come from another checkpoint (ref_sha256 000000000000...) than --init (data_sha256 ${IL_SHA:0:12}...)\" '$T_TMP/other.err'"
check "--ref is what the pairs' reference is compared with" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 1 -o '$T_TMP/dpo5.ckpt' '$T_TMP/pairs-other.jsonl' > /dev/null 2> '$T_TMP/ref.err' &&
  grep -q 'than --ref (data_sha256' '$T_TMP/ref.err'"
expect_error "pairs of two references are refused with file and line" 1 \
    "pairs-mixed.jsonl:2: reference log-probabilities of another checkpoint \(ref_sha256 000000000000\.\.\.\) than the records before" \
    "$D" -q --init "$T_TMP/il.ckpt" --threads 2 -b 4 --steps 1 -o "$T_TMP/x.ckpt" "$T_TMP/pairs-mixed.jsonl"
check "same seed, same bits" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 3 --lr 1e-3 --beta 0.5 \
      -o '$T_TMP/dpo-b.ckpt' '$T_TMP/pairs.jsonl' > /dev/null && cmp '$T_TMP/dpo.ckpt' '$T_TMP/dpo-b.ckpt'"
check "--nll-coef: the first update's loss is log 2 plus X times the chosen NLL, which the IL model has" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 2 --lr 1e-3 --beta 0.5 --nll-coef 2 \
      -o '$T_TMP/rpo.ckpt' '$T_TMP/pairs.jsonl' > '$T_TMP/rpo.jsonl' &&
  python3 -c '
import json, math
m = [json.loads(l) for l in open(\"$T_TMP/rpo.jsonl\")]
assert m[0][\"nll\"] > 0 and abs(m[0][\"loss\"] - (math.log(2) + 2 * m[0][\"nll\"])) < 1e-5, m[0]'"
check "--valid: held-out pairs at the reference score loss log 2 and margin 0" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 4 --steps 1 --valid '$T_TMP/pairs.jsonl' \
      -o '$T_TMP/dpo-v.ckpt' '$T_TMP/pairs.jsonl' | jq -s -e --argjson n \$(wc -l < '$T_TMP/pairs.jsonl') '
    map(select(.stage == \"valid\")) | length == 2 and .[0].step == 0 and .[0].states == \$n and .[0].of == \"dpo\" and
    (.[0].loss - 0.6931471805599453 | fabs) < 1e-5 and (.[0].margin | fabs) < 1e-5 and .[1].step == 1' > /dev/null"
check "--resume without the options: --beta, --nll-coef and the schedule come from the checkpoint" bash -c "
  dpo() { '$D' -q --ref '$T_TMP/il.ckpt' --threads 2 \"\$@\" '$T_TMP/pairs.jsonl' > /dev/null; }
  dpo --init '$T_TMP/il.ckpt' -b 3 --steps 5 --lr 2e-3 --beta 0.3 --nll-coef 1.5 -o '$T_TMP/ds.ckpt' &&
  dpo --init '$T_TMP/il.ckpt' -b 3 --steps 5 --lr 2e-3 --beta 0.3 --nll-coef 1.5 --stop-after 2 -o '$T_TMP/dr.ckpt' 2> /dev/null &&
  dpo --resume '$T_TMP/dr.ckpt.partial' -o '$T_TMP/dr.ckpt' && cmp '$T_TMP/ds.ckpt' '$T_TMP/dr.ckpt'"
# Anchors: the oracle-labelled states (here the trajectories' own tokens) mixed with the pairs.
check "--anchors: a batch's loss is the mean over its records of DPO (pairs) and X times the NLL (anchors)" bash -c "
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 6 --steps 3 --lr 1e-3 --beta 0.5 \
      --anchors '$T_TMP/tok.jsonl' --anchor-coef 2 -o '$T_TMP/anc.ckpt' '$T_TMP/pairs.jsonl' > '$T_TMP/anc.jsonl' &&
  python3 tests/validate.py --type metrics < '$T_TMP/anc.jsonl' &&
  python3 -c '
import json, math
m = [json.loads(l) for l in open(\"$T_TMP/anc.jsonl\")]
assert any(0 < r.get(\"anchors\", 0) < r[\"states\"] for r in m), m
r = m[0]; a = r.get(\"anchors\", 0); n = r[\"states\"]
assert a == 0 or r[\"anchor_nll\"] > 0, r
want = ((n - a) * math.log(2) + 2 * a * r.get(\"anchor_nll\", 0)) / n  # at the reference, DPO is log 2
assert abs(r[\"loss\"] - want) < 1e-5, (r, want)'"
check "--anchors: same seed, same bits; --resume keeps --anchor-coef" bash -c "
  anc() { '$D' -q --ref '$T_TMP/il.ckpt' --threads 2 --anchors '$T_TMP/tok.jsonl' \"\$@\" '$T_TMP/pairs.jsonl' > /dev/null; }
  anc --init '$T_TMP/il.ckpt' -b 6 --steps 3 --lr 1e-3 --beta 0.5 --anchor-coef 2 -o '$T_TMP/anc-b.ckpt' &&
  cmp '$T_TMP/anc.ckpt' '$T_TMP/anc-b.ckpt' &&
  anc --init '$T_TMP/il.ckpt' -b 6 --steps 3 --lr 1e-3 --beta 0.5 --anchor-coef 2 --stop-after 1 -o '$T_TMP/anc-r.ckpt' 2> /dev/null &&
  anc --resume '$T_TMP/anc-r.ckpt.partial' -o '$T_TMP/anc-r.ckpt' && cmp '$T_TMP/anc.ckpt' '$T_TMP/anc-r.ckpt'"
check "--anchors given twice: both files' records, in order (the same bits as one file of both)" bash -c "
  n=\$(wc -l < '$T_TMP/tok.jsonl') && head -n \$((n / 2)) '$T_TMP/tok.jsonl' > '$T_TMP/tok-a.jsonl' &&
  tail -n +\$((n / 2 + 1)) '$T_TMP/tok.jsonl' > '$T_TMP/tok-b.jsonl' && [ -s '$T_TMP/tok-a.jsonl' ] && [ -s '$T_TMP/tok-b.jsonl' ] &&
  '$D' -q --init '$T_TMP/il.ckpt' --ref '$T_TMP/il.ckpt' --threads 2 -b 6 --steps 3 --lr 1e-3 --beta 0.5 --anchor-coef 2 \
      --anchors '$T_TMP/tok-a.jsonl' --anchors '$T_TMP/tok-b.jsonl' -o '$T_TMP/anc-2.ckpt' '$T_TMP/pairs.jsonl' > /dev/null &&
  cmp '$T_TMP/anc.ckpt' '$T_TMP/anc-2.ckpt'"
expect_error "a second --anchors file is read too: its bad record named with file and line" 1 \
    "--anchors: .*pairs.jsonl:1: no \"target\" action" \
    "$D" -q --init "$T_TMP/il.ckpt" --ref "$T_TMP/il.ckpt" --anchors "$T_TMP/tok.jsonl" --anchors "$T_TMP/pairs.jsonl" \
    -o "$T_TMP/x.ckpt" "$T_TMP/pairs.jsonl"
expect_error "--anchors must be imitation records (a target), named with file and line" 1 \
    "--anchors: .*pairs.jsonl:1: no \"target\" action" \
    "$D" -q --init "$T_TMP/il.ckpt" --ref "$T_TMP/il.ckpt" --anchors "$T_TMP/pairs.jsonl" -o "$T_TMP/x.ckpt" "$T_TMP/pairs.jsonl"
expect_error "pairs without reference log-probs need --ref" 1 "give --ref CKPT" "$D" -q --init "$T_TMP/il.ckpt" -o "$T_TMP/x.ckpt" "$T_TMP/pairs.jsonl"
expect_error "trajectory tokens are not pairs" 1 "tok.jsonl:1: needs distinct \"chosen\" and \"rejected\"" "$D" -q --init "$T_TMP/il.ckpt" --ref "$T_TMP/il.ckpt" -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
finish
