#!/usr/bin/env bash
# Fuzzes genbench's parsers and readers with cargo-fuzz (libFuzzer,
# nightly Rust), each target for SECONDS from the checked-in corpus
# (fuzz/corpus/TARGET, read only; what fuzzing adds goes to a temporary
# directory). Not a test: it prints, per target, the executions and the
# crashes. A crash's input is kept in OUT; once fixed, it goes into
# fuzz/regressions/TARGET, which the test suite replays (harness/tests/
# fuzz_corpus.rs) along with the corpus.
#
# Usage: bench/fuzz.sh [TARGET...]   Env: SECONDS_EACH (default 60), OUT
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${SECONDS_EACH:-60}
OUT=${OUT:-$(mktemp -d -t genbench-fuzz-XXXXXX)}
mkdir -p "$OUT"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || { echo "cargo fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2; exit 2; }
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo +nightly fuzz list --fuzz-dir fuzz)
for t in "${TARGETS[@]}"; do
    cargo +nightly fuzz build --fuzz-dir fuzz -O "$t" >>"$OUT/build.log" 2>&1 \
        || { tail -20 "$OUT/build.log"; exit 1; }
done
printf '%-14s %12s %10s %8s\n' target executions exec/s crashes
for t in "${TARGETS[@]}"; do
    mkdir -p "$OUT/$t/corpus" "$OUT/$t/crashes"
    set +e
    cargo +nightly fuzz run --fuzz-dir fuzz -O "$t" "$OUT/$t/corpus" "fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$OUT/$t/crashes/" -print_final_stats=1 >"$OUT/$t.log" 2>&1
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$' || echo 0)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$' || echo 0)
    crashes=$(find "$OUT/$t/crashes" -type f | wc -l)
    printf '%-14s %12s %10s %8s\n' "$t" "${runs:-0}" "${speed:-0}" "$crashes"
done
echo "logs and any crashing inputs: $OUT" >&2
