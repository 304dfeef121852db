"""Prints the leak verdicts of a directory of soaks (shared by bench/leak.sh
and bench/leak-fastapi.sh). Each soak is OUT/<kind>-<i>/results.json, kind
`leak` or `clean`; the last lines count `leak` among the leaking soaks,
`no_leak` among the clean ones, the leaking soaks whose 95% CI holds the
injected rate, and the soaks whose memory threshold failed.

    python3 bench/leak_table.py OUT INJECTED_MIB_PER_H
"""
import json
import pathlib
import sys

out, injected = pathlib.Path(sys.argv[1]), float(sys.argv[2])
want = {"leak": "leak", "clean": "no_leak"}
hits, runs, covered, failed = ({"leak": 0, "clean": 0} for _ in range(4))


def order(p):
    kind, i = p.parent.name.split("-")
    return kind, int(i)


print(f"{'soak':<10} {'verdict':<13} {'slope':>7} {'95% CI':>17} {'Theil-Sen':>9} "
      f"{'steps':>5} {'net':>6}  MiB/h  rss_growth")
for p in sorted(out.glob("*/results.json"), key=order):
    name = p.parent.name
    kind = name.split("-")[0]
    r = json.loads(p.read_text())
    leak = r.get("leak")
    runs[kind] += 1
    gate = next((t for t in r.get("thresholds", []) if t["expr"].startswith("rss_growth")), None)
    shown = "-" if gate is None else ("pass" if gate["passed"] else "FAIL")
    failed[kind] += gate is not None and not gate["passed"]
    if leak is None:
        print(f"{name:<10} no verdict")
        continue
    lo, hi = leak["ci95_mib_per_h"]
    print(f"{name:<10} {leak['verdict']:<13} {leak['slope_mib_per_h']:7.2f} {lo:8.2f} to {hi:6.2f} "
          f"{leak['theil_sen_mib_per_h']:9.2f} {leak.get('level_shifts', 0):5d} "
          f"{leak.get('steps_mib_per_h', 0):6.2f}  {shown}")
    hits[kind] += leak["verdict"] == want[kind]
    covered[kind] += lo <= (injected if kind == "leak" else 0.0) <= hi
print(f"\n{injected:g} MiB/h leak called leak:       {hits['leak']} of {runs['leak']}")
print(f"clean service called no_leak:    {hits['clean']} of {runs['clean']}")
print(f"leak's CI holds {injected:g} MiB/h:        {covered['leak']} of {runs['leak']}")
print(f"clean CI holds 0 MiB/h:          {covered['clean']} of {runs['clean']}")
print(f"rss_growth threshold failed:     leaking {failed['leak']} of {runs['leak']}, "
      f"clean {failed['clean']} of {runs['clean']}")
