//! OTLP helpers for tests that play an instrumented service: spans as the
//! service would record them, posted to genbench's receiver.

use std::io::{BufRead, BufReader};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `f` on a runtime of its own, in a thread of its own, until the
/// test process ends (the exporters loop for ever).
pub fn in_thread(f: impl std::future::Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(f);
    });
}

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..KeyValue::default()
    }
}

pub fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

pub fn span(
    trace: &[u8],
    id: u64,
    parent: &[u8],
    name: &str,
    kind: SpanKind,
    t: (u64, u64),
    attrs: Vec<KeyValue>,
) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: id.to_be_bytes().to_vec(),
        parent_span_id: parent.to_vec(),
        name: name.into(),
        kind: kind as i32,
        start_time_unix_nano: t.0,
        end_time_unix_nano: t.1,
        attributes: attrs,
        ..Span::default()
    }
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub async fn post(endpoint: &str, content_type: &str, gzip: bool, body: Vec<u8>) -> u16 {
    let addr = endpoint.trim_start_matches("http://");
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    let enc = if gzip {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n{enc}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body).await.unwrap();
    let mut resp = Vec::new();
    c.read_to_end(&mut resp).await.unwrap();
    String::from_utf8_lossy(&resp)[9..12].parse().unwrap()
}

/// Waits for a genbench run that must succeed, setting `endpoint` to the
/// receiver's endpoint when the run prints it; returns its stdout and stderr.
pub fn follow_endpoint(
    mut child: std::process::Child,
    endpoint: &OnceLock<String>,
) -> (String, String) {
    let stderr = child.stderr.take().unwrap();
    let mut text = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(at) = line.find("OTEL_EXPORTER_OTLP_ENDPOINT=") {
            let _ = endpoint.set(line[at + 28..].trim().to_string());
        }
        text.push_str(&line);
        text.push('\n');
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{text}");
    (stdout, text)
}

/// One export request carrying `spans` (one resource, one scope).
pub fn export_request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}
