#!/usr/bin/env bash
# The regression gate's false-alarm rate and power, on the CI recipe itself:
# each side is `genbench run ci --repeat 3`, each verdict `genbench gate`
# over the two sides' run-*/results.json. Not a test: it prints figures.
#
#   A/A       PAIRS pairs of sides of the same build: any exit 1 is a false
#             alarm (goal: at most 1 in 20).
#   stage     PAIRS pairs: a clean side against one whose llm stage is 10%
#             slower (pipeline.extra_delay_ms.llm = a tenth of the clean
#             llm p95): caught when stage_p95.llm regressed (goal: 19 of 20).
#   budget    PAIRS pairs: a clean side against context_token_budget +20%
#             (6000 -> 7200): caught when cost and tokens per article both
#             regressed, compared exactly (goal: every time).
#   recipe    one more side and its gate alone, timed: what the recipe costs
#             a CI job on this machine.
#
# The clean sides of the stage and budget pairs are the A/A pairs' (each
# pair a different one). PARALLEL sides run at once (each its own genbench,
# mock and pipeline on loopback), which makes the machine as noisy as a
# shared CI runner; the recipe timing runs alone.
#
# Usage: bench/gate.sh   Env: PAIRS (default 20), PARALLEL (default 4),
#        OUT (default a temporary directory, kept)
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-20}
PARALLEL=${PARALLEL:-4}
OUT=${OUT:-$(mktemp -d -t genbench-gate-XXXXXX)}
source bench/lib.sh
cargo build --release -q -p genbench
mkdir -p "$OUT"
cp target/release/genbench "$OUT/genbench"
GENBENCH=$OUT/genbench
echo "sides in $OUT" >&2

side() { # name [--set ...]
    local name=$1
    shift
    "$GENBENCH" run ci --repeat 3 --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 || true
}

# One "name|args" job; the args split on spaces.
side_job() {
    # shellcheck disable=SC2086
    side ${1%%|*} ${1#*|}
}
run_all() { each_parallel "$PARALLEL" side_job "$@"; }

jobs_list=()
for i in $(seq $((2 * PAIRS))); do jobs_list+=("clean-$i|"); done
run_all "${jobs_list[@]}"

LLM_P95_MS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stages']['llm']['p95'])" "$OUT/clean-1/results.json")
DELAY_MS=$(python3 -c "import sys; print(round(float(sys.argv[1]) / 10))" "$LLM_P95_MS")
echo "clean llm p95 ${LLM_P95_MS} ms: the stage pairs add ${DELAY_MS} ms" >&2
jobs_list=()
for i in $(seq "$PAIRS"); do
    jobs_list+=("slow-$i|--set pipeline.extra_delay_ms.llm=$DELAY_MS")
    jobs_list+=("budget-$i|--set pipeline.context_token_budget=7200")
done
run_all "${jobs_list[@]}"

gate() { # baseline-dir current-dir name -> exit code; gate.json in $OUT/gates/name.json
    mkdir -p "$OUT/gates"
    local code=0
    "$GENBENCH" gate --baseline "$1"/run-*/results.json --current "$2"/run-*/results.json \
        --out "$OUT/gates/$3.json" >"$OUT/gates/$3.txt" 2>&1 || code=$?
    echo "$code"
}

for i in $(seq "$PAIRS"); do
    echo "aa $i $(gate "$OUT/clean-$((2 * i - 1))" "$OUT/clean-$((2 * i))" "aa-$i")"
    echo "stage $i $(gate "$OUT/clean-$i" "$OUT/slow-$i" "stage-$i")"
    echo "budget $i $(gate "$OUT/clean-$((PAIRS + i))" "$OUT/budget-$i" "budget-$i")"
done >"$OUT/verdicts.txt"

START=$(date +%s.%N)
side recipe
MID=$(date +%s.%N)
gate "$OUT/clean-1" "$OUT/recipe" recipe >/dev/null
END=$(date +%s.%N)

python3 - "$OUT" "$START" "$MID" "$END" "$DELAY_MS" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
start, mid, end = map(float, sys.argv[2:5])
delay = sys.argv[5]

def metrics(name):
    g = json.loads((out / "gates" / f"{name}.json").read_text())
    return {m["name"]: m for m in g["metrics"]}

rows = [line.split() for line in (out / "verdicts.txt").read_text().splitlines()]
count = {"aa": 0, "stage": 0, "budget": 0}
pairs = {"aa": 0, "stage": 0, "budget": 0}
print(f"{'pair':<10} {'exit':>4}  regressed (change, interval)")
for kind, i, code in rows:
    pairs[kind] += 1
    name = f"{kind}-{i}"
    if code == "2":
        print(f"{name:<10} {code:>4}  cannot compare: {(out / 'gates' / (name + '.txt')).read_text().strip()}")
        continue
    m = metrics(name)
    regressed = [n for n, v in m.items() if v["verdict"] == "regressed"]
    shown = ", ".join(
        f"{n} ({m[n]['change'] * 100:+.1f}%, {m[n]['ci'][0] * 100:+.1f} to {m[n]['ci'][1] * 100:+.1f})"
        if m[n].get("ci") else f"{n} ({m[n]['change'] * 100:+.1f}%, exact)"
        for n in regressed
    ) or "-"
    print(f"{name:<10} {code:>4}  {shown}")
    if kind == "aa":
        count["aa"] += code == "1"
    elif kind == "stage":
        count["stage"] += m["stage_p95.llm"]["verdict"] == "regressed"
    else:
        count["budget"] += all(
            m[n]["verdict"] == "regressed" and m[n]["method"] == "exact"
            for n in ("cost_per_article", "tokens_per_article")
        )
print()
print(f"A/A false alarms (exit 1):                         {count['aa']} of {pairs['aa']}")
print(f"llm stage +10% (+{delay} ms) caught (stage_p95.llm): {count['stage']} of {pairs['stage']}")
print(f"context budget +20% caught exactly (cost, tokens): {count['budget']} of {pairs['budget']}")
print(f"recipe: run ci --repeat 3 {mid - start:.1f} s, gate {end - mid:.2f} s")
PY
