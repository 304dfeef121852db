#!/usr/bin/env bash
# The load engine against its peers, in one run. Not a test: it prints figures.
#
# One trivial loopback server (nginx, one worker, `return 200`) pinned to
# core 0; each client in turn pinned to core 1 with CONNECTIONS connections
# for DURATION seconds: wrk (Debian), `genbench run` (bench/max-throughput.toml:
# closed model, no think time) and goose 0.19 (bench/goose, its own workspace,
# built here so the normal build and CI never compile it). For each: max
# req/s and CPU per request (user + system time of the client process, from
# getrusage). During genbench's run its RSS is sampled every second from
# /proc: it must stay flat over the million-plus requests.
#
# Usage: bench/engine.sh   Env: DURATION (s, default 10), CONNECTIONS (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}

source bench/lib.sh
need_debs wrk:wrk nginx:nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
cargo build --release -q -p genbench
echo "building the goose peer (bench/goose; first build takes minutes)" >&2
cargo build --release -q --manifest-path bench/goose/Cargo.toml
GENBENCH=target/release/genbench
GOOSE=bench/goose/target/release/genbench-bench-goose

OUT=$(mktemp -d)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; rm -rf "$OUT"' EXIT
PORT=$(free_port)
cat >"$OUT/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid $OUT/nginx.pid;
error_log $OUT/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
EOF
taskset -c 0 "$NGINX" -c "$OUT/nginx.conf" -p "$OUT"
URL="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -sf "$URL/" >/dev/null && break; sleep 0.1; done

taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s "$URL/" >/dev/null # warm-up
WRK_CPU=$(CLIENT_OUT="$OUT/wrk" measure wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL/")
GB_CPU=$(CLIENT_OUT="$OUT/genbench" RSS_LOG="$OUT/rss" measure "$GENBENCH" run bench/max-throughput.toml \
    --target "$URL" --users "$CONNECTIONS" --duration "${DURATION}s" --out "$OUT/genbench-out")
GOOSE_CPU=$(CLIENT_OUT="$OUT/goose" measure "$GOOSE" --host "$URL" --users "$CONNECTIONS" \
    --increase-rate "$CONNECTIONS" --run-time "${DURATION}s" --no-reset-metrics --no-print-metrics --no-telnet)

python3 - "$OUT" "$WRK_CPU" "$GB_CPU" "$GOOSE_CPU" "$CONNECTIONS" "$DURATION" <<'PY'
import json, re, sys
out, wrk_cpu, gb_cpu, goose_cpu = sys.argv[1], *map(float, sys.argv[2:5])
conns, duration = sys.argv[5], sys.argv[6]
w = open(f"{out}/wrk").read()
wrk_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1))
wrk_n = int(re.search(r"(\d+) requests in", w).group(1))
g = json.load(open(f"{out}/genbench-out/results.json"))
gb_rps, gb_n = g["throughput_rps"], g["requests"]["total"]
gb_failed = g["requests"]["failed"]
line = [l for l in open(f"{out}/goose") if l.startswith("{")][-1]
goose = json.loads(line)
goose_n = goose["ok"] + goose["failed"]
goose_rps = goose_n / max(goose["duration_s"], 1)
rows = [("wrk", wrk_rps, wrk_n, wrk_cpu), ("genbench", gb_rps, gb_n, gb_cpu), ("goose", goose_rps, goose_n, goose_cpu)]
print(f"nginx (1 worker, core 0) <- client on core 1, {conns} connections, {duration} s")
print(f"{'client':<10} {'req/s':>10} {'requests':>10} {'CPU/request':>12}")
for name, rps, n, cpu in rows:
    print(f"{name:<10} {rps:>10.0f} {n:>10} {cpu / n * 1e6:>10.2f} us")
print(f"genbench failed requests: {gb_failed}")
print(f"genbench / wrk:   {gb_rps / wrk_rps:.2f}x req/s   (target >= 0.95x)")
print(f"genbench / goose: {gb_rps / goose_rps:.2f}x req/s   (target >= 3x)")
rss = [int(x) / 1024 for x in open(f"{out}/rss").read().split()]
if len(rss) >= 3:
    print(f"genbench RSS over {gb_n} requests, MiB each second: " + " ".join(f"{x:.1f}" for x in rss))
    print(f"genbench RSS after 1 s {rss[0]:.1f} MiB, max {max(rss):.1f} MiB, last {rss[-1]:.1f} MiB "
          f"(growth after the first second: {rss[-1] - rss[0]:+.1f} MiB)")
PY
