//! The OTLP/HTTP receiver a run starts for `[collect.traces] listen`:
//! `POST /v1/traces`, protobuf or JSON, gzip or not. A bad request gets a
//! 4xx naming what is wrong and changes nothing; a good one is folded into
//! the run's span collector at once, so memory holds no batch.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use genbench_collectors::traces::SpanCollector;

use super::names::Namer;
use super::otlp::{self, BadExport, Encoding};

pub struct Shared {
    pub collector: Mutex<SpanCollector>,
    pub namer: Namer,
}

/// Folds one export request's body into `shared`.
pub fn ingest(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Encoding, BadExport> {
    let h = |n: header::HeaderName| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let result = (|| {
        let enc = otlp::encoding(&h(header::CONTENT_TYPE))?;
        let raw = otlp::decompress(body, &h(header::CONTENT_ENCODING))?;
        let req = otlp::decode(&raw, enc)?;
        let mut c = shared.collector.lock().unwrap_or_else(|p| p.into_inner());
        let spans = otlp::spans(&req, &shared.namer, &mut c)?;
        c.add(spans);
        Ok(enc)
    })();
    if result.is_err() {
        shared
            .collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rejected();
    }
    result
}

async fn traces(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    match ingest(&shared, &headers, &body) {
        // An empty ExportTraceServiceResponse: no partial success to report.
        Ok(Encoding::Protobuf) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            Vec::new(),
        )
            .into_response(),
        Ok(Encoding::Json) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{}",
        )
            .into_response(),
        Err(e) => {
            let status = match e {
                BadExport::ContentType(_) | BadExport::ContentEncoding(_) => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                BadExport::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, e.to_string()).into_response()
        }
    }
}

/// Binds `addr` and serves until the returned task is dropped or aborted.
pub async fn serve(
    addr: &str,
    shared: Arc<Shared>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen for spans on {addr}; set [collect.traces] listen to a free address (port 0 picks one)"
        )
    })?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .layer(DefaultBodyLimit::max(otlp::MAX_BODY_BYTES))
        .with_state(shared);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("warning: the span receiver stopped: {e}");
        }
    });
    Ok((local, task))
}
