//! The run-level sections of the result, from the merged recording.

use std::time::Duration;

use genbench_collectors::summary::{encode_histogram, errors, latency_ms};
use genbench_model::{Goodput, Objectives, RequestCounts, RunResult};
use genbench_scenarios::Checks;

use crate::engine::aggregate::Aggregator;

/// Requests per second over the load window: the planned stages, or less if
/// the run was stopped early. The drain after the last send is not load.
pub fn throughput(requests: u64, elapsed: Duration, planned: Duration) -> f64 {
    let window = window_s(elapsed, planned);
    if window > 0.0 {
        requests as f64 / window
    } else {
        0.0
    }
}

/// The load the scenario plans: its stages' length, or for a capacity
/// search (whose probes decide its length as it goes) no limit, so the
/// load window is the run as it went.
pub fn planned(s: &genbench_scenarios::Scenario) -> Duration {
    if s.search.is_some() {
        Duration::MAX
    } else {
        s.duration()
    }
}

/// The load window's length in seconds, as [`throughput`] counts it.
fn window_s(elapsed: Duration, planned: Duration) -> f64 {
    elapsed.min(planned).as_secs_f64()
}

/// What the run measured, from the merged recording. `open`: the open
/// model, whose sends can lag their schedule.
pub fn fill(
    r: &mut RunResult,
    agg: &Aggregator,
    duration: Duration,
    planned: Duration,
    open: bool,
) {
    summaries(r, agg, duration, planned, open);
    let t = &agg.total;
    r.timeline = agg.timeline.clone();
    if let Some((rps, window)) =
        genbench_collectors::steady::steady(&r.timeline, planned.as_secs_f64())
    {
        (r.steady_rps, r.steady_window_s) = (Some(rps), Some(window));
    }
    r.outages = genbench_collectors::outages::outages(&r.timeline);
    r.points = t.points();
    r.histograms.latency_us = encode_histogram(&t.latency_us);
    r.histograms.ttfb_us = encode_histogram(&t.ttfb_us);
    r.histograms.chunk_gap_us = encode_histogram(&t.chunk_gap_us);
    r.histograms.ttft_us = encode_histogram(&t.llm.ttft_us);
    r.histograms.tpot_us = encode_histogram(&t.llm.tpot_us);
    r.histograms.itl_us = encode_histogram(&t.llm.itl_us);
}

/// The request-level figures (counts, rates, percentiles, errors), cheap
/// enough to take each second of a run for its `[abort]` thresholds.
pub fn summaries(
    r: &mut RunResult,
    agg: &Aggregator,
    duration: Duration,
    planned: Duration,
    open: bool,
) {
    let t = &agg.total;
    r.duration_s = duration.as_secs_f64();
    r.requests = RequestCounts {
        total: t.total(),
        ok: t.ok,
        failed: t.failed(),
        abandoned: t.abandoned.total(),
        abandoned_unanswered: t.abandoned.unanswered,
        abandoned_cancelled: t.abandoned.cancelled,
    };
    r.throughput_rps = throughput(t.total(), duration, planned);
    r.completions_rps = Some(if duration.is_zero() {
        0.0
    } else {
        t.ok as f64 / duration.as_secs_f64()
    });
    r.send_lag_ms = if open {
        latency_ms(&t.send_lag_us)
    } else {
        None
    };
    r.llm = t.llm.metrics(window_s(duration, planned));
    r.latency_ms = latency_ms(&t.latency_us);
    r.ttfb_ms = latency_ms(&t.ttfb_us);
    r.chunk_gap_ms = latency_ms(&t.chunk_gap_us);
    r.errors = errors(t);
}

/// A flow scenario's `flows` section: `names` of its steps, its shortest
/// poll interval; flows in flight when the run ended count as unfinished.
pub fn flows(
    r: &mut RunResult,
    agg: &Aggregator,
    names: &[String],
    poll_interval: Option<Duration>,
    duration: Duration,
) {
    let unfinished = agg.timeline.last().map_or(0, |p| p.in_flight);
    let empty = genbench_collectors::flows::FlowStats::new(names.len());
    let f = agg.total.flows.as_deref().unwrap_or(&empty);
    r.flows = Some(f.result(names, duration, unfinished, poll_interval));
    f.encode(names, &mut r.histograms);
}

/// The requests that met every objective, when the scenario has any.
pub fn goodput(
    r: &mut RunResult,
    agg: &Aggregator,
    objectives: &Objectives,
    duration: Duration,
    planned: Duration,
) {
    if objectives.is_empty() {
        return;
    }
    let (met, total) = (agg.total.goodput_met, agg.total.total());
    r.goodput = Some(Goodput {
        objectives: *objectives,
        met,
        share: if total == 0 {
            0.0
        } else {
            met as f64 / total as f64
        },
        rps: throughput(met, duration, planned),
    });
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
