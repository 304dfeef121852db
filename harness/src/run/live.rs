//! The run's live outputs, fed once a second from the aggregator: the
//! snapshot behind `--metrics-listen` and `--otlp-metrics`, and for
//! `--dashboard` the run so far as a `RunResult` rendered by the report's
//! own code.

use std::time::Duration;

use genbench_model::{RunResult, RunStatus, TimelinePoint};
use genbench_scenarios::{Load, Stage};

use super::{RunConfig, evaluate, fill};
use crate::collect::Collecting;
use crate::engine::aggregate::Aggregator;
use crate::live::Snapshot;
use crate::live::dashboard::{Ended, Frame};
use crate::live::outputs::Outputs;

pub struct Live {
    pub outputs: Outputs,
    /// The result's parts known before the load: scenario, target, start.
    pub base: RunResult,
    /// A flow scenario's step names and shortest poll interval.
    pub flow_names: Option<(Vec<String>, Option<Duration>)>,
}

impl Live {
    /// One second more of the run.
    pub fn second(&self, cfg: &RunConfig, agg: &Aggregator, p: &TimelinePoint, c: &Collecting) {
        if !self.outputs.wants_frames() {
            let cost = c.live_cost(&agg.total).map(|c| c.total_usd);
            self.outputs
                .publish(Snapshot::new(&agg.total, p).with_cost(cost));
        } else {
            // The result so far has priced the cost already.
            let r = self.so_far(cfg, agg, p, c);
            let cost = r.cost.as_ref().map(|c| c.total_usd);
            self.outputs
                .publish(Snapshot::new(&agg.total, p).with_cost(cost));
            let unit = unit(&cfg.scenario.load);
            self.outputs.frame(Frame {
                body: genbench_reports::report_sections_html(&r, true),
                phase: phase(cfg.scenario.load.stages(), p.t_s, unit),
                last: last_second(p, unit),
                ended: None,
            });
        }
    }

    /// The run has ended with `status`: the last snapshot (pushed, and
    /// waited for) and the dashboard's last frame.
    pub async fn finish(
        self,
        cfg: &RunConfig,
        agg: &Aggregator,
        c: &Collecting,
        status: RunStatus,
    ) {
        let Some(last) = agg.timeline.last() else {
            return;
        };
        let cost = c.live_cost(&agg.total).map(|c| c.total_usd);
        let snap = Snapshot::new(&agg.total, last).with_cost(cost);
        let frame = self.outputs.has_dashboard().then(|| {
            let mut r = self.so_far(cfg, agg, last, c);
            r.status = status;
            let report = std::path::absolute(cfg.out_dir.join("report.html"))
                .unwrap_or_else(|_| cfg.out_dir.join("report.html"));
            Frame {
                body: genbench_reports::report_sections_html(&r, false),
                phase: String::new(),
                last: String::new(),
                ended: Some(Ended {
                    status: genbench_reports::fmt::enum_name(&status),
                    report: format!("file://{}", report.display()),
                }),
            }
        });
        self.outputs.finish(snap, frame).await;
    }

    /// The run so far as a result: what `run` fills at the end from the
    /// same aggregator, less what needs the target (its ledger, counters,
    /// profile) or the whole run (the analyses).
    fn so_far(
        &self,
        cfg: &RunConfig,
        agg: &Aggregator,
        p: &TimelinePoint,
        c: &Collecting,
    ) -> RunResult {
        let s = &cfg.scenario;
        let elapsed = Duration::from_secs_f64(p.t_s);
        let open = s.load.is_open();
        let mut r = self.base.clone();
        fill::fill(&mut r, agg, elapsed, fill::planned(s), open);
        fill::goodput(&mut r, agg, &s.objectives, elapsed, fill::planned(s));
        fill::checks(&mut r, agg, &s.request.checks);
        if let Some((names, poll)) = &self.flow_names {
            fill::flows(&mut r, agg, names, *poll, elapsed);
        }
        c.so_far(&mut r, &agg.total);
        r.thresholds = evaluate(&s.thresholds, &r, s.analysis.inconclusive);
        r
    }
}

/// What a stage's target counts.
fn unit(load: &Load) -> &'static str {
    match load {
        Load::Open { .. } | Load::Replay { .. } => "req/s",
        Load::Closed { .. } => "users",
    }
}

/// Where the load is `t_s` seconds in: its stage, and whether it ramps or
/// holds there (a stress step, a spike's jump, a soak's plateau).
fn phase(stages: &[Stage], t_s: f64, unit: &str) -> String {
    let (mut start, mut from) = (0.0, 0.0);
    for (i, s) in stages.iter().enumerate() {
        let end = start + s.duration.as_secs_f64();
        if t_s < end || i + 1 == stages.len() {
            let n = stages.len();
            let fmt = |v: f64| format!("{v:.0} {unit}");
            return if (s.target - from).abs() < f64::EPSILON || s.duration.as_millis() <= 1 {
                format!("stage {} of {n}: holding {}", i + 1, fmt(s.target))
            } else {
                format!(
                    "stage {} of {n}: ramping {} to {}",
                    i + 1,
                    fmt(from),
                    fmt(s.target)
                )
            };
        }
        (start, from) = (end, s.target);
    }
    String::new()
}

/// The last second: its rate against the target, its percentiles, errors
/// and what was in flight at its end.
fn last_second(p: &TimelinePoint, unit: &str) -> String {
    let ms = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.1} ms"));
    let target = match (p.target_rate, unit) {
        (Some(t), "req/s") => format!(" of {t:.0} asked"),
        (Some(t), _) => format!(" from {t:.0} {unit}"),
        (None, _) => String::new(),
    };
    format!(
        "last second: {:.0} req/s{target}, p50 {}, p95 {}, p99 {}, {} errors, {} in flight",
        p.rps,
        ms(p.p50_ms),
        ms(p.p95_ms),
        ms(p.p99_ms),
        p.errors,
        p.in_flight
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(spec: &[(u64, f64)]) -> Vec<Stage> {
        spec.iter()
            .map(|&(s, target)| Stage {
                duration: Duration::from_secs(s),
                target,
            })
            .collect()
    }

    #[test]
    fn the_phase_names_the_stage_and_whether_it_ramps() {
        // A spike: 10 req/s, a jump to 100 held for 20 s, back to 10.
        let s = stages(&[(30, 10.0), (5, 100.0), (20, 100.0), (5, 10.0)]);
        assert_eq!(
            phase(&s, 3.0, "req/s"),
            "stage 1 of 4: ramping 0 req/s to 10 req/s"
        );
        assert_eq!(
            phase(&s, 32.0, "req/s"),
            "stage 2 of 4: ramping 10 req/s to 100 req/s"
        );
        assert_eq!(phase(&s, 40.0, "req/s"), "stage 3 of 4: holding 100 req/s");
        // Past the end (the drain): the last stage.
        assert_eq!(
            phase(&s, 99.0, "users"),
            "stage 4 of 4: ramping 100 users to 10 users"
        );
        assert_eq!(phase(&[], 1.0, "users"), "");
    }

    #[test]
    fn the_last_second_reads_as_a_sentence() {
        let p = TimelinePoint {
            t_s: 5.0,
            target_rate: Some(20.0),
            rps: 19.0,
            p50_ms: Some(2.04),
            p95_ms: None,
            errors: 1,
            in_flight: 3,
            ..Default::default()
        };
        assert_eq!(
            last_second(&p, "req/s"),
            "last second: 19 req/s of 20 asked, p50 2.0 ms, p95 -, p99 -, 1 errors, 3 in flight"
        );
        assert!(last_second(&p, "users").contains("19 req/s from 20 users,"));
    }
}
