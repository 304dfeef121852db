//! When each stage of one request started and ended (for `Server-Timing`,
//! the answer's `timings`, the stage histograms and the spans), and the
//! provider calls inside them.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use crate::error::Stage;
use crate::metrics::Metrics;

/// One provider call: its stage, the host it went to, when, how it went.
#[derive(Debug, Clone)]
pub struct Call {
    pub stage: Stage,
    pub host: String,
    pub start: Duration,
    pub end: Duration,
    pub status: Option<u16>,
}

/// The LLM call's GenAI facts.
#[derive(Debug, Clone, Default)]
pub struct LlmFacts {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Start and end of each stage, relative to the request's arrival.
#[derive(Debug, Clone)]
pub struct Timings {
    t0: Instant,
    /// The wall-clock time at `t0`, for spans.
    wall: SystemTime,
    /// Provider calls, for spans.
    calls: Vec<Call>,
    llm: Option<LlmFacts>,
    spans: Vec<(Stage, Duration, Duration)>,
    pub total: Duration,
    /// Counts finished stages for a job's progress.
    progress: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
}

impl Timings {
    pub fn new(t0: Instant) -> Self {
        Timings {
            t0,
            wall: SystemTime::now() - t0.elapsed(),
            calls: Vec::new(),
            llm: None,
            spans: Vec::with_capacity(6),
            total: Duration::ZERO,
            progress: None,
        }
    }

    /// Also counts each finished stage into `stages`.
    pub fn with_progress(mut self, stages: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Self {
        self.progress = Some(stages);
        self
    }

    pub fn record(&mut self, stage: Stage, start: Instant, metrics: &Metrics) {
        let end = Instant::now();
        metrics.stage(stage, end - start);
        self.spans.push((stage, start - self.t0, end - self.t0));
        if let Some(p) = &self.progress {
            p.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// A provider call of `stage` to `url`, from `start` to now;
    /// `status` is `None` when it failed.
    pub fn call(&mut self, stage: Stage, url: &str, start: Instant, status: Option<u16>) {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split(['/', '?'])
            .next()
            .unwrap_or("")
            .to_string();
        self.calls.push(Call {
            stage,
            host,
            start: start - self.t0,
            end: self.t0.elapsed(),
            status,
        });
    }

    /// What the LLM call used.
    pub fn set_llm(&mut self, facts: LlmFacts) {
        self.llm = Some(facts);
    }

    pub fn wall_start(&self) -> SystemTime {
        self.wall
    }

    /// Each stage: its start and end from `t0`.
    pub fn stages(&self) -> &[(Stage, Duration, Duration)] {
        &self.spans
    }

    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    pub fn llm(&self) -> Option<&LlmFacts> {
        self.llm.as_ref()
    }

    pub fn finish(&mut self) {
        self.total = self.t0.elapsed();
    }

    fn ms(d: Duration) -> f64 {
        (d.as_secs_f64() * 1e6).round() / 1e3
    }

    /// `Server-Timing` header value, durations in ms.
    pub fn server_timing(&self) -> String {
        let mut parts: Vec<String> = self
            .spans
            .iter()
            .map(|(s, a, b)| format!("{};dur={:.3}", s.name(), Self::ms(*b - *a)))
            .collect();
        parts.push(format!("total;dur={:.3}", Self::ms(self.total)));
        parts.join(", ")
    }

    pub fn json(&self) -> (Value, Value) {
        let mut t = serde_json::Map::new();
        for (s, a, b) in &self.spans {
            t.insert(format!("{}_ms", s.name()), json!(Self::ms(*b - *a)));
        }
        t.insert("total_ms".into(), json!(Self::ms(self.total)));
        let trace: Vec<Value> = self
            .spans
            .iter()
            .map(|(s, a, b)| json!({"stage": s.name(), "start_ms": Self::ms(*a), "end_ms": Self::ms(*b)}))
            .collect();
        (Value::Object(t), Value::Array(trace))
    }
}
