//! `POST /api/v1/generate-article/stream`: the article as server-sent events.
//!
//! Events: `meta` (sources, cache status), then `data: {"delta": "..."}` per
//! LLM token, then `done` (usage, cost, full timings) or `error`. Headers go
//! out when the LLM starts answering, so their `Server-Timing` covers the
//! stages before it and `llm` up to the LLM's response headers; the `done`
//! event has the full timings.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::article::{cost, gather, lookup, store};
use crate::error::Stage;
use crate::http::{Shared, channel_body, parse_request, with_timing};
use crate::timings::Timings;
use crate::types::{ArticleRequest, CachedArticle, SearchHit, Usage};

fn event(name: Option<&str>, data: &Value) -> Bytes {
    match name {
        Some(n) => Bytes::from(format!("event: {n}\ndata: {data}\n\n")),
        None => Bytes::from(format!("data: {data}\n\n")),
    }
}

fn sse(rx: mpsc::Receiver<Bytes>) -> Response {
    let mut r = Response::new(channel_body(rx));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub async fn generate_article_stream(
    State(app): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let t0 = Instant::now();
    let in_flight = app.metrics.enter();
    let req = match parse_request(body) {
        Ok(r) => r,
        Err(e) => {
            let mut tm = Timings::new(t0);
            tm.finish();
            app.metrics
                .request("generate-article-stream", e.status.as_u16());
            return with_timing(e.into_response(), &tm, None);
        }
    };
    let Ok(permit) = app.limit.clone().acquire_owned().await else {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    app.leak();
    let mut tm = Timings::new(t0);
    let (tx, rx) = mpsc::channel(64);
    if let Some(cached) = lookup(&app, &req, &mut tm).await {
        tm.finish();
        app.metrics.total(tm.total);
        let (t, trace) = tm.json();
        let _ = tx.try_send(event(
            Some("meta"),
            &json!({"sources": cached.sources, "cache": "hit"}),
        ));
        let _ = tx.try_send(event(None, &json!({"delta": cached.article})));
        let done = json!({"usage": Usage::default(), "cost_usd": 0.0, "cache": "hit", "timings": t, "trace": trace});
        let _ = tx.try_send(event(Some("done"), &done));
        app.metrics.request("generate-article-stream", 200);
        return with_timing(sse(rx), &tm, Some(true));
    }
    let (prompt, sources) = match gather(&app, &req, &mut tm).await {
        Ok(x) => x,
        Err(e) => {
            tm.finish();
            app.metrics.request("generate-article-stream", 502);
            return with_timing(e.into_response(), &tm, None);
        }
    };
    let llm_start = Instant::now();
    app.extra_delay(Stage::Llm).await;
    let upstream = match app
        .providers
        .complete_stream(&prompt.messages, req.max_tokens(&app.cfg))
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tm.record(Stage::Llm, llm_start, &app.metrics);
            tm.finish();
            app.metrics.request(
                "generate-article-stream",
                e.clone().into_response().status().as_u16(),
            );
            return with_timing(e.into_response(), &tm, None);
        }
    };
    let mut header_tm = tm.clone();
    header_tm.record(Stage::Llm, llm_start, &app.metrics);
    header_tm.finish();
    let _ = tx.try_send(event(
        Some("meta"),
        &json!({"sources": sources, "cache": "miss"}),
    ));
    app.metrics.request("generate-article-stream", 200);
    let app2 = app.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let _in_flight = in_flight;
        relay(&app2, &req, upstream, sources, tm, llm_start, tx).await;
    });
    with_timing(sse(rx), &header_tm, Some(false))
}

/// Forwards the LLM's tokens, then caches the article and sends `done`.
async fn relay(
    app: &Shared,
    req: &ArticleRequest,
    upstream: reqwest::Response,
    sources: Vec<SearchHit>,
    mut tm: Timings,
    llm_start: Instant,
    tx: mpsc::Sender<Bytes>,
) {
    let mut body = upstream.bytes_stream();
    let mut events = SseSplitter::default();
    let mut article = String::new();
    let mut usage = Usage::default();
    let mut finished = false;
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        events.push(&chunk);
        while let Some(ev) = events.next_event() {
            for line in ev.lines() {
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                if data == "[DONE]" {
                    finished = true;
                    continue;
                }
                let Ok(v) = serde_json::from_str::<Value>(data) else {
                    continue;
                };
                if let Some(d) = v["choices"][0]["delta"]["content"]
                    .as_str()
                    .filter(|d| !d.is_empty())
                {
                    article.push_str(d);
                    if tx.send(event(None, &json!({"delta": d}))).await.is_err() {
                        return; // the client left; dropping the upstream stops the LLM
                    }
                }
                if v["usage"].is_object() {
                    usage = Usage::from_json(&v["usage"]);
                }
            }
        }
    }
    tm.record(Stage::Llm, llm_start, &app.metrics);
    tm.finish();
    app.metrics.total(tm.total);
    if !finished {
        let e = json!({"error": {"stage": "llm", "kind": "stream_cut", "message": "the LLM stream ended before [DONE]"}});
        let _ = tx.send(event(Some("error"), &e)).await;
        return;
    }
    let c = cost(app, &usage, 1);
    app.metrics.spent(usage, c);
    store(app, req, &CachedArticle { article, sources }).await;
    let (t, trace) = tm.json();
    let done =
        json!({"usage": usage, "cost_usd": c, "cache": "miss", "timings": t, "trace": trace});
    let _ = tx.send(event(Some("done"), &done)).await;
}

/// Splits an SSE byte stream into whole events. Bytes are kept until an
/// event's blank line arrives, and only then decoded: a multi-byte
/// character split across two network chunks stays whole.
#[derive(Debug, Default)]
pub struct SseSplitter {
    buf: Vec<u8>,
}

impl SseSplitter {
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete event (without its blank line), if one has arrived.
    pub fn next_event(&mut self) -> Option<String> {
        let end = self.buf.windows(2).position(|w| w == b"\n\n")?;
        let ev: Vec<u8> = self.buf.drain(..end + 2).collect();
        Some(String::from_utf8_lossy(&ev[..end]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_split_across_chunks_at_any_byte_stay_whole() {
        let stream = "data: {\"d\": \"café ☕ 日本語 🦀\"}\n\ndata: [DONE]\n\n".as_bytes();
        for cut in 0..=stream.len() {
            let mut s = SseSplitter::default();
            let mut events = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                s.push(part);
                while let Some(e) = s.next_event() {
                    events.push(e);
                }
            }
            assert_eq!(
                events,
                ["data: {\"d\": \"café ☕ 日本語 🦀\"}", "data: [DONE]"],
                "cut at byte {cut}"
            );
        }
    }

    #[test]
    fn every_byte_in_its_own_chunk() {
        let stream = "data: ü\n\n".as_bytes();
        let mut s = SseSplitter::default();
        let mut events = Vec::new();
        for b in stream {
            s.push(std::slice::from_ref(b));
            events.extend(s.next_event());
        }
        assert_eq!(events, ["data: ü"]);
    }
}
