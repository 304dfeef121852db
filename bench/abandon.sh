#!/usr/bin/env bash
# What overload costs: clients that give up, against `genbench mock` at
# gpt-4o-mini's preset pace (a fresh mock per run). Each run cancels a
# share of requests (`[load.cancel]`) and hangs up on those unanswered at
# `abandon_after`, streamed or not; after genbench exits, the bench reads
# the mock's ledger itself and prints, run by run, the calls and tokens it
# billed as cancelled beside what genbench reported as abandoned
# (`requests.abandoned`, `cost.abandoned`). Not a test: it prints figures
# (bench/abandon_table.py).
#
# Usage: bench/abandon.sh   Env: SECONDS_EACH (default 20), USERS (default
#        16), OUT (default a temporary directory, kept), GENBENCH (default:
#        a release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${SECONDS_EACH:-20}
USERS=${USERS:-16}
OUT=${OUT:-$(mktemp -d -t genbench-abandon-XXXXXX)}
source bench/lib.sh
mkdir -p "$OUT"
bench_binary "$OUT"
echo "abandon bench in $OUT: $USERS users, $SECONDS_EACH s a run" >&2

# name stream cancel_rate cancel_after abandon_after
CASES=(
    "stream-10pc-1s true 0.1 1s 20s"
    "stream-30pc-1s true 0.3 1s 20s"
    "stream-50pc-500ms true 0.5 500ms 20s"
    "stream-abandon-3s true 0.1 1s 3s"
    "stream-abandon-1500ms true 0.2 700ms 1500ms"
    "whole-20pc-1s false 0.2 1s 20s"
    "whole-abandon-3s false 0.1 1s 3s"
)

one() { # name stream rate after abandon
    local dir=$OUT/$1 port mock
    mkdir -p "$dir"
    port=$(free_port)
    "$GENBENCH" mock --llm "127.0.0.1:$port" --search 127.0.0.1:0 --web 127.0.0.1:0 \
        >"$dir/mock.log" 2>&1 &
    mock=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
    cat >"$dir/scenario.toml" <<TOML
name = "abandon-$1"

[load]
model = "closed"
stages = "$USERS,1ms;$USERS,${SECONDS_EACH}s"
timeout = "60s"
abandon_after = "$5"

[load.cancel]
rate = $3
after = "$4"

[request]
method = "POST"
path = "/v1/chat/completions"
body = '{"model": "gpt-4o-mini", "stream": $2, "max_tokens": 300, "messages": [{"role": "user", "content": "an article on {{topic}}"}]}'

[datasets.topic]
values = ["tides", "glaciers", "comets", "lichens"]

[collect.cost]
ledger = "http://127.0.0.1:$port"
TOML
    "$GENBENCH" run "$dir/scenario.toml" --target "http://127.0.0.1:$port" --out "$dir/out" \
        >"$dir/run.log" 2>&1 || true
    curl -sf "http://127.0.0.1:$port/mock/ledger" >"$dir/ledger.json" || echo '{}' >"$dir/ledger.json"
    kill "$mock" 2>/dev/null || true
    wait "$mock" 2>/dev/null || true
}

for c in "${CASES[@]}"; do
    # shellcheck disable=SC2086
    one $c
done
python3 bench/abandon_table.py "$OUT" "${CASES[@]}"
