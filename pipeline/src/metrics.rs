//! Prometheus metrics of the pipeline: requests, per-stage latency
//! histograms, cache hits and misses, tokens, cost, retries, in-flight.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let g = self.lock();
        let mut o = String::new();
        let p = "genbench_pipeline";
        let _ = writeln!(
            o,
            "# HELP {p}_requests_total HTTP requests by endpoint and status\n# TYPE {p}_requests_total counter"
        );
        for ((ep, status), n) in &g.requests {
            let _ = writeln!(
                o,
                "{p}_requests_total{{endpoint=\"{ep}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            o,
            "# HELP {p}_stage_seconds time per pipeline stage\n# TYPE {p}_stage_seconds histogram"
        );
        for (stage, h) in &g.stages {
            let mut cum = 0;
            for (b, c) in BUCKETS_S.iter().zip(h.counts) {
                cum += c;
                let _ = writeln!(
                    o,
                    "{p}_stage_seconds_bucket{{stage=\"{stage}\",le=\"{b}\"}} {cum}"
                );
            }
            let _ = writeln!(
                o,
                "{p}_stage_seconds_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(o, "{p}_stage_seconds_sum{{stage=\"{stage}\"}} {}", h.sum_s);
            let _ = writeln!(
                o,
                "{p}_stage_seconds_count{{stage=\"{stage}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            o,
            "# HELP {p}_provider_retries_total provider calls retried\n# TYPE {p}_provider_retries_total counter"
        );
        for (stage, n) in &g.retries {
            let _ = writeln!(o, "{p}_provider_retries_total{{stage=\"{stage}\"}} {n}");
        }
        let scalars: [(&str, &str, &str, String); 8] = [
            (
                "cache_coalesced_total",
                "counter",
                "cache misses served by a concurrent request's article (counted in hits)",
                g.cache_coalesced.to_string(),
            ),
            (
                "cache_hits_total",
                "counter",
                "article cache hits",
                g.cache_hits.to_string(),
            ),
            (
                "cache_misses_total",
                "counter",
                "article cache misses",
                g.cache_misses.to_string(),
            ),
            (
                "prompt_tokens_total",
                "counter",
                "LLM prompt tokens",
                g.tokens.prompt_tokens.to_string(),
            ),
            (
                "completion_tokens_total",
                "counter",
                "LLM completion tokens",
                g.tokens.completion_tokens.to_string(),
            ),
            (
                "cached_prompt_tokens_total",
                "counter",
                "LLM prompt tokens served from cache",
                g.tokens.cached_prompt_tokens.to_string(),
            ),
            (
                "cost_usd_total",
                "counter",
                "LLM and search cost in US dollars",
                g.cost_usd.to_string(),
            ),
            (
                "in_flight",
                "gauge",
                "requests being served",
                self.in_flight.load(Ordering::Relaxed).to_string(),
            ),
        ];
        for (name, kind, help, v) in scalars {
            let _ = writeln!(
                o,
                "# HELP {p}_{name} {help}\n# TYPE {p}_{name} {kind}\n{p}_{name} {v}"
            );
        }
        if let Some(bytes) = heap_in_use_bytes() {
            let _ = writeln!(
                o,
                "# HELP {p}_heap_bytes heap bytes allocated and not freed (malloc's own count)\n# TYPE {p}_heap_bytes gauge\n{p}_heap_bytes {bytes}"
            );
        }
        o
    }
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
        let t = m.render();
        assert!(
            t.contains("genbench_pipeline_stage_seconds_bucket{stage=\"search\",le=\"0.005\"} 1"),
            "{t}"
        );
        assert!(
            t.contains("genbench_pipeline_stage_seconds_bucket{stage=\"search\",le=\"0.5\"} 2"),
            "{t}"
        );
        assert!(t.contains("genbench_pipeline_stage_seconds_count{stage=\"search\"} 2"));
    }
}
