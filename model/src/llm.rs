//! What a run against an LLM endpoint measured, as GuideLLM and AIPerf
//! define it, and goodput against per-request objectives. Every time counts
//! from the request's scheduled instant, like `latency_ms`.

use serde::{Deserialize, Serialize};

use crate::LatencySummaryMs;

/// Metrics of OpenAI-style streamed completions (`text/event-stream` whose
/// events carry `choices`); null when no response was one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmMetrics {
    /// Successful streamed responses measured here.
    pub streams: u64,
    /// Time to the first event that carries content (`delta.content`,
    /// `delta.reasoning_content` or `text` non-empty), not the first byte,
    /// which may be a role-only event.
    pub ttft_ms: Option<LatencySummaryMs>,
    /// Time per output token after the first: (latency − TTFT) / (output
    /// tokens − 1), per request with at least two tokens.
    pub tpot_ms: Option<LatencySummaryMs>,
    /// Inter-token latency: the gap between consecutive content events.
    /// Events that arrive in one read share a time, and read 0.001 ms.
    pub itl_ms: Option<LatencySummaryMs>,
    /// Output tokens of all streams.
    pub output_tokens: u64,
    /// Output tokens per request.
    pub output_tokens_per_request: Option<ValueSummary>,
    /// Streams whose token count came from their `usage`; the rest were
    /// counted from their content with the model's tokenizer.
    pub tokens_from_usage: u64,
    pub tokens_counted: u64,
    /// Output tokens over the load window (the same window as
    /// `throughput_rps`).
    pub output_tps: f64,
    /// Output tokens / latency, per request.
    pub output_tps_per_request: Option<ValueSummary>,
}

/// A distribution of a unitless quantity or a rate (the unit is in the
/// field that holds it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueSummary {
    pub min: f64,
    pub mean: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Per-request service-level objectives (`[slo]`): a request meets them
/// when it succeeded and every limit given holds (strictly below).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Objectives {
    pub latency_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
}

impl Objectives {
    pub fn is_empty(&self) -> bool {
        self.latency_ms.is_none()
            && self.ttfb_ms.is_none()
            && self.ttft_ms.is_none()
            && self.tpot_ms.is_none()
    }
}

/// The requests that met every objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Goodput {
    pub objectives: Objectives,
    pub met: u64,
    /// `met` / all requests (failed ones never meet), 0 to 1.
    pub share: f64,
    /// `met` over the load window, per second.
    pub rps: f64,
}
