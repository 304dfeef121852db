#!/usr/bin/env bash
# The regression gate's power and false-alarm rate, on both CI recipes,
# for a slowdown in every stage and outside every stage. Not a test: it
# prints figures.
#
# Recipes (RECIPES, default "artifact ab"):
#   artifact  each side is `genbench run ci --repeat 3` (a side is what one
#             CI job records), each verdict `genbench gate` over two sides'
#             run-*/results.json: the cheaper recipe, baseline from an
#             earlier job.
#   ab        each verdict is one `genbench ab ci --rounds 3` (A B, B A, A B
#             on one machine), as the GitHub Actions example runs it.
#
# Cases, PAIRS verdicts each:
#   aa        the same build both sides: any exit 1 is a false alarm (goal:
#             at most 1 in 20).
#   burner    artifact only: the current side ran with a CPU burner on core
#             0 (a noisy neighbour on one runner): exit 1 is a false alarm.
#   STAGE     the current side (B) has pipeline.extra_delay_ms.STAGE = a
#             tenth of the clean article p95, for each STAGE in STAGES
#             (default: search fetch extract prompt llm handler; handler is
#             outside every stage, on every request, as a service with no
#             stages is): caught when the gate exits 1 (goal: 19 of 20).
#   budget    artifact only: context_token_budget +20%: caught when cost and
#             tokens per article both regressed, compared exactly.
#
# PARALLEL sides run at once (each its own genbench, mocks and pipeline on
# loopback), which makes the machine as noisy as a shared runner.
#
# Usage: bench/gate.sh   Env: PAIRS (default 20), PARALLEL (default 2),
#        RECIPES, STAGES, OUT (default a temporary directory, kept),
#        GENBENCH (default: a release build of this checkout)
#    or: REGATE=DIR bench/gate.sh   judges an earlier run's sides again with
#        this build's gate (the runs are not made again), into DIR/regate
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${REGATE:-}" ]; then
    exec python3 bench/gate_table.py --regate "$REGATE" "${GENBENCH:-target/release/genbench}"
fi
PAIRS=${PAIRS:-20}
PARALLEL=${PARALLEL:-2}
RECIPES=${RECIPES:-artifact ab}
STAGES=${STAGES:-search fetch extract prompt llm handler}
OUT=${OUT:-$(mktemp -d -t genbench-gate-XXXXXX)}
source bench/lib.sh
mkdir -p "$OUT/gates"
bench_binary "$OUT"
echo "gate bench in $OUT: recipes $RECIPES; stages $STAGES; $PAIRS pairs" >&2

side() { # name [--set ...]: one artifact-recipe side
    local name=$1
    shift
    "$GENBENCH" run ci --repeat 3 --out "$OUT/$name" "$@" >"$OUT/$name.log" 2>&1 || true
}

burner_side() { # name: a side with core 0 kept busy throughout
    taskset -c 0 sh -c 'while :; do :; done' &
    local burner=$!
    side "$1"
    kill "$burner"
}

gate() { # baseline-dir current-dir name: the exit code, gate.json kept
    local code=0
    "$GENBENCH" gate --baseline "$1"/run-*/results.json --current "$2"/run-*/results.json \
        --out "$OUT/gates/$3.json" >"$OUT/gates/$3.txt" 2>&1 || code=$?
    echo "$code"
}

ab() { # name [--b-set ...]: one ab-recipe verdict
    local name=$1 code=0
    shift
    "$GENBENCH" ab ci --a embedded --b embedded --rounds 3 --out "$OUT/$name" "$@" \
        >"$OUT/gates/$name.txt" 2>"$OUT/$name.log" || code=$?
    cp "$OUT/$name/gate.json" "$OUT/gates/$name.json" 2>/dev/null || true
    echo "${name%-*} ${name##*-} $code" >>"$OUT/verdicts.txt"
}

# One "function|name|args" job; the args split on spaces.
job() {
    local fn=${1%%|*} rest=${1#*|}
    # shellcheck disable=SC2086
    "$fn" ${rest%%|*} ${rest#*|}
}
run_all() { each_parallel "$PARALLEL" job "$@"; }

# The injected delay: a tenth of the clean article p95, from a first side
# (also the first artifact baseline).
side clean-1
P95_MS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['latency_ms']['p95'])" "$OUT/clean-1/results.json")
DELAY_MS=$(python3 -c "import sys; print(round(float(sys.argv[1]) / 10))" "$P95_MS")
echo "clean article p95 $P95_MS ms: each slowed side adds $DELAY_MS ms" >&2
: >"$OUT/verdicts.txt"

if [[ " $RECIPES " == *" artifact "* ]]; then
    jobs_list=()
    for i in $(seq 2 $((2 * PAIRS))); do jobs_list+=("side|clean-$i|"); done
    for i in $(seq "$PAIRS"); do
        jobs_list+=("burner_side|burner-$i|" "side|budget-$i|--set pipeline.context_token_budget=7200")
        for s in $STAGES; do jobs_list+=("side|$s-$i|--set pipeline.extra_delay_ms.$s=$DELAY_MS"); done
    done
    run_all "${jobs_list[@]}"
    for i in $(seq "$PAIRS"); do
        echo "artifact:aa $i $(gate "$OUT/clean-$((2 * i - 1))" "$OUT/clean-$((2 * i))" "artifact:aa-$i")"
        echo "artifact:burner $i $(gate "$OUT/clean-$i" "$OUT/burner-$i" "artifact:burner-$i")"
        echo "artifact:budget $i $(gate "$OUT/clean-$((PAIRS + i))" "$OUT/budget-$i" "artifact:budget-$i")"
        for s in $STAGES; do
            echo "artifact:$s $i $(gate "$OUT/clean-$i" "$OUT/$s-$i" "artifact:$s-$i")"
        done
    done >>"$OUT/verdicts.txt"
fi

if [[ " $RECIPES " == *" ab "* ]]; then
    jobs_list=()
    for i in $(seq "$PAIRS"); do
        jobs_list+=("ab|ab:aa-$i|")
        for s in $STAGES; do jobs_list+=("ab|ab:$s-$i|--b-set pipeline.extra_delay_ms.$s=$DELAY_MS"); done
    done
    run_all "${jobs_list[@]}"
fi

echo "$DELAY_MS" >"$OUT/delay_ms"
python3 bench/gate_table.py "$OUT"
