//! OTLP trace export requests (`POST /v1/traces`): protobuf or JSON,
//! optionally gzipped, decoded with opentelemetry-proto's generated types
//! and turned into the collectors' spans. Every limit is checked before
//! the work it bounds: a body too large, a gzip bomb, nesting too deep
//! (prost and serde_json both refuse past their recursion limits), ids of
//! the wrong length.

use std::io::Read;

use genbench_collectors::traces::{Failure, Span, SpanCollector, SpanUsage};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;

use super::attrs::{attr_str, attr_u64};
use super::names::Namer;

/// Most bytes of one export request as sent (the Python SDK's batches of
/// 512 spans are well under 1 MiB).
pub const MAX_BODY_BYTES: usize = 8 << 20;
/// Most bytes once decompressed.
pub const MAX_DECODED_BYTES: usize = 32 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadExport {
    #[error("Content-Type {0:?} is not OTLP: send application/x-protobuf or application/json")]
    ContentType(String),
    #[error("Content-Encoding {0:?}: send gzip or none")]
    ContentEncoding(String),
    #[error("the body is over {} MiB", MAX_DECODED_BYTES >> 20)]
    TooLarge,
    #[error("the gzip body does not decompress: {0}")]
    Gzip(String),
    #[error("not an OTLP trace export: {0}")]
    Decode(String),
    #[error("a span's trace id is {0} bytes, not 16")]
    TraceId(usize),
    #[error("a span's span id is {0} bytes, not 8")]
    SpanId(usize),
}

/// The body's encoding from its `Content-Type`.
pub fn encoding(content_type: &str) -> Result<Encoding, BadExport> {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    match mime.to_ascii_lowercase().as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(BadExport::ContentType(content_type.into())),
    }
}

/// The body as sent, decompressed if `content_encoding` says gzip.
pub fn decompress(body: &[u8], content_encoding: &str) -> Result<Vec<u8>, BadExport> {
    match content_encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(body.to_vec()),
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(MAX_DECODED_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| BadExport::Gzip(e.to_string()))?;
            if out.len() > MAX_DECODED_BYTES {
                return Err(BadExport::TooLarge);
            }
            Ok(out)
        }
        other => Err(BadExport::ContentEncoding(other.into())),
    }
}

pub fn decode(body: &[u8], enc: Encoding) -> Result<ExportTraceServiceRequest, BadExport> {
    match enc {
        Encoding::Protobuf => {
            ExportTraceServiceRequest::decode(body).map_err(|e| BadExport::Decode(e.to_string()))
        }
        Encoding::Json => {
            serde_json::from_slice(body).map_err(|e| BadExport::Decode(e.to_string()))
        }
    }
}

fn first_u64(attrs: &[KeyValue], keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| attr_u64(attrs, k))
}

fn usage(attrs: &[KeyValue]) -> Option<SpanUsage> {
    let input = first_u64(
        attrs,
        &["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
    );
    let output = first_u64(
        attrs,
        &[
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
        ],
    );
    if input.is_none() && output.is_none() {
        return None;
    }
    let model = attr_str(attrs, "gen_ai.response.model")
        .or_else(|| attr_str(attrs, "gen_ai.request.model"))
        .unwrap_or_else(|| "unknown".into());
    Some(SpanUsage {
        model: model.into(),
        input: input.unwrap_or(0),
        output: output.unwrap_or(0),
        cached_input: first_u64(
            attrs,
            &[
                "gen_ai.usage.cache_read.input_tokens",
                "gen_ai.usage.cache_read_input_tokens",
                "gen_ai.usage.cached_input_tokens",
            ],
        )
        .unwrap_or(0),
    })
}

fn failure(attrs: &[KeyValue], status: Option<i32>) -> Option<Failure> {
    let http = first_u64(attrs, &["http.response.status_code", "http.status_code"])
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| *s >= 400);
    match (http, status == Some(StatusCode::Error as i32)) {
        (Some(s), _) => Some(Failure::Status(s)),
        (None, true) => Some(Failure::Error),
        (None, false) => None,
    }
}

fn id<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.try_into().ok()
}

/// The request's spans, with their stages named by `namer` (interned in
/// `c`). A span with a malformed id refuses the whole request, which the
/// exporter then sees as a 400.
pub fn spans(
    req: &ExportTraceServiceRequest,
    namer: &Namer,
    c: &mut SpanCollector,
) -> Result<Vec<Span>, BadExport> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                let trace = id::<16>(&s.trace_id).ok_or(BadExport::TraceId(s.trace_id.len()))?;
                let span = id::<8>(&s.span_id).ok_or(BadExport::SpanId(s.span_id.len()))?;
                let parent = match s.parent_span_id.len() {
                    0 => 0,
                    n => {
                        u64::from_be_bytes(id::<8>(&s.parent_span_id).ok_or(BadExport::SpanId(n))?)
                    }
                };
                let stage = c.stage(&namer.name(s));
                out.push(Span {
                    trace: u128::from_be_bytes(trace),
                    id: u64::from_be_bytes(span),
                    parent,
                    stage,
                    name: truncate(&s.name, 128).into(),
                    start_ns: s.start_time_unix_nano,
                    end_ns: s.end_time_unix_nano.max(s.start_time_unix_nano),
                    failure: failure(&s.attributes, s.status.as_ref().map(|st| st.code)),
                    usage: usage(&s.attributes),
                });
            }
        }
    }
    Ok(out)
}

fn truncate(s: &str, max: usize) -> &str {
    &s[..s.floor_char_boundary(max)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_encodings() {
        assert_eq!(encoding("application/x-protobuf"), Ok(Encoding::Protobuf));
        assert_eq!(
            encoding("application/json; charset=utf-8"),
            Ok(Encoding::Json)
        );
        assert!(matches!(
            encoding("text/plain"),
            Err(BadExport::ContentType(_))
        ));
        assert!(matches!(
            decompress(b"x", "br"),
            Err(BadExport::ContentEncoding(_))
        ));
        assert!(matches!(
            decompress(b"not gzip", "gzip"),
            Err(BadExport::Gzip(_))
        ));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_DECODED_BYTES >> 20) + 1 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 100_000);
        assert_eq!(decompress(&bomb, "gzip"), Err(BadExport::TooLarge));
    }

    #[test]
    fn truncated_and_nested_bodies_are_refused() {
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"x","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
        let req = decode(json, Encoding::Json).unwrap();
        let bytes = req.encode_to_vec();
        assert!(decode(&bytes[..bytes.len() - 3], Encoding::Protobuf).is_err());
        assert!(decode(&json[..40], Encoding::Json).is_err());
        // AnyValue nested 10,000 deep.
        let deep = format!(
            "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{{\"key\":\"k\",\"value\":{}1{}}}]}}}}]}}",
            "{\"arrayValue\":{\"values\":[".repeat(10_000),
            "]}}".repeat(10_000)
        );
        assert!(decode(deep.as_bytes(), Encoding::Json).is_err());
    }

    #[test]
    fn spans_with_bad_ids_refuse_the_request() {
        let mut c = SpanCollector::new(1, 1);
        let namer = Namer::new(&[]);
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"0102030405060708","name":"x"}]}]}]}"#;
        let req = decode(json, Encoding::Json).unwrap();
        assert_eq!(spans(&req, &namer, &mut c), Err(BadExport::TraceId(0)));
    }

    #[test]
    fn genai_usage_model_and_failures_are_read() {
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","parentSpanId":"0000000000000009","name":"chat gpt-4o-mini","kind":3,"startTimeUnixNano":"1000","endTimeUnixNano":"5000",
          "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.response.model","value":{"stringValue":"gpt-4o-mini-2024-07-18"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"120"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":30}},{"key":"http.response.status_code","value":{"intValue":"429"}}],
          "status":{"code":2}}]}]}]}"#;
        let req = decode(json, Encoding::Json).unwrap();
        let mut c = SpanCollector::new(1, 1);
        let s = spans(&req, &Namer::new(&[]), &mut c).unwrap();
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!((s.parent, s.start_ns, s.end_ns), (9, 1000, 5000));
        assert_eq!(s.failure, Some(Failure::Status(429)));
        let u = s.usage.as_ref().unwrap();
        assert_eq!(
            (&*u.model, u.input, u.output),
            ("gpt-4o-mini-2024-07-18", 120, 30)
        );
        // The same request as protobuf decodes to the same spans.
        let again = decode(&req.encode_to_vec(), Encoding::Protobuf).unwrap();
        assert_eq!(spans(&again, &Namer::new(&[]), &mut c).unwrap()[0], *s);
    }
}
