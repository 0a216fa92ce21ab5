#!/usr/bin/env python3
"""Who else wins: for each goal, the products the instruction's search lists on its first
results page, each bought with its best option values and scored by the environment's own
reward (webshop-env's "reward" op); which of them win (reward 1), whether the target is one,
and whether a winner's goal attributes can be read on pages an agent can open or only through
the mined attribute list that no page shows.

Usage: scripts/winners.py GOALS [AGENT_TRAJ]
  GOALS       goal records (bin/goals -s test)
  AGENT_TRAJ  an agent's trajectories on GOALS (rollout -m CKPT, plain or .zst): the same
              counts for the goals it lost, by what it bought; and where it bought another
              product, whether that product could win at its best option values and, where
              not, whether its item page shows why (the goal's option value not offered, or
              the price over the limit: r_option or r_price short) or only the reward's
              hidden parts do (r_att through the mined list, r_type)

Where an attribute can be read is asked of the reward itself: the product scored again with
its mined attributes replaced by WebShop's placeholder for none ("DUMMY_ATTR") counts the goal
attributes found in its title, bullet points or description (the item page's Features and
Description sub-pages); with the bullet points and description emptied too, those in its title
(the results page). The best option values: every combination of the product's values, or,
where there are more than MAX_COMBINATIONS, of the MAX_PER_OPTION values per option that best
match some goal option (thefuzz's token_set_ratio through the "fuzz" op).
A data check for docs/results, not part of any pipeline.
"""
import collections
import itertools
import json
import os
import subprocess
import sys

from records import records

MAX_COMBINATIONS = 256
MAX_PER_OPTION = 3
RESULTS_PER_PAGE = 10  # lib/webshop/env.h, WS_RESULTS_PER_PAGE


class Env:
    def __init__(self):
        self.proc = subprocess.Popen(["bin/webshop-env", "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer.get("ok"):
            sys.exit("webshop-env: %s for %s" % (answer.get("error"), json.dumps(request)[:200]))
        return answer


def option_choices(env, goal, options):
    """The combinations of one value per option to try."""
    names = sorted(options)
    if not names:
        return [{}]
    total = 1
    for n in names:
        total *= max(1, len(options[n]))
    if total > MAX_COMBINATIONS:
        wanted = ["%s %s" % kv for kv in goal["goal_options"].items()] + list(goal["goal_options"].values())
        kept = {}
        for n in names:
            scored = [(max((env.ask({"op": "fuzz", "a": v, "b": w})["ratio"] for w in wanted), default=0), v)
                      for v in options[n]]
            kept[n] = [v for _, v in sorted(scored, key=lambda s: -s[0])[:MAX_PER_OPTION]]
        options = kept
    return [dict(zip(names, values)) for values in itertools.product(*(options[n] for n in names))]


def best_purchase(env, goal, asin, product):
    best = None
    for chosen in option_choices(env, goal, product.get("options") or {}):
        r = env.ask({"op": "reward", "goal": goal, "asin": asin, "options": chosen})
        if best is None or r["reward"] > best["reward"]:
            best = r
        if best["reward"] == 1:
            break
    return best


def attributes_readable(env, goal, product):
    """How many goal attributes the reward finds without the mined list: (on its sub-pages or
    title, in its title alone)."""
    unmined = dict(product, Attributes=["DUMMY_ATTR"])
    title_only = dict(unmined, BulletPoints=[], Description="")
    pages = env.ask({"op": "reward", "goal": goal, "product": unmined, "options": {}})["n_att_matched"]
    title = env.ask({"op": "reward", "goal": goal, "product": title_only, "options": {}})["n_att_matched"]
    return pages, title


def where_readable(env, goal, product):
    k = len(goal["attributes"])
    pages, title = attributes_readable(env, goal, product)
    return "title" if title == k else "sub-pages" if pages == k else "mined list only"


def short(reward, part):
    return (reward[part] if reward[part] is not None else 1) < 1


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    goals = [g for g in records(sys.argv[1]) if g.get("type") == "goal"]
    data = os.environ.get("WEBSHOP_DATA", "../shared/webshop-1k")
    catalog = {r["id"]: r["product"] for r in records(os.path.join(data, "products.jsonl.zst"))}
    agent = {}
    if len(sys.argv) == 3:
        agent = {t["goal_id"]: t for t in records(sys.argv[2]) if t.get("type") == "trajectory"}
    env = Env()
    counts, lost_counts, losers_short = collections.Counter(), collections.Counter(), collections.Counter()
    bought_other = collections.Counter()
    winners_total = losers_total = 0
    for g in goals:
        listed = env.ask({"op": "search", "query": g["instruction"]})["asins"][:RESULTS_PER_PAGE]
        best = {a: best_purchase(env, g, a, catalog[a]) for a in listed}
        winners = [a for a in listed if best[a]["reward"] == 1]
        for a in listed:
            if best[a]["reward"] < 1:
                losers_total += 1
                for part in ("r_type", "r_att", "r_option", "r_price"):
                    losers_short[part] += short(best[a], part)
        winners_total += len(winners)
        readable = [where_readable(env, g, catalog[a]) for a in winners]
        key = ("target on page 1" if g["asin"] in listed else "target not on page 1",
               "no winner" if not winners else "the target alone" if winners == [g["asin"]] else
               "%s winner(s), the target %s" % ("1" if len(winners) == 1 else "2+",
                                               "among them" if g["asin"] in winners else "not among them"),
               "-" if not winners else "title" if "title" in readable else
               "sub-pages" if "sub-pages" in readable else "mined list only")
        counts[key] += 1
        t = agent.get(g["goal_id"])
        if t is not None and not t["success"]:
            bought = "nothing" if not t["asin"] else "the target" if t["asin"] == g["asin"] else \
                "a page-1 winner (options or price short)" if t["asin"] in winners else "another product"
            lost_counts[(bought,) + key[1:]] += 1
            if bought == "another product":
                b = best_purchase(env, g, t["asin"], catalog[t["asin"]])
                bought_other["wins at its best option values" if b["reward"] == 1 else
                             "cannot win, and its item page shows it (r_option or r_price short)"
                             if short(b, "r_option") or short(b, "r_price") else
                             "cannot win, for reasons its item page does not show (r_att, r_type)"] += 1
    n = len(goals)
    print("%d goals; winners on the first results page: %.2f a goal\n" % (n, winners_total / n))
    print("| the target | winners on page 1 | best-readable winner's attributes | goals | share |")
    print("|:--|:--|:--|--:|--:|")
    for key, c in sorted(counts.items(), key=lambda kv: -kv[1]):
        print("| %s | %s | %s | %d | %.1f%% |" % (*key, c, 100.0 * c / n))
    print("\nThe %d other products on the first pages, at their best options: short of %s" %
          (losers_total, ", ".join("%s %.0f%%" % (k, 100.0 * v / max(1, losers_total)) for k, v in sorted(losers_short.items()))))
    if agent:
        lost = sum(lost_counts.values())
        print("\n%d of %d goals lost by the agent (%s)\n" % (lost, len(agent), sys.argv[2]))
        print("| the agent bought | winners on page 1 | best-readable winner's attributes | goals |")
        print("|:--|:--|:--|--:|")
        for key, c in sorted(lost_counts.items(), key=lambda kv: -kv[1]):
            print("| %s | %s | %s | %d |" % (*key, c))
        print("\nAnother product bought (%d goals):\n" % sum(bought_other.values()))
        for kind, c in sorted(bought_other.items(), key=lambda kv: -kv[1]):
            print("- %s: %d" % (kind, c))


if __name__ == "__main__":
    main()
