#!/usr/bin/env python3
"""Options against the oracle's order. For each agent's episodes on the goals:
1. the goals lost, by kind: the oracle loses them too; nothing bought; another product than the
   oracle's; the oracle's product with an option left unchosen (bought before clicking every option
   the oracle clicks); the oracle's product with another value of an option;
2. for the goals where the agent buys the oracle's product and the oracle wins: whether it clicked
   the options in the oracle's order (the page's), first clicked another option, or clicked the
   oracle's first and then another; none needed; each won or lost.
A data check for docs/results (session 38), not part of any pipeline.

Usage: option-order.py GOALS ORACLE_TRAJ AGENT_TRAJ...
  GOALS        the goal records
  ORACLE_TRAJ  the oracle's episodes on the goals (rollout -p oracle)
  AGENT_TRAJ   an agent's on the same goals (rollout -m CKPT), one row per file
"""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts"))
from records import records  # noqa: E402

LEAVE = ("click[buy now]", "click[< prev]", "click[back to search]", "click[description]", "click[features]",
         "click[reviews]")
LOSSES = ["lost", "the oracle loses too", "nothing bought", "another product", "an option left unchosen",
          "another value", "asking for an unmarked value"]
ORDERS = [("no options", "won"), ("oracle's order", "won"), ("oracle's order", "lost"), ("another first click", "won"),
          ("another first click", "lost"), ("oracle's first, then another", "won"),
          ("oracle's first, then another", "lost")]


def option_clicks(traj):
    return [s["action"] for s in traj["steps"] if s["page"] == "item" and s["action"] not in LEAVE]


def unmarked(value):
    return '"' in value or "\\" in value or any(ord(c) > 127 for c in value)


def trajectories(path):
    return {t["goal_id"]: t for t in records(path) if t.get("type") == "trajectory"}


def loss_kind(t, o):
    if not o["success"]:
        return "the oracle loses too"
    if not t["asin"]:
        return "nothing bought"
    if t["asin"] != o["asin"]:
        return "another product"
    return "an option left unchosen" if len(set(option_clicks(t))) < len(option_clicks(o)) else "another value"


def order_kind(t, o):
    mine, its = option_clicks(t), option_clicks(o)
    if not its:
        return "no options"
    if mine[:len(its)] == its:
        return "oracle's order"
    return "oracle's first, then another" if mine and mine[0] == its[0] else "another first click"


def table(header, rows):
    print("| agent | " + " | ".join(header) + " |")
    print("|:--|" + "--:|" * len(header))
    for name, cells in rows:
        print("| %s | %s |" % (name, " | ".join(str(c) for c in cells)))
    print()


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    goals = {g["goal_id"]: g for g in records(sys.argv[1]) if g.get("type") == "goal"}
    oracle = trajectories(sys.argv[2])
    losses, orders = [], []
    for path in sys.argv[3:]:
        lost, order = collections.Counter(), collections.Counter()
        for gid, t in trajectories(path).items():
            o = oracle[gid]
            if not t["success"]:
                lost["lost"] += 1
                lost[loss_kind(t, o)] += 1
                lost["asking for an unmarked value"] += any(unmarked(v) for v in goals[gid]["goal_options"].values())
            if o["success"] and t["asin"] == o["asin"]:
                order[(order_kind(t, o), "won" if t["success"] else "lost")] += 1
        losses.append((os.path.basename(path), [lost[k] for k in LOSSES]))
        orders.append((os.path.basename(path), [order[k] for k in ORDERS]))
    print("Goals lost, by kind (%d of the %d goals ask for an unmarked value):\n"
          % (sum(any(unmarked(v) for v in g["goal_options"].values()) for g in goals.values()), len(goals)))
    table(LOSSES, losses)
    print("The oracle's product bought where the oracle wins, by the order of the option clicks:\n")
    table(["%s, %s" % k for k in ORDERS], orders)


if __name__ == "__main__":
    main()
