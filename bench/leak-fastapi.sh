#!/usr/bin/env bash
# The leak verdict on a Python service's resident set: RUNS 10-minute soaks
# of the example FastAPI service (examples/fastapi-target) with
# LEAK_BYTES_PER_REQUEST=728 (at 4 requests/s, 10.0 MiB/h of kept objects)
# and RUNS without, PARALLEL at a time, judged on RSS (--target-pid) with
# examples/fastapi-target/soak.toml (tolerance 5 MiB/h, threshold
# rss_growth < 10MiB/h). Not a test: it prints figures. The goals: `leak`
# in at least 19 of 20 leaking soaks, `no_leak` in 19 of 20 clean ones,
# and the leaking soaks' interval holding the injected rate in 19 of 20.
#
# Each soak has its own service process; one `genbench mock` serves them
# all (the service calls it for search and the LLM). At 4 requests/s of
# mostly cached articles, twenty soaks share two cores easily.
#
# Usage: bench/leak-fastapi.sh   Env: RUNS (default 20), PARALLEL (default
#        20), DURATION (default 10m), OUT (default a temporary directory,
#        kept), PYTHON (default .ci/venv/bin/python, made by .ci/test),
#        GENBENCH (default: a release build of this checkout), ALLOCATOR
#        (glibc, the default, or jemalloc: every Python object through
#        libjemalloc, LD_PRELOAD with PYTHONMALLOC=malloc, which maps memory
#        in larger steps)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
PARALLEL=${PARALLEL:-20}
DURATION=${DURATION:-10m}
OUT=${OUT:-$(mktemp -d -t genbench-leak-fastapi-XXXXXX)}
PYTHON=${PYTHON:-.ci/venv/bin/python}
HERE=examples/fastapi-target
ALLOCATOR=${ALLOCATOR:-glibc}
source bench/lib.sh
case "$ALLOCATOR" in
    glibc) PRELOAD= ;;
    jemalloc)
        PRELOAD=$(ldconfig -p | awk '/libjemalloc.so.2/ {print $NF; exit}')
        [ -n "$PRELOAD" ] || { echo "no libjemalloc.so.2: apt-get install libjemalloc2" >&2; exit 2; }
        ;;
    *) echo "ALLOCATOR=$ALLOCATOR: glibc or jemalloc" >&2; exit 2 ;;
esac
if ! "$PYTHON" -c 'import fastapi, uvicorn, openai, prometheus_client' 2>/dev/null; then
    echo "$PYTHON lacks the example's packages: run .ci/test once, or set PYTHON to a" \
        "Python with 'pip install -r $HERE/requirements.txt'" >&2
    exit 2
fi
mkdir -p "$OUT"
bench_binary "$OUT"

# The values of KEYs in the JSON object on FILE's first line: `fields FILE KEY...`.
fields() {
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(*(d[k] for k in sys.argv[2:]))' "$@"
}
echo "soaks in $OUT ($ALLOCATOR)" >&2

"$GENBENCH" mock --llm 127.0.0.1:0 --search 127.0.0.1:0 --web 127.0.0.1:0 \
    --time-scale 0.05 >"$OUT/mock.json" 2>"$OUT/mock.err" &
MOCK=$!
# Out of the job table, or each_parallel's final `wait` would wait for it.
disown "$MOCK"
trap 'kill $MOCK 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$OUT/mock.json" ] && break; sleep 0.1; done
read -r LLM SEARCH < <(fields "$OUT/mock.json" llm search)

soak() { # name bytes_per_request
    local name=$1 bytes=$2 svc url pid
    if [ -n "$PRELOAD" ]; then
        export LD_PRELOAD=$PRELOAD PYTHONMALLOC=malloc
    fi
    LLM_BASE_URL="$LLM/v1" SEARCH_URL="$SEARCH" LEAK_BYTES_PER_REQUEST=$bytes \
        "$PYTHON" "$HERE/serve.py" >"$OUT/$name.svc" 2>"$OUT/$name.svc.err" &
    unset LD_PRELOAD PYTHONMALLOC
    svc=$!
    # Twenty Python services importing at once on two cores take a while.
    for _ in $(seq 600); do [ -s "$OUT/$name.svc" ] && break; sleep 0.1; done
    if [ ! -s "$OUT/$name.svc" ]; then
        echo "$name: the service did not start within 60 s (see $OUT/$name.svc.err)" >&2
        kill "$svc" 2>/dev/null || true
        return 0
    fi
    read -r url pid < <(fields "$OUT/$name.svc" url pid)
    "$GENBENCH" run "$HERE/soak.toml" --target "$url" --target-pid "$pid" \
        --duration "$DURATION" --out "$OUT/$name" >"$OUT/$name.log" 2>&1 || true
    kill "$svc" 2>/dev/null || true
    wait "$svc" 2>/dev/null || true
}

soak_job() { soak "${1%%:*}" "${1##*:}"; }
jobs_list=()
for i in $(seq "$RUNS"); do jobs_list+=("leak-$i:728" "clean-$i:0"); done
each_parallel "$PARALLEL" soak_job "${jobs_list[@]}"

python3 bench/leak_table.py "$OUT" 10.0
