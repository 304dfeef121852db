"""Table for bench/abandon.sh: per run, what the mock's ledger billed as
cancelled beside what genbench reported as abandoned.

Usage: python3 bench/abandon_table.py OUT "NAME STREAM RATE AFTER ABANDON"..."""

import json
import pathlib
import sys


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def main():
    out = pathlib.Path(sys.argv[1])
    print("| run | stream | cancel | abandon_after | requests | abandoned (unanswered + cancelled) "
          "| ledger cancelled calls | ledger cancelled completion tokens | genbench abandoned completion tokens "
          "| ledger $ | genbench $ | equal |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    equal = 0
    cases = sys.argv[2:]
    for case in cases:
        name, stream, rate, after, abandon = case.split()
        r = load(out / name / "out" / "results.json")
        ledger = load(out / name / "ledger.json").get("models", {}).get("gpt-4o-mini", {})
        q = r.get("requests", {})
        a = (r.get("cost") or {}).get("abandoned") or {}
        pairs = [
            (ledger.get("cancelled_requests"), a.get("calls")),
            (ledger.get("cancelled_completion_tokens"), (a.get("tokens") or {}).get("completion")),
            (ledger.get("cancelled_prompt_tokens"), (a.get("tokens") or {}).get("prompt")),
        ]
        same = all(x is not None and x == y for x, y in pairs) and \
            abs(ledger.get("cancelled_cost_usd", -1) - a.get("usd", -2)) < 1e-12 and \
            q.get("abandoned") == ledger.get("cancelled_requests")
        equal += same
        print(f"| {name} | {stream} | {rate} after {after} | {abandon} | {q.get('total')} "
              f"| {q.get('abandoned')} ({q.get('abandoned_unanswered')} + {q.get('abandoned_cancelled')}) "
              f"| {ledger.get('cancelled_requests')} | {ledger.get('cancelled_completion_tokens')} "
              f"| {pairs[1][1]} | {ledger.get('cancelled_cost_usd', float('nan')):.6f} "
              f"| {a.get('usd', float('nan')):.6f} | {'yes' if same else 'NO'} |")
    print(f"\nledger and genbench equal (calls, prompt and completion tokens, dollars, "
          f"and abandoned requests = cancelled calls) in {equal} of {len(cases)} runs")


if __name__ == "__main__":
    main()
