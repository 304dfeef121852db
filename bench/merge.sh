#!/usr/bin/env bash
# What `genbench merge` costs: time and peak memory to merge PARTS segments
# of a DURATION run. Not a test: it prints figures.
#
# One real segment (`run baseline --segment 0/PARTS` against the embedded
# pipeline at RATE requests/s with instant mocks, so its results.json has
# the timeline, histograms and stages a run of that length has), copied
# (with its intervals.hlog) into PARTS parts with their indices set, then
# merged: its wall time and peak RSS.
#
# Usage: bench/merge.sh   Env: PARTS (default 100), DURATION (default 10m),
#                              RATE (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-100}
DURATION=${DURATION:-10m}
RATE=${RATE:-5}

cargo build --release -q -p genbench
GENBENCH=target/release/genbench
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

"$GENBENCH" run baseline --duration "$DURATION" --rate "$RATE" --mock-time-scale 0 \
    --profile off --segment "0/$PARTS" --out "$OUT/seed" >/dev/null 2>&1
python3 - "$OUT" "$PARTS" <<'PY'
import json, os, shutil, sys
out, n = sys.argv[1], int(sys.argv[2])
seed = json.load(open(f"{out}/seed/results.json"))
for i in range(n):
    seed["segment"]["index"] = i
    os.makedirs(f"{out}/parts/part-{i}", exist_ok=True)
    json.dump(seed, open(f"{out}/parts/part-{i}/results.json", "w"))
    # Each part's per-second histograms, for the merged seconds' percentiles.
    shutil.copy(f"{out}/seed/intervals.hlog", f"{out}/parts/part-{i}/intervals.hlog")
size = os.path.getsize(f"{out}/parts/part-0/results.json")
hlog = os.path.getsize(f"{out}/parts/part-0/intervals.hlog")
print(f"parts: {n} of a {len(seed['timeline'])} s run, {size / 1024:.0f} KiB results.json "
      f"and {hlog / 1024:.0f} KiB intervals.hlog each")
PY
python3 - "$GENBENCH" "$OUT" <<'PY'
import resource, subprocess, sys, time
bin, out = sys.argv[1], sys.argv[2]
t = time.monotonic()
subprocess.run([bin, "merge", f"{out}/parts", "--out", f"{out}/merged"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
import json
tl = json.load(open(f"{out}/merged/results.json"))["timeline"]
with_p = sum(1 for p in tl if p["p95_ms"] is not None)
wall = time.monotonic() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"merge: {wall:.2f} s, peak RSS {peak / 1024:.1f} MiB; {with_p} of {len(tl)} merged seconds with percentiles")
PY
