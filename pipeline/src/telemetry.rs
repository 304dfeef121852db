//! The pipeline's OpenTelemetry spans, as an instrumented service sends
//! them: a server span per article request (the caller's `traceparent`
//! its parent), a span per stage with the names its `Server-Timing` uses,
//! a client span per provider call under its stage, and GenAI attributes
//! (operation, model, token usage) on the LLM call. On when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set; exported over OTLP/HTTP
//! (protobuf) by the SDK's batch processor, through the pipeline's own
//! HTTP client.
//!
//! The spans are built when the request has ended, from the instants its
//! [`Timings`] recorded, so the hot path pays for nothing but those reads.

use std::fmt;
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use opentelemetry::KeyValue;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::WithHttpConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::error::Stage;
use crate::timings::{Call, Timings};

/// The exporter's HTTP client: the pipeline's reqwest client, its calls
/// run on the pipeline's runtime (the SDK's batch processor exports from
/// a thread of its own, outside any runtime).
struct Client {
    http: reqwest::Client,
    rt: tokio::runtime::Handle,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pipeline http client")
    }
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let call = async move {
            let (parts, body) = request.into_parts();
            let r = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut out = Response::builder().status(r.status().as_u16());
            for (k, v) in r.headers() {
                out = out.header(k.as_str(), v.as_bytes());
            }
            let body = r.bytes().await?;
            Ok::<_, HttpError>(out.body(body)?)
        };
        self.rt.spawn(call).await?
    }
}

pub struct Telemetry {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Telemetry {
    /// Spans on, when `OTEL_EXPORTER_OTLP_ENDPOINT` says where they go.
    pub fn from_env(http: reqwest::Client) -> Option<Telemetry> {
        std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
        let rt = tokio::runtime::Handle::try_current().ok()?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(Client { http, rt })
            .build();
        let exporter = match exporter {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("no OpenTelemetry spans: {e}");
                return None;
            }
        };
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("genbench-pipeline")
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("genbench-pipeline");
        Some(Telemetry { provider, tracer })
    }

    /// Sends what is still queued.
    pub fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }

    /// The spans of one finished request to `route`, answered `status`.
    pub fn request(&self, headers: &HeaderMap, route: &str, status: u16, tm: &Timings) {
        let parent =
            TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers));
        let at = |d: Duration| tm.wall_start() + d;
        let mut attrs = vec![
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("http.route", route.to_string()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        if status >= 500 {
            attrs.push(KeyValue::new("error.type", status.to_string()));
        }
        let server = self
            .tracer
            .span_builder(format!("POST {route}"))
            .with_kind(SpanKind::Server)
            .with_start_time(at(Duration::ZERO))
            .with_attributes(attrs)
            .start_with_context(&self.tracer, &parent);
        let cx = parent.with_span(server);
        for (stage, a, b) in tm.stages() {
            let mut s = self
                .tracer
                .span_builder(stage.name())
                .with_kind(SpanKind::Internal)
                .with_start_time(at(*a))
                .start_with_context(&self.tracer, &cx);
            let stage_cx = cx.with_remote_span_context(s.span_context().clone());
            for c in tm.calls().iter().filter(|c| c.stage == *stage) {
                self.call(c, tm, &stage_cx, at);
            }
            s.end_with_timestamp(at(*b));
        }
        let end = at(tm.total);
        if status >= 500 {
            cx.span()
                .set_status(Status::error(format!("answered {status}")));
        }
        cx.span().end_with_timestamp(end);
    }

    fn call(
        &self,
        c: &Call,
        tm: &Timings,
        parent: &opentelemetry::Context,
        at: impl Fn(Duration) -> SystemTime,
    ) {
        let mut attrs = vec![KeyValue::new("server.address", c.host.clone())];
        let name = match (c.stage, tm.llm()) {
            (Stage::Llm, Some(l)) => {
                attrs.extend([
                    KeyValue::new("gen_ai.operation.name", "chat"),
                    KeyValue::new("gen_ai.request.model", l.model.clone()),
                    KeyValue::new("gen_ai.usage.input_tokens", l.input_tokens as i64),
                    KeyValue::new("gen_ai.usage.output_tokens", l.output_tokens as i64),
                ]);
                format!("chat {}", l.model)
            }
            _ => {
                attrs.push(KeyValue::new("http.request.method", "GET"));
                "GET".to_string()
            }
        };
        if let Some(s) = c.status {
            attrs.push(KeyValue::new("http.response.status_code", i64::from(s)));
        }
        let mut span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_start_time(at(c.start))
            .with_attributes(attrs)
            .start_with_context(&self.tracer, parent);
        if c.status.is_none_or(|s| s >= 400) {
            span.set_status(Status::error("the call failed"));
        }
        span.end_with_timestamp(at(c.end));
    }
}
