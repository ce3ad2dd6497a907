#!/usr/bin/env python3
"""Markdown table of a bench/run-peers.sh results.jsonl: per run, the highest passing step and the
first failing one (why it failed). Usage: summarize.py results.jsonl"""
import json
import sys

runs, steps = [], []
for line in open(sys.argv[1]):
    row = json.loads(line)
    if row["scenario"].endswith("step-summary"):
        runs.append((row.get("dialect", "parley"), row["highest_passing_rate"], steps))
        steps = []
    else:
        steps.append(row)

def fmt(r):
    if r is None:
        return "—"
    lost = r.get("lost", 0)
    ratio = r.get("delivered_ratio")
    extra = f", {ratio * 100:.1f} % delivered" if ratio is not None else ""
    return (f"{r['target_rate']:,.0f} msgs/s: {r['delivered_per_s']:,.0f} delivered/s, p99 "
            f"{r.get('e2e_p99_ms', float('nan')):,.1f} ms, lost/dup/ooo {lost}/{r['duplicated']}/{r['out_of_order']}"
            f"{extra}, server CPU {r.get('server_cpu_cores', float('nan')):.2f}")

print("| # | dialect | highest passing msgs/s (deliveries/s) | best passing step | first failing step |")
print("| --- | --- | --- | --- | --- |")
for i, (dialect, best, rows) in enumerate(runs, 1):
    passing = [r for r in rows if r.get("pass")]
    failing = [r for r in rows if not r.get("pass")]
    per = rows[0]["members"] + 1 if rows else 0
    print(f"| {i} | {dialect} | {best:,.0f} ({best * per:,.0f}) | {fmt(passing[-1] if passing else None)} | "
          f"{fmt(failing[0] if failing else None)} |")
