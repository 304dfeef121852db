//! Prometheus metrics of the pipeline: requests, per-stage latency
//! histograms, cache hits and misses, tokens, cost, retries, in-flight.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use crate::error::Stage;
use crate::types::Usage;

/// Histogram bucket upper bounds in seconds: 1 ms to 60 s.
const BUCKETS_S: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

impl Histogram {
    fn observe(&mut self, s: f64) {
        if let Some(i) = BUCKETS_S.iter().position(|b| s <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum_s += s;
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    stages: BTreeMap<&'static str, Histogram>,
    retries: BTreeMap<&'static str, u64>,
    cache_hits: u64,
    cache_misses: u64,
    cache_coalesced: u64,
    tokens: Usage,
    cost_usd: f64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    in_flight: AtomicI64,
}

/// Decrements the in-flight gauge when the request ends, however it ends.
pub struct InFlight(Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    pub fn request(&self, endpoint: &'static str, status: u16) {
        *self.lock().requests.entry((endpoint, status)).or_default() += 1;
    }

    pub fn stage(&self, stage: Stage, d: Duration) {
        self.lock()
            .stages
            .entry(stage.name())
            .or_default()
            .observe(d.as_secs_f64());
    }

    pub fn total(&self, d: Duration) {
        self.lock()
            .stages
            .entry("total")
            .or_default()
            .observe(d.as_secs_f64());
    }

    pub fn retry(&self, stage: Stage) {
        *self.lock().retries.entry(stage.name()).or_default() += 1;
    }

    pub fn cache(&self, hit: bool) {
        let mut g = self.lock();
        if hit {
            g.cache_hits += 1;
        } else {
            g.cache_misses += 1;
        }
    }

    /// A miss that waited for another request's article (counted as a hit).
    pub fn coalesced(&self) {
        self.lock().cache_coalesced += 1;
    }

    pub fn spent(&self, usage: Usage, cost_usd: f64) {
        let mut g = self.lock();
        g.tokens.prompt_tokens += usage.prompt_tokens;
        g.tokens.completion_tokens += usage.completion_tokens;
        g.tokens.cached_prompt_tokens += usage.cached_prompt_tokens;
        g.cost_usd += cost_usd;
    }
}

type NoLabels = prometheus_client::encoding::NoLabelSet;

fn counter<V: prometheus_client::encoding::EncodeCounterValue>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    v: V,
) -> fmt::Result {
    enc.encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabels, _, u64>(&v, None)
}

/// The pipeline's series, encoded by `prometheus-client` at each scrape
/// (the router registers it with the job pool's and the cache's gauges
/// under the `genbench_pipeline` prefix).
impl Collector for Metrics {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let g = self.lock();
        labelled(&g, &mut enc)?;
        totals(&g, &mut enc)?;
        enc.encode_descriptor(
            "in_flight",
            "requests being served",
            None,
            MetricType::Gauge,
        )?
        .encode_gauge(&self.in_flight.load(Ordering::Relaxed))?;
        if let Some(bytes) = heap_in_use_bytes() {
            let help = "heap bytes allocated and not freed (malloc's own count)";
            enc.encode_descriptor("heap_bytes", help, None, MetricType::Gauge)?
                .encode_gauge(&bytes)?;
        }
        Ok(())
    }
}

/// The series with labels: requests by endpoint and status, the stage
/// histograms, retries by stage.
fn labelled(g: &Inner, enc: &mut DescriptorEncoder) -> fmt::Result {
    let mut m = enc.encode_descriptor(
        "requests",
        "HTTP requests by endpoint and status",
        None,
        MetricType::Counter,
    )?;
    for ((ep, status), n) in &g.requests {
        let status = status.to_string();
        m.encode_family(&[("endpoint", *ep), ("status", status.as_str())])?
            .encode_counter::<NoLabels, _, u64>(n, None)?;
    }
    let mut m = enc.encode_descriptor(
        "stage",
        "time per pipeline stage",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    for (stage, h) in &g.stages {
        let buckets: Vec<(f64, u64)> = BUCKETS_S.iter().copied().zip(h.counts).collect();
        m.encode_family(&[("stage", *stage)])?
            .encode_histogram::<NoLabels>(h.sum_s, h.count, &buckets, None)?;
    }
    let mut m = enc.encode_descriptor(
        "provider_retries",
        "provider calls retried",
        None,
        MetricType::Counter,
    )?;
    for (stage, n) in &g.retries {
        m.encode_family(&[("stage", *stage)])?
            .encode_counter::<NoLabels, _, u64>(n, None)?;
    }
    Ok(())
}

/// The run-long counters: the cache's, the tokens', the dollars.
fn totals(g: &Inner, enc: &mut DescriptorEncoder) -> fmt::Result {
    let t = &g.tokens;
    let counts = [
        (
            "cache_coalesced",
            "cache misses served by a concurrent request's article (counted in hits)",
            g.cache_coalesced,
        ),
        ("cache_hits", "article cache hits", g.cache_hits),
        ("cache_misses", "article cache misses", g.cache_misses),
        ("prompt_tokens", "LLM prompt tokens", t.prompt_tokens),
        (
            "completion_tokens",
            "LLM completion tokens",
            t.completion_tokens,
        ),
        (
            "cached_prompt_tokens",
            "LLM prompt tokens served from cache",
            t.cached_prompt_tokens,
        ),
    ];
    for (name, help, v) in counts {
        counter(enc, name, help, v)?;
    }
    counter(
        enc,
        "cost_usd",
        "LLM and search cost in US dollars",
        g.cost_usd,
    )
}

/// Gauges read at the scrape: (name, help, value).
#[derive(Debug)]
pub struct Gauges(pub Vec<(&'static str, &'static str, u64)>);

impl Collector for Gauges {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        for (name, help, v) in &self.0 {
            enc.encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(v)?;
        }
        Ok(())
    }
}

/// Prometheus text (version 0.0.4) of `collectors` under `prefix`.
pub fn exposition(prefix: &str, collectors: Vec<Box<dyn Collector>>) -> String {
    let mut registry = prometheus_client::registry::Registry::with_prefix(prefix);
    for c in collectors {
        registry.register_collector(c);
    }
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

/// Bytes the allocator has handed out and not had back, over every arena
/// (glibc's `mallinfo2`). Unlike RSS it moves by exactly what is kept: a
/// small leak fills freed holes in the heap for minutes before RSS shows
/// it, and the leak analysis needs it the moment it happens.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn heap_in_use_bytes() -> Option<u64> {
    // SAFETY: mallinfo2 takes no arguments and only reads malloc's state
    // under its own locks.
    let m = unsafe { libc::mallinfo2() };
    Some((m.uordblks + m.hblkhd) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap_in_use_bytes() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.stage(Stage::Search, Duration::from_millis(3));
        m.stage(Stage::Search, Duration::from_millis(300));
        m.request("generate-article", 200);
        let t = exposition("genbench_pipeline", vec![Box::new(m)]);
        assert!(
            t.contains("genbench_pipeline_stage_seconds_bucket{stage=\"search\",le=\"0.005\"} 1"),
            "{t}"
        );
        assert!(
            t.contains("genbench_pipeline_stage_seconds_bucket{stage=\"search\",le=\"0.5\"} 2"),
            "{t}"
        );
        assert!(t.contains("genbench_pipeline_stage_seconds_count{stage=\"search\"} 2"));
        assert!(t.contains(
            "genbench_pipeline_requests_total{endpoint=\"generate-article\",status=\"200\"} 1"
        ));
        assert!(
            t.contains("# TYPE genbench_pipeline_in_flight gauge\ngenbench_pipeline_in_flight 0\n")
        );
    }
}
