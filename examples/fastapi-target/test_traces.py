"""genbench inside a service it did not write: the FastAPI example with the
official OpenTelemetry SDK on (FastAPI, httpx and OpenAI instrumentation,
the batch span processor, OTLP/HTTP), calling `genbench mock`.

With no Server-Timing and no mock ledger configured, the run must still
say where each article's time and money went, from the service's spans:
every request's trace joined; search, page fetches and the chat call as
stages whose means match what the service's own histogram recorded; tokens
and cost equal to the mock's ledger. Once with the protobuf encoding, once
with JSON.
"""

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from conftest import BIN, HERE, ready_line, start_mock, stop


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stage_histogram(url):
    """article_stage_seconds' _sum and _count per stage."""
    with urllib.request.urlopen(url + "/metrics") as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        for part in ("_sum", "_count"):
            prefix = f"article_stage_seconds{part}{{stage=\""
            if line.startswith(prefix):
                stage = line[len(prefix):].split('"', 1)[0]
                out.setdefault(stage, {})[part] = float(line.rsplit(" ", 1)[1])
    return out


def ledger(mock):
    with urllib.request.urlopen(mock["llm"] + "/mock/ledger") as r:
        return json.load(r)


@pytest.fixture
def mock():
    # Latencies at a fifth of the presets' (page fetches of about 30 ms):
    # the service's own timing of a call includes reading the body and the
    # event loop's turn, which the client span leaves out; against calls of
    # a few ms that alone is more than the 5% the stages are held to.
    p, urls = start_mock(0.2)
    yield urls
    stop(p)


def start_service(mock, **env):
    """The example service on the mock's search and LLM, without
    Server-Timing, with `env` on top."""
    env = {**os.environ, "LLM_BASE_URL": mock["llm"] + "/v1", "SEARCH_URL": mock["search"],
           "SERVER_TIMING": "0", **env}
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "serve.py")],
                         stdout=subprocess.PIPE, text=True, env=env)
    return p, ready_line(p, "the FastAPI service")


@pytest.fixture(params=["http/protobuf", "http/json"])
def traced_service(request, mock):
    port = free_port()
    p, svc = start_service(
        mock,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_PROTOCOL=request.param,
        # The SDK's batch processor exports every 5 s by default; 1 s keeps
        # the run's wait for late spans short.
        OTEL_BSP_SCHEDULE_DELAY="1000")
    yield {**svc, "receiver": f"127.0.0.1:{port}"}
    p.terminate()
    p.communicate(timeout=10)


def test_stages_come_from_the_services_prometheus_histogram(mock, tmp_path):
    p, svc = start_service(mock)
    try:
        before = stage_histogram(svc["url"])
        out = tmp_path / "out"
        run = subprocess.run(
            [BIN, "run", os.path.join(HERE, "histogram.toml"), "--target", svc["url"],
             "--out", str(out)],
            capture_output=True, text=True, timeout=120)
        after = stage_histogram(svc["url"])
    finally:
        p.terminate()
        p.communicate(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    r = json.loads((out / "results.json").read_text())
    assert set(r["stages"]) == {"search", "fetch", "llm"}, r["stages"]
    for stage, s in r["stages"].items():
        was = before.get(stage, {"_sum": 0.0, "_count": 0.0})
        n = after[stage]["_count"] - was["_count"]
        assert s["count"] == n
        assert s["mean"] == pytest.approx((after[stage]["_sum"] - was["_sum"]) / n * 1000, rel=1e-9)
        assert s["source"] == "prometheus"
        assert 0 < s["p50"] <= s["p95"] <= s["p99"]
        # And each second's mean, as a series over the run.
        series = r["series"][f"stage_{stage}_mean_ms"]
        assert series["kind"] == "histogram_mean"
        assert len(series["samples"]) >= 2
        assert series["min"] <= s["mean"] * 1.5 and series["max"] >= s["mean"] / 1.5


def test_stages_tokens_and_cost_come_from_the_services_spans(mock, traced_service, tmp_path):
    svc = traced_service
    before, spend_before = stage_histogram(svc["url"]), ledger(mock)
    out = tmp_path / "out"
    run = subprocess.run(
        [BIN, "run", os.path.join(HERE, "traces.toml"), "--target", svc["url"],
         "--set", f"collect.traces.listen={svc['receiver']}", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    r = json.loads((out / "results.json").read_text())
    after, spend = stage_histogram(svc["url"]), ledger(mock)

    # Every request's trace came back and was joined.
    t = r["traces"]
    assert r["requests"]["failed"] == 0
    assert t["requests"] == r["requests"]["ok"] == 40
    assert t["joined"] == 40, (t["spans"], run.stderr)
    assert t["spans"]["rejected_batches"] == 0

    # Search, the page fetches and the chat call are stages, each as long on
    # average as the service's own histogram says (the same awaits, timed
    # twice: by the span and by the service).
    calls = {
        "search": "search",
        "fetch": "fetch",
        "chat gpt-4o-mini": "llm",
    }
    for stage, own in calls.items():
        n = after[own]["_count"] - before[own].get("_count", 0) if own in before else after[own]["_count"]
        total = after[own]["_sum"] - (before[own]["_sum"] if own in before else 0)
        s = t["stages"][stage]
        assert s["count"] == n, (stage, s, n)
        assert s["duration_ms"]["mean"] == pytest.approx(total / n * 1000, rel=0.05), stage
        assert r["stages"][stage]["source"] == "traces"
    misses = int(t["stages"]["chat gpt-4o-mini"]["count"])
    assert t["stages"]["fetch"]["count"] == 3 * misses
    # Three fetches side by side: one fetch's time on each article's path.
    fetch = t["stages"]["fetch"]
    assert fetch["critical_path_ms_per_request"] * 40 < fetch["duration_ms"]["mean"] * fetch["count"]

    # Tokens and cost from the GenAI spans equal the mock's ledger.
    m_after, m_before = spend["models"]["gpt-4o-mini"], spend_before["models"].get("gpt-4o-mini", {})
    used = {k: m_after[k] - m_before.get(k, 0) for k in ("prompt_tokens", "completion_tokens", "requests")}
    cost = r["cost"]
    assert cost["source"] == "traces"
    assert used["requests"] == misses
    assert cost["tokens"]["prompt"] == used["prompt_tokens"]
    assert cost["tokens"]["completion"] == used["completion_tokens"]
    assert "unpriced" not in cost
    spent = spend["total_cost_usd"] - spend_before["total_cost_usd"]
    assert cost["total_usd"] == pytest.approx(spent, rel=1e-9)
    assert cost["per_article_usd"] == pytest.approx(spent / 40, rel=1e-9)
    assert "40 of 40 requests joined" in run.stdout
