"""The official openai Python SDK against `genbench mock`.

Each fixture starts the real `genbench` binary (GENBENCH_BIN) on ports the OS
picks, reads the one JSON line it prints with its URLs, and stops it with
SIGTERM, after which the mock prints its final ledger.
"""

import json
import math
import os
import signal
import subprocess
import urllib.request

import openai
import pytest
from openai import OpenAI

BIN = os.environ.get("GENBENCH_BIN", "target/debug/genbench")


class Mock:
    def __init__(self, *args):
        cmd = [BIN, "mock", "--llm", "127.0.0.1:0", "--search", "127.0.0.1:0",
               "--web", "127.0.0.1:0", "--time-scale", "0", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"genbench mock did not start: {cmd}")
        self.urls = json.loads(line)

    def client(self, **kw):
        kw.setdefault("max_retries", 0)
        return OpenAI(base_url=self.urls["llm"] + "/v1", api_key="not-needed", **kw)

    def ledger(self):
        with urllib.request.urlopen(self.urls["llm"] + "/mock/ledger") as r:
            return json.load(r)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0
        return json.loads(out.strip().splitlines()[-1])["ledger"]


@pytest.fixture
def mock():
    m = Mock()
    yield m
    if m.proc.poll() is None:
        m.stop()


def test_non_stream_chat_completion(mock):
    r = mock.client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You write articles."},
                  {"role": "user", "content": "Write about tidal energy."}],
        max_tokens=64,
    )
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    assert r.choices[0].message.role == "assistant"
    assert len(r.choices[0].message.content) > 64
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 64
    assert r.usage.total_tokens == r.usage.prompt_tokens + 64
    assert r.usage.prompt_tokens_details.cached_tokens == 0


def test_stream_chat_completion(mock):
    stream = mock.client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Write about tidal energy."}],
        max_tokens=48,
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, usage, finish = [], None, None
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            if delta.content:
                parts.append(delta.content)
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert finish == "length"
    assert usage is not None and usage.completion_tokens == 48
    assert len(parts) == 48, "one token per chunk"
    # The same request without streaming gives the same text.
    full = mock.client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Write about tidal energy."}],
        max_tokens=48,
    )
    assert "".join(parts) == full.choices[0].message.content


def test_embeddings(mock):
    client = mock.client()
    # The SDK asks for base64 by default and decodes it itself.
    r = client.embeddings.create(model="text-embedding-3-small", input=["hello world", "tidal energy"])
    assert [d.index for d in r.data] == [0, 1]
    assert len(r.data[0].embedding) == 1536
    assert math.isclose(math.sqrt(sum(x * x for x in r.data[0].embedding)), 1.0, rel_tol=1e-4)
    assert r.usage.prompt_tokens == 5  # cl100k: "hello world" 2, "tidal energy" 3
    small = client.embeddings.create(model="text-embedding-3-small", input="hello world",
                                     dimensions=64, encoding_format="float")
    assert len(small.data[0].embedding) == 64
    again = client.embeddings.create(model="text-embedding-3-small", input="hello world",
                                     dimensions=64, encoding_format="float")
    assert small.data[0].embedding == again.data[0].embedding


def test_configured_429_is_a_rate_limit_error():
    m = Mock("--faults", "rpm=1")
    try:
        client = m.client()
        msgs = [{"role": "user", "content": "hi"}]
        client.chat.completions.create(model="gpt-4o-mini", messages=msgs, max_tokens=1)
        with pytest.raises(openai.RateLimitError) as err:
            client.chat.completions.create(model="gpt-4o-mini", messages=msgs, max_tokens=1)
        assert err.value.status_code == 429
        assert err.value.code == "rate_limit_exceeded"
        assert int(err.value.response.headers["retry-after"]) >= 1
    finally:
        m.stop()


def test_errors_map_to_sdk_exceptions(mock):
    client = mock.client()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    failing = Mock("--faults", "error_rate=1")
    try:
        with pytest.raises(openai.InternalServerError):
            failing.client().chat.completions.create(model="gpt-4o-mini",
                                                     messages=[{"role": "user", "content": "x"}])
    finally:
        failing.stop()


def test_usage_matches_the_ledger(mock):
    client = mock.client()
    prompt = completion = 0
    for i in range(5):
        r = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"topic number {i}"}])
        prompt += r.usage.prompt_tokens
        completion += r.usage.completion_tokens
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "streamed"}],
        stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.usage:
            prompt += chunk.usage.prompt_tokens
            completion += chunk.usage.completion_tokens
    live = mock.ledger()["models"]["gpt-4o-mini"]
    assert live["requests"] == 6
    assert (live["prompt_tokens"], live["completion_tokens"]) == (prompt, completion)
    want_cost = (prompt * 0.15 + completion * 0.60) / 1e6
    assert math.isclose(live["cost_usd"], want_cost, rel_tol=1e-9)
    final = mock.stop()
    assert final["models"]["gpt-4o-mini"] == live
