#!/usr/bin/env bash
# genbench over TLS and HTTP/2 beside wrk and h2load, in one run. Not a test:
# it prints figures.
#
# One nginx (one worker, `return 200`, pinned to core 0) serving HTTPS with a
# certificate from a CA this script makes (openssl), HTTP/1.1 and HTTP/2 by
# ALPN. Each client in turn runs pinned to core 1 for DURATION seconds:
#   TLS keep-alive, HTTP/1.1: wrk (Debian) and `genbench run
#     bench/max-throughput.toml --set load.http=1.1`, CONNECTIONS each;
#   HTTP/2: h2load (nghttp2-client, Debian) with H2_CONNECTIONS connections
#     of H2_STREAMS streams, and genbench with the same (`load.http=2`,
#     `load.connections`, `load.max_streams`, that many users in all).
# For each: req/s and CPU per request (the client's user + system time).
# genbench verifies the certificate against the script's CA (--ca-cert).
#
# Usage: bench/tls.sh   Env: DURATION (s, default 10), CONNECTIONS (50),
#                            H2_CONNECTIONS (4), H2_STREAMS (32),
#                            GENBENCH (default: a release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
H2_CONNECTIONS=${H2_CONNECTIONS:-4}
H2_STREAMS=${H2_STREAMS:-32}

need_debs wrk:wrk nginx:nginx-light h2load:nghttp2-client openssl:openssl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "${GENBENCH:-}" ]; then
    cargo build --release -q -p genbench
    GENBENCH=target/release/genbench
fi

OUT=$(mktemp -d)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; rm -rf "$OUT"' EXIT
# A CA and a leaf for 127.0.0.1, as a staging environment would have.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=genbench bench CA" -keyout "$OUT/ca.key" -out "$OUT/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=127.0.0.1" -keyout "$OUT/leaf.key" -out "$OUT/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$OUT/ext"
openssl x509 -req -in "$OUT/leaf.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial \
    -days 2 -extfile "$OUT/ext" -out "$OUT/leaf.pem" 2>/dev/null

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
  server {
    listen 127.0.0.1:$PORT ssl http2;
    ssl_certificate $OUT/leaf.pem;
    ssl_certificate_key $OUT/leaf.key;
    http2_max_concurrent_streams 1024;
    location / { return 200 "ok\n"; }
  }
}
EOF
taskset -c 0 "$NGINX" -c "$OUT/nginx.conf" -p "$OUT"
URL="https://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -sfk "$URL/" >/dev/null && break; sleep 0.1; done

GB=("$GENBENCH" run bench/max-throughput.toml --target "$URL" --ca-cert "$OUT/ca.pem"
    --duration "${DURATION}s" --profile off)

taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s "$URL/" >/dev/null # warm-up
WRK_CPU=$(CLIENT_OUT="$OUT/wrk" measure wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL/")
GB1_CPU=$(CLIENT_OUT="$OUT/gb1" measure "${GB[@]}" --set load.http=1.1 --users "$CONNECTIONS" \
    --out "$OUT/gb1-out")
H2_CPU=$(CLIENT_OUT="$OUT/h2load" measure h2load -t1 -c"$H2_CONNECTIONS" -m"$H2_STREAMS" \
    -D"$DURATION" "$URL/")
GB2_CPU=$(CLIENT_OUT="$OUT/gb2" measure "${GB[@]}" --set load.http=2 \
    --set load.connections="$H2_CONNECTIONS" --set load.max_streams="$H2_STREAMS" \
    --users $((H2_CONNECTIONS * H2_STREAMS)) --out "$OUT/gb2-out")

python3 - "$OUT" "$WRK_CPU" "$GB1_CPU" "$H2_CPU" "$GB2_CPU" "$DURATION" "$CONNECTIONS" \
    "${H2_CONNECTIONS}x${H2_STREAMS}" <<'PY'
import json, re, sys
out = sys.argv[1]
wrk_cpu, gb1_cpu, h2_cpu, gb2_cpu = map(float, sys.argv[2:6])
duration, conns, h2shape = sys.argv[6:9]
w = open(f"{out}/wrk").read()
wrk_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1))
wrk_n = int(re.search(r"(\d+) requests in", w).group(1))
h = open(f"{out}/h2load").read()
h2_rps = float(re.search(r"finished in [\d.]+s, ([\d.]+) req/s", h).group(1))
h2_n = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", h).group(1))
def gb(name):
    g = json.load(open(f"{out}/{name}-out/results.json"))
    return g["throughput_rps"], g["requests"]["total"], g["requests"]["failed"], g["connections"]
g1, g1n, g1f, c1 = gb("gb1")
g2, g2n, g2f, c2 = gb("gb2")
print(f"nginx (1 worker, core 0, HTTPS) <- client on core 1, {duration} s each")
print(f"{'client':<34} {'req/s':>10} {'requests':>10} {'CPU/request':>12}")
for name, rps, n, cpu in [
    (f"wrk, TLS HTTP/1.1, {conns} conns", wrk_rps, wrk_n, wrk_cpu),
    (f"genbench, TLS HTTP/1.1, {conns} conns", g1, g1n, gb1_cpu),
    (f"h2load, HTTP/2 {h2shape}", h2_rps, h2_n, h2_cpu),
    (f"genbench, HTTP/2 {h2shape}", g2, g2n, gb2_cpu),
]:
    print(f"{name:<34} {rps:>10.0f} {n:>10} {cpu / n * 1e6:>10.2f} us")
print(f"genbench failed requests: HTTP/1.1 {g1f}, HTTP/2 {g2f}; protocols {c1['protocol']}, "
      f"{c2['protocol']}; connections opened {c1['opened']}, {c2['opened']}; "
      f"TLS handshake p50 {c1['tls_ms']['p50']} ms")
print(f"TLS HTTP/1.1: genbench / wrk {g1 / wrk_rps:.2f}x req/s (target >= 0.9x), "
      f"{(gb1_cpu / g1n) / (wrk_cpu / wrk_n):.2f}x CPU per request (target <= 1.1x)")
print(f"HTTP/2:       genbench / h2load {g2 / h2_rps:.2f}x req/s (target >= 0.8x), "
      f"{(gb2_cpu / g2n) / (h2_cpu / h2_n):.2f}x CPU per request")
PY
