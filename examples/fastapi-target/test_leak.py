"""The soak judged on a Python service's RSS: the example service with its
leak knob (LEAK_BYTES_PER_REQUEST) on is called `leak` and fails its memory
budget; with it off it is not called `leak`, and its budget is never passed
on a measurement that cannot tell.

Short and deterministic: 64 KiB a request at 10 requests/s (2,250 MiB/h)
for 40 s, against a 400 MiB/h line, where a clean service's warm-up reads
well under it. Whether a leak at the 10 MiB/h budget is told from none in
10-minute soaks, 20 of each, is bench/leak-fastapi.sh's (BENCHMARKS.md).
"""

import json
import os
import subprocess
import sys

from conftest import BIN, HERE, ready_line


def service(mock, leak_bytes):
    env = {**os.environ, "LLM_BASE_URL": mock["llm"] + "/v1", "SEARCH_URL": mock["search"],
           "LEAK_BYTES_PER_REQUEST": str(leak_bytes)}
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "serve.py")],
                         stdout=subprocess.PIPE, text=True, env=env)
    return p, ready_line(p, "the FastAPI service")


def soaks(mock, tmp_path, leaks):
    """One 40 s soak per leak size, all at once (each its own service and
    genbench): (process result, results.json) for each."""
    started = []
    try:
        for leak_bytes in leaks:
            p, svc = service(mock, leak_bytes)
            out = tmp_path / f"out-{leak_bytes}"
            run = subprocess.Popen(
                [BIN, "run", os.path.join(HERE, "soak.toml"), "--target", svc["url"],
                 "--target-pid", str(svc["pid"]), "--duration", "40s", "--rate", "10",
                 "--set", "analysis.leak_tolerance=400MiB/h", "--out", str(out)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started.append((p, run, out))
        done = []
        for _, run, out in started:
            stdout, stderr = run.communicate(timeout=120)
            done.append((subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr),
                         json.loads((out / "results.json").read_text())))
        return done
    finally:
        for p, run, _ in started:
            if run.poll() is None:
                run.kill()
            p.terminate()
            p.communicate(timeout=10)


def budget(r):
    return next(t for t in r["thresholds"] if t["expr"].startswith("rss_growth"))


def test_the_leak_knob_is_seen_on_rss(mock, tmp_path):
    # Both soaks run at once: each service's RSS is its own process's.
    (leaky, r_leaky), (clean, r_clean) = soaks(mock, tmp_path, [65536, 0])
    leaking(leaky, r_leaky)
    not_leaking(clean, r_clean)


def leaking(run, r):
    leak = r["leak"]
    assert leak["signal"] == "rss", leak
    assert r["requests"]["failed"] == 0
    rate = 65536 * 10 * 3600 / 2**20
    t = budget(r)
    assert leak["verdict"] == "leak", leak
    assert 0.7 * rate < leak["slope_mib_per_h"] < 1.3 * rate, leak
    assert not t["passed"] and not t.get("inconclusive"), t
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL" in run.stdout


def not_leaking(run, r):
    leak = r["leak"]
    assert leak["signal"] == "rss", leak
    assert r["requests"]["failed"] == 0
    t = budget(r)
    assert leak["verdict"] != "leak", leak
    # The budget (10 MiB/h) passes only if 40 s could show it kept;
    # otherwise it is inconclusive, and fails the run by default.
    lo, hi = leak["ci95_mib_per_h"]
    shown_kept = hi < 10 and leak["theil_sen_mib_per_h"] < 10
    assert t["passed"] == shown_kept, (t, leak)
    shown_broken = lo >= 10 and leak["theil_sen_mib_per_h"] >= 10
    assert bool(t.get("inconclusive")) == (not shown_kept and not shown_broken), (t, leak)
    assert ("INCONCLUSIVE" in run.stdout) == bool(t.get("inconclusive")), run.stdout
