//! The HTTP server of a run's live outputs: `GET /metrics` (Prometheus
//! text) for `--metrics-listen`.
//!
//! It reads the latest snapshot from a watch channel the aggregator writes
//! once a second, so a scrape never touches the engine and costs one
//! encoding of a few dozen series.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use super::Snapshot;
use super::prom::{self, RunLabels};

/// What the aggregator publishes: `None` until the first second is in.
pub type Latest = watch::Receiver<Option<Arc<Snapshot>>>;

struct Shared {
    latest: Latest,
    labels: RunLabels,
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let snap = s.latest.borrow().clone();
    match snap {
        Some(snap) => (
            [(header::CONTENT_TYPE, prom::CONTENT_TYPE)],
            prom::exposition(&snap, &s.labels),
        )
            .into_response(),
        // A scrape before the first second has no series to give; an empty
        // exposition is valid and says so without inventing zeros.
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, prom::CONTENT_TYPE)],
            String::new(),
        )
            .into_response(),
    }
}

/// Binds `addr` and serves until the returned task is aborted.
pub async fn serve(
    addr: &str,
    latest: Latest,
    labels: RunLabels,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr} for --metrics-listen; give a free address (port 0 picks one)"
        )
    })?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Arc::new(Shared { latest, labels }));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("warning: the live metrics server stopped: {e}");
        }
    });
    Ok((local, task))
}
