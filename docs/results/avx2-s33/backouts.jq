# Every `< prev` an agent takes off an item page in rollout --oracle-labels trajectories: whether
# the oracle would have too, and what the agent does on the results page it returns to (opens the
# same product again, the oracle's choice, or another). Usage: records -q T | jq -s -f backouts.jq
[ .[] | . as $t | .steps as $s
  | range(0; $s | length) as $i
  | select($s[$i].page == "item" and $s[$i].action == "click[< prev]")
  | ([range(0; $i) | select($s[.].page == "results" and ($s[.].action | test("^click\\[[a-z0-9]{10}\\]$"; "i")))] | last) as $open
  | { oracle_agrees: ($s[$i].oracle_action == $s[$i].action),
      next: (if $i + 1 >= ($s | length) then "episode ends"
             elif $open != null and $s[$i + 1].action == $s[$open].action then "the same product again"
             elif $s[$i + 1].action == $s[$i + 1].oracle_action then "the oracle's action"
             else "another action" end),
      goal: $t.goal_id, success: $t.success } ]
| { back_outs: length,
    episodes: (map(.goal) | unique | length),
    oracle_agrees: (map(select(.oracle_agrees)) | length),
    next: (group_by(.next) | map({(.[0].next): length}) | add),
    episodes_won: (map(select(.success) | .goal) | unique | length) }
