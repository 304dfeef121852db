//! One probe judged as its seconds arrive: over-saturation (open model) may
//! end it early; at its end, the scenario's objectives over everything its
//! requests recorded decide pass or fail.

use genbench_collectors::Recorder;
use genbench_collectors::analysis::saturation::{self, ProbeSecond};
use genbench_collectors::summary::latency_ms;
use genbench_model::{Oversaturation, Probe, ProbeKind, TimelinePoint};
use genbench_scenarios::Threshold;

use crate::collect::analyze;

/// A probe's seconds so far.
pub struct ProbeJudge {
    load: f64,
    kind: ProbeKind,
    /// Run seconds the load starts at, and how long it is held.
    start_s: u64,
    window_s: f64,
    /// Whether a growing queue can end it (the open model's; the closed
    /// model's users cannot outnumber themselves).
    watch_queue: bool,
    seconds: Vec<ProbeSecond>,
    rec: Recorder,
    oversaturated: Option<Oversaturation>,
}

impl ProbeJudge {
    pub fn new(load: f64, kind: ProbeKind, start_s: u64, window_s: f64, watch_queue: bool) -> Self {
        ProbeJudge {
            load,
            kind,
            start_s,
            window_s,
            watch_queue,
            seconds: Vec::new(),
            rec: Recorder::default(),
            oversaturated: None,
        }
    }

    /// Adds the probe's `k`-th second; true when the probe should stop now.
    pub fn second(&mut self, k: u64, p: &TimelinePoint, rec: &Recorder) -> bool {
        self.rec.merge(rec);
        if (k as f64) >= self.window_s || self.oversaturated.is_some() {
            // What finishes after the window still counts, but no longer
            // tells whether the queue grows.
            return false;
        }
        self.seconds.push(ProbeSecond {
            offered: self.load,
            in_flight: p.in_flight as f64,
            p50_ms: p.p50_ms,
        });
        if !self.watch_queue {
            return false;
        }
        match saturation::oversaturated(&self.seconds) {
            Some(s) => {
                self.oversaturated = Some(Oversaturation {
                    after_s: self.seconds.len() as f64,
                    queue_growth_per_s: s.queue_growth_per_s,
                    latency_growth_ms_per_s: s.latency_growth_ms_per_s,
                });
                true
            }
            None => false,
        }
    }

    /// The token usage its responses reported, and its successful
    /// requests: what its cost is priced from and divided by.
    pub fn spend(&self) -> (genbench_collectors::cost::UsageTally, u64) {
        (self.rec.usage.clone(), self.rec.ok)
    }

    /// The verdict and what the probe measured. `held_s`: how long the
    /// load was held (the window, or less when stopped early).
    pub fn finish(self, slo: &[Threshold], held_s: f64) -> Probe {
        let (achieved_rps, error_rate) = analyze::achieved(&self.rec, held_s);
        let mut failed = if self.rec.total() == 0 {
            vec!["no request ended".to_string()]
        } else {
            analyze::broken(slo, &self.rec, achieved_rps, error_rate)
        };
        if self.oversaturated.is_some() {
            failed.push("over-saturated: requests in flight kept rising".into());
        }
        let l = latency_ms(&self.rec.latency_us);
        Probe {
            load: self.load,
            kind: Some(self.kind),
            start_s: self.start_s as f64,
            end_s: self.start_s as f64 + held_s,
            passed: failed.is_empty(),
            failed,
            oversaturated: self.oversaturated,
            requests: self.rec.total(),
            achieved_rps,
            p50_ms: l.map(|l| l.p50),
            p95_ms: l.map(|l| l.p95),
            p99_ms: l.map(|l| l.p99),
            error_rate,
            stages_p95_ms: self
                .rec
                .stages
                .summary()
                .into_iter()
                .map(|(n, s)| (n, s.p95))
                .collect(),
            ..Default::default()
        }
    }
}
