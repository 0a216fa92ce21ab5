# thompson-eval: Thompson-sampling and fixed-budget evaluation of arms on the real catalog;
# bandit and summary records against their schemas, the table, the plots, determinism, errors.
. "$(dirname "$0")/lib.sh"
TE=$BIN/thompson-eval
expect_error "no arms is a usage error" 2 "give the arms to compare with --arm" "$TE"
expect_error "unknown arm is a usage error" 2 "unknown arm 'greedy': expected random, oracle or NAME=CKPT" \
    "$TE" --arm random --arm greedy
expect_error "two arms with one name is a usage error" 2 "two arms named 'random'" "$TE" --arm random --arm random
expect_error "a bad arm name is a usage error" 2 "NAME must be letters, digits" "$TE" --arm 'a b=x.ckpt'
expect_error "a bad --objective is a usage error" 2 "expected success or score" "$TE" --arm random --objective fast
if ! have_data; then skip "thompson-eval on the real catalog" "no WebShop data at $WEBSHOP_DATA"; finish; fi
"$BIN/goals" -q -s eval > "$T_TMP/eval.jsonl"
expect_error "a missing checkpoint names the arm and the file" 1 "arm 'mine': $T_TMP/missing.ckpt: .*No such file" \
    "$TE" --arm random --arm "mine=$T_TMP/missing.ckpt" "$T_TMP/eval.jsonl"
expect_error "--fixed beyond the goals given" 1 "--fixed 5: only 3 goals given" \
    bash -c "head -3 '$T_TMP/eval.jsonl' | '$TE' --arm random --fixed 5"
expect_error "a non-goal record is rejected with its line" 1 "<stdin>:1: expected a goal record, got a x record" \
    bash -c "echo '{\"type\":\"x\",\"v\":1}' | '$TE' --arm random"

run_te() { "$TE" -q --arm random --arm oracle --runs 2 --rounds 40 --seed 5 "$@" < "$T_TMP/eval.jsonl"; }
check "random vs oracle, 2 runs x 40 rounds: valid records, the oracle gets most pulls and the higher posterior" bash -c "
  $(declare -f run_te); TE='$TE' T_TMP='$T_TMP'
  run_te --summary '$T_TMP/s1.jsonl' --table '$T_TMP/t1.md' --plots '$T_TMP/plots' > '$T_TMP/b1.jsonl' &&
  python3 tests/validate.py --type bandit < '$T_TMP/b1.jsonl' &&
  python3 tests/validate.py --type summary < '$T_TMP/s1.jsonl' &&
  python3 -c '
import json, collections
recs = [json.loads(l) for l in open(\"$T_TMP/b1.jsonl\")]
assert len(recs) == 80, len(recs)
seen = collections.Counter((r[\"run\"], r[\"round\"]) for r in recs)
assert sorted(seen) == [(u, t) for u in range(2) for t in range(40)] and set(seen.values()) == {1}
goals = {json.loads(l)[\"goal_id\"] for l in open(\"$T_TMP/eval.jsonl\")}
last = {}
for r in recs:
    assert r[\"goal_id\"] in goals and r[\"success\"] == (r[\"reward\"] == 1)
    post = r[\"posterior\"]
    assert sum(p[\"pulls\"] for p in post.values()) == r[\"round\"] + 1
    assert max(r[\"draws\"], key=r[\"draws\"].get) == r[\"arm\"]
    for p in post.values():
        assert p[\"alpha\"] == 1 + p[\"successes\"] and p[\"beta\"] == 1 + p[\"pulls\"] - p[\"successes\"]
    last[r[\"run\"]] = post
for run, post in last.items():
    o, x = post[\"oracle\"], post[\"random\"]
    assert o[\"pulls\"] > 30 and o[\"pulls\"] > x[\"pulls\"], (run, o, x)
    assert o[\"mean\"] > x[\"mean\"] and o[\"score_mean\"] > x[\"score_mean\"], (run, o, x)
goal_orders = [[r[\"goal_id\"] for r in recs if r[\"run\"] == u] for u in range(2)]
assert goal_orders[0] != goal_orders[1] and len(set(goal_orders[0])) == 40
'"
check "summary: per run and pooled pulls, intervals around the values, P(best) sums to 1" python3 -c "
import json
s = [json.loads(l) for l in open('$T_TMP/s1.jsonl')]
by = {(r['scope'], r['run'], r['measure']): r for r in s}
assert {r['run'] for r in s} == {0, 1, None}
for run, rounds in ((0, 40), (1, 40), (None, 80)):
    assert by['random', run, 'pulls']['value'] + by['oracle', run, 'pulls']['value'] == rounds
    assert abs(by['random', run, 'p_best']['value'] + by['oracle', run, 'p_best']['value'] - 1) < 1e-9
    for arm in ('random', 'oracle'):
        for m in ('success_rate', 'score'):
            r = by[arm, run, m]
            assert r['ci_low'] <= r['value'] <= r['ci_high'] and r['ci_level'] == 0.95, r
assert by['oracle', None, 'p_best']['value'] > 0.99
assert by['oracle', None, 'success_rate']['method'] == 'beta_posterior'
"
check "the Markdown table lists both arms, pooled and per run" bash -c "
  grep -q '^| arm | pulls | share | successes | success rate % (posterior mean) \[95% CrI\]' '$T_TMP/t1.md' &&
  grep -q '^## Per run' '$T_TMP/t1.md' && [ \$(grep -c '^| [01] | oracle |' '$T_TMP/t1.md') = 2 ] &&
  grep -q '^| random | ' '$T_TMP/t1.md'"
if command -v gnuplot >/dev/null 2>&1; then
    check "plots: PNG files per run and the pulls chart" bash -c "
      for f in success-run0 success-run1 score-run0 score-run1 pulls; do
        [ \"\$(head -c 8 '$T_TMP/plots/'\$f.png | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ] || { echo \$f; exit 1; }
      done; [ -f '$T_TMP/plots/plots.gp' ] && [ -f '$T_TMP/plots/running-run0.tsv' ]"
else
    skip "plots: PNG files per run and the pulls chart" "gnuplot is not installed"
fi
check "without gnuplot: a warning, the data and the script, exit 0" bash -c "
  head -20 '$T_TMP/eval.jsonl' | GNUPLOT=/nonexistent/gnuplot '$TE' -q --arm random --arm oracle --rounds 10 \
    --plots '$T_TMP/noplot' > /dev/null 2> '$T_TMP/noplot.err' &&
  grep -q 'gnuplot not found' '$T_TMP/noplot.err' && [ -f '$T_TMP/noplot/plots.gp' ] && [ ! -e '$T_TMP/noplot/pulls.png' ]"
check "same seed, same bytes; another seed, other draws" bash -c "
  $(declare -f run_te); TE='$TE' T_TMP='$T_TMP'
  run_te --summary '$T_TMP/s2.jsonl' > '$T_TMP/b2.jsonl' && cmp '$T_TMP/b1.jsonl' '$T_TMP/b2.jsonl' &&
  cmp '$T_TMP/s1.jsonl' '$T_TMP/s2.jsonl' &&
  run_te --seed 6 > '$T_TMP/b3.jsonl' && ! cmp -s '$T_TMP/b1.jsonl' '$T_TMP/b3.jsonl'"
check "--batch 4 and --objective score: valid records, zstd output" bash -c "
  '$TE' -q --arm random --arm oracle --runs 3 --rounds 21 --batch 4 --objective score -o '$T_TMP/b4.jsonl.zst' \
    < '$T_TMP/eval.jsonl' && '$BIN/records' '$T_TMP/b4.jsonl.zst' > '$T_TMP/b4.jsonl' &&
  [ \$(wc -l < '$T_TMP/b4.jsonl') = 63 ] && python3 tests/validate.py --type bandit < '$T_TMP/b4.jsonl'"
check "fewer goals than rounds: each run goes through its goal order again" bash -c "
  head -5 '$T_TMP/eval.jsonl' | '$TE' -q --arm random --arm oracle --rounds 12 2>/dev/null > '$T_TMP/wrap.jsonl' &&
  python3 -c '
import json, collections
ids = [json.loads(l)[\"goal_id\"] for l in open(\"$T_TMP/wrap.jsonl\")]
assert len(ids) == 12 and ids[:5] == ids[5:10] and ids[10:] == ids[:2] and len(set(ids)) == 5, ids'"
check "--fixed 30: every arm plays the first 30 goals; Wilson and t intervals; random = rollout --seed" bash -c "
  head -40 '$T_TMP/eval.jsonl' > '$T_TMP/g40.jsonl' &&
  '$TE' -q --arm random --arm oracle --fixed 30 --seed 3 --summary '$T_TMP/fs.jsonl' --table '$T_TMP/ft.md' \
    '$T_TMP/g40.jsonl' > '$T_TMP/fb.jsonl' &&
  python3 tests/validate.py --type bandit < '$T_TMP/fb.jsonl' && python3 tests/validate.py --type summary < '$T_TMP/fs.jsonl' &&
  head -30 '$T_TMP/g40.jsonl' | '$BIN/rollout' -q -p random --seed 3 > '$T_TMP/fr.jsonl' &&
  grep -q '^| arm | episodes | successes | success rate % \[95% Wilson\] | score \[95% t\]' '$T_TMP/ft.md' &&
  python3 -c '
import json
b = [json.loads(l) for l in open(\"$T_TMP/fb.jsonl\")]
g = [json.loads(l)[\"goal_id\"] for l in open(\"$T_TMP/g40.jsonl\")][:30]
assert len(b) == 60 and all(r[\"mode\"] == \"fixed\" for r in b)
for arm in (\"random\", \"oracle\"):
    assert [r[\"goal_id\"] for r in b if r[\"arm\"] == arm] == g
rollout = [json.loads(l)[\"reward\"] for l in open(\"$T_TMP/fr.jsonl\")]
assert [r[\"reward\"] for r in b if r[\"arm\"] == \"random\"] == rollout
s = {(r[\"scope\"], r[\"measure\"]): r for r in map(json.loads, open(\"$T_TMP/fs.jsonl\"))}
assert all(r[\"run\"] is None for r in s.values())
sr = s[\"oracle\", \"success_rate\"]
assert sr[\"method\"] == \"wilson\" and sr[\"count\"] == 30 and sr[\"value\"] == sr[\"successes\"] / 30
assert sr[\"ci_low\"] < sr[\"value\"] <= sr[\"ci_high\"] <= 1
assert s[\"random\", \"score\"][\"method\"] == \"student_t\" and s[\"oracle\", \"p_best\"][\"value\"] > 0.99'"

# Interrupted: the records, summary and table of the rounds every run finished, under .partial.
"$TE" -q --arm random --arm oracle --runs 2 --rounds 1000000 --seed 3 -o "$T_TMP/ib.jsonl" \
    --summary "$T_TMP/is.jsonl" --table "$T_TMP/it.md" --plots "$T_TMP/iplots" "$T_TMP/eval.jsonl" 2> "$T_TMP/i.err" &
pid=$!
for _ in $(seq 100); do [ -s "$T_TMP/ib.jsonl.tmp-$pid" ] && break; sleep 0.1; done
sleep 0.5; kill -TERM $pid; wait $pid; status=$?
if [ "$status" -eq 143 ] && [ ! -e "$T_TMP/is.jsonl" ] && [ ! -e "$T_TMP/it.md" ] && [ ! -e "$T_TMP/iplots" ] &&
   grep -q "interrupted after [0-9]* of 1000000 rounds" "$T_TMP/i.err" &&
   grep -q "^Interrupted after [0-9]* of the 1000000 rounds" "$T_TMP/it.md.partial" &&
   python3 tests/validate.py --type summary < "$T_TMP/is.jsonl.partial" > /dev/null && python3 -c '
import json, sys
b = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
rounds = len(b) // 2
assert rounds > 0 and len(b) == 2 * rounds and all(r["interrupted"] is True for r in s)
pulls = {(r["scope"], r["run"]): r for r in s if r["measure"] == "pulls"}
for run in (0, 1, None):
    assert sum(pulls[a, run]["value"] for a in ("random", "oracle")) == rounds * (2 if run is None else 1)
    assert all(pulls[a, run]["count"] == rounds * (2 if run is None else 1) for a in ("random", "oracle"))
for a in ("random", "oracle"):
    assert pulls[a, None]["value"] == sum(1 for r in b if r["arm"] == a)' "$T_TMP/ib.jsonl.partial" "$T_TMP/is.jsonl.partial"; then
    ok "SIGTERM: exit 143, the summary and table of the finished rounds kept as .partial, marked interrupted"
else fail "SIGTERM keeps the summary of the finished rounds" "status $status" "$(cat "$T_TMP/i.err")" "$(ls "$T_TMP")"; fi

# A model arm: a tiny checkpoint trained for 3 steps (needs the vocabulary for tokenize).
if [ -f models/minilm-l6/vocab.txt ]; then
    check "a model arm (tiny checkpoint) beside the built-ins, Thompson and fixed" bash -c "
      '$BIN/goals' -q -s train -n 12 | '$BIN/rollout' -q -p oracle | '$BIN/tokenize' -q > '$T_TMP/tok.jsonl' &&
      '$BIN/train-il' -q --config tiny --steps 3 -o '$T_TMP/tiny.ckpt' '$T_TMP/tok.jsonl' > /dev/null &&
      '$TE' -q --arm 'tiny=$T_TMP/tiny.ckpt' --arm random --arm oracle --runs 2 --rounds 3 --max-steps 3 \
        --threads 2 --summary '$T_TMP/ms.jsonl' '$T_TMP/eval.jsonl' > '$T_TMP/mb.jsonl' &&
      '$TE' -q --arm 'tiny=$T_TMP/tiny.ckpt' --arm oracle --fixed 2 --max-steps 3 --threads 2 \
        '$T_TMP/eval.jsonl' > '$T_TMP/mf.jsonl' &&
      python3 tests/validate.py --type bandit < '$T_TMP/mb.jsonl' && python3 tests/validate.py --type bandit < '$T_TMP/mf.jsonl' &&
      python3 tests/validate.py --type summary < '$T_TMP/ms.jsonl' &&
      python3 -c '
import json
b = [json.loads(l) for l in open(\"$T_TMP/mb.jsonl\")]
assert len(b) == 6 and all(set(r[\"posterior\"]) == {\"tiny\", \"random\", \"oracle\"} for r in b)
f = [json.loads(l) for l in open(\"$T_TMP/mf.jsonl\")]
assert [r[\"arm\"] for r in f] == [\"tiny\", \"oracle\"] * 2'"
    # kept action encodings (--encoding-cache, on by default; the bf16 products only) change nothing
    if grep -qw avx512_bf16 /proc/cpuinfo; then
        check "--cpu-math bf16: the same records with the actions' encodings kept and without" bash -c "
          run() { '$TE' -q --arm 'tiny=$T_TMP/tiny.ckpt' --fixed 12 --max-steps 6 --threads 2 --cpu-math bf16 \"\$@\" \
            '$T_TMP/eval.jsonl'; }
          run > '$T_TMP/kept.jsonl' && run --encoding-cache 0 > '$T_TMP/none.jsonl' &&
          cmp '$T_TMP/kept.jsonl' '$T_TMP/none.jsonl'"
    else
        skip "--cpu-math bf16: the same records with the actions' encodings kept and without" "no AVX512_BF16"
    fi
else
    skip "a model arm (tiny checkpoint)" "no models/minilm-l6/vocab.txt (make model)"
fi
finish
