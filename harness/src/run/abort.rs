//! Judging `[abort]` as the run goes: each merged second, the failing
//! streak (every request that ended failed) and the `on_fail` thresholds on
//! the run so far; the first rule broken stops the load.

use std::time::Duration;

use genbench_model::{AbortInfo, RunResult, ScenarioInfo, ScenarioKind, TargetInfo, TargetKind};
use genbench_model::{Objectives, RunStatus, TimelinePoint};
use genbench_scenarios::Abort;

use crate::engine::aggregate::Aggregator;

pub struct AbortWatch<'a> {
    rules: &'a Abort,
    objectives: &'a Objectives,
    /// Seconds in a row in which every request that ended failed.
    failing_s: f64,
    pub fired: Option<AbortInfo>,
}

impl<'a> AbortWatch<'a> {
    pub fn new(rules: &'a Abort, objectives: &'a Objectives) -> Self {
        AbortWatch {
            rules,
            objectives,
            failing_s: 0.0,
            fired: None,
        }
    }

    /// One merged second; `Some` the first time a rule is broken.
    pub fn second(
        &mut self,
        p: &TimelinePoint,
        agg: &Aggregator,
        planned: Duration,
        open: bool,
    ) -> Option<&AbortInfo> {
        if self.fired.is_some() || self.rules.is_empty() {
            return None;
        }
        let ended = p.rps.round() as u64;
        if ended > 0 && p.errors >= ended {
            self.failing_s += 1.0;
        } else if ended > 0 {
            self.failing_s = 0.0;
        }
        if p.t_s < self.rules.grace.as_secs_f64() {
            return None;
        }
        if let Some(d) = self.rules.when_failing
            && self.failing_s >= d.as_secs_f64()
        {
            return self.fire(p.t_s, format!("every request failed for {}", secs(d)));
        }
        if self.rules.on_fail.is_empty() {
            return None;
        }
        let so_far = so_far(agg, self.objectives, p.t_s, planned, open);
        // Memory is not judged mid-run: the policy cannot matter.
        let failed = crate::run::evaluate(&self.rules.on_fail, &so_far, Default::default())
            .into_iter()
            // Not measured yet (no success, no stream) is not a failure.
            .find(|t| !t.passed && t.observed.is_some())?;
        self.fire(p.t_s, failed.expr)
    }

    fn fire(&mut self, at_s: f64, rule: String) -> Option<&AbortInfo> {
        eprintln!("genbench: aborting at {at_s:.0} s: {rule} ([abort]); writing what was measured");
        self.fired = Some(AbortInfo { at_s, rule });
        self.fired.as_ref()
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The request-level figures of the run so far, for thresholds.
fn so_far(
    agg: &Aggregator,
    objectives: &Objectives,
    t_s: f64,
    planned: Duration,
    open: bool,
) -> RunResult {
    let info = ScenarioInfo {
        name: String::new(),
        kind: ScenarioKind::Custom,
        resolved: serde_json::Value::Null,
        seed: None,
    };
    let target = TargetInfo {
        kind: TargetKind::External,
        url: String::new(),
        pid: None,
        mock_time_scale: None,
    };
    let mut r = RunResult::new("", info, target, String::new());
    r.status = RunStatus::Completed;
    let elapsed = Duration::from_secs_f64(t_s.max(0.0));
    super::fill::summaries(&mut r, agg, elapsed, planned, open);
    super::fill::goodput(&mut r, agg, objectives, elapsed, planned);
    r
}
