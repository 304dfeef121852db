#!/usr/bin/env bash
# Capacity by search (`[load.search]`) against two targets whose capacity
# is known, RUNS searches each, PARALLEL at a time. Not a test: it prints
# figures (bench/search_table.py).
#
#   pipeline  the reference pipeline serving 20 requests at a time, each
#             held 500 ms by its handler (extra_delay_ms.handler), over
#             instant mocks and no cache: at most 20 / 0.5 s = 40 req/s.
#             SLO p95 < 1.5s (3 service times). min = 4, so every search
#             probes 32 (80% of capacity: over-saturation must never stop
#             it) and 64 (1.6x: it must stop within the first quarter).
#   search    the search mock with rps_limit = 50 (a 1 s token bucket):
#             429 above 50 req/s. SLO error_rate < 1%.
#   llm       the mock LLM (instant) with rpm = 2400 enforced a second at a
#             time (limit_window_s = 1): 429 above 40 req/s. SLO
#             error_rate < 1%.
#
# Each search: resolution 5%, probe PROBE (default 28s, so its first
# quarter is 7 s), hold 2x. The table prints each answer against the known
# capacity (within 5%?), the wall time, and the wall time a fixed-step
# stress at the same resolution plans (a step every 5% from min to max, each
# PROBE long: stress waits out every step).
#
# Usage: bench/search.sh   Env: RUNS (default 20), PARALLEL (default 2),
#        PROBE (default 28s), TARGETS (default "pipeline search llm"),
#        STRESS ("llm": also run the fixed-step stress itself, beside the
#        searches, and print its wall time; default none),
#        OUT (default a temporary directory, kept), GENBENCH (default: a
#        release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
PARALLEL=${PARALLEL:-2}
PROBE=${PROBE:-28s}
TARGETS=${TARGETS:-pipeline search llm}
STRESS=${STRESS:-}
OUT=${OUT:-$(mktemp -d -t genbench-search-XXXXXX)}
source bench/lib.sh
mkdir -p "$OUT"
bench_binary "$OUT"
echo "search bench in $OUT: $TARGETS, $RUNS runs each, probe $PROBE" >&2

SEARCH=(--set load.search.resolution=5% --set "load.search.probe=$PROBE" --set load.search.drain=5s)

pipeline_run() { # i
    "$GENBENCH" run stress --mock-time-scale 0 --seed "$1" --out "$OUT/pipeline/$1" "${SEARCH[@]}" \
        --set load.search.min=4 --set load.search.max=160 \
        --set pipeline.max_concurrent_requests=20 --set pipeline.extra_delay_ms.handler=500 \
        --set pipeline.cache.kind=off --set 'slo=["p95 < 1.5s", "error_rate < 1%"]' \
        >"$OUT/pipeline/$1.log" 2>&1 || true
}

cat >"$OUT/limited.toml" <<'TOML'
[search.limited]
latency_ms = { median = 0.0, p95 = 0.0 }
max_results = 10
rps_limit = 50.0
usd_per_call = 0.0
TOML
cat >"$OUT/search.toml" <<'TOML'
name = "search-mock"
slo = ["error_rate < 1%"]

[load]
model = "open"
timeout = "10s"

[request]
method = "GET"
path = "/customsearch/v1?q={{topic}}&num=10"

[datasets.topic]
values = ["tides", "glaciers", "comets", "lichens"]
TOML

search_run() { # i: its own mock, so no run shares a bucket
    local port log=$OUT/search/$1.mock.log
    port=$(free_port)
    "$GENBENCH" mock --llm 127.0.0.1:0 --web 127.0.0.1:0 --search "127.0.0.1:$port" \
        --presets "$OUT/limited.toml" --search-preset limited >"$log" 2>&1 &
    local mock=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
    "$GENBENCH" run "$OUT/search.toml" --target "http://127.0.0.1:$port" --seed "$1" \
        --out "$OUT/search/$1" "${SEARCH[@]}" --set load.search.min=10 --set load.search.max=400 \
        >"$OUT/search/$1.log" 2>&1 || true
    kill "$mock" 2>/dev/null || true
    wait "$mock" 2>/dev/null || true
}

cat >"$OUT/llm.toml" <<'TOML'
name = "llm-mock"
kind = "stress" # its steps judged one by one when it runs as the fixed-step stress
slo = ["error_rate < 1%"]

[load]
model = "open"
timeout = "10s"

[request]
method = "POST"
path = "/v1/chat/completions"
body = '{"model": "gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "{{topic}}"}]}'

[datasets.topic]
values = ["tides", "glaciers", "comets", "lichens"]
TOML

llm_with() { # out args...: one run against a mock of its own, so no run shares a bucket
    local out=$1 port mock
    shift
    port=$(free_port)
    "$GENBENCH" mock --llm "127.0.0.1:$port" --web 127.0.0.1:0 --search 127.0.0.1:0 \
        --time-scale 0 --faults rpm=2400,limit_window_s=1 >"$out.mock.log" 2>&1 &
    mock=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
    "$GENBENCH" run "$OUT/llm.toml" --target "http://127.0.0.1:$port" --out "$out" "$@" \
        >"$out.log" 2>&1 || true
    kill "$mock" 2>/dev/null || true
    wait "$mock" 2>/dev/null || true
}

llm_run() { # i
    llm_with "$OUT/llm/$1" --seed "$1" "${SEARCH[@]}" --set load.search.min=10 --set load.search.max=400
}

# The fixed-step stress a search replaces, run for real: a step every 5%
# from min to max, each PROBE long (1 s to reach it, the rest held).
stress_stages() { # lo hi
    python3 - "$1" "$2" "${PROBE%s}" <<'PY'
import math, sys
lo, hi, probe = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
n = math.floor(math.log(hi / lo) / math.log(1.05)) + 1
print(";".join(f"{lo * 1.05 ** k:.4f},1s;{lo * 1.05 ** k:.4f},{probe - 1:g}s" for k in range(n)))
PY
}

llm_stress() {
    llm_with "$OUT/stress-llm/1" --set "load.stages=$(stress_stages 10 400)"
}

for t in $STRESS; do
    mkdir -p "$OUT/stress-$t"
    "${t}_stress" &
done
for t in $TARGETS; do
    mkdir -p "$OUT/$t"
    each_parallel "$PARALLEL" "${t}_run" $(seq "$RUNS")
done
wait
python3 bench/search_table.py "$OUT" "$PROBE" $TARGETS
