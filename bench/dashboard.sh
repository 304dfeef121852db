#!/usr/bin/env bash
# What watching a run costs the run: genbench's CPU and the open model's
# send lag with and without the live outputs, in one run. Not a test: it
# prints figures.
#
# nginx (`return 200`) on core 0; genbench on core 1 sends GET / at RATE
# requests/s for DURATION s (bench/open-rate.toml), ROUNDS times each of:
#   off        no live output;
#   metrics    --metrics-listen, scraped once a second (as Prometheus does);
#   dashboard  --dashboard with a page's event stream open all the run
#              (curl reading /events, the server's side of an open page:
#              the browser's own CPU is not genbench's).
# For each: genbench's CPU (user + system, getrusage), as a share of a
# core, and send lag p99 from results.json; the last lines are the
# differences from `off` (medians over the rounds).
#
# Usage: bench/dashboard.sh   Env: RATE (1000), DURATION (s, 30), ROUNDS (3),
#        GENBENCH (default: a release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000}
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-3}

source bench/lib.sh
need_debs nginx:nginx-light curl:curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
OUT=$(mktemp -d -t genbench-dashboard-XXXXXX)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null' EXIT
bench_binary "$OUT"
start_nginx "$OUT"

# Runs genbench with the given live flags; a watcher (scrapes or an event
# stream) is started once genbench prints its URL. Prints CPU seconds.
watched() {
    local name=$1 watch=$2
    shift 2
    rm -rf "$OUT/$name"
    (
        # The URL genbench prints on stderr, once it is up.
        for _ in $(seq 100); do
            url=$(grep -o "live [a-z]* at http://[0-9.:]*/[a-z]*" "$OUT/$name.err" 2>/dev/null | grep -o "http.*" | head -1 || true)
            [ -n "$url" ] && break
            sleep 0.1
        done
        case $watch in
            scrape) for _ in $(seq "$DURATION"); do curl -s -o /dev/null "$url"; sleep 1; done ;;
            events) curl -s -N -o /dev/null --max-time "$((DURATION + 5))" "${url}events" || true ;;
        esac
    ) &
    local watcher=$!
    CLIENT_OUT="$OUT/$name.out" measure_err "$OUT/$name.err" "$GENBENCH" run bench/open-rate.toml \
        --target "$URL" --rate "$RATE" --duration "${DURATION}s" --profile off --out "$OUT/$name" "$@"
    wait "$watcher" 2>/dev/null || true
}

# `measure`, with the client's stderr into $1.
measure_err() {
    local err=$1
    shift
    python3 - "$err" "$@" <<'PY'
import os, resource, subprocess, sys
p = subprocess.run(["taskset", "-c", "1"] + sys.argv[2:], stdout=open(os.environ["CLIENT_OUT"], "w"),
                   stderr=open(sys.argv[1], "w"))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)
PY
}

for round in $(seq "$ROUNDS"); do
    for mode in off metrics dashboard; do
        case $mode in
            off) cpu=$(watched "off-$round" none) ;;
            metrics) cpu=$(watched "metrics-$round" scrape --metrics-listen 127.0.0.1:0) ;;
            dashboard) cpu=$(watched "dashboard-$round" events --dashboard 127.0.0.1:0) ;;
        esac
        echo "$mode $round $cpu" >>"$OUT/cpu"
    done
done

python3 - "$OUT" "$DURATION" "$RATE" <<'PY'
import json, statistics, sys
out, duration, rate = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(f"{out}/cpu"):
    mode, rnd, cpu = line.split()
    r = json.load(open(f"{out}/{mode}-{rnd}/results.json"))
    lag = (r.get("send_lag_ms") or {}).get("p99")
    rows.setdefault(mode, []).append((float(cpu) / duration, lag, r["throughput_rps"]))
print(f"genbench at {rate} req/s for {duration:.0f} s, {len(rows['off'])} rounds each (core 1; nginx on core 0)")
print(f"{'mode':<10} {'core share, each round':<28} {'median':>7} {'send lag p99 ms, each':<26} {'req/s':>8}")
for mode, rs in rows.items():
    shares = " ".join(f"{s:.4f}" for s, _, _ in rs)
    lags = " ".join(f"{l:.3f}" for _, l, _ in rs)
    print(f"{mode:<10} {shares:<28} {statistics.median(s for s, _, _ in rs):>7.4f} {lags:<26} {statistics.median(t for _, _, t in rs):>8.1f}")
base = statistics.median(s for s, _, _ in rows["off"])
for mode in ("metrics", "dashboard"):
    d = statistics.median(s for s, _, _ in rows[mode]) - base
    print(f"{mode}: {d * 100:+.2f}% of a core over off (medians)")
PY
