#!/usr/bin/env bash
# A long trace replays in flat memory. Not a test: it prints figures.
#
# Writes a trace of ROWS JSON lines (a GET every millisecond of trace time,
# paths cycling over 1,000 values), then replays all of it at RATE
# requests/s (time_scale = RATE / 1000) against nginx (`return 200`,
# pinned to core 0), genbench pinned to core 1. Prints the trace's size,
# how long the scan before the load took, rows sent, and genbench's RSS
# sampled each second: after the first tenth of the run, at its peak and at
# its end. Flat memory: the peak stays near the first tenth's, whatever
# ROWS is.
#
# Usage: bench/replay.sh   Env: ROWS (default 10000000), RATE (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-10000000}
RATE=${RATE:-20000}

source bench/lib.sh
need_debs nginx:nginx-light curl:curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
OUT=$(mktemp -d)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; rm -rf "$OUT"' EXIT
bench_binary "$OUT"
start_nginx "$OUT"

python3 - "$OUT/trace.jsonl" "$ROWS" <<'PY'
import sys
path, rows = sys.argv[1], int(sys.argv[2])
with open(path, "w", buffering=1 << 20) as f:
    for i in range(rows):
        f.write(f'{{"timestamp":{i / 1000:.3f},"method":"GET","path":"/a/{i % 1000}"}}\n')
PY
cat >"$OUT/replay.toml" <<TOML
name = "replay-bench"
[load]
model = "replay"
timeout = "10s"
max_requests = $((ROWS + 1))
[load.replay]
file = "$OUT/trace.jsonl"
format = "jsonl"
time_scale = $(python3 -c "print($RATE / 1000)")
[request]
path = "/"
TOML
start=$(date +%s.%N)
CPU=$(CLIENT_OUT="$OUT/run.log" RSS_LOG="$OUT/rss" measure "$GENBENCH" run "$OUT/replay.toml" \
    --target "$URL" --profile off --out "$OUT/run")
end=$(date +%s.%N)

python3 - "$OUT" "$CPU" "$start" "$end" <<'PY'
import json, os, sys
out, cpu, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = json.load(open(f"{out}/run/results.json"))
rp = r["replay"]
rss = [int(v) / 1024 for v in open(f"{out}/rss").read().split()]
tenth = rss[len(rss) // 10]
size = os.path.getsize(f"{out}/trace.jsonl")
load_s = r["duration_s"]
print(f"trace          {rp['rows']} rows, {size / 1e6:.0f} MB")
print(f"scan + load    {end - start:.0f} s wall, of which the load {load_s:.0f} s")
print(f"sent           {rp['sent']} ({r['requests']['failed']} failed), {r['throughput_rps']:.0f} req/s")
print(f"fidelity       p50 {rp['fidelity_ms']['p50']:.3f} ms  p99 {rp['fidelity_ms']['p99']:.3f} ms")
print(f"RSS            after a tenth {tenth:.1f} MiB, peak {max(rss):.1f} MiB, end {rss[-1]:.1f} MiB")
print(f"CPU            {cpu / max(rp['sent'], 1) * 1e6:.2f} us per row (read, scan, send)")
PY
