"""genbench against a service it knows nothing about: the FastAPI example,
calling `genbench mock` through the official openai SDK.

The run must report the service's cache hit rate from its /metrics, its CPU
and RSS by pid, a py-spy flamegraph, and the cost from the mock's ledger.
"""

import json
import os
import subprocess
import urllib.request

import pytest

from conftest import BIN, HERE


def counters(url):
    with urllib.request.urlopen(url + "/metrics") as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("article_cache_") and " " in line:
            name, value = line.split(" ", 1)
            values[name] = float(value)
    return values


def test_genbench_measures_an_external_fastapi_service(mock, service, tmp_path):
    before = counters(service["url"])
    out = tmp_path / "out"
    run = subprocess.run(
        [BIN, "run", os.path.join(HERE, "scenario.toml"),
         "--target", service["url"], "--target-pid", str(service["pid"]),
         "--set", f"collect.cost.ledger={mock['llm']}", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    r = json.loads((out / "results.json").read_text())
    after = counters(service["url"])

    assert r["requests"]["failed"] == 0
    assert r["target"]["kind"] == "external"

    # The cache hit rate, from the service's own Prometheus counters.
    hits = after["article_cache_hits_total"] - before["article_cache_hits_total"]
    misses = after["article_cache_misses_total"] - before["article_cache_misses_total"]
    c = r["cache"]
    assert c["source"] == "metrics:article_cache_hits_total/article_cache_misses_total"
    assert (c["hits"], c["misses"]) == (hits, misses)
    # At least one per topic; two requests for a cold topic at once both miss.
    assert 8 <= misses < hits
    assert c["hit_rate"] == pytest.approx(hits / (hits + misses))

    # Its stages, under the names it chose.
    assert {"cache", "prompt", "llm", "total"} <= set(r["stages"])
    assert r["stages"]["llm"]["count"] == misses

    # CPU and RSS of the service, by its pid.
    t = r["process"]["target"]
    assert t["pid"] == service["pid"]
    assert len(t["samples"]) >= 8
    assert t["rss_mib"]["max"] > 10
    assert t["cpu_pct"]["max"] > 0

    # A py-spy flamegraph of the Python process.
    assert r["profile"]["tool"] == "py-spy", r["profile"]
    assert r["profile"]["status"] == "captured", r["profile"]
    svg = (out / r["artifacts"]["flamegraph_svg"]).read_text()
    assert "<svg" in svg[:1000]
    assert "serve.py" in svg  # the service's own frames

    # The cost, exact, from the mock's ledger: one LLM call per miss.
    cost = r["cost"]
    assert cost["source"] == "mock_ledger"
    assert list(cost["by_model"]) == ["gpt-4o-mini"]
    with urllib.request.urlopen(mock["llm"] + "/mock/ledger") as resp:
        ledger = json.load(resp)
    assert ledger["models"]["gpt-4o-mini"]["requests"] == misses
    assert cost["total_usd"] == pytest.approx(ledger["total_cost_usd"])
    assert cost["per_article_usd"] == pytest.approx(
        ledger["total_cost_usd"] / r["requests"]["ok"])
    assert cost["tokens"]["completion"] == ledger["models"]["gpt-4o-mini"]["completion_tokens"]
