"""A small article service of the kind genbench is pointed at: a topic in,
an article out. It searches the web, fetches the top pages side by side,
and asks an LLM, with an in-memory cache in front.

It knows nothing of genbench. The providers are whatever URLs the
environment names (in the tests, `genbench mock`): SEARCH_URL (a Google
Custom Search-shaped API), and LLM_BASE_URL (an OpenAI-compatible API,
called through the official openai SDK). It exposes what such services
already do:
- `X-Cache: HIT|MISS`, and a `Server-Timing` header with its own stage
  names (SERVER_TIMING=0 turns it off, as most services have none),
- Prometheus counters at /metrics (article_cache_hits_total, ...) and a
  histogram of its stages, article_stage_seconds{stage=search|fetch|llm},
- the LLM's `usage` in each answer,
- OpenTelemetry spans when OTEL_EXPORTER_OTLP_ENDPOINT is set (see
  telemetry.py): FastAPI, httpx and OpenAI instrumented, exported over
  OTLP/HTTP as protobuf, or JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json.

LEAK_BYTES_PER_REQUEST=N keeps N bytes per request for good, the bug a soak
is for (728 at 4 requests/s is 10 MiB/h); 0, the default, keeps nothing.

Run:  SEARCH_URL=http://127.0.0.1:8702 LLM_BASE_URL=http://127.0.0.1:8701/v1 \
      uvicorn app:app --port 8000
"""

import asyncio
import collections
import os
import re
import time

import httpx
from fastapi import FastAPI, Response
from openai import AsyncOpenAI
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel

import telemetry

MODEL = os.environ.get("LLM_MODEL", "gpt-4o-mini")
SEARCH_URL = os.environ.get("SEARCH_URL", "")
SOURCES = int(os.environ.get("SOURCES", "3"))
SERVER_TIMING = os.environ.get("SERVER_TIMING", "1") != "0"
LEAK_BYTES_PER_REQUEST = int(os.environ.get("LEAK_BYTES_PER_REQUEST", "0"))
CACHE_ENTRIES = int(os.environ.get("CACHE_ENTRIES", "256"))

telemetry.setup()  # before the clients are made, so they are instrumented

llm = AsyncOpenAI(
    base_url=os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8701/v1"),
    api_key=os.environ.get("LLM_API_KEY", "not-needed"),
    max_retries=0,
)
web = httpx.AsyncClient(timeout=30.0)
# Least recently used first; at most CACHE_ENTRIES articles, so a clean
# service's memory levels off once the cache is full.
cache: collections.OrderedDict[str, dict] = collections.OrderedDict()
# What LEAK_BYTES_PER_REQUEST keeps: a list nothing ever reads or empties.
# Each object is sized so that its malloc chunk (the object, glibc's 8-byte
# header, 16-byte aligned) and its slot in the list (8 bytes, 1/8 more as
# the list over-allocates) come to the knob's bytes, so the leak's true rate
# is known.
kept: list[bytes] = []
LEAK_OBJECT_BYTES = max(16 * round((LEAK_BYTES_PER_REQUEST - 9) / 16) - 41, 0)
hits = Counter("article_cache_hits", "Articles served from the cache")
misses = Counter("article_cache_misses", "Articles generated")
stage_seconds = Histogram(
    "article_stage_seconds", "Time in each stage of making an article", ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

app = FastAPI()
telemetry.instrument(app)


class ArticleRequest(BaseModel):
    topic: str
    target_length: int = 300


def build_prompt(topic: str, words: int, sources: list[str]) -> list[dict]:
    # Some CPU work of the service's own, so a profile has more than I/O.
    outline = "\n".join(f"{i + 1}. {part}" for i, part in enumerate(
        sorted({w.strip(".,").lower() for w in (topic + " overview history impact future").split()})))
    context = "\n\n".join(s[:1500] for s in sources)
    return [
        {"role": "system", "content": "You write clear, factual articles."},
        {"role": "user",
         "content": f"Write about {words} words on {topic}.\nOutline:\n{outline}\nSources:\n{context}"},
    ]


async def timed(stage: str, coro):
    """Awaits `coro`, observing its time in article_stage_seconds."""
    t0 = time.perf_counter()
    try:
        return await coro
    finally:
        stage_seconds.labels(stage).observe(time.perf_counter() - t0)


async def search(topic: str) -> list[str]:
    if not SEARCH_URL:
        return []
    r = await timed("search", web.get(f"{SEARCH_URL}/customsearch/v1",
                                      params={"q": topic, "num": SOURCES}))
    r.raise_for_status()
    return [item["link"] for item in r.json().get("items", [])][:SOURCES]


async def fetch(url: str) -> str:
    r = await timed("fetch", web.get(url))
    r.raise_for_status()
    return re.sub(r"<[^>]+>", " ", r.text)


@app.post("/api/v1/generate-article")
async def generate(req: ArticleRequest, response: Response):
    t0 = time.perf_counter()
    if LEAK_BYTES_PER_REQUEST:
        kept.append(bytes(LEAK_OBJECT_BYTES))
    key = f"{req.topic.lower()}:{req.target_length}"
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
    t_cache = time.perf_counter()
    timing = [f"cache;dur={(t_cache - t0) * 1000:.3f}"]
    if found is not None:
        hits.inc()
        response.headers["X-Cache"] = "HIT"
        body = {**found, "cache": "hit", "usage": None}
    else:
        misses.inc()
        links = await search(req.topic)
        t_search = time.perf_counter()
        pages = await asyncio.gather(*(fetch(u) for u in links))
        t_fetch = time.perf_counter()
        messages = build_prompt(req.topic, req.target_length, pages)
        t_prompt = time.perf_counter()
        r = await timed("llm", llm.chat.completions.create(
            model=MODEL, messages=messages, max_tokens=req.target_length * 2))
        t_llm = time.perf_counter()
        timing += [f"search;dur={(t_search - t_cache) * 1000:.3f}",
                   f"fetch;dur={(t_fetch - t_search) * 1000:.3f}",
                   f"prompt;dur={(t_prompt - t_fetch) * 1000:.3f}",
                   f"llm;dur={(t_llm - t_prompt) * 1000:.3f}"]
        found = {"topic": req.topic, "article": r.choices[0].message.content, "model": r.model}
        cache[key] = found
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)
        response.headers["X-Cache"] = "MISS"
        body = {**found, "cache": "miss", "usage": r.usage.model_dump() if r.usage else None}
    timing.append(f"total;dur={(time.perf_counter() - t0) * 1000:.3f}")
    if SERVER_TIMING:
        response.headers["Server-Timing"] = ", ".join(timing)
    return body


@app.get("/metrics")
def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
