//! `[collect.traces]` during a run: the receiver (or, after the load, the
//! Collector's file), the wait for late batches, and the `traces` section
//! with the stages and token usage the spans give.

mod attrs;
mod names;
pub mod otlp;
pub mod receiver;

use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use genbench_collectors::Recorder;
use genbench_collectors::traces::GenAiUsage;
use genbench_collectors::traces::SpanCollector;
use genbench_collectors::traces::ids::run_nonce;
use genbench_model::{ErrorKind, StageSource, StageSummaryMs, TracesResult};
use genbench_scenarios::SpanSource;

pub use names::Namer;
use receiver::Shared;

use super::AbortOnDrop;

/// Spans being collected for a run.
pub struct Traces {
    shared: Arc<Shared>,
    source: SpanSource,
    endpoint: Option<String>,
    drain: Duration,
    _server: Option<AbortOnDrop<()>>,
}

impl Traces {
    /// The scenario's spans, if it collects any, under a new run nonce.
    pub async fn for_scenario(s: &genbench_scenarios::Scenario) -> anyhow::Result<Option<Traces>> {
        match &s.collect.traces {
            Some(t) => Ok(Some(Traces::start(t, run_nonce()).await?)),
            None => Ok(None),
        }
    }

    /// The run nonce in the trace ids of the requests.
    pub fn run(&self) -> u64 {
        self.collector().run()
    }

    /// The receiver's URL (an OTLP endpoint: the service appends
    /// `/v1/traces`), when spans come to genbench.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// Starts the receiver (if the spans come to genbench) for run `run`'s
    /// trace ids, and says where the service should send them.
    pub async fn start(t: &genbench_scenarios::Traces, run: u64) -> anyhow::Result<Traces> {
        let shared = Arc::new(Shared {
            collector: Mutex::new(SpanCollector::new(run, t.slowest)),
            namer: Namer::new(&t.stages),
        });
        let (endpoint, server) = match &t.source {
            SpanSource::Listen(addr) => {
                let (local, task) = receiver::serve(addr, shared.clone()).await?;
                let url = format!("http://{local}");
                eprintln!(
                    "spans: receiving OTLP/HTTP at {url}/v1/traces; start the service with OTEL_EXPORTER_OTLP_ENDPOINT={url}"
                );
                if let Some(w) =
                    crate::cmd::exposure::warning("the span receiver", local, "POST /v1/traces")
                {
                    eprintln!("{w}");
                }
                (Some(url), Some(AbortOnDrop(task)))
            }
            SpanSource::File(_) | SpanSource::None => (None, None),
        };
        Ok(Traces {
            shared,
            source: t.source.clone(),
            endpoint,
            drain: t.drain,
            _server: server,
        })
    }

    /// The run's analysis windows (a stress run's steps), from the load's
    /// start now: spans are counted into the one they end in.
    pub fn set_steps(&self, steps: &[(f64, f64, Option<f64>)]) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.collector().set_steps(now, steps);
    }

    /// One second of traced requests, for the join to their root spans.
    pub fn requests(&self, batch: &[(u64, u32)]) {
        if !batch.is_empty() {
            self.collector().requests(batch);
        }
    }

    /// The trace ids of requests genbench abandoned.
    pub fn abandoned(&self, traces: &[u128]) {
        if !traces.is_empty() {
            self.collector().abandoned(traces);
        }
    }

    fn collector(&self) -> std::sync::MutexGuard<'_, SpanCollector> {
        self.shared
            .collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for late spans (up to the drain, less once every answered
    /// request's root span is in; none when `stopped`), reads the file
    /// source, and returns the section and the GenAI spans' token usage;
    /// `None` when requests only carried a trace context.
    pub async fn finish(
        self,
        total: &Recorder,
        stopped: bool,
    ) -> Option<(TracesResult, GenAiUsage)> {
        let answered = answered(total);
        let source = match &self.source {
            SpanSource::None => return None,
            SpanSource::Listen(_) => "otlp_http",
            SpanSource::File(path) => {
                if !stopped {
                    tokio::time::sleep(self.drain).await;
                }
                self.read_file(path);
                "file"
            }
        };
        if matches!(self.source, SpanSource::Listen(_)) && !stopped {
            let until = tokio::time::Instant::now() + self.drain;
            while self.collector().roots() < answered && tokio::time::Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // The receiver's task may still hold the state a moment after it
        // is stopped: take the collector out rather than wait for it.
        let c = {
            let mut guard = self.collector();
            let run = guard.run();
            std::mem::replace(&mut *guard, SpanCollector::new(run, 0))
        };
        Some(c.finish(answered, source, self.endpoint.clone()))
    }

    /// An OpenTelemetry Collector file exporter's output: one OTLP JSON
    /// export request per line.
    fn read_file(&self, path: &str) {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("warning: no spans: cannot read [collect.traces] file {path}: {e}");
                return;
            }
        };
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        let mut bad = 0usize;
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = match line {
                Ok(l) if l.trim().is_empty() => continue,
                Ok(l) => l,
                Err(e) => {
                    eprintln!("warning: {path}: reading stopped at line {}: {e}", n + 1);
                    break;
                }
            };
            if line.len() > otlp::MAX_DECODED_BYTES {
                bad += 1;
                continue;
            }
            if let Err(e) = receiver::ingest(&self.shared, &headers, line.as_bytes()) {
                if bad == 0 {
                    eprintln!(
                        "warning: {path}:{}: {e} (later bad lines are counted)",
                        n + 1
                    );
                }
                bad += 1;
            }
        }
    }
}

/// Requests the target answered, each of which its service span covers.
fn answered(total: &Recorder) -> u64 {
    let http = [
        ErrorKind::RateLimited,
        ErrorKind::Client4xx,
        ErrorKind::Server5xx,
        ErrorKind::Check,
    ];
    total.ok
        + ErrorKind::ALL
            .iter()
            .zip(&total.errors)
            .filter(|(k, _)| http.contains(k))
            .map(|(_, n)| n)
            .sum::<u64>()
}

/// The spans' stages as `stages` entries (source "traces"), beside any
/// the responses' `Server-Timing` gave.
pub fn stages(t: &TracesResult) -> impl Iterator<Item = (String, StageSummaryMs)> + '_ {
    t.stages.iter().map(|(name, s)| {
        let d = &s.duration_ms;
        let summary = StageSummaryMs {
            mean: d.mean,
            p50: d.p50,
            p95: d.p95,
            p99: d.p99,
            count: s.count,
            source: Some(StageSource::Traces),
        };
        (name.clone(), summary)
    })
}
