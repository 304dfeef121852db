#!/usr/bin/env bash
# The reference pipeline's own overhead: `genbench pipeline` with the cache off
# against `genbench mock` with instant LLM, search and web presets (no provider
# latency), loaded by wrk. Not a test: it prints figures.
#
# The pipeline is pinned to core 0; the mock and wrk share core 1. CPU per
# request comes from /proc/PID/stat of each process. Requests ask for 300 words
# (400 output tokens) from 5 sources within a 6,000-token context budget. All
# source pages live on one host (the web mock), so the per-host fetch limit is
# raised out of the way: this measures CPU, not politeness.
#
# Usage: bench/pipeline.sh   Env: DURATION (s, default 20), CONNECTIONS (default 32)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-32}

command -v wrk >/dev/null || { echo "installing wrk (Debian package)" >&2; apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p genbench
BIN=target/release/genbench
OUT=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

wait_line() { for _ in $(seq 100); do [ -s "$1" ] && return; sleep 0.1; done; echo "no output in $1" >&2; exit 3; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# "busy idle" jiffies of one core, from /proc/stat.
core() { awk -v c="cpu$1" '$1==c {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat; }

taskset -c 1 "$BIN" mock --threads 1 --llm 127.0.0.1:0 --search 127.0.0.1:0 --web 127.0.0.1:0 \
    --time-scale 0 --preset instant --search-preset instant --web-preset instant >"$OUT/mock" 2>/dev/null &
MOCK=$!; PIDS+=("$MOCK"); wait_line "$OUT/mock"
LLM=$(head -1 "$OUT/mock" | python3 -c 'import json,sys; print(json.load(sys.stdin)["llm"])')
SEARCH=$(head -1 "$OUT/mock" | python3 -c 'import json,sys; print(json.load(sys.stdin)["search"])')
taskset -c 0 "$BIN" pipeline --addr 127.0.0.1:0 --llm-url "$LLM/v1" --search-url "$SEARCH" \
    --model instant --cache off --per-host-concurrency 1024 >"$OUT/pipe" 2>/dev/null &
PIPE=$!; PIDS+=("$PIPE"); wait_line "$OUT/pipe"
URL=$(head -1 "$OUT/pipe" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')

# Warm up: connection pools, lazily loaded BPE vocabularies.
taskset -c 1 wrk -t1 -c4 -d2s -s bench/post.lua "$URL/api/v1/generate-article" >/dev/null
P0=$(ticks "$PIPE"); M0=$(ticks "$MOCK"); C00=$(core 0); C10=$(core 1); T0=$(date +%s.%N)
taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/post.lua \
    "$URL/api/v1/generate-article" >"$OUT/wrk"
P1=$(ticks "$PIPE"); M1=$(ticks "$MOCK"); C01=$(core 0); C11=$(core 1); T1=$(date +%s.%N)
NON2XX=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$OUT/wrk" | grep -o '[0-9]*$' || echo 0)
python3 - "$OUT/wrk" "$P0" "$P1" "$M0" "$M1" "$T0" "$T1" "$NON2XX" "$CONNECTIONS" "$C00" "$C01" "$C10" "$C11" <<'PY'
import os, re, sys
wrk = open(sys.argv[1]).read()
p0, p1, m0, m1 = (int(x) for x in sys.argv[2:6])
t0, t1 = float(sys.argv[6]), float(sys.argv[7])
non2xx, conns = int(sys.argv[8]), sys.argv[9]
def busy(a, b):
    (b0, i0), (b1, i1) = (map(int, a.split()), map(int, b.split()))
    return (b1 - b0) / max((b1 - b0) + (i1 - i0), 1) * 100
hz = os.sysconf("SC_CLK_TCK")
reqs = int(re.search(r"(\d+) requests in", wrk).group(1))
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", wrk).group(1))
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", wrk, re.M))
wall = t1 - t0
pipe_cpu, mock_cpu = (p1 - p0) / hz, (m1 - m0) / hz
print(f"genbench pipeline overhead, instant providers, cache off, {conns} connections")
print(f"  {rps:.0f} requests/s, latency p50 {lat.get('50')} p99 {lat.get('99')}, {non2xx} non-2xx of {reqs}")
print(f"  pipeline CPU {pipe_cpu / reqs * 1e6:.0f} µs/request ({pipe_cpu / wall * 100:.0f}% of a core)")
print(f"  core 0 (pipeline) {busy(sys.argv[10], sys.argv[11]):.0f}% busy, core 1 (mock, wrk) {busy(sys.argv[12], sys.argv[13]):.0f}% busy")
print(f"  mock     CPU {mock_cpu / reqs * 1e6:.0f} µs/request ({mock_cpu / wall * 100:.0f}% of a core, shared with wrk)")
PY
