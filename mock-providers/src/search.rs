//! `GET /customsearch/v1`: search results in Google Custom Search JSON shape,
//! with links into the web mock, deterministic per (seed, query).

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::faults::{Fate, Service};
use crate::presets::{SearchPreset, TokenizerKind};
use crate::rng::{Rng, hash_parts};
use crate::state::Shared;
use crate::text;

pub fn router() -> Router<Shared> {
    Router::new().route("/customsearch/v1", get(search))
}

/// An error in Google's API error shape, which search clients parse.
fn google_error(status: StatusCode, reason: &str, message: &str) -> Response {
    let code = status.as_u16();
    let status_name = match code {
        400 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        504 => "DEADLINE_EXCEEDED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    let body = json!({"error": {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
        "status": status_name,
    }});
    (status, axum::Json(body)).into_response()
}

struct Params {
    q: String,
    num: u32,
    start: u32,
}

/// Validates the query parameters; `Err` is the message for a 400.
fn params(raw: &HashMap<String, String>, max: u32) -> Result<Params, String> {
    let q = raw
        .get("q")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if q.is_empty() {
        return Err("Missing required parameter: q".into());
    }
    let int = |name: &str, default: u32| -> Result<u32, String> {
        match raw.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                format!("Invalid value '{v}' for parameter {name}: expected an integer.")
            }),
        }
    };
    let max = max.min(10);
    let num = int("num", max)?;
    if !(1..=max).contains(&num) {
        return Err(format!(
            "Invalid value '{num}' for parameter num: must be between 1 and {max}."
        ));
    }
    let start = int("start", 1)?;
    if !(1..=91).contains(&start) {
        return Err(format!(
            "Invalid value '{start}' for parameter start: must be between 1 and 91."
        ));
    }
    Ok(Params { q, num, start })
}

fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(key: u64, n: usize) -> String {
    text::generate(TokenizerKind::O200kBase, key, n)
        .concat()
        .trim()
        .replace("\n\n", " ")
}

fn item(st: &Shared, p: &Params, rank: u32) -> Value {
    let key = hash_parts(st.config.seed, &[&p.q, &rank.to_string()]);
    let id = format!("{key:016x}");
    let link = format!("{}/pages/{id}", st.web_base);
    let host = st.web_base.trim_start_matches("http://").to_string();
    let title = format!(
        "{}: {}",
        title_case(&p.q),
        words(key, 6).trim_end_matches('.')
    );
    let snippet = format!("{} {} {}", words(key ^ 1, 12), p.q, words(key ^ 2, 10));
    json!({
        "kind": "customsearch#result",
        "title": title, "htmlTitle": title,
        "link": link, "displayLink": host, "formattedUrl": link, "htmlFormattedUrl": link,
        "snippet": snippet, "htmlSnippet": snippet,
        "cacheId": id,
    })
}

fn latency_ms(preset: &SearchPreset, rng: &mut Rng) -> f64 {
    let body = preset.latency_ms.dist().sample(rng);
    let u = rng.unit();
    match preset.tail {
        Some(t) if rng.chance(t.rate) => t.min_ms + u * (t.max_ms - t.min_ms),
        _ => body,
    }
}

async fn search(State(st): State<Shared>, Query(raw): Query<HashMap<String, String>>) -> Response {
    let start = Instant::now();
    let _guard = st.ledger.enter();
    let preset = st.search_preset().clone();
    let p = match params(&raw, preset.max_results) {
        Ok(p) => p,
        Err(m) => return google_error(StatusCode::BAD_REQUEST, "badRequest", &m),
    };
    if let Err(l) = st
        .faults
        .admit(Service::Search, "search", 0.0, preset.rps_limit)
    {
        st.ledger.search_call(preset.usd_per_call, true);
        let mut r = google_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rateLimitExceeded",
            "Quota exceeded: too many requests per second.",
        );
        if let Some(s) = l.retry_after_s {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        return r;
    }
    let mut rng = st.faults.next_rng(Service::Search);
    let d = st.faults.decide(Service::Search, &mut rng);
    let ms = st.scaled_ms(latency_ms(&preset, &mut rng)) + d.extra_ms;
    st.ledger
        .search_call(preset.usd_per_call, d.fate != Fate::Normal);
    match d.fate {
        Fate::Error(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return google_error(
                status,
                "backendError",
                "Backend Error (genbench mock: injected error fault)",
            );
        }
        Fate::Hang { ms } => {
            tokio::time::sleep_until(start + Duration::from_secs_f64(ms / 1000.0)).await;
            return google_error(
                StatusCode::GATEWAY_TIMEOUT,
                "deadlineExceeded",
                "Deadline exceeded (genbench mock: injected hang fault)",
            );
        }
        Fate::Normal => {}
    }
    tokio::time::sleep_until(start + Duration::from_secs_f64(ms.max(0.0) / 1000.0)).await;
    let items: Vec<Value> = (0..p.num).map(|i| item(&st, &p, p.start + i)).collect();
    let total = 10_000 + hash_parts(st.config.seed, &[&p.q]) % 5_000_000;
    let secs = ms / 1000.0;
    axum::Json(json!({
        "kind": "customsearch#search",
        "url": {"type": "application/json", "template": "https://www.googleapis.com/customsearch/v1?q={searchTerms}&num={count?}&start={startIndex?}&key={key}&cx={cx?}"},
        "queries": {
            "request": [{"title": "Google Custom Search - genbench mock", "totalResults": total.to_string(),
                          "searchTerms": p.q, "count": p.num, "startIndex": p.start, "inputEncoding": "utf8",
                          "outputEncoding": "utf8", "safe": "off"}],
        },
        "searchInformation": {"searchTime": secs, "formattedSearchTime": format!("{secs:.2}"),
                               "totalResults": total.to_string(), "formattedTotalResults": total.to_string()},
        "items": items,
    }))
    .into_response()
}
