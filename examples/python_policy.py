#!/usr/bin/env python3
"""A policy of your own, in Python, playing through webshop-env's JSON-lines protocol.

It reads goal records (stdin or files, plain JSON lines, e.g. `bin/goals -s test -n 20`), starts
`webshop-env`, plays each goal with a word-overlap heuristic and writes one trajectory record per
episode (schemas/trajectory.schema.json) to stdout: what `rollout` writes, so `tokenize`,
`pair-prefs`, `records` and any JSON tool take it.

The heuristic, to have something to show: search the instruction; on a results page open the
listed product whose line shares most words with the instruction; on an item page click each
option value that appears in the instruction, once; then buy.

    bin/goals -s test -n 20 | examples/python_policy.py > heuristic.jsonl
    bin/records -t trajectory heuristic.jsonl | jq -s 'map(.reward) | add / length'
    bin/tokenize heuristic.jsonl > heuristic-tokens.jsonl

Standard library only. WEBSHOP_ENV names the server (default: bin/webshop-env of this project).
"""
import json
import os
import re
import subprocess
import sys

MAX_STEPS = 15
WORD = re.compile(r"[a-z0-9]+")


def words(text):
    return set(WORD.findall(text.lower()))


class Env:
    """One webshop-env process; one request line out, one response line back."""

    def __init__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        server = os.environ.get("WEBSHOP_ENV", os.path.join(here, "..", "bin", "webshop-env"))
        self.proc = subprocess.Popen([server, "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer.get("ok"):
            raise RuntimeError("webshop-env: %s" % answer.get("error"))
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def choose(page, observation, actions, instruction, clicked):
    """The heuristic: an action among the valid ones."""
    goal_words = words(instruction)
    if page == "search":
        return actions[0]
    if page == "results":
        lines = observation.split("\n")
        best, best_score = None, -1
        for i, line in enumerate(lines):
            m = re.match(r"\[(?:clicked )?button\] (b0[0-9a-z]{8}) \[(?:clicked )?button_\]", line.lower())
            if m and i + 1 < len(lines):
                score = len(goal_words & words(lines[i + 1]))
                if score > best_score:
                    best, best_score = "click[%s]" % m.group(1), score
        return best if best in actions else "click[next >]"
    if page == "item":
        for action in actions:
            value = action[len("click["):-1]
            fixed = {"back to search", "< prev", "description", "features", "reviews", "buy now"}
            if value not in fixed and action not in clicked and words(value) and words(value) <= goal_words:
                return action
        return "click[buy now]"
    return "click[< prev]"


def play(env, goal):
    state = env.call({"op": "reset", "goal": goal, "obs": "text_rich", "max_steps": MAX_STEPS})
    steps, clicked, answer = [], set(), state
    while not answer["done"]:
        action = choose(answer["page"], answer["observation"], answer["actions"], goal["instruction"], clicked)
        clicked.add(action)
        index = answer["actions"].index(action) if action in answer["actions"] else -1
        steps.append({"obs": answer["observation"], "page": answer["page"], "actions": answer["actions"],
                      "action": action, "action_index": index})
        answer = env.call({"op": "step", "action": action})
    reward = answer.get("reward", 0.0)
    record = {"type": "trajectory", "v": 1, "goal_id": goal["goal_id"], "instruction": goal["instruction"],
              "policy": "x-python-heuristic", "seed": 0, "steps": steps, "reward": reward,
              "success": reward == 1.0, "n_steps": len(steps)}
    if "reward_info" in answer:
        record["reward_info"] = answer["reward_info"]
    return record


def main():
    env = Env()
    try:
        for path in sys.argv[1:] or ["-"]:
            stream = sys.stdin if path == "-" else open(path)
            for line in stream:
                if line.strip():
                    print(json.dumps(play(env, json.loads(line))), flush=True)
    finally:
        env.close()


if __name__ == "__main__":
    main()
