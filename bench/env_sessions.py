#!/usr/bin/env python3
"""Many sessions in one webshop-env (issue 19, part 4): SESSIONS sessions reset on goal records
(cycling through GOALS, a goals JSON-lines file), then STEPS rounds in which every session takes
one step (its search bar's search, else one of its actions picked by session and round, so the
sessions walk results, products and options; a finished one is reset), a round's requests
written at once and its answers read. Prints one Markdown table row: requests per second (resets
and steps), and the service's memory with every session open (smaps_rollup: private =
anonymous, the rest file-backed).
Usage: bench/env_sessions.py WEBSHOP_ENV DATA GOALS SESSIONS STEPS"""
import json
import subprocess
import sys
import threading
import time


def memory(pid):
    kb = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Anonymous:"):
                kb[parts[0]] = int(parts[1])
    return kb["Rss:"] / 1024, kb["Anonymous:"] / 1024


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    env, data, goals_path, sessions, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    with open(goals_path) as f:
        goals = [json.loads(line) for line in f if line.strip()]
    proc = subprocess.Popen([env, "-q", "--data", data, "--max-sessions", str(max(sessions, 1))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1 << 20)

    def exchange(requests):
        writer = threading.Thread(target=lambda: (proc.stdin.write("".join(json.dumps(r) + "\n" for r in requests)),
                                                  proc.stdin.flush()))
        writer.start()
        answers = [json.loads(proc.stdout.readline()) for _ in requests]
        writer.join()
        bad = [a for a in answers if not a.get("ok")]
        if bad:
            sys.exit("env_sessions: webshop-env answered an error: %s" % bad[0].get("error"))
        return answers

    exchange([{"op": "search", "query": "start"}])  # the start is not timed
    t0 = time.time()
    state = exchange([{"op": "reset", "session": s, "goal": goals[s % len(goals)]} for s in range(sessions)])
    n_steps, n_resets = 0, sessions
    for r in range(steps):
        requests = []
        for s, st in enumerate(state):
            if st.get("done"):
                requests.append({"op": "reset", "session": s, "goal": goals[(s + r) % len(goals)]})
                n_resets += 1
                continue
            acts = st["actions"]
            act = acts[0] if st.get("has_search_bar") else acts[(7 * s + 3 * r) % len(acts)]
            requests.append({"op": "step", "session": s, "action": act})
            n_steps += 1
        state = exchange(requests)
    dt = time.time() - t0
    rss, private = memory(proc.pid)
    proc.stdin.close()
    proc.wait()
    print("| webshop-env mapped: %d sessions, %d resets + %d steps | %.2f s, %.0f requests/s | RSS %.0f MB: "
          "%.0f MB private, %.0f MB file-backed |" % (sessions, n_resets, n_steps, dt, (n_resets + n_steps) / dt, rss,
                                                     private, rss - private))


if __name__ == "__main__":
    main()
