//! The run's live outputs, fed once a second from the aggregator: the
//! snapshot behind `--metrics-listen` and `--otlp-metrics`, and for
//! `--dashboard` the run so far as a `RunResult` rendered by the report's
//! own code.

use std::time::Duration;

use genbench_model::{RunResult, RunStatus, TimelinePoint};
use genbench_scenarios::Load;

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
        let cost = c.live_cost(&agg.total).map(|c| c.total_usd);
        self.outputs
            .publish(Snapshot::new(&agg.total, p).with_cost(cost));
        if self.outputs.wants_frames() {
            let r = self.so_far(cfg, agg, p, c);
            self.outputs.frame(Frame {
                body: genbench_reports::report_sections_html(&r, true),
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
        let open = matches!(s.load, Load::Open { .. });
        let mut r = self.base.clone();
        fill::fill(&mut r, agg, elapsed, s.duration(), open);
        fill::goodput(&mut r, agg, &s.objectives, elapsed, s.duration());
        fill::checks(&mut r, agg, &s.request.checks);
        if let Some((names, poll)) = &self.flow_names {
            fill::flows(&mut r, agg, names, *poll, elapsed);
        }
        c.so_far(&mut r, &agg.total);
        r.thresholds = evaluate(&s.thresholds, &r, s.analysis.inconclusive);
        r
    }
}
