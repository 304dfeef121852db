"""Tables for bench/search.sh: each target's answers against its known
capacity, wall times beside a fixed-step stress plan's, and the
over-saturation test's record at 80% and 1.6x of the pipeline's capacity.

Usage: python3 bench/search_table.py OUT PROBE TARGET..."""

import json
import math
import pathlib
import sys

KNOWN = {"pipeline": (40.0, 4.0, 160.0), "search": (50.0, 10.0, 400.0), "llm": (40.0, 10.0, 400.0)}
RESOLUTION = 0.05


def seconds(d):
    return float(d[:-1]) * {"s": 1, "m": 60}[d[-1]]


def stress_plan_s(lo, hi, probe_s):
    """A step every 5% from lo to hi, each probe_s long."""
    return (math.floor(math.log(hi / lo) / math.log(1 + RESOLUTION)) + 1) * probe_s


def runs(out, target):
    for p in sorted((out / target).glob("*/results.json"), key=lambda p: int(p.parent.name)):
        yield p.parent.name, json.loads(p.read_text())


def answers(out, target, probe_s):
    known, lo, hi = KNOWN[target]
    print(f"\n{target}: known capacity {known:g} req/s; within 5% means "
          f"{known * (1 - RESOLUTION):g} to {known * (1 + RESOLUTION):g}")
    print("| run | answer | lowest failing | confirmed | within 5% | probes | wall s |")
    print("|---:|---:|---:|---|---|---:|---:|")
    hits = n = 0
    walls = []
    for name, r in runs(out, target):
        s = (r.get("capacity") or {}).get("search")
        if not s:
            print(f"| {name} | no search result | | | | | |")
            n += 1
            continue
        a = s["max_sustainable"]
        ok = a is not None and abs(a / known - 1) <= RESOLUTION
        hits += ok
        n += 1
        walls.append(r["duration_s"])
        f = s["lowest_failing"]
        print(f"| {name} | {a if a is None else round(a, 2)} | {f if f is None else round(f, 2)} | "
              f"{s['confirmed']} | {'yes' if ok else 'NO'} | {len(s['probes'])} | {r['duration_s']:.0f} |")
    plan = stress_plan_s(lo, hi, probe_s)
    wall = sorted(walls)[len(walls) // 2] if walls else float("nan")
    print(f"\n{target}: within 5% of {known:g} in {hits} of {n}; search wall time median {wall:.0f} s; "
          f"a fixed-step stress from {lo:g} to {hi:g} in 5% steps of {probe_s:g} s plans {plan:.0f} s")
    stress = out / f"stress-{target}" / "1" / "results.json"
    if stress.exists():
        r = json.loads(stress.read_text())
        c = r.get("capacity") or {}
        print(f"{target}: the fixed-step stress, run: {r['duration_s']:.0f} s wall, "
              f"highest step meeting the SLO {c.get('max_sustainable_rps')} req/s")


def oversaturation(out, probe_s):
    at80 = stopped80 = above = caught = 0
    for _, r in runs(out, "pipeline"):
        for p in ((r.get("capacity") or {}).get("search") or {}).get("probes", []):
            if p["load"] == 32.0:
                at80 += 1
                stopped80 += "oversaturated" in p
            if p["load"] == 64.0:
                above += 1
                o = p.get("oversaturated")
                caught += bool(o and o["after_s"] <= probe_s / 4)
    print(f"\nover-saturation: probes at 32 req/s (80%) stopped early: {stopped80} of {at80}; "
          f"probes at 64 req/s (1.6x) stopped within the first quarter ({probe_s / 4:g} s): {caught} of {above}")


def main():
    out, probe_s, targets = pathlib.Path(sys.argv[1]), seconds(sys.argv[2]), sys.argv[3:]
    for t in targets:
        answers(out, t, probe_s)
    if "pipeline" in targets:
        oversaturation(out, probe_s)


main()
