#!/usr/bin/env bash
# The leak verdict's power and false-alarm rate in 10-minute soaks. Not a
# test: it prints figures.
#
# RUNS soaks of the reference pipeline with its leak knob at 728 bytes a
# request (at 4 requests/s: 10.0 MiB/h, the workflow teams' budget) and RUNS
# without it, PARALLEL at a time (each soak is its own genbench, mock and
# pipeline on loopback; at 4 requests/s with instant mocks they share two
# cores easily). Each row is one soak's leak verdict, slope, 95% CI,
# Theil-Sen slope and steps; the last lines count `leak` among the leaking
# soaks and `no_leak` among the clean ones. The goal: at least 19 of 20 each.
#
# Usage: bench/leak.sh   Env: RUNS (default 20), PARALLEL (default 8),
#        DURATION (default 10m), OUT (default a temporary directory, kept)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
PARALLEL=${PARALLEL:-8}
DURATION=${DURATION:-10m}
OUT=${OUT:-$(mktemp -d -t genbench-leak-XXXXXX)}
source bench/lib.sh
cargo build --release -q -p genbench
mkdir -p "$OUT"
# A copy: a rebuild while the soaks run must not change what they run.
cp target/release/genbench "$OUT/genbench"
GENBENCH=$OUT/genbench
echo "soaks in $OUT" >&2

soak() { # name bytes_per_request
    "$GENBENCH" run soak --duration "$DURATION" --rate 4 --mock-time-scale 0 \
        --set "pipeline.leak_bytes_per_request=$2" --out "$OUT/$1" \
        >"$OUT/$1.log" 2>&1 || true
}

soak_job() { soak "${1%%:*}" "${1##*:}"; }
jobs_list=()
for i in $(seq "$RUNS"); do jobs_list+=("leak-$i:728" "clean-$i:0"); done
each_parallel "$PARALLEL" soak_job "${jobs_list[@]}"

python3 bench/leak_table.py "$OUT" 10.0
