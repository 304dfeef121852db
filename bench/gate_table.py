"""Prints bench/gate.sh's verdicts: per recipe and case, how many pairs
exited 1 (a false alarm for aa and burner, a catch for a slowed stage),
and the median change of article p95 with the method that judged it.

    python3 bench/gate_table.py OUT
    python3 bench/gate_table.py --regate OUT GENBENCH   (judge OUT's sides
        again with GENBENCH's gate, into OUT/regate, then print)
"""
import json
import pathlib
import statistics
import subprocess
import sys


def regate(out, genbench):
    """Every verdict of OUT made again from its sides' results."""
    new = out / "regate"
    (new / "gates").mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (out / "verdicts.txt").read_text().splitlines():
        case, i, _ = line.split()
        recipe, kind = case.split(":")
        if recipe == "ab":
            base, cur = out / f"{case}-{i}" / "a", out / f"{case}-{i}" / "b"
        else:
            names = {"aa": (f"clean-{2 * int(i) - 1}", f"clean-{2 * int(i)}"),
                     "burner": (f"clean-{i}", f"burner-{i}")}
            b, c = names.get(kind, (None, None))
            if kind == "budget":
                b, c = budget_pair(out, i)
            elif b is None:
                b, c = f"clean-{i}", f"{kind}-{i}"
            base, cur = out / b, out / c
        gate = new / "gates" / f"{case}-{i}.json"
        code = subprocess.run(
            [genbench, "gate", "--baseline", *map(str, sorted(base.glob("run-*/results.json"))),
             "--current", *map(str, sorted(cur.glob("run-*/results.json"))), "--out", str(gate)],
            capture_output=True).returncode
        lines.append(f"{case} {i} {code}")
    (new / "verdicts.txt").write_text("\n".join(lines) + "\n")
    (new / "delay_ms").write_text((out / "delay_ms").read_text() if (out / "delay_ms").exists() else "?")
    return new


def budget_pair(out, i):
    """The budget pair's baseline: the clean side after the A/A ones."""
    pairs = len(list(out.glob("budget-*/")))
    return f"clean-{pairs + int(i)}", f"budget-{i}"


if sys.argv[1] == "--regate":
    out = regate(pathlib.Path(sys.argv[2]), sys.argv[3])
else:
    out = pathlib.Path(sys.argv[1])
delay = (out / "delay_ms").read_text().strip() if (out / "delay_ms").exists() else "?"
rows = [line.split() for line in (out / "verdicts.txt").read_text().splitlines() if line.strip()]
cases = {}
for case, i, code in rows:
    cases.setdefault(case, []).append((int(i), code))


def p95(case, i):
    p = out / "gates" / f"{case}-{i}.json"
    if not p.exists():
        return None
    m = {m["name"]: m for m in json.loads(p.read_text())["metrics"]}.get("latency_p95")
    return m


def budget_caught(case, i):
    g = json.loads((out / "gates" / f"{case}-{i}.json").read_text())
    m = {m["name"]: m for m in g["metrics"]}
    return all(m[n]["verdict"] == "regressed" and m[n]["method"] == "exact"
               for n in ("cost_per_article", "tokens_per_article"))


print(f"every slowed side adds {delay} ms (a tenth of the clean article p95)\n")
print(f"{'recipe':<9} {'case':<8} {'pairs':>5} {'exit 1':>6} {'exit 2':>6}  {'reads as':<13} "
      f"{'p95 change (median)':>19}  method")
for case in sorted(cases, key=lambda c: (c.split(":")[0], c.split(":")[1] not in ("aa", "burner"), c)):
    recipe, kind = case.split(":")
    verdicts = sorted(cases[case])
    ones = sum(code == "1" for _, code in verdicts)
    twos = sum(code == "2" for _, code in verdicts)
    if kind == "budget":
        ones = sum(code == "1" and budget_caught(case, i) for i, code in verdicts)
    reads = "false alarms" if kind in ("aa", "burner") else "caught"
    ms = [m for m in (p95(case, i) for i, _ in verdicts) if m and m.get("change") is not None]
    change = f"{statistics.median(m['change'] for m in ms) * 100:+.1f}%" if ms else "-"
    methods = ",".join(sorted({m["method"] for m in ms})) or "-"
    print(f"{recipe:<9} {kind:<8} {len(verdicts):>5} {ones:>6} {twos:>6}  {reads:<13} {change:>19}  {methods}")
