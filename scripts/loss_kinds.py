#!/usr/bin/env python3
"""Where an agent loses: each goal the agent does not win, by kind, as a markdown table.

Usage: scripts/loss_kinds.py AGENT_TRAJ ORACLE_TRAJ GOALS
  AGENT_TRAJ   the agent's trajectories on GOALS (rollout -m CKPT --oracle-labels, plain or .zst)
  ORACLE_TRAJ  the oracle's on the same goals (rollout -p oracle)
  GOALS        the goal records (their target asin)

A lost goal is counted by whether the oracle wins it, what the agent bought (nothing, the
target product, another product), which reward parts fell short (reward_info's r_type, r_att,
r_option, r_price) and the page of the agent's first departure from the oracle's action. For
another product bought where the oracle wins, also whether the target was listed on the results
page the agent clicked its product on, and how much probability the agent gave that click.
A data check for docs/results, not part of any pipeline.
"""
import collections
import sys

from records import records


def by_goal(path, kind):
    return {r["goal_id"]: r for r in records(path) if r.get("type") == kind}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    agent, oracle, goals = (by_goal(sys.argv[1], "trajectory"), by_goal(sys.argv[2], "trajectory"),
                            by_goal(sys.argv[3], "goal"))
    kinds, examples, choice = collections.Counter(), collections.defaultdict(list), collections.Counter()
    for gid, t in sorted(agent.items()):
        if t["success"]:
            continue
        target = goals[gid]["asin"]
        bought = "nothing" if not t["asin"] else "the target" if t["asin"] == target else "another product"
        info = t.get("reward_info") or {}
        short = "+".join(k for k in ("r_type", "r_att", "r_option", "r_price") if (info.get(k) if info.get(k) is not None else 1) < 1) or "-"
        departure = next((s["page"] for s in t["steps"] if s.get("oracle_index") not in (None, s["action_index"])),
                         "none")
        oracle_won = oracle[gid]["success"]
        key = ("wins" if oracle_won else "loses", bought, short, departure)
        kinds[key] += 1
        examples[key].append(gid)
        if oracle_won and bought == "another product":
            click = "click[%s]" % t["asin"].lower()
            clicks = [s for s in t["steps"] if s["page"] == "results" and s["action"].lower() == click]
            if not clicks:  # opened from elsewhere (an item page's own links)
                choice["not clicked on a results page"] += 1
                continue
            s = clicks[-1]
            listed = ("[button] %s [button_]" % target) in s["obs"]
            choice["target listed on that page" if listed else "target not on that page"] += 1
            choice["agent's probability of its click > 0.5" if s["logp"] > -0.6931 else
                   "agent's probability of its click <= 0.5"] += 1
    lost = sum(kinds.values())
    print("%d of %d goals lost\n" % (lost, len(agent)))
    print("| the oracle | the agent bought | reward parts short | first departure | goals | e.g. goal ids |")
    print("|:--|:--|:--|:--|--:|:--|")
    for key, n in kinds.most_common():
        print("| %s | %s | %s | %s | %d | %s |" % (*key, n, ", ".join(map(str, examples[key][:4]))))
    print("\nAnother product bought where the oracle wins:\n")
    for k, n in sorted(choice.items()):
        print("- %s: %d" % (k, n))


if __name__ == "__main__":
    main()
