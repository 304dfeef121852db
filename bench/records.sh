#!/usr/bin/env bash
# What --records costs per request, and that memory stays flat with it on.
# Not a test: it prints figures.
#
# One trivial loopback server (nginx, one worker, `return 200`) on core 0;
# genbench on core 1 sends GET / at RATE requests/s for DURATION seconds
# (bench/open-rate.toml), without records, then with them plain, gzip and
# zstd. For each: requests, CPU per request (user + system of the client),
# the client's RSS at its peak and at the end, and the records file's size
# per request.
#
# Usage: bench/records.sh   Env: RATE (default 5000), DURATION (s, default 20),
#        GENBENCH (default: a release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-5000}
DURATION=${DURATION:-20}

source bench/lib.sh
need_debs nginx:nginx-light curl:curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "${GENBENCH:-}" ]; then
    cargo build --release -q -p genbench
    GENBENCH=target/release/genbench
fi

OUT=$(mktemp -d)
trap '[ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null; rm -rf "$OUT"' EXIT
start_nginx "$OUT"

for mode in none jsonl jsonl.gz jsonl.zst; do
    extra=()
    [ "$mode" != none ] && extra=(--records "$OUT/records.$mode")
    CPU=$(CLIENT_OUT="$OUT/$mode.log" RSS_LOG="$OUT/$mode.rss" measure "$GENBENCH" run bench/open-rate.toml \
        --target "$URL" --rate "$RATE" --duration "${DURATION}s" --profile off --out "$OUT/$mode" "${extra[@]}")
    echo "$mode $CPU" >>"$OUT/cpu"
done

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
print(f"{'records':<10} {'requests':>9} {'CPU/req':>9} {'RSS peak':>9} {'RSS end':>8} {'bytes/req':>9}")
base = None
for line in open(f"{out}/cpu"):
    mode, cpu = line.split()
    cpu = float(cpu)
    r = json.load(open(f"{out}/{mode}/results.json"))
    n = r["requests"]["total"]
    rss = [int(v) for v in open(f"{out}/{mode}.rss").read().split()] or [0]
    size = os.path.getsize(f"{out}/records.{mode}") if mode != "none" else 0
    per = cpu / max(n, 1) * 1e6
    base = base if base is not None else per
    print(f"{mode:<10} {n:>9} {per:>7.2f}us {max(rss) / 1024:>7.1f}Mi {rss[-1] / 1024:>6.1f}Mi {size / max(n, 1):>9.1f}"
          + ("" if mode == "none" else f"   +{per - base:.2f} us/request"))
PY
