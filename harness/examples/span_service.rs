//! A service for `bench/spans.sh`: it answers every request at once and,
//! like an instrumented article service, records a tree of spans for it
//! (its server span under the caller's `traceparent`, then SPANS - 1
//! children: search, page fetches side by side, the LLM call with token
//! usage), exported in protobuf batches of up to 512 spans every 200 ms to
//! an OTLP/HTTP receiver, as the OpenTelemetry SDKs' batch processors do.
//!
//! Usage: span_service RECEIVER_URL [SPANS]. Prints its URL, then serves
//! until killed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BATCH: usize = 512;

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..KeyValue::default()
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

struct Svc {
    spans_per_request: usize,
    queue: Mutex<Vec<Span>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Svc {
    fn id(&self) -> Vec<u8> {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        n.to_be_bytes().to_vec()
    }

    /// The request's spans: a 100 ms article, its children laid out as an
    /// article service's are.
    fn tree(&self, trace: Vec<u8>, parent: Vec<u8>) -> Vec<Span> {
        let t0 = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        let ms = |m: u64| t0 + m * 1_000_000;
        let root = self.id();
        let child = |name: &str, kind: SpanKind, a: u64, b: u64, attrs: Vec<KeyValue>| Span {
            trace_id: trace.clone(),
            span_id: self.id(),
            parent_span_id: root.clone(),
            name: name.into(),
            kind: kind as i32,
            start_time_unix_nano: ms(a),
            end_time_unix_nano: ms(b),
            attributes: attrs,
            ..Span::default()
        };
        let get = |host: &str| {
            vec![
                kv("http.request.method", Value::StringValue("GET".into())),
                kv("server.address", Value::StringValue(host.into())),
            ]
        };
        let mut spans = vec![child("GET", SpanKind::Client, 0, 20, get("search.example"))];
        let fetches = self.spans_per_request.saturating_sub(3);
        for i in 0..fetches as u64 {
            spans.push(child(
                "GET",
                SpanKind::Client,
                20,
                40 + i % 7,
                get("pages.example"),
            ));
        }
        spans.push(child(
            "chat gpt-4o-mini",
            SpanKind::Client,
            50,
            99,
            vec![
                kv("gen_ai.operation.name", Value::StringValue("chat".into())),
                kv(
                    "gen_ai.request.model",
                    Value::StringValue("gpt-4o-mini".into()),
                ),
                kv("gen_ai.usage.input_tokens", Value::IntValue(1200)),
                kv("gen_ai.usage.output_tokens", Value::IntValue(400)),
            ],
        ));
        spans.push(Span {
            trace_id: trace,
            span_id: root,
            parent_span_id: parent,
            name: "POST /api/v1/generate-article".into(),
            kind: SpanKind::Server as i32,
            start_time_unix_nano: ms(0),
            end_time_unix_nano: ms(100),
            ..Span::default()
        });
        spans
    }
}

async fn article(
    axum::extract::State(svc): axum::extract::State<Arc<Svc>>,
    headers: HeaderMap,
) -> &'static str {
    let tp = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts: Vec<&str> = tp.split('-').collect();
    if let (Some(trace), Some(parent)) = (
        parts.get(1).and_then(|t| hex(t)),
        parts.get(2).and_then(|p| hex(p)),
    ) {
        let spans = svc.tree(trace, parent);
        svc.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(spans);
    }
    "{\"article\": \"text\"}"
}

async fn post(addr: &str, body: Vec<u8>) -> std::io::Result<()> {
    let mut c = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await?;
    c.write_all(&body).await?;
    let mut sink = Vec::new();
    c.read_to_end(&mut sink).await?;
    Ok(())
}

/// The batch processor: every 200 ms, what is queued, 512 spans a request.
async fn export(svc: Arc<Svc>, addr: String) {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let spans = std::mem::take(&mut *svc.queue.lock().unwrap_or_else(|p| p.into_inner()));
        for chunk in spans.chunks(BATCH) {
            let req = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans: chunk.to_vec(),
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            };
            if let Err(e) = post(&addr, req.encode_to_vec()).await {
                eprintln!("span_service: export to {addr} failed: {e}");
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(receiver) = args.get(1) else {
        eprintln!("usage: span_service RECEIVER_URL [SPANS]");
        std::process::exit(2);
    };
    let addr = receiver
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let spans_per_request = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10usize)
        .max(3);
    let svc = Arc::new(Svc {
        spans_per_request,
        queue: Mutex::new(Vec::new()),
        next_id: std::sync::atomic::AtomicU64::new(1),
    });
    tokio::spawn(export(svc.clone(), addr));
    let app = axum::Router::new()
        .route("/article", axum::routing::post(article))
        .with_state(svc);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    println!("http://{}", l.local_addr().expect("local address"));
    if let Err(e) = axum::serve(l, app).await {
        eprintln!("span_service: {e}");
    }
}
