//! The leak analysis's memory series: a heap gauge the target publishes
//! (the embedded pipeline's by default), or its RSS; read beside the load
//! and fitted when the run ends.

use genbench_collectors::analysis::{self, LeakInput};
use genbench_model::{GaugeSample, GaugeSeries, RunResult, ScenarioKind};
use genbench_scenarios::{MemorySignal, Metric, PIPELINE_HEAP_GAUGE, Scenario, Series, SeriesKind};
use tokio::time::Instant;

use super::series;

/// Longest window whose floor is one point of the fit. In-flight requests
/// lift single readings; ten one-second readings hold at least one quiet
/// moment at the rates soaks run.
const MAX_WINDOW_S: f64 = 10.0;
/// Windows wanted after the warm-up before they grow to [`MAX_WINDOW_S`].
const WINDOWS_WANTED: f64 = 30.0;

/// Whether this run judges the target's memory at all.
pub fn judged(s: &Scenario) -> bool {
    s.kind == ScenarioKind::Soak || s.thresholds.iter().any(|t| t.metric == Metric::RssGrowth)
}

/// The series to fit, `Auto` resolved: the embedded pipeline publishes its
/// heap; any other target is judged on RSS unless the scenario names a
/// gauge. `None` when the run judges no memory.
pub fn signal(s: &Scenario, embedded: bool) -> Option<MemorySignal> {
    if !judged(s) {
        return None;
    }
    Some(match &s.analysis.memory {
        MemorySignal::Auto if embedded => MemorySignal::Metrics {
            url: "/metrics".into(),
            gauge: PIPELINE_HEAP_GAUGE.into(),
        },
        MemorySignal::Auto => MemorySignal::Rss,
        other => other.clone(),
    })
}

/// A gauge being read once a second: a one-series `[collect.metrics]`
/// sampling.
pub struct Gauge {
    gauge: String,
    sampling: series::Sampling,
}

fn as_series(url: &str, gauge: &str) -> Series {
    Series {
        name: gauge.to_string(),
        kind: SeriesKind::Gauge(gauge.to_string()),
        url: url.to_string(),
    }
}

impl Gauge {
    pub fn start(url: &str, gauge: &str, target_url: &str, t0: Instant) -> Option<Gauge> {
        let sampling = series::start(&[as_series(url, gauge)], target_url, t0)?;
        Some(Gauge {
            gauge: gauge.to_string(),
            sampling,
        })
    }

    /// Stops reading: the readings so far, in MiB.
    pub fn finish(self) -> GaugeSeries {
        let read = self
            .sampling
            .finish()
            .remove(&self.gauge)
            .unwrap_or_default();
        GaugeSeries {
            source: format!("metrics:{}", self.gauge),
            samples: read
                .samples
                .iter()
                .map(|p| GaugeSample {
                    t_s: p.t_s,
                    mib: p.value / (1024.0 * 1024.0),
                })
                .collect(),
        }
    }

    /// One reading now, to say at the start why a gauge will be missing.
    pub async fn probe(url: &str, gauge: &str, target_url: &str) -> anyhow::Result<()> {
        series::probe(&as_series(url, gauge), target_url)
            .await
            .map(|_| ())
    }
}

/// Each window's floor is one point: the span after the warm-up over
/// [`WINDOWS_WANTED`], in whole seconds from 1 to [`MAX_WINDOW_S`].
pub fn window_s(span_s: f64) -> f64 {
    (span_s / WINDOWS_WANTED).floor().clamp(1.0, MAX_WINDOW_S)
}

/// Seconds of the run whose readings are warm-up, left out of the fit:
/// the scenario's `warmup`, else its first 20%.
pub fn warmup_s(s: &Scenario) -> f64 {
    s.analysis
        .warmup
        .unwrap_or_else(|| s.duration().mul_f64(0.2))
        .as_secs_f64()
}

/// Fills `r.leak` from the gauge (when one was read) or the target's RSS.
pub fn fill_leak(r: &mut RunResult, s: &Scenario) {
    let warmup = warmup_s(s);
    let (series, signal): (Vec<(f64, f64)>, String) = match &r.process.memory_gauge {
        Some(g) => (
            g.samples.iter().map(|p| (p.t_s, p.mib)).collect(),
            g.source.clone(),
        ),
        None => (
            r.process.target.as_ref().map_or(Vec::new(), |p| {
                p.samples.iter().map(|p| (p.t_s, p.rss_mib)).collect()
            }),
            "rss".into(),
        ),
    };
    let span = r.duration_s - warmup;
    r.leak = analysis::leak(&LeakInput {
        series: &series,
        signal: &signal,
        warmup_s: warmup,
        tolerance_mib_per_h: s.analysis.leak_tolerance_mib_per_h,
        window_s: window_s(span),
        settle: s.analysis.warmup.is_none(),
    });
    if r.leak.is_none() {
        let hint = match (&r.process.memory_gauge, &r.process.target) {
            (Some(_), _) => " (is the gauge on the target's /metrics?)",
            (None, None) => " (pass --target-pid)",
            _ => "",
        };
        eprintln!(
            "warning: no leak verdict: too few {signal} readings of the target after the \
{warmup:.0} s warm-up{hint}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_grow_with_the_run_up_to_ten_seconds() {
        assert_eq!(window_s(19.0), 1.0);
        assert_eq!(window_s(95.0), 3.0);
        assert_eq!(window_s(480.0), 10.0);
        assert_eq!(window_s(7200.0), 10.0);
        assert_eq!(window_s(-3.0), 1.0);
    }
}
