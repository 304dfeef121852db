#!/usr/bin/env bash
# Rendering a long run: `genbench report` on the results.json of a 2-hour
# soak (7,200 timeline points, 7,200 CPU/RSS readings of the target and of
# genbench, whole-run histograms), the whole command as a user runs it:
# reading and parsing the JSON, drawing every chart, writing report.html.
# The targets are under 1 s and under 3 MB; the script prints each figure
# and its ratio to the target. Not a test: it prints figures.
#
# Usage: bench/report.sh   Env: RUNS (default 10), SECONDS_OF_SOAK (default 7200)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
SECONDS_OF_SOAK=${SECONDS_OF_SOAK:-7200}

cargo build --release -q -p genbench
cargo build --release -q -p genbench-reports --example soak_fixture
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
target/release/examples/soak_fixture "$OUT/results.json" "$SECONDS_OF_SOAK"

times=()
for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    target/release/genbench report "$OUT/results.json" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median_us=$(echo "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')
max_us=$(echo "$sorted" | tail -1)
html_bytes=$(stat -c %s "$OUT/report.html")
json_bytes=$(stat -c %s "$OUT/results.json")
timeline=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["timeline"]))' "$OUT/results.json")

echo "genbench report, ${SECONDS_OF_SOAK} s soak: ${timeline} timeline points, results.json ${json_bytes} bytes, ${RUNS} runs"
awk -v m="$median_us" -v x="$max_us" 'BEGIN {
    printf "  time   median %.1f ms, max %.1f ms   (target 1000 ms: median is %.3fx of it)\n", m / 1000, x / 1000, m / 1e6 }'
awk -v b="$html_bytes" 'BEGIN {
    printf "  size   report.html %d bytes = %.2f MB   (target 3 MB: %.3fx of it)\n", b, b / 1e6, b / 3e6 }'
