#!/usr/bin/env bash
# genbench's own memory and CPU over a long run. Not a test: it prints
# figures.
#
# genbench A sends RATE streamed chat completions a second (open model) to
# a `genbench mock` for DURATION; genbench B, a soak at 1 request/s to the
# same mock with `--target-pid` A, judges A's RSS with the leak analysis it
# gives any target, and samples A's CPU. Both on loopback.
#
# Usage: bench/harness-soak.sh   Env: DURATION (default 2h), RATE (default
#        200), OUT (default a temporary directory, kept)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-2h}
RATE=${RATE:-200}
OUT=${OUT:-$(mktemp -d -t genbench-harness-soak-XXXXXX)}
source bench/lib.sh
cargo build --release -q -p genbench
mkdir -p "$OUT"
# A copy: a rebuild while the soak runs must not change what it runs.
cp target/release/genbench "$OUT/genbench"
G=$OUT/genbench
echo "harness soak in $OUT ($(git rev-parse --short HEAD))" >&2

PORT=$(free_port)
"$G" mock --llm "127.0.0.1:$PORT" --search 127.0.0.1:0 --web 127.0.0.1:0 --time-scale 0.02 \
    >/dev/null 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true' EXIT
sleep 1
URL=http://127.0.0.1:$PORT
cat >"$OUT/load.toml" <<TOML
name = "harness-load"
[load]
model = "open"
arrivals = "poisson"
stages = "$RATE,10s;$RATE,$DURATION"
timeout = "30s"
[request]
method = "POST"
path = "/v1/chat/completions"
headers = { "content-type" = "application/json" }
body = '{"model": "gpt-4o-mini", "stream": true, "max_tokens": 40, "messages": [{"role": "user", "content": "hello"}]}'
TOML
cat >"$OUT/watch.toml" <<TOML
name = "harness-watch"
kind = "soak"
[load]
model = "open"
arrivals = "constant"
stages = "1,1s;1,$DURATION"
[request]
path = "/v1/models"
TOML
"$G" run "$OUT/load.toml" --target "$URL" --profile off --out "$OUT/load" >"$OUT/load.log" 2>&1 &
A=$!
sleep 2
"$G" run "$OUT/watch.toml" --target "$URL" --target-pid "$A" --profile off --out "$OUT/watch" \
    >"$OUT/watch.log" 2>&1 || true
wait "$A" || true
python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
a = json.load(open(f"{out}/load/results.json"))
w = json.load(open(f"{out}/watch/results.json"))
l = w["leak"]
print(f"A: {a['requests']['total']} requests in {a['duration_s'] / 3600:.2f} h, "
      f"{a['throughput_rps']:.1f} rps, p99 {a['latency_ms']['p99']:.1f} ms, "
      f"errors {a['errors']['rate'] * 100:.3f}%")
print(f"A's RSS, judged by B: {l['verdict']}, slope {l['slope_mib_per_h']:+.3f} MiB/h "
      f"(95% CI {l['ci95_mib_per_h'][0]:+.3f} to {l['ci95_mib_per_h'][1]:+.3f}), "
      f"Theil-Sen {l['theil_sen_mib_per_h']:+.3f}, {l['samples']} windows after {l['warmup_excluded_s']:.0f} s")
s = w["process"]["target"]["samples"]
rss = [x["rss_mib"] for x in s]
cpu = [x["cpu_pct"] for x in s if x.get("cpu_pct") is not None]
q = len(cpu) // 4
quarters = [statistics.mean(cpu[i * q:(i + 1) * q]) for i in range(4)] if q else []
print(f"A's RSS {min(rss):.1f} to {max(rss):.1f} MiB; CPU by quarter of the run: "
      + ", ".join(f"{c:.1f}%" for c in quarters))
PY
