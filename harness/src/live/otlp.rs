//! The run so far as an OTLP metrics export (`--otlp-metrics URL`): the
//! OpenTelemetry HTTP and GenAI semantic-convention names where they exist
//! (`http.client.request.duration`, `gen_ai.client.operation.duration`,
//! `gen_ai.client.operation.time_to_first_chunk`,
//! `gen_ai.client.operation.time_per_output_chunk`,
//! `gen_ai.client.token.usage`) and `genbench.*` for the rest. Every point
//! is cumulative from the run's start, so the last push of a run holds its
//! totals.
//!
//! [`request`] is a pure function; [`push`] sends it as protobuf over
//! OTLP/HTTP.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::prom::RunLabels;
use super::{Buckets, LlmSnapshot, Snapshot};

/// When the run started and when this snapshot was taken, in nanoseconds
/// since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    pub start_ns: u64,
    pub now_ns: u64,
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, description: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        description: description.into(),
        unit: unit.into(),
        data: Some(data),
        ..Default::default()
    }
}

fn histogram(b: &Buckets, attributes: Vec<KeyValue>, t: Times) -> Data {
    let mut bucket_counts = b.in_bucket.clone();
    bucket_counts.push(b.over());
    Data::Histogram(Histogram {
        data_points: vec![HistogramDataPoint {
            attributes,
            start_time_unix_nano: t.start_ns,
            time_unix_nano: t.now_ns,
            count: b.count,
            sum: Some(b.sum_s),
            bucket_counts,
            explicit_bounds: b.bounds_s.to_vec(),
            ..Default::default()
        }],
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    })
}

fn point(v: Value, attributes: Vec<KeyValue>, t: Times) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: t.start_ns,
        time_unix_nano: t.now_ns,
        value: Some(v),
        ..Default::default()
    }
}

fn counter(points: Vec<NumberDataPoint>) -> Data {
    Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
        is_monotonic: true,
    })
}

fn gauge(v: f64, t: Times) -> Data {
    Data::Gauge(Gauge {
        data_points: vec![point(Value::AsDouble(v), Vec::new(), t)],
    })
}

/// The snapshot as one export request; the run's labels are resource
/// attributes (`genbench.scenario`, `genbench.run`, `genbench.segment`).
pub fn request(s: &Snapshot, labels: &RunLabels, t: Times) -> ExportMetricsServiceRequest {
    let mut metrics = vec![
        metric(
            "http.client.request.duration",
            "s",
            "Request latency, from the scheduled send to the last byte",
            histogram(&s.latency, Vec::new(), t),
        ),
        metric(
            "genbench.requests",
            "{request}",
            "Requests that ended, by outcome: ok, the error kind, or abandoned_unanswered and abandoned_cancelled (the client gave up)",
            counter(
                std::iter::once(("ok", s.ok))
                    .chain(s.errors.iter().copied())
                    .chain(s.abandoned)
                    .map(|(o, n)| point(Value::AsInt(n as i64), vec![kv("genbench.outcome", o)], t))
                    .collect(),
            ),
        ),
        metric(
            "genbench.in_flight",
            "{request}",
            "Requests sent and not yet answered",
            gauge(s.in_flight as f64, t),
        ),
        metric(
            "genbench.achieved_rate",
            "{request}/s",
            "Requests answered per second in the last interval",
            gauge(s.achieved_rps, t),
        ),
    ];
    if let Some(target) = s.target {
        metrics.push(metric(
            "genbench.target",
            "1",
            "What the load asks for now: requests per second (open model) or users (closed)",
            gauge(target, t),
        ));
    }
    if let Some(usd) = s.cost_usd {
        metrics.push(metric(
            "genbench.cost",
            "USD",
            "Cost so far",
            counter(vec![point(Value::AsDouble(usd), Vec::new(), t)]),
        ));
    }
    if let Some(l) = &s.llm {
        metrics.extend(llm_metrics(s, l, t));
    }
    export(metrics, labels)
}

/// The run's metrics under its labels, as resource attributes.
fn export(metrics: Vec<Metric>, labels: &RunLabels) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "genbench"),
                    kv("genbench.scenario", &labels.scenario),
                    kv("genbench.run", &labels.run),
                    kv("genbench.segment", &labels.segment),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "genbench".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The GenAI semantic conventions' client metrics, and TPOT.
fn llm_metrics(s: &Snapshot, l: &LlmSnapshot, t: Times) -> [Metric; 5] {
    let chat = || vec![kv("gen_ai.operation.name", "chat")];
    [
        metric(
            "gen_ai.client.operation.duration",
            "s",
            "GenAI operation duration",
            histogram(&s.latency, chat(), t),
        ),
        metric(
            "gen_ai.client.operation.time_to_first_chunk",
            "s",
            "Time to the first content event of a stream",
            histogram(&l.ttft, chat(), t),
        ),
        metric(
            "gen_ai.client.operation.time_per_output_chunk",
            "s",
            "Gaps between consecutive content events",
            histogram(&l.itl, chat(), t),
        ),
        metric(
            "genbench.llm.time_per_output_token",
            "s",
            "Each stream's (latency - TTFT) / (output tokens - 1)",
            histogram(&l.tpot, chat(), t),
        ),
        metric(
            "gen_ai.client.token.usage",
            "{token}",
            "Output tokens per stream",
            histogram(&l.tokens, vec![kv("gen_ai.token.type", "output")], t),
        ),
    ]
}

/// Sends one export as OTLP/HTTP protobuf to `url` (the full path, as
/// `http://collector:4318/v1/metrics`).
pub async fn push(
    http: &reqwest::Client,
    url: &str,
    req: &ExportMetricsServiceRequest,
) -> Result<(), String> {
    let r = http
        .post(url)
        .header("content-type", "application/x-protobuf")
        .body(req.encode_to_vec())
        .send()
        .await
        .map_err(|e| format!("cannot push metrics to {url}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("{url} refused the metrics: HTTP {}", r.status()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{
        LATENCY_BOUNDS_S, LlmSnapshot, TOKEN_BOUNDS, TPOT_BOUNDS_S, test_buckets as buckets,
    };

    fn snapshot(llm: bool) -> Snapshot {
        Snapshot {
            elapsed_s: 2.0,
            ok: 5,
            errors: vec![("timeout", 1)],
            abandoned: [("abandoned_unanswered", 0), ("abandoned_cancelled", 0)],
            latency: buckets(&LATENCY_BOUNDS_S, 4, 1),
            in_flight: 2,
            target: None,
            achieved_rps: 2.5,
            llm: llm.then(|| LlmSnapshot {
                ttft: buckets(&LATENCY_BOUNDS_S, 5, 0),
                tpot: buckets(&TPOT_BOUNDS_S, 5, 0),
                itl: buckets(&TPOT_BOUNDS_S, 90, 0),
                tokens: buckets(&TOKEN_BOUNDS, 0, 0),
                output_tokens: 100,
            }),
            cost_usd: None,
        }
    }

    fn names(r: &ExportMetricsServiceRequest) -> Vec<&str> {
        r.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .collect()
    }

    const T: Times = Times {
        start_ns: 1,
        now_ns: 2,
    };

    #[test]
    fn llm_runs_use_the_genai_names_and_others_do_not() {
        let labels = RunLabels::new("s", std::path::Path::new("r"), None);
        let plain = request(&snapshot(false), &labels, T);
        assert!(!names(&plain).iter().any(|n| n.starts_with("gen_ai.")));
        let llm = request(&snapshot(true), &labels, T);
        for n in [
            "http.client.request.duration",
            "gen_ai.client.operation.duration",
            "gen_ai.client.operation.time_to_first_chunk",
            "gen_ai.client.operation.time_per_output_chunk",
            "gen_ai.client.token.usage",
            "genbench.requests",
        ] {
            assert!(names(&llm).contains(&n), "{n} missing: {:?}", names(&llm));
        }
    }

    #[test]
    fn histograms_keep_the_overflow_bucket_and_points_are_cumulative() {
        let labels = RunLabels::new("s", std::path::Path::new("r"), None);
        let r = request(&snapshot(false), &labels, T);
        let m = &r.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(Data::Histogram(h)) = &m.data else {
            panic!("{m:?}");
        };
        assert_eq!(
            h.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        let p = &h.data_points[0];
        assert_eq!(p.bucket_counts.len(), LATENCY_BOUNDS_S.len() + 1);
        assert_eq!(
            (p.bucket_counts[0], *p.bucket_counts.last().unwrap()),
            (4, 1)
        );
        assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (1, 2));
        // Round-trips through the wire format.
        let back = ExportMetricsServiceRequest::decode(&r.encode_to_vec()[..]).unwrap();
        assert_eq!(back, r);
    }
}
