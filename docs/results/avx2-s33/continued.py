#!/usr/bin/env python3
"""The experiment's data step (not pipeline code): recovery pages with what follows them.

avx2-s32/recoveries.py keeps, after a first divergence that opens a product visibly unable to
win, only that item page (labelled `< prev`). The results page the agent returns to (the product
now marked [clicked button]) never enters the data: the episode is cut at the wrong click. Here,
where the agent did back out (its action on the item page is the oracle's), the episode goes on
from the item page up to and including its next divergence, so the states after the back-out are
learned with the oracle's labels (the same product opened again is such a divergence).

Usage: continued.py GOALS TRAJ OUT_RECOVER    (prints how many episodes and states of each kind)
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "avx2-s32"))
import recoveries  # noqa: E402  (it also puts scripts/ on the path, for records)
from records import records  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    goals, catalog, env = recoveries.load(sys.argv[1])
    counts = collections.Counter()
    with open(sys.argv[3], "w") as out:
        for t in records(sys.argv[2]):
            if t.get("type") != "trajectory":
                continue
            steps = t["steps"]
            k = recoveries.first_divergence(steps)
            if k is None or recoveries.visibly_losing_click(env, goals[t["goal_id"]], catalog, steps, k) \
                    != "visibly cannot win":
                continue
            rest = recoveries.first_divergence(steps[k + 2:])
            end = k + 1 if steps[k + 1]["action_index"] != steps[k + 1]["oracle_index"] else \
                len(steps) - 1 if rest is None else k + 2 + rest
            kept = steps[k + 1:end + 1]
            out.write(json.dumps(dict(t, steps=kept, n_steps=len(kept))) + "\n")
            counts["item pages visibly losing"] += 1
            counts["  the agent backed out"] += end > k + 1
            counts["states after a back-out"] += len(kept) - 1
    for kind, n in counts.items():
        print("%s: %d" % (kind, n))


if __name__ == "__main__":
    main()
