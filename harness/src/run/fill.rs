//! The run-level sections of the result, from the merged recording.

use std::time::Duration;

use genbench_collectors::summary::{encode_histogram, errors, latency_ms};
use genbench_model::{RequestCounts, RunResult};
use genbench_scenarios::Checks;

use crate::engine::aggregate::Aggregator;

/// Requests per second over the load window: the planned stages, or less if
/// the run was stopped early. The drain after the last send is not load.
pub fn throughput(requests: u64, elapsed: Duration, planned: Duration) -> f64 {
    let window = elapsed.min(planned).as_secs_f64();
    if window > 0.0 {
        requests as f64 / window
    } else {
        0.0
    }
}

pub fn fill(r: &mut RunResult, agg: &Aggregator, duration: Duration, planned: Duration) {
    let t = &agg.total;
    r.duration_s = duration.as_secs_f64();
    r.requests = RequestCounts {
        total: t.total(),
        ok: t.ok,
        failed: t.failed(),
    };
    r.throughput_rps = throughput(t.total(), duration, planned);
    r.latency_ms = latency_ms(&t.latency_us);
    r.ttfb_ms = latency_ms(&t.ttfb_us);
    r.chunk_gap_ms = latency_ms(&t.chunk_gap_us);
    r.errors = errors(t);
    r.timeline = agg.timeline.clone();
    r.histograms.latency_us = encode_histogram(&t.latency_us);
    r.histograms.ttfb_us = encode_histogram(&t.ttfb_us);
    r.histograms.chunk_gap_us = encode_histogram(&t.chunk_gap_us);
}

/// Failures of each response check, by name (the status check is named
/// `status`); only checks that failed at least once are listed.
pub fn checks(r: &mut RunResult, agg: &Aggregator, checks: &Checks) {
    let names = checks.names();
    r.errors.by_check = agg
        .total
        .check_failed
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| {
            (
                names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("check {i}")),
                *n,
            )
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_counts_the_load_window_not_the_drain() {
        let (sixty, sixty_four) = (Duration::from_secs(60), Duration::from_secs(64));
        assert_eq!(throughput(120, sixty_four, sixty), 2.0);
        // Interrupted after 10 s of a 60 s plan.
        assert_eq!(throughput(20, Duration::from_secs(10), sixty), 2.0);
        assert_eq!(throughput(5, Duration::ZERO, sixty), 0.0);
    }
}
