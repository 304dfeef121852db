//! What the pipeline's HTTP handlers share (reading and validating an
//! article request, the timing headers, streamed bodies) and the
//! non-streamed article handler. The routes are in `router`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::app::App;
use crate::article::generate;
use crate::error::BadRequest;
use crate::timings::Timings;
use crate::types::ArticleRequest;

pub type Shared = Arc<App>;

/// Reads a JSON body: 400 when it is not JSON.
pub fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, BadRequest> {
    let bytes = body.map_err(|e| BadRequest {
        status: e.status(),
        message: e.body_text(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        BadRequest::malformed(format!(
            "body is not valid JSON ({e}); send {{\"topic\": \"...\"}}"
        ))
    })
}

/// Reads and validates a request body: 400 when unreadable, 422 when invalid.
pub fn parse_request(body: Result<Bytes, BytesRejection>) -> Result<ArticleRequest, BadRequest> {
    article_request(&json_body(body)?)
}

/// Validates one article request: 422 when a field is wrong.
pub fn article_request(v: &Value) -> Result<ArticleRequest, BadRequest> {
    let Some(obj) = v.as_object() else {
        return Err(BadRequest::malformed(
            "body must be a JSON object like {\"topic\": \"...\"}",
        ));
    };
    let topic = match obj.get("topic") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 500 => {
            s.trim().to_string()
        }
        Some(Value::String(_)) => {
            return Err(BadRequest::invalid("topic must be 1 to 500 characters"));
        }
        Some(_) => return Err(BadRequest::invalid("topic must be a string")),
        None => return Err(BadRequest::invalid("missing field: topic")),
    };
    let industry = match obj.get("industry") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 200 => {
            Some(s.trim().to_string()).filter(|s| !s.is_empty())
        }
        Some(_) => {
            return Err(BadRequest::invalid(
                "industry must be a string of at most 200 characters",
            ));
        }
    };
    let target_length = match obj.get("target_length") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if (50..=5000).contains(&n) => Some(n as u32),
            _ => {
                return Err(BadRequest::invalid(
                    "target_length must be an integer number of words from 50 to 5000",
                ));
            }
        },
    };
    Ok(ArticleRequest {
        topic,
        industry,
        target_length,
    })
}

/// Request ids on answers, as services put them there for their traces.
static NEXT_REQUEST_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn with_timing(mut resp: Response, tm: &Timings, cache_hit: Option<bool>) -> Response {
    let h = resp.headers_mut();
    let id = NEXT_REQUEST_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(v) = HeaderValue::from_str(&format!("art-{id:08}")) {
        h.insert("x-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&tm.server_timing()) {
        h.insert("server-timing", v);
    }
    if let Some(hit) = cache_hit {
        h.insert(
            "x-cache",
            HeaderValue::from_static(if hit { "HIT" } else { "MISS" }),
        );
    }
    resp
}

pub async fn generate_article(
    State(app): State<Shared>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let t0 = Instant::now();
    let _in_flight = app.metrics.enter();
    let (resp, tm) = answer(&app, t0, body).await;
    app.metrics
        .request("generate-article", resp.status().as_u16());
    if let Some(t) = &app.telemetry {
        t.request(
            &headers,
            "/api/v1/generate-article",
            resp.status().as_u16(),
            &tm,
        );
    }
    resp
}

/// The answer to one article request, and its timings.
async fn answer(
    app: &Shared,
    t0: Instant,
    body: Result<Bytes, BytesRejection>,
) -> (Response, Timings) {
    match parse_request(body) {
        Err(e) => {
            let mut tm = Timings::new(t0);
            tm.finish();
            (with_timing(e.into_response(), &tm, None), tm)
        }
        Ok(req) => {
            let Ok(_permit) = app.limit.clone().acquire_owned().await else {
                return (
                    StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    Timings::new(t0),
                );
            };
            app.leak();
            let mut tm = Timings::new(t0);
            let result = generate(app, &req, &mut tm).await;
            app.handler_delay().await;
            tm.finish();
            app.metrics.total(tm.total);
            let resp = match result {
                Ok(article) => with_timing(
                    axum::Json(article.json(&tm)).into_response(),
                    &tm,
                    Some(article.cache_hit),
                ),
                Err(e) => with_timing(e.into_response(), &tm, None),
            };
            (resp, tm)
        }
    }
}

/// A body fed from a channel, for responses produced by a spawned task.
pub fn channel_body(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Body {
    let s = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Body::from_stream(s)
}
