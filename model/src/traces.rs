//! The `traces` section: what the target's own OpenTelemetry spans said
//! about genbench's requests (`[collect.traces]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::LatencySummaryMs;

/// A W3C trace id, written as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub u128);

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl Serialize for TraceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TraceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() != 32 {
            return Err(serde::de::Error::custom("a trace id is 32 hex digits"));
        }
        u128::from_str_radix(&s, 16)
            .map(TraceId)
            .map_err(serde::de::Error::custom)
    }
}

/// Spans received and what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanCounts {
    /// Every span decoded.
    pub received: u64,
    /// Spans of this run's requests (their trace id carries the run's).
    pub ours: u64,
    /// Spans of other traces (the service's own background work, other
    /// clients): counted, then dropped.
    pub other: u64,
    /// Export requests refused (malformed, too large, wrong type).
    pub rejected_batches: u64,
    /// Spans of ours that came after their request's root span had been
    /// analysed, or were still waiting for one at the end: counted in their
    /// stage's durations, left off the critical path.
    #[serde(default)]
    pub unrooted: u64,
}

/// One stage as the spans saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceStage {
    /// Spans in this stage.
    pub count: u64,
    /// The spans' own durations.
    pub duration_ms: LatencySummaryMs,
    /// Time this stage spent on requests' critical paths, per joined
    /// request (parallel spans count once: three fetches side by side are
    /// one fetch's time).
    pub critical_path_ms_per_request: f64,
    /// Spans with an error status or an HTTP status of 400 and above.
    pub errors: u64,
}

/// Failed spans of one stage with one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamFailure {
    pub stage: String,
    /// The HTTP status, or `"error"` for an error status without one.
    pub status: String,
    pub count: u64,
}

/// One span of a kept tree, in start order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeSpan {
    pub stage: String,
    pub name: String,
    /// From the root span's start.
    pub start_ms: f64,
    pub duration_ms: f64,
    pub depth: u32,
    pub error: bool,
}

/// A request's whole span tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanTree {
    pub trace_id: String,
    /// The root span's duration.
    pub duration_ms: f64,
    pub spans: Vec<TreeSpan>,
}

/// One stress step as the spans that ended in it saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    pub start_s: f64,
    pub end_s: f64,
    pub target_rps: Option<f64>,
    /// Each stage's spans' p95.
    pub stages_p95_ms: BTreeMap<String, f64>,
    /// Failed spans by stage and status: which provider's limit binds
    /// first as the rate rises.
    pub failures: Vec<UpstreamFailure>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TracesResult {
    /// "otlp_http" (genbench's receiver) or "file".
    pub source: String,
    /// The receiver's endpoint, for the service's `OTEL_EXPORTER_OTLP_ENDPOINT`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Requests the target answered (each carried a `traceparent`).
    pub requests: u64,
    /// Of those, requests whose root span arrived.
    pub joined: u64,
    pub join_rate: Option<f64>,
    pub spans: SpanCounts,
    pub stages: BTreeMap<String, TraceStage>,
    /// The root span's own time, outside every child span.
    pub self_ms: Option<LatencySummaryMs>,
    /// genbench's service time minus the root span's duration: the network
    /// and whatever queued the request before the service's span began.
    pub outside_root_ms: Option<LatencySummaryMs>,
    pub failures: Vec<UpstreamFailure>,
    /// The slowest requests' trees, slowest first.
    pub slowest: Vec<SpanTree>,
    /// A stress run's steps, each with its stages' p95 and failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<TraceStep>,
}
