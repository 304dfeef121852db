#!/usr/bin/env bash
# What the span receiver ([collect.traces]) costs genbench: spans received
# per second per core of genbench's CPU, and genbench's RSS over a run
# that receives SPANS_TOTAL spans (a million by default). Not a test: it
# prints figures.
#
# The target is harness/examples/span_service.rs (core 0): it answers each
# request at once and exports SPANS spans per request (an article's tree:
# server span, search, page fetches side by side, a GenAI chat span), in
# protobuf batches of 512 every 200 ms, to genbench's receiver. genbench
# (core 1) drives it at RATE requests/s twice: with [collect.traces] and
# without, so the difference in its CPU is the receiver's.
#
# Usage: bench/spans.sh   Env: RATE (default 2000), SPANS (per request,
#                              default 10), SPANS_TOTAL (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RATE=${RATE:-2000}
SPANS=${SPANS:-10}
SPANS_TOTAL=${SPANS_TOTAL:-1000000}
SECONDS_LOAD=$(( SPANS_TOTAL / SPANS / RATE ))

cargo build --release -q -p genbench --bins --example span_service
GENBENCH=target/release/genbench
OUT=$(mktemp -d)
PORT=$(free_port)
taskset -c 0 target/release/examples/span_service "http://127.0.0.1:$PORT" "$SPANS" >"$OUT/svc.url" 2>"$OUT/svc.err" &
SVC=$!
trap 'kill $SVC 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/svc.url" ] && break; sleep 0.1; done
URL=$(head -1 "$OUT/svc.url")

scenario() {
    cat <<TOML
name = "spans"
[load]
model = "open"
arrivals = "constant"
stages = [{ duration = "1ms", target = $RATE }, { duration = "${SECONDS_LOAD}s", target = $RATE }]
timeout = "10s"
[request]
method = "POST"
path = "/article"
body = "{}"
TOML
    if [ "$1" = traces ]; then
        printf '[collect.traces]\nlisten = "127.0.0.1:%s"\ndrain = "10s"\n' "$PORT"
    fi
}

echo "genbench at $RATE requests/s for $SECONDS_LOAD s, $SPANS spans per request ($((RATE * SECONDS_LOAD * SPANS)) spans)"
printf '%-10s %9s %9s %12s %13s %22s\n' run requests spans cpu_s spans/s/core "RSS MiB (start/mid/end/max)"
for mode in plain traces; do
    scenario "$mode" >"$OUT/$mode.toml"
    CLIENT_OUT="$OUT/$mode.stdout" RSS_LOG="$OUT/$mode.rss" \
        measure "$GENBENCH" run "$OUT/$mode.toml" --target "$URL" --profile off --out "$OUT/$mode" >"$OUT/$mode.cpu"
    python3 - "$OUT" "$mode" <<'PY'
import json, sys
out, mode = sys.argv[1], sys.argv[2]
r = json.load(open(f"{out}/{mode}/results.json"))
cpu = float(open(f"{out}/{mode}.cpu").read())
rss = [int(x) / 1024 for x in open(f"{out}/{mode}.rss").read().split()] or [0]
t = r.get("traces") or {}
spans = t.get("spans", {}).get("received", 0)
plain = None
try:
    plain = float(open(f"{out}/plain.cpu").read())
except OSError:
    pass
per_core = "-"
if mode == "traces" and plain is not None and cpu > plain:
    per_core = f"{spans / (cpu - plain):,.0f}"
print(f"{mode:<10} {r['requests']['total']:>9} {spans:>9} {cpu:>12.2f} {per_core:>13} "
      f"{rss[0]:>6.1f}/{rss[len(rss) // 2]:.1f}/{rss[-1]:.1f}/{max(rss):.1f}")
if mode == "traces":
    print(f"joined {t.get('joined')} of {t.get('requests')}; unrooted {t['spans'].get('unrooted')}; "
          f"batches refused {t['spans'].get('rejected_batches')}")
PY
done
