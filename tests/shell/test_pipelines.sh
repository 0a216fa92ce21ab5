# The reproduction pipelines at SIZE=tiny: every stage runs, reports are written, and a second
# make has nothing left to do (the pipelines resume from their files).
. "$(dirname "$0")/lib.sh"
if ! have_data; then skip "pipelines" "no WebShop data at $WEBSHOP_DATA"; finish; fi
if [ ! -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then skip "pipelines" "no vocabulary: run make model"; finish; fi
mk() { make -s --no-print-directory -C "$PROJECT_ROOT" BIN="$BIN" SIZE=tiny SEEDS=1 RUNS_ROOT="$T_TMP" "$@"; }
check "make pipeline-paper SIZE=tiny: IL, PPO, DPO, self-learning, relabelled RPO and DAgger side by side, on test and human goals, each paired with IL" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  mk pipeline-paper > '$T_TMP/paper.out' 2>&1 &&
  for f in report-dpo.md report-ppo.md report-selflearn.md report-relabel.md il.ckpt dpo.ckpt ppo.ckpt self-1.ckpt \
      relabel-1.ckpt dagger-1.ckpt eval-human-dagger-1.summary.jsonl times.tsv; do
      [ -s '$T_TMP/tiny-s1/'\$f ] || { echo missing \$f; exit 1; }; done &&
  r='$T_TMP/paper-tiny/report.md' &&
  for row in 'IL (oracle data)' PPO 'DPO (oracle-generated data)' 'DPO self-learning (1 round(s))' \
      'Relabelled RPO (1 round(s))' 'DAgger (1 round(s))'; do
      grep -qF \"| \$row | \" \$r || { echo no row \$row; exit 1; }; done &&
  ! grep -q 'n/a\\|nan' \$r &&
  [ \$(grep -c '^| [a-z0-9-]* | il | ' \$r) = 5 ] && grep -q '^| DAgger .* | [01] of 1 | ' \$r &&
  grep -q '^| dpo |' '$T_TMP/tiny-s1/report-dpo.md'"
check "a second make runs no stage again" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  before=\$(wc -l < '$T_TMP/tiny-s1/times.tsv') && mk pipeline-paper > /dev/null 2>&1 &&
  [ \"\$(wc -l < '$T_TMP/tiny-s1/times.tsv')\" = \"\$before\" ]"
check "self-learning's round 0 (the IL agent) takes eval-il's figures instead of playing again" bash -c "
  ! grep -q '^eval-self-0' '$T_TMP/tiny-s1/times.tsv' &&
  diff <(jq -c 'del(.scope)' '$T_TMP/tiny-s1/eval-il.summary.jsonl') <(jq -c 'del(.scope)' '$T_TMP/tiny-s1/eval-self-0.summary.jsonl') &&
  jq -e -s 'map(.scope) | unique == [\"self-0\"]' '$T_TMP/tiny-s1/eval-self-0.summary.jsonl' > /dev/null"
check "make pipeline-relabel SIZE=tiny, two rounds: relabelled rounds (episodes cut at the first divergence, one pair each) and DAgger's, each paired with the IL agent and RPO with DAgger round by round" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  rm -f '$T_TMP/tiny-s1/report-relabel.md' &&  # the round count is a knob, not a file make can see
  mk RELABEL_ROUNDS=2 pipeline-relabel > '$T_TMP/relabel.out' 2>&1 &&
  for a in relabel-1 relabel-2 dagger-1 dagger-2; do grep -q \"^| \$a | il | 6 |\" '$T_TMP/tiny-s1/report-relabel.md' || { echo no row \$a; exit 1; }; done &&
  grep -q '^| relabel-1 | dagger-1 | 6 |' '$T_TMP/tiny-s1/report-relabel.md' &&
  grep -q '^| relabel-2 | dagger-2 | 6 |' '$T_TMP/tiny-s1/report-relabel.md' &&
  grep -q '^dagger-rollout-2' '$T_TMP/tiny-s1/times.tsv' && ! grep -q '^dagger-rollout-1' '$T_TMP/tiny-s1/times.tsv' &&
  '$BIN/records' -q '$T_TMP/tiny-s1/relabel-1.pairs.jsonl.zst' | python3 tests/validate.py --type pair &&
  jq -e -s 'all(.[]; [.steps[] | .action_index != .oracle_index] | (index(true) // (length - 1)) == length - 1)' \
      '$T_TMP/tiny-s1/relabel-1.first.jsonl' > /dev/null &&
  [ \$('$BIN/records' -q -c '$T_TMP/tiny-s1/relabel-1.pairs.jsonl.zst') = \$(jq -s 'map(select(.steps[-1] | .action_index != .oracle_index)) | length' '$T_TMP/tiny-s1/relabel-1.first.jsonl') ]"
check "each relabelled round plays its own train goals (none the imitation's), both families the same ones" bash -c "
  cd '$T_TMP/tiny-s1' &&
  ids() { jq -c -s 'map(.goal_id) | sort' \"\$@\"; } &&
  played() { '$BIN/records' -q \"\$1\" | jq -c -s 'map(.goal_id) | sort'; } &&
  [ \"\$(ids goals-relabel-1.jsonl | jq length)\" = 6 ] &&
  [ \"\$(jq -n --argjson a \"\$(ids goals-relabel-1.jsonl)\" --argjson b \"\$(ids goals-relabel-2.jsonl)\" --argjson il \"\$(played traj-oracle.jsonl.zst)\" \\
      '\$a - \$b - \$il == \$a and \$b - \$il == \$b')\" = true ] &&
  [ \"\$(played relabel-1.traj.jsonl.zst)\" = \"\$(ids goals-relabel-1.jsonl)\" ] &&
  [ \"\$(played relabel-2.traj.jsonl.zst)\" = \"\$(ids goals-relabel-2.jsonl)\" ] &&
  [ \"\$(played dagger-2.traj.jsonl.zst)\" = \"\$(ids goals-relabel-2.jsonl)\" ]"
check "MARK_CHOSEN=yes: gen-traj, every evaluation, rollout and train-ppo play with --mark-chosen; by default none" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  mk -n SEEDS=9 MARK_CHOSEN=yes pipeline-paper | sed -e ':a' -e '/\\\\$/N; s/\\\\\\n//; ta' > '$T_TMP/marked-n.out' &&
  for tool in gen-traj thompson-eval rollout train-ppo; do
      grep \"bin/\$tool \" '$T_TMP/marked-n.out' > '$T_TMP/lines' || { echo no \$tool; exit 1; }
      ! grep -v -- '--mark-chosen' '$T_TMP/lines' || { echo \$tool without it; exit 1; }
  done &&
  mk -n SEEDS=9 pipeline-paper > '$T_TMP/unmarked-n.out' && grep -q 'bin/gen-traj ' '$T_TMP/unmarked-n.out' &&
  ! grep -q -- '--mark-chosen' '$T_TMP/unmarked-n.out'"
check "RELABEL_SPLIT=eval: the rounds play the eval split's goals, each round its own block" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  mk RUN='$T_TMP/split-eval' RELABEL_SPLIT=eval RELABEL_ROUNDS=2 '$T_TMP/split-eval/goals-relabel-1.jsonl' '$T_TMP/split-eval/goals-relabel-2.jsonl' &&
  cd '$T_TMP/split-eval' &&
  jq -s -e 'length == 6 and all(.split == \"eval\")' goals-relabel-1.jsonl > /dev/null &&
  jq -s -e 'length == 6 and all(.split == \"eval\")' goals-relabel-2.jsonl > /dev/null &&
  [ \"\$(cat goals-relabel-1.jsonl goals-relabel-2.jsonl | jq -s 'map(.goal_id) | unique | length')\" = 12 ]"
check "round 2 of each family learns from rounds 1 and 2 (DAgger's aggregate): RPO's pairs of both with round 1's agent as their reference, both rounds' anchors" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  cd '$T_TMP/tiny-s1' &&
  diverged() { jq -s 'map(select(.steps[-1] | .action_index != .oracle_index)) | length' \"\$@\"; } &&
  [ \$('$BIN/records' -q -c relabel-2.pairs.jsonl.zst) = \$(diverged relabel-1.first.jsonl relabel-2.first.jsonl) ] &&
  [ \$(diverged relabel-1.first.jsonl) -gt 0 ] &&
  '$BIN/records' -q relabel-2.pairs.jsonl.zst | jq -s -e 'map(.ref_sha256) | unique | length == 1' > /dev/null &&
  cmds=\$(mk -n RELABEL_ROUNDS=2 -W '$T_TMP/tiny-s1/dagger-1.anchors.jsonl.zst' -W '$T_TMP/tiny-s1/relabel-1.anchors.jsonl.zst' \
      '$T_TMP/tiny-s1/dagger-2.ckpt' '$T_TMP/tiny-s1/relabel-2.ckpt') &&
  grep -- '-o $T_TMP/tiny-s1/dagger-2.ckpt' <<< \"\$cmds\" | grep -q 'dagger-1.anchors.jsonl.zst .*dagger-2.anchors.jsonl.zst' &&
  grep -- '-o $T_TMP/tiny-s1/relabel-2.ckpt' <<< \"\$cmds\" | grep -q -- '--anchors [^ ]*relabel-1.anchors.jsonl.zst --anchors [^ ]*relabel-2.anchors'"
check "the evaluation records match the schemas" bash -c "
  '$BIN/records' -q '$T_TMP/tiny-s1/thompson-dpo.jsonl.zst' | python3 tests/validate.py --type bandit &&
  python3 tests/validate.py --type summary < '$T_TMP/tiny-s1/eval-dpo.summary.jsonl'"
check "make -j2 pipeline-paper runs two seeds side by side; seed 1's results are the sequential run's" bash -c "
  make -s --no-print-directory -C '$PROJECT_ROOT' BIN='$BIN' SIZE=tiny SEEDS='1 2' RUNS_ROOT='$T_TMP/j2' -j2 \
      pipeline-paper > '$T_TMP/paper-j2.out' 2>&1 &&
  for a in il dpo ppo self-1; do
      cmp '$T_TMP/tiny-s1/eval-'\$a.summary.jsonl '$T_TMP/j2/tiny-s1/eval-'\$a.summary.jsonl || exit 1; done &&
  [ -s '$T_TMP/j2/tiny-s2/report-selflearn.md' ] && grep -q '^| PPO | .* | 2 |\$' '$T_TMP/j2/paper-tiny/report.md'"
# Ctrl-C during train-il (SIGINT to make's process group): no il.ckpt, il.ckpt.partial instead,
# which the next make resumes to the end of the stage, its metrics file continued.
I=$T_TMP/int/tiny-s1
setsid make -s --no-print-directory -C "$PROJECT_ROOT" BIN="$BIN" SIZE=tiny SEED=1 RUNS_ROOT="$T_TMP/int" \
    IL_ARGS="--steps 200 --threads 1 --save-every 10" "$I/il.ckpt" > "$T_TMP/int.out" 2>&1 &
pid=$!
for _ in $(seq 300); do [ -e "$I/il.ckpt.partial" ] && break; sleep 0.1; done
kill -INT -- -$pid; wait $pid
check "an interrupted stage leaves CKPT.partial, not its target; the next make resumes it, every update once" bash -c "
  [ -e '$I/il.ckpt.partial' ] && [ ! -e '$I/il.ckpt' ] &&
  make -s --no-print-directory -C '$PROJECT_ROOT' BIN='$BIN' SIZE=tiny SEED=1 RUNS_ROOT='$T_TMP/int' \
      IL_ARGS='--steps 200 --threads 1 --save-every 10' '$I/il.ckpt' > '$T_TMP/int2.out' 2>&1 &&
  [ ! -e '$I/il.ckpt.partial' ] && jq -s -e 'map(select(.stage == \"il\") | .step) == [range(1; 201)]' '$I/il-metrics.jsonl' > /dev/null"
# A size that sets IL_MORE_ARGS (SIZE=medium) imitates in two passes: il-first.ckpt, then il.ckpt
# trained on from it, each with its metrics and its row in times.tsv.
check "IL_MORE_ARGS: a second pass of imitation from the first pass's agent" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  mk SEED=7 IL_MORE_ARGS='--steps 3 --lr 5e-4' '$T_TMP/tiny-s7/il.ckpt' > '$T_TMP/two-pass.out' 2>&1 &&
  [ -s '$T_TMP/tiny-s7/il-first.ckpt' ] && ! cmp -s '$T_TMP/tiny-s7/il-first.ckpt' '$T_TMP/tiny-s7/il.ckpt' &&
  jq -s -e 'map(select(.stage == \"il\") | .step) == [range(1; 7)]' '$T_TMP/tiny-s7/il-first-metrics.jsonl' > /dev/null &&
  jq -s -e 'map(select(.stage == \"il\")) | map(.step) == [1, 2, 3] and (map(.lr) | max) <= 5e-4' \
      '$T_TMP/tiny-s7/il-metrics.jsonl' > /dev/null &&
  [ \"\$(cut -f1 '$T_TMP/tiny-s7/times.tsv' | grep '^train-il' | paste -sd,)\" = train-il,train-il-more ] &&
  mk -n SEED=8 IL_MORE_ARGS='--steps 3' '$T_TMP/tiny-s8/il.ckpt' | grep -q -- '--init $T_TMP/tiny-s8/il-first.ckpt .*--steps 3'"
check "make pipeline-second-pass: from the first pass, plain imitation, DAgger and RPO on its divergences, each paired with the first pass and the recipe" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  S='$T_TMP/tiny-s7' &&
  mk SEED=7 IL_MORE_ARGS='--steps 3 --lr 5e-4' SECOND_COPIES=2 pipeline-second-pass > '$T_TMP/second.out' 2>&1 &&
  for a in il-first il second-dagger second-rpo; do grep -q \"^| \$a | 6 | \" \$S/report-second.md || { echo no row \$a; exit 1; }; done &&
  [ \$(grep -c '^| [a-z-]* | il-first | 6 |' \$S/report-second.md) = 3 ] && [ \$(grep -c '^| second-[a-z]* | il | 6 |' \$S/report-second.md) = 2 ] &&
  n=\$(jq -s 'map(select(.steps[-1] | .action_index != .oracle_index)) | length' \$S/second.first.jsonl) &&
  [ \$n -gt 0 ] && [ \$(wc -l < \$S/second.departures.jsonl) = \$n ] && [ \$('$BIN/records' -q -c \$S/second.pairs.jsonl.zst) = \$n ] &&
  jq -e -s 'all(.[]; .n_steps == 1 and .steps[0].action_index != .steps[0].oracle_index)' \$S/second.departures.jsonl > /dev/null &&
  '$BIN/records' -q \$S/second.pairs.jsonl.zst | python3 tests/validate.py --type pair &&
  mk -n SEED=8 IL_MORE_ARGS='--steps 3' pipeline-second-pass > '$T_TMP/second-n.out' &&
  grep -A1 -- 'second-train-dpo .*--init $T_TMP/tiny-s8/il-first.ckpt .*--steps 3' '$T_TMP/second-n.out' |
      grep -q -- '--beta 1 --nll-coef 1 --anchors $T_TMP/tiny-s8/tok-oracle' &&
  grep -A2 -- 'second-train-il .*--init $T_TMP/tiny-s8/il-first.ckpt .*--steps 3' '$T_TMP/second-n.out' |
      grep -q -- 'tok-oracle.jsonl.zst .*departures.tok.jsonl.zst .*departures.tok.jsonl.zst'"
check "make pipeline-second-pass-seeds: the table over seeds, each agent's gain over its first pass and the seeds it beats it on" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  mk SEEDS=7 IL_MORE_ARGS='--steps 3 --lr 5e-4' SECOND_COPIES=2 pipeline-second-pass-seeds > '$T_TMP/second-seeds.out' 2>&1 &&
  r='$T_TMP/second-pass-tiny/report.md' && [ \$(grep -c '^| 7 | ' \$r) = 3 ] &&
  for a in 'imitation (the recipe)' DAgger RPO; do grep -q \"^| \$a | [+-][0-9.]* | -*[0-9.]* | [01] of 1 |\" \$r || { echo no row \$a; exit 1; }; done"
check "pipeline-second-pass refuses a size without a second pass" bash -c "
  $(declare -f mk); PROJECT_ROOT='$PROJECT_ROOT' BIN='$BIN' T_TMP='$T_TMP'
  ! mk -n pipeline-second-pass > '$T_TMP/second-refused.out' 2>&1 && grep -q 'needs a size with a second pass' '$T_TMP/second-refused.out'"
# scripts/paired.sh on made-up outcomes: 26 goals only A wins, 12 only B, 62 both: exact McNemar
# p = 0.034 (binomial, two-sided), score difference -14 points per discordant goal on average.
python3 -c "
import json
def rec(g, ok): return json.dumps({'type': 'bandit', 'v': 1, 'run': 0, 'round': g, 'arm': 'x', 'goal_id': g, 'reward': 1.0 if ok else 0.0, 'success': ok, 'posterior': {}})
with open('$T_TMP/pa.jsonl', 'w') as a, open('$T_TMP/pb.jsonl', 'w') as b:
    for g in range(100):
        print(rec(g, g < 26 or g >= 38), file=a); print(rec(g, g >= 26), file=b)"
check "scripts/paired.sh: exact McNemar p and the paired score difference" bash -c "
  BIN='$BIN' bash scripts/paired.sh '$T_TMP/pa.jsonl' '$T_TMP/pb.jsonl' | grep -q '^| pb | pa | 100 | 26 | 12 | 0.034 | -14.0 \\['"
finish
