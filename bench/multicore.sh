#!/usr/bin/env bash
# The load engine's cost per request beside wrk's, on as many client cores
# as the machine allows, and its streaming client's capacity. Not a test:
# it prints figures (bench/multicore.py does the work).
#
# Part 1: for each C in CLIENTS, the client gets the machine's last C cores
# and the servers the rest: nginx (a 3-byte body, and the 753-byte JSON that
# `genbench mock` answers GET /v1/models with, as a file) and `genbench mock`
# with one worker per server core (it answers one request at a time, as
# every real server does). wrk -tC and `genbench run` (closed users, no think
# time) each send to every target for DURATION s with CONNECTIONS
# connections; each row prints req/s, CPU per request and genbench / wrk.
# Part 2: genbench's streaming client on the last C cores against the mock
# on the rest: TPOT, ITL p50/p99 and the client's CPU at each of STREAMS
# concurrent streams (1 first, the reference ITL).
#
# Usage: bench/multicore.sh   Env: CLIENTS (default 1 on up to 3 cores, else
#        "1 4 8"), CONNECTIONS (256), DURATION (s, 10), STREAMS ("1 100 1000
#        2500"), OUT (a temporary directory, kept), GENBENCH (default: a
#        release build of this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
need_debs wrk:wrk nginx:nginx-light curl:curl
OUT=${OUT:-$(mktemp -d -t genbench-multicore-XXXXXX)}
mkdir -p "$OUT"
bench_binary "$OUT"
export GENBENCH OUT
exec python3 bench/multicore.py
