#!/usr/bin/env python3
"""The experiment's data step (not pipeline code): relabelled episodes cut after their first
divergence (pipelines/relabel.mk's FIRST_DIVERGENCE), and, where that divergence is a click on a
product that cannot win in a way its item page shows (at its best option values the reward's
r_option or r_price falls short: the goal's option value is not offered, or the price is over the
limit), the item page that follows, labelled with the oracle's action there (`< prev`), as an
episode of one step (as relabel.mk's departures), to be given several times beside the first.

Usage: recoveries.py GOALS TRAJ OUT_FIRST OUT_RECOVER
  OUT_FIRST    the cut episodes (the recipe's DAgger data)
  OUT_RECOVER  the item pages where the clicked product visibly cannot win
Prints how many episodes each kind of divergence has.
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts"))
import winners  # noqa: E402  (the environment's reward through webshop-env, short())
from records import records  # noqa: E402


def first_divergence(steps):
    """The index of the first step where the agent's action is not the oracle's (None: none)."""
    return next((i for i, s in enumerate(steps) if s.get("oracle_index") not in (None, s["action_index"])), None)


def visibly_losing_click(env, goal, catalog, steps, k):
    """What step k's product click was, when it is a results page's click that opened an item
    page: "wins at its best", "visibly cannot win" or "cannot win, not visibly"; None otherwise."""
    if steps[k]["page"] != "results" or k + 1 >= len(steps) or steps[k + 1]["page"] != "item":
        return None
    asin = steps[k]["action"][len("click["):-1].upper()
    best = winners.best_purchase(env, goal, asin, catalog[asin])
    if best["reward"] == 1:
        return "wins at its best"
    return "visibly cannot win" if winners.short(best, "r_option") or winners.short(best, "r_price") \
        else "cannot win, not visibly"


def load(goals_path):
    goals = {g["goal_id"]: g for g in records(goals_path) if g.get("type") == "goal"}
    data = os.environ.get("WEBSHOP_DATA", "../shared/webshop-1k")
    catalog = {r["id"]: r["product"] for r in records(os.path.join(data, "products.jsonl.zst"))}
    return goals, catalog, winners.Env()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    goals, catalog, env = load(sys.argv[1])
    kinds = collections.Counter()
    with open(sys.argv[3], "w") as first, open(sys.argv[4], "w") as recover:
        for t in records(sys.argv[2]):
            if t.get("type") != "trajectory":
                continue
            steps = t["steps"]
            k = first_divergence(steps)
            cut = dict(t) if k is None else dict(t, steps=steps[:k + 1], n_steps=k + 1)
            kind = None if k is None else visibly_losing_click(env, goals[t["goal_id"]], catalog, steps, k)
            if k is None:
                kinds["no divergence"] += 1
            elif kind is None:
                kinds["divergence elsewhere"] += 1
            else:
                kinds["a product clicked: %s" % kind] += 1
                if kind == "visibly cannot win":
                    recover.write(json.dumps(dict(t, steps=steps[k + 1:k + 2], n_steps=1)) + "\n")
                    kinds["  its item page's label: %s" % steps[k + 1]["oracle_action"]] += 1
            first.write(json.dumps(cut) + "\n")
    for kind, n in sorted(kinds.items()):
        print("%s: %d" % (kind, n))


if __name__ == "__main__":
    main()
