#!/usr/bin/env bash
# The image deploy/k8s/Containerfile describes, built and run on this
# machine, which has no container registry: its two base images are made
# here from Debian's packages (debootstrap; the rust one with this
# machine's Rust toolchain, and the tools the official rust image adds to
# Debian that a build needs: gcc, g++, make, pkg-config) and tagged with
# the names the Containerfile pulls, so the Containerfile is built as
# committed. Then the image runs two segments of a scenario (as its user
# 10001, writing to a mounted results directory, as the Indexed Job's pods
# do) against a loopback server, and merges them in a third container.
# Not a test: it prints the image's size and build time and what the
# merged run measured.
#
# Usage: bench/image.sh   Env: WORK (base images' root filesystems, kept
#                              between runs; default /var/tmp/genbench-image)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_debs podman:podman runc:runc debootstrap:debootstrap
WORK=${WORK:-/var/tmp/genbench-image}
TAG=genbench:bench
# This machine's kernel has cgroup v1 and v2 mounted (crun refuses that)
# and no CAP_SYS_RESOURCE: podman's default ulimits are over its limits,
# so every container (the build's RUN steps too) gets lower ones.
P=(podman --runtime runc --cgroup-manager cgroupfs)
mkdir -p "$WORK"
printf '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=8192:8192"]\n' >"$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
LIMITS=()

base() { # NAME TAG DEBOOTSTRAP-ARGS...
    local name=$1 tag=$2
    shift 2
    if ! "${P[@]}" image exists "$tag"; then
        if [ ! -d "$WORK/$name" ]; then
            echo "making $tag from Debian's packages" >&2
            mkdir -p "$WORK"
            debootstrap --variant=minbase "$@" bookworm "$WORK/$name.tmp" http://deb.debian.org/debian >/dev/null
            mv "$WORK/$name.tmp" "$WORK/$name"
        fi
        if [ "$name" = rust ]; then
            local sysroot
            sysroot=$(rustc --print sysroot)
            mkdir -p "$WORK/rust/usr/local/rust"
            cp -a "$sysroot/bin" "$sysroot/lib" "$WORK/rust/usr/local/rust/"
            # This machine reaches crates.io through a proxy whose CA only
            # its own trust store holds; the build stage fetches crates.
            cp /etc/ssl/certs/ca-certificates.crt "$WORK/rust/etc/ssl/certs/ca-certificates.crt"
        fi
        tar -C "$WORK/$name" -c . | "${P[@]}" import \
            --change 'ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV CARGO_HOME=/usr/local/cargo' - "$tag" >/dev/null
    fi
}
base slim docker.io/library/debian:bookworm-slim
base rust docker.io/library/rust:1.95-bookworm --include=gcc,g++,make,libc6-dev,pkg-config,ca-certificates

start=$(date +%s)
"${P[@]}" build --pull=never --network host "${LIMITS[@]}" -f deploy/k8s/Containerfile -t "$TAG" . >"$WORK/build.log" 2>&1 \
    || { tail -30 "$WORK/build.log"; echo "the image did not build (log: $WORK/build.log)" >&2; exit 1; }
built=$(( $(date +%s) - start ))
size=$("${P[@]}" image inspect "$TAG" --format '{{.Size}}')
echo "image $TAG built in ${built} s (cold cargo cache inside the build), $(( size / 1024 / 1024 )) MiB"

cargo build --release -q -p genbench
OUT=$(mktemp -d)
PORT=$(free_port)
target/release/genbench mock --llm "127.0.0.1:$PORT" --search 127.0.0.1:0 --web 127.0.0.1:0 \
    --time-scale 0 >/dev/null 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null; rm -rf "$OUT"' EXIT
chmod 0777 "$OUT"
cat >"$OUT/scenario.toml" <<'TOML'
name = "image"
[load]
model = "open"
arrivals = "poisson"
stages = "40,4s"
[request]
method = "POST"
path = "/v1/chat/completions"
headers = { "content-type" = "application/json" }
body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'
TOML
run() { "${P[@]}" run --rm --network host "${LIMITS[@]}" -v "$OUT:/results" "$TAG" "$@"; }
for i in 0 1; do
    run run /results/scenario.toml --target "http://127.0.0.1:$PORT" --profile off --seed 3 \
        --segment "$i/2" --start-at +5s --out "/results/part-$i" >/dev/null 2>"$OUT/err-$i" &
done
wait %2 %3 || { cat "$OUT"/err-*; exit 1; }
run merge /results/part-0 /results/part-1 --out /results/merged >/dev/null
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
parts = [json.load(open(f"{out}/part-{i}/results.json")) for i in (0, 1)]
m = json.load(open(f"{out}/merged/results.json"))
owner = os.stat(f"{out}/merged/results.json").st_uid
print(f"segments' requests {[p['requests']['total'] for p in parts]}, merged {m['requests']['total']}, "
      f"p99 {m['latency_ms']['p99']:.2f} ms; results written by uid {owner}; "
      f"start lags {[round(p['segment']['start_lag_ms'], 1) for p in parts]} ms")
assert m["requests"]["total"] == sum(p["requests"]["total"] for p in parts) > 0
assert owner == 10001, owner
PY
