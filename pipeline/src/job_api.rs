//! The job API's handlers and workers: `POST /api/v1/jobs` (202 with
//! `Location`, or 429 with `Retry-After` when the queue is full), the
//! status and result routes, and the workers that take queued jobs and
//! generate them. The queue and the jobs' states live in `jobs`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::App;
use crate::article::generate;
use crate::http::{Shared, parse_request};
use crate::jobs::JobState;
use crate::timings::Timings;

/// Spawns the pool's workers; they run until the queue closes. Once.
pub fn start_workers(app: Arc<App>) {
    let Some(rx) = app
        .job_queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    else {
        return;
    };
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..app.cfg.jobs.workers.max(1) {
        let (app, rx) = (app.clone(), rx.clone());
        tokio::spawn(async move {
            loop {
                let Some(id) = rx.lock().await.recv().await else {
                    return;
                };
                run(&app, id).await;
            }
        });
    }
}

async fn run(app: &App, id: u64) {
    let jobs = &app.jobs;
    let Some((req, progress)) = jobs.start(id) else {
        return;
    };
    jobs.busy.fetch_add(1, Ordering::Relaxed);
    app.leak();
    let mut tm = Timings::new(Instant::now()).with_progress(progress);
    let result = generate(app, &req, &mut tm).await;
    tm.finish();
    app.metrics.total(tm.total);
    let timing = tm.server_timing();
    let (ok, answer) = match result {
        Ok(a) => (
            true,
            (StatusCode::OK, a.json(&tm), timing, Some(a.cache_hit)),
        ),
        Err(e) => {
            let (status, body) = e.status_and_body();
            (false, (status, body, timing, None))
        }
    };
    jobs.busy.fetch_sub(1, Ordering::Relaxed);
    jobs.finish(id, ok, answer);
}

fn not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": {"kind": "not_found", "message": format!("no job {id}: it never existed, or it finished long enough ago to be dropped")}})),
    )
        .into_response()
}

pub async fn submit(State(app): State<Shared>, body: Result<Bytes, BytesRejection>) -> Response {
    let req = match parse_request(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let resp = match app.jobs.submit(req) {
        Some(id) => {
            let location = format!("/api/v1/jobs/{id}");
            let mut r = (
                StatusCode::ACCEPTED,
                axum::Json(json!({"job": {"id": id.to_string(), "state": JobState::Queued}})),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        None => {
            let wait = app.cfg.jobs.retry_after_s;
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"error": {"kind": "queue_full", "message": format!("all {} queue places are taken; retry after {wait} s", app.cfg.jobs.queue_capacity)}})),
            )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            r
        }
    };
    app.metrics.request("jobs", resp.status().as_u16());
    resp
}

pub async fn status(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    match id.parse().ok().and_then(|n| app.jobs.status(n)) {
        Some(v) => axum::Json(v).into_response(),
        None => not_found(&id),
    }
}

pub async fn result(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(n) = id.parse::<u64>().ok() else {
        return not_found(&id);
    };
    let Some(answer) = app.jobs.answer(n) else {
        return not_found(&id);
    };
    match answer {
        Ok((status, body, timing, hit)) => {
            let mut r = (status, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&timing) {
                r.headers_mut().insert("server-timing", v);
            }
            if let Some(hit) = hit {
                let v = if hit { "HIT" } else { "MISS" };
                r.headers_mut().insert("x-cache", HeaderValue::from_static(v));
            }
            r
        }
        Err(state) => (
            StatusCode::CONFLICT,
            axum::Json(json!({"error": {"kind": "not_ready", "message": format!("job {id} is {state:?}; poll GET /api/v1/jobs/{id} until its state is done").to_lowercase()}})),
        )
            .into_response(),
    }
}
