#!/usr/bin/env bash
# What `genbench record` adds to each request. Not a test: it prints
# figures.
#
# nginx (`return 200`) and a genbench client sending GET / at RATE
# requests/s for DURATION seconds share core 0; `genbench record` runs on
# core 1. The client runs twice: straight to nginx, then through the proxy
# (which writes every request to a trace). Prints both runs' latency
# p50/p99, the difference (what the proxy adds), and the proxy's CPU per
# request (user + system, from /proc).
#
# Usage: bench/record.sh   Env: RATE (default 1000), DURATION (s, default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000}
DURATION=${DURATION:-15}

source bench/lib.sh
need_debs nginx:nginx-light curl:curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
OUT=$(mktemp -d)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; [ -n "${PROXY:-}" ] && kill "$PROXY" 2>/dev/null; rm -rf "$OUT"' EXIT
bench_binary "$OUT"
start_nginx "$OUT"
DIRECT=$URL

port=$(free_port)
taskset -c 1 "$GENBENCH" record --listen "127.0.0.1:$port" --upstream "$DIRECT" --out "$OUT/trace.jsonl" \
    >"$OUT/record.out" 2>"$OUT/record.err" &
PROXY=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$PROXY/stat"; }
client() {
    taskset -c 0 "$GENBENCH" run bench/open-rate.toml --target "$1" --rate "$RATE" \
        --duration "${DURATION}s" --profile off --out "$OUT/$2" >/dev/null 2>&1
}
client "$DIRECT" direct
before=$(ticks)
client "http://127.0.0.1:$port" proxied
after=$(ticks)
kill -INT "$PROXY"
wait "$PROXY" || true
PROXY=

python3 - "$OUT" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
out, before, after, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(f"{out}/direct/results.json"))
p = json.load(open(f"{out}/proxied/results.json"))
n = p["requests"]["total"]
rows = sum(1 for _ in open(f"{out}/trace.jsonl"))
print(f"{'':<10} {'requests':>9} {'p50':>9} {'p99':>9}")
for name, r in (("direct", d), ("proxied", p)):
    l = r["latency_ms"]
    print(f"{name:<10} {r['requests']['total']:>9} {l['p50']:>7.3f}ms {l['p99']:>7.3f}ms")
dl, pl = d["latency_ms"], p["latency_ms"]
print(f"{'added':<10} {'':>9} {pl['p50'] - dl['p50']:>7.3f}ms {pl['p99'] - dl['p99']:>7.3f}ms")
print(f"proxy CPU  {(after - before) / hz / max(n, 1) * 1e6:.1f} us per request; {rows} rows written (one more: the readiness check)")
PY
