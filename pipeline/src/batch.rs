//! `POST /api/v1/generate-articles/batch`: up to `batch_max_items` articles
//! in one request, at most `max_concurrent` at a time, as batch endpoints
//! with a concurrency limit work. The answer reports each item in order:
//! its status, cache, article or error, and its own time.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::article::generate;
use crate::error::BadRequest;
use crate::http::{Shared, article_request, json_body};
use crate::timings::Timings;
use crate::types::ArticleRequest;

/// Items in one batch, at most.
pub const MAX_ITEMS: usize = 100;

/// The items and the concurrency asked for: `{"items": [{"topic": ...},
/// ...], "max_concurrent": 4}`, or `{"topics": ["a", "b"]}` for topics
/// alone.
fn parse(v: &Value) -> Result<(Vec<ArticleRequest>, usize), BadRequest> {
    let items: Vec<Value> = match (v.get("items"), v.get("topics")) {
        (Some(Value::Array(a)), None) => a.clone(),
        (None, Some(Value::Array(t))) => t.iter().map(|t| json!({"topic": t})).collect(),
        _ => {
            return Err(BadRequest::invalid(
                "give items = [{\"topic\": \"...\"}, ...] or topics = [\"...\", ...], not both",
            ));
        }
    };
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(BadRequest::invalid(format!(
            "a batch has 1 to {MAX_ITEMS} items; this one has {}",
            items.len()
        )));
    }
    let reqs = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            article_request(item).map_err(|e| BadRequest {
                message: format!("item {i}: {}", e.message),
                ..e
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max = match v.get("max_concurrent") {
        None | Some(Value::Null) => 4,
        Some(n) => match n.as_u64() {
            Some(n) if (1..=MAX_ITEMS as u64).contains(&n) => n as usize,
            _ => {
                return Err(BadRequest::invalid(format!(
                    "max_concurrent must be an integer from 1 to {MAX_ITEMS}"
                )));
            }
        },
    };
    Ok((reqs, max))
}

pub async fn batch(State(app): State<Shared>, body: Result<Bytes, BytesRejection>) -> Response {
    let t0 = Instant::now();
    let _in_flight = app.metrics.enter();
    let parsed = json_body(body).and_then(|v| parse(&v));
    let resp = match parsed {
        Err(e) => e.into_response(),
        Ok((reqs, max)) => {
            let run = |(i, req): (usize, ArticleRequest)| {
                let app = app.clone();
                async move {
                    let Ok(_permit) = app.limit.clone().acquire_owned().await else {
                        return json!({"index": i, "status": 503});
                    };
                    app.leak();
                    let mut tm = Timings::new(Instant::now());
                    let r = generate(&app, &req, &mut tm).await;
                    tm.finish();
                    app.metrics.total(tm.total);
                    let mut item = match r {
                        Ok(a) => {
                            let mut v = a.json(&tm);
                            v["status"] = json!(200);
                            v
                        }
                        Err(e) => {
                            let (status, body) = e.status_and_body();
                            json!({"status": status.as_u16(), "error": body["error"]})
                        }
                    };
                    item["index"] = json!(i);
                    item["topic"] = json!(req.topic);
                    item
                }
            };
            let items: Vec<Value> = futures_util::stream::iter(reqs.into_iter().enumerate())
                .map(run)
                .buffered(max)
                .collect()
                .await;
            let ok = items.iter().filter(|i| i["status"] == 200).count();
            let body = json!({
                "items": items,
                "ok": ok,
                "failed": items.len() - ok,
                "max_concurrent": max,
                "total_ms": (t0.elapsed().as_secs_f64() * 1e6).round() / 1e3,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
    };
    app.metrics.request("batch", resp.status().as_u16());
    resp
}
