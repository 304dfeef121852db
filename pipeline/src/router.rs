//! The pipeline's routes, its `/metrics` and `/config`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::http::{Shared, generate_article};

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/api/v1/generate-article", post(generate_article))
        .route("/api/v1/generate-article/stream", post(crate::stream::generate_article_stream))
        .route("/api/v1/generate-articles/batch", post(crate::batch::batch))
        .route("/api/v1/jobs", post(crate::job_api::submit))
        .route("/api/v1/jobs/{id}", get(crate::job_api::status))
        .route("/api/v1/jobs/{id}/result", get(crate::job_api::result))
        .route("/metrics", get(metrics))
        .route("/health", get(|| async { axum::Json(json!({"status": "ok"})) }))
        .route("/config", get(config))
        .route("/debug/pprof/profile", get(crate::profile::profile))
        .fallback(|| async { (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"kind": "not_found", "message": "no such route; see POST /api/v1/generate-article"}}))) })
        .with_state(app)
}

async fn metrics(State(app): State<Shared>) -> Response {
    use crate::metrics::{Gauges, exposition};
    let mut gauges = Gauges(app.jobs.gauges().to_vec());
    gauges.0.push((
        "cache_flights",
        "articles being made that others wait for (cache.coalesce)",
        app.flights.len() as u64,
    ));
    let text = exposition(
        "genbench_pipeline",
        vec![Box::new(app.metrics.clone()), Box::new(gauges)],
    );
    (
        [(
            header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        text,
    )
        .into_response()
}

async fn config(State(app): State<Shared>) -> Response {
    let mut c = serde_json::to_value(&app.cfg).unwrap_or_default();
    // Echo everything but secrets.
    for key in ["llm_api_key", "search_key"] {
        if c.get(key).is_some() {
            c[key] = json!("<redacted>");
        }
    }
    axum::Json(c).into_response()
}
