#!/usr/bin/env bash
# Benchmark of `genbench mock` on this machine. Not a test: it prints figures.
#
#  1. Streaming capacity at the gpt-4o-mini pace (80 tok/s ±25%, TTFT median
#     450 ms): for each concurrency, N streams of 200 tokens are kept open for
#     DURATION seconds; the client records every token's arrival gap minus the
#     intended gap (1 / the speed the mock drew, from its response header).
#  2. Non-stream completions per second with the `instant` preset.
#
# The mock runs WORKERS worker threads (`--workers`, default 1) pinned to
# cores 0..WORKERS-1, and the client (mock-providers/examples/mock_load.rs,
# raw HTTP/1.1 so its own cost stays small) to the core after them: per-core
# figures need WORKERS + 1 cores. Server CPU comes from /proc/PID/stat.
#
# Usage: bench/mock.sh [CONCURRENCY...]   (default: 500 1000 1500 2000)
# Env:   DURATION (s, default 20), NONSTREAM_CONNS (default 128), WORKERS (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
WORKERS=${WORKERS:-1}
if [ $((WORKERS + 1)) -gt "$(nproc)" ]; then
    echo "WORKERS=$WORKERS needs $((WORKERS + 1)) cores (one for the client); this machine has $(nproc)" >&2
    exit 2
fi
MOCK_CORES=0-$((WORKERS - 1))
CLIENT_CORE=$WORKERS
NONSTREAM_CONNS=${NONSTREAM_CONNS:-128}
LEVELS=("$@")
[ ${#LEVELS[@]} -eq 0 ] && LEVELS=(500 1000 1500 2000)
TARGET_STREAMS=2000
TARGET_P99_MS=5

cargo build --release -q -p genbench
cargo build --release -q -p genbench-mock --example mock_load
BIN=target/release/genbench
LOAD=target/release/examples/mock_load
OUT=$(mktemp -d)
trap 'kill $MOCK_PID 2>/dev/null || true; rm -rf "$OUT"' EXIT
MOCK_PID=

start_mock() {
    taskset -c "$MOCK_CORES" "$BIN" mock --workers "$WORKERS" --llm 127.0.0.1:0 --search 127.0.0.1:0 --web 127.0.0.1:0 \
        >"$OUT/mock.out" 2>/dev/null &
    MOCK_PID=$!
    # A loaded machine can take seconds to start it.
    for _ in $(seq 300); do [ -s "$OUT/mock.out" ] && break; sleep 0.1; done
    ADDR=$(head -1 "$OUT/mock.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["llm"][7:])')
}
cpu_ticks() { awk '{print $14+$15}' "/proc/$MOCK_PID/stat"; }
stop_mock() { kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true; MOCK_PID=; }

# One level's row: the client's figures and the server's CPU per token.
stream_row() { # load.json streams t0 t1
    python3 - "$1" "$2" "$3" "$4" "$TARGET_P99_MS" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1]))
c, t0, t1, target = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
hz = os.sysconf("SC_CLK_TCK")
cpu_us_per_tok = (t1 - t0) / hz / max(d["tokens"], 1) * 1e6
g = d["gap_error_ms"]
ok = g["p99"] < target and d["failed"] == 0
print(f'{c:8d} {d["concurrent_streams"]["mean"]:10.0f} {d["tokens_per_s"]:9.0f} {g["p50"]:9.3f} {g["p99"]:9.3f} {g["abs_p99"]:11.3f} {cpu_us_per_tok:12.2f} {"yes" if ok else "no":>6}')
PY
}

# Per core used: the best level's streams and tokens/s, and the most tokens/s
# any level delivered (its gaps may be late), each divided by WORKERS.
per_core() { # rows best
    awk -v best="$2" -v w="$WORKERS" '
        $1 == best { t = $3 } $3 > peak { peak = $3 }
        END { printf "   per core (%d used): %.0f streams, %.0f tokens/s at them; most tokens/s at any level %.0f\n", w, best / w, t / w, peak / w }' "$1"
}

echo "genbench mock benchmark, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "1. streams at gpt-4o-mini pace, 200 tokens each, ${DURATION}s per level"
printf '%8s %10s %9s %9s %9s %11s %12s %6s\n' streams mean_open tok/s p50_ms p99_ms abs_p99_ms cpu_us/tok ok
for C in "${LEVELS[@]}"; do
    start_mock
    T0=$(cpu_ticks)
    taskset -c "$CLIENT_CORE" "$LOAD" --addr "$ADDR" --mode stream --concurrency "$C" \
        --duration-s "$DURATION" --model gpt-4o-mini --max-tokens 200 >"$OUT/load.json"
    T1=$(cpu_ticks)
    stop_mock
    stream_row "$OUT/load.json" "$C" "$T0" "$T1" >>"$OUT/streams.txt"
    tail -1 "$OUT/streams.txt"
done
BEST=$(awk '$8=="yes"{b=$1} END{print b+0}' "$OUT/streams.txt")
echo "   most concurrent streams with p99 gap error < ${TARGET_P99_MS} ms: ${BEST} (target ${TARGET_STREAMS}; ratio $(python3 -c "print(round($BEST/$TARGET_STREAMS, 2))"))"
per_core "$OUT/streams.txt" "$BEST"
echo
echo "2. non-stream completions, instant preset, ${NONSTREAM_CONNS} keep-alive connections, ${DURATION}s"
start_mock
T0=$(cpu_ticks)
taskset -c "$CLIENT_CORE" "$LOAD" --addr "$ADDR" --mode nonstream --concurrency "$NONSTREAM_CONNS" \
    --duration-s "$DURATION" --model instant --max-tokens none >"$OUT/ns.json"
T1=$(cpu_ticks)
stop_mock
python3 - "$OUT/ns.json" "$T0" "$T1" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1]))
hz = os.sysconf("SC_CLK_TCK")
cpu = (int(sys.argv[3]) - int(sys.argv[2])) / hz
print(f'   {d["completions_per_s"]:.0f} completions/s, {d["tokens"] / max(d["completed"], 1):.0f} tokens each, '
      f'{cpu / max(d["completed"], 1) * 1e6:.1f} µs server CPU per completion, {d["failed"]} failed')
PY

# 3. The same streams against a peer: GuideLLM's mock-server (PyPI
# guidellm, in a venv of its own), at a fixed 12.5 ms inter-token gap (80
# tokens/s, the preset's mean), TTFT 450 ms, 200 tokens, on the same cores
# with as many worker processes. PEER=0 skips it.
if [ "${PEER:-1}" != 0 ]; then
    VENV=${GUIDELLM_VENV:-/var/tmp/genbench-guidellm-venv}
    [ -x "$VENV/bin/guidellm" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q guidellm==0.8.1; }
    echo
    echo "3. the same streams against GuideLLM's mock-server ($("$VENV/bin/pip" show guidellm | awk '/^Version/{print $2}')), ${DURATION}s per level"
    printf '%8s %10s %9s %9s %9s %11s %12s %6s\n' streams mean_open tok/s p50_ms p99_ms abs_p99_ms cpu_us/tok ok
    for C in "${LEVELS[@]}"; do
        PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        taskset -c "$MOCK_CORES" "$VENV/bin/guidellm" mock-server --host 127.0.0.1 --port "$PORT" \
            --workers "$WORKERS" --model gpt-4o-mini --itl-ms 12.5 --ttft-ms 450 --output-tokens 200 \
            >"$OUT/peer.log" 2>&1 &
        MOCK_PID=$!
        for _ in $(seq 100); do
            python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
            sleep 0.2
        done
        # Its worker processes are children of the one started here.
        peer_ticks() { for p in $MOCK_PID $(pgrep -P "$MOCK_PID"); do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null; done | paste -sd+ | bc; }
        T0=$(peer_ticks)
        taskset -c "$CLIENT_CORE" "$LOAD" --addr "127.0.0.1:$PORT" --mode stream --concurrency "$C" \
            --duration-s "$DURATION" --model gpt-4o-mini --max-tokens 200 --intended-gap-ms 12.5 >"$OUT/load.json"
        T1=$(peer_ticks)
        pkill -P "$MOCK_PID" 2>/dev/null || true
        stop_mock
        stream_row "$OUT/load.json" "$C" "$T0" "$T1" >>"$OUT/peer.txt"
        tail -1 "$OUT/peer.txt"
    done
    PEER_BEST=$(awk '$8=="yes"{b=$1} END{print b+0}' "$OUT/peer.txt")
    per_core "$OUT/peer.txt" "$PEER_BEST"
    echo "   most concurrent streams with p99 gap error < ${TARGET_P99_MS} ms: genbench mock ${BEST}, GuideLLM's ${PEER_BEST}"
fi
