"""A small article service of the kind genbench is pointed at: a topic in,
an article out, an in-memory cache in front of one LLM call.

It knows nothing of genbench. The LLM is whatever OpenAI-compatible API
LLM_BASE_URL names (in the test, `genbench mock`), called through the
official openai SDK. It exposes what most services already do:
- `X-Cache: HIT|MISS` and a `Server-Timing` header with its own stage names,
- Prometheus counters at /metrics (article_cache_hits_total, ...),
- the LLM's `usage` in each answer.

Run:  LLM_BASE_URL=http://127.0.0.1:8701/v1 uvicorn app:app --port 8000
"""

import os
import time

from fastapi import FastAPI, Response
from openai import AsyncOpenAI
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel

MODEL = os.environ.get("LLM_MODEL", "gpt-4o-mini")

llm = AsyncOpenAI(
    base_url=os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8701/v1"),
    api_key=os.environ.get("LLM_API_KEY", "not-needed"),
    max_retries=0,
)
cache: dict[str, dict] = {}
hits = Counter("article_cache_hits", "Articles served from the cache")
misses = Counter("article_cache_misses", "Articles generated")

app = FastAPI()


class ArticleRequest(BaseModel):
    topic: str
    target_length: int = 300


def build_prompt(topic: str, words: int) -> list[dict]:
    # Some CPU work of the service's own, so a profile has more than I/O.
    outline = "\n".join(f"{i + 1}. {part}" for i, part in enumerate(
        sorted({w.strip(".,").lower() for w in (topic + " overview history impact future").split()})))
    return [
        {"role": "system", "content": "You write clear, factual articles."},
        {"role": "user", "content": f"Write about {words} words on {topic}.\nOutline:\n{outline}"},
    ]


@app.post("/api/v1/generate-article")
async def generate(req: ArticleRequest, response: Response):
    t0 = time.perf_counter()
    key = f"{req.topic.lower()}:{req.target_length}"
    found = cache.get(key)
    t_cache = time.perf_counter()
    timing = [f"cache;dur={(t_cache - t0) * 1000:.3f}"]
    if found is not None:
        hits.inc()
        response.headers["X-Cache"] = "HIT"
        body = {**found, "cache": "hit", "usage": None}
    else:
        misses.inc()
        messages = build_prompt(req.topic, req.target_length)
        t_prompt = time.perf_counter()
        r = await llm.chat.completions.create(
            model=MODEL, messages=messages, max_tokens=req.target_length * 2)
        t_llm = time.perf_counter()
        timing += [f"prompt;dur={(t_prompt - t_cache) * 1000:.3f}",
                   f"llm;dur={(t_llm - t_prompt) * 1000:.3f}"]
        found = {"topic": req.topic, "article": r.choices[0].message.content, "model": r.model}
        cache[key] = found
        response.headers["X-Cache"] = "MISS"
        body = {**found, "cache": "miss", "usage": r.usage.model_dump() if r.usage else None}
    timing.append(f"total;dur={(time.perf_counter() - t0) * 1000:.3f}")
    response.headers["Server-Timing"] = ", ".join(timing)
    return body


@app.get("/metrics")
def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
