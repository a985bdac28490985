#!/usr/bin/env python3
"""Issue 11's goals table from the JSON lines of one ../shared/bench/compare.sh invocation
(bench/compare.sh names its file): for each scenario, fastfork's server CPU per request and
requests/s ÷ nginx's (and ÷ fasthttp's for pipe16) as the ratio of the medians over rounds, then
each round's own ratio (against the peer run just before it, in round order), and a verdict:
"met" when the ratio of the medians meets the goal and so does every round, "level" when the
rounds' range crosses 1.0 (no difference established), otherwise "met (median only)" or "not met".

usage: bench/goals.py RESULTS.jsonl [--subject fastfork]      (prints a Markdown table)
"""
import argparse
import json
import statistics

# scenario, metric, peer, goal: ("le", x) = at most x, ("ge", x) = at least x
GOALS = [
    ("ka64", "cpu", "nginx", ("le", 0.95)), ("ka64", "rps", "nginx", ("ge", 1.05)),
    ("ka256", "cpu", "nginx", ("le", 0.95)), ("ka256", "rps", "nginx", ("ge", 1.05)),
    ("close32", "cpu", "nginx", ("le", 0.85)), ("close32", "rps", "nginx", ("ge", 1.0)),
    ("pipe16", "cpu", "nginx", ("le", 0.15)), ("pipe16", "cpu", "fasthttp", ("le", 0.5)),
    ("pipe16", "rps", "nginx", None),
]
KEY = {"cpu": "server_us_per_req", "rps": "rps"}
NAME = {"cpu": "server CPU per request", "rps": "requests/s"}


def holds(goal, v):
    op, x = goal
    return v <= x if op == "le" else v >= x


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("--subject", default="fastfork")
    a = ap.parse_args()
    recs = [json.loads(line) for line in open(a.results) if line.strip()]

    def by_round(label, scenario, key):
        return {r["run"]: r[key] for r in recs if r["label"] == label and r["scenario"] == scenario and r.get(key)}

    print("| scenario | ratio | goal | median ratio | each round | verdict |")
    print("|---|---|---|---|---|---|")
    for scenario, metric, peer, goal in GOALS:
        mine, theirs = by_round(a.subject, scenario, KEY[metric]), by_round(peer, scenario, KEY[metric])
        rounds = sorted(set(mine) & set(theirs), key=int)
        if not rounds:
            continue
        median = statistics.median(mine[r] for r in rounds) / statistics.median(theirs[r] for r in rounds)
        each = [mine[r] / theirs[r] for r in rounds]
        goal_text = "—" if goal is None else ("≤ " if goal[0] == "le" else "≥ ") + f"{goal[1]:g}"
        if goal is None:
            verdict = ""
        elif min(each) < 1.0 < max(each):
            verdict = "level"
        elif holds(goal, median) and all(holds(goal, v) for v in each):
            verdict = "met"
        elif holds(goal, median):
            verdict = "met (median only)"
        else:
            verdict = "not met"
        print(f"| {scenario} | {NAME[metric]} ÷ {peer} | {goal_text} | {median:.2f} "
              f"| {', '.join(f'{v:.2f}' for v in each)} (range {min(each):.2f}–{max(each):.2f}) | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
