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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    /// Three requests' spans as the Python SDK's protobuf and the
    /// protocol's JSON encode them (the fuzz corpus' seeds, made with the
    /// `opentelemetry-proto` Python package), of run nonce 1.
    fn ingest_seed(seed: &[u8]) -> (Result<Encoding, BadExport>, genbench_model::TracesResult) {
        let shared = Shared {
            collector: Mutex::new(SpanCollector::new(1, 2)),
            namer: Namer::new(&[]),
        };
        let mut h = HeaderMap::new();
        let ct = if seed[0] & 1 == 1 {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        if seed[0] & 2 == 2 {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let got = ingest(&shared, &h, &seed[1..]);
        let c = shared.collector.into_inner().unwrap();
        (got, c.finish(3, "otlp_http", None).0)
    }

    #[test]
    fn real_encodings_join_their_requests() {
        let seeds: [&[u8]; 4] = [
            include_bytes!("../../../../fuzz/corpus/otlp_traces/protobuf"),
            include_bytes!("../../../../fuzz/corpus/otlp_traces/json"),
            include_bytes!("../../../../fuzz/corpus/otlp_traces/json-gzip"),
            include_bytes!("../../../../fuzz/corpus/otlp_traces/protobuf-gzip"),
        ];
        let mut all = Vec::new();
        for seed in seeds {
            let (got, r) = ingest_seed(seed);
            assert!(got.is_ok(), "{got:?}");
            assert_eq!((r.joined, r.spans.ours), (3, 9));
            let f: Vec<(&str, &str, u64)> = r
                .failures
                .iter()
                .map(|f| (f.stage.as_str(), f.status.as_str(), f.count))
                .collect();
            assert_eq!(
                f,
                [("127.0.0.1:9", "429", 1), ("chat gpt-4o-mini", "error", 1)]
            );
            all.push(r);
        }
        assert!(
            all.windows(2).all(|w| w[0] == w[1]),
            "every encoding reads the same"
        );
        let (got, r) = ingest_seed(include_bytes!(
            "../../../../fuzz/corpus/otlp_traces/truncated"
        ));
        assert!(matches!(got, Err(BadExport::Decode(_))), "{got:?}");
        assert_eq!((r.spans.received, r.spans.rejected_batches), (0, 1));
    }

    async fn post(addr: std::net::SocketAddr, content_type: &str, body: &[u8]) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        c.write_all(head.as_bytes()).await.unwrap();
        // A refused body may be cut off mid-write: the answer still comes.
        let _ = c.write_all(body).await;
        let mut resp = Vec::new();
        let _ = c.read_to_end(&mut resp).await;
        String::from_utf8_lossy(&resp)
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn bad_exports_get_a_4xx_and_the_receiver_serves_on() {
        let shared = Arc::new(Shared {
            collector: Mutex::new(SpanCollector::new(1, 2)),
            namer: Namer::new(&[]),
        });
        let (addr, task) = serve("127.0.0.1:0", shared.clone()).await.unwrap();
        let big = vec![0u8; otlp::MAX_BODY_BYTES + 1];
        assert_eq!(post(addr, "application/x-protobuf", &big).await, 413);
        assert_eq!(post(addr, "text/plain", b"{}").await, 415);
        assert_eq!(
            post(addr, "application/x-protobuf", &[0x0a, 0xff]).await,
            400
        );
        let json = include_bytes!("../../../../fuzz/corpus/otlp_traces/json");
        assert_eq!(post(addr, "application/json", &json[1..]).await, 200);
        task.abort();
        let c = shared.collector.lock().unwrap();
        assert_eq!((c.roots(), c.run()), (3, 1));
    }
}
