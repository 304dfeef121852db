//! What a search found, as `capacity.search`: the answer and its interval,
//! what broke first above it, the stage that grew most there, and each
//! probe with the run-wide readings (cache, target CPU and RSS) of its own
//! seconds.

use genbench_collectors::analysis::search::{Answer, Search as Searching};
use genbench_model::{
    Capacity, CapacitySearch, Probe, ProbeKind, RunResult, SearchOutcome, StageGrowth,
};
use genbench_scenarios::{Search, SearchVariable, Threshold};

/// The search's result, before the run's readings are added per probe,
/// and the SLO its probes were held to.
pub struct Found {
    search: CapacitySearch,
    slo: Vec<String>,
}

impl Found {
    pub fn new(
        s: &Search,
        slo: &[Threshold],
        searching: &Searching,
        probes: Vec<Probe>,
        stopped: bool,
    ) -> Self {
        let (outcome, passed, failed) = match (stopped, searching.answer()) {
            (true, a) => {
                let (p, f) = bounds(a);
                (SearchOutcome::Unfinished, p, f)
            }
            (false, Answer::BelowLow) => (SearchOutcome::BelowMin, None, lowest_failing(&probes)),
            (false, Answer::Within { passed, failed }) => {
                (SearchOutcome::Within, Some(passed), Some(failed))
            }
            (false, Answer::AtLeastHigh { passed }) => {
                (SearchOutcome::AtLeastMax, Some(passed), None)
            }
        };
        let confirmed = probes
            .iter()
            .any(|p| p.kind == Some(ProbeKind::Confirm) && p.passed && Some(p.load) == passed);
        let last_passing =
            passed.and_then(|l| probes.iter().rev().find(|p| p.passed && p.load == l));
        let first_failing = failed.and_then(|l| probes.iter().find(|p| !p.passed && p.load == l));
        let search = CapacitySearch {
            variable: match s.variable {
                SearchVariable::Rate => "rate",
                SearchVariable::Users => "users",
            }
            .into(),
            unit: s.variable.unit().into(),
            outcome,
            max_sustainable: passed,
            lowest_failing: failed,
            confirmed,
            resolution: s.resolution,
            failed_first: first_failing.map_or_else(Vec::new, |p| p.failed.clone()),
            grew_most: match (last_passing, first_failing) {
                (Some(a), Some(b)) => grew_most(a, b),
                _ => None,
            },
            probes,
        };
        Found {
            search,
            slo: slo.iter().map(|t| t.expr.clone()).collect(),
        }
    }

    /// As the result's `capacity`: `max_sustainable_rps` is the answer
    /// when the search varied the rate.
    pub fn into_capacity(self) -> Capacity {
        let s = self.search;
        let rps = (s.variable == "rate")
            .then_some(s.max_sustainable)
            .flatten();
        Capacity {
            max_sustainable_rps: rps,
            knee_rps: None,
            slo: self.slo,
            steps: Vec::new(),
            search: Some(s),
        }
    }
}

fn bounds(a: Answer) -> (Option<f64>, Option<f64>) {
    match a {
        Answer::BelowLow => (None, None),
        Answer::Within { passed, failed } => (Some(passed), Some(failed)),
        Answer::AtLeastHigh { passed } => (Some(passed), None),
    }
}

fn lowest_failing(probes: &[Probe]) -> Option<f64> {
    probes
        .iter()
        .filter(|p| !p.passed)
        .map(|p| p.load)
        .reduce(f64::min)
}

/// What a stage no stage reports is called: queueing before the service's
/// stages, or time in its handler or the network.
pub const OUTSIDE_STAGES: &str = "(outside the stages)";

/// The stage whose p95 rose most (in ms) from `passing` to `failing`. When
/// the request's own p95 rose more than twice as much as any stage's, the
/// time grew where no stage reports it.
fn grew_most(passing: &Probe, failing: &Probe) -> Option<StageGrowth> {
    let rise = |g: &StageGrowth| g.failing_p95_ms - g.passing_p95_ms;
    let stage = failing
        .stages_p95_ms
        .iter()
        .filter(|(name, _)| name.as_str() != "total")
        .filter_map(|(name, to)| {
            let from = *passing.stages_p95_ms.get(name)?;
            Some(StageGrowth {
                stage: name.clone(),
                passing_p95_ms: from,
                failing_p95_ms: *to,
            })
        })
        .max_by(|a, b| rise(a).total_cmp(&rise(b)))?;
    let (Some(from), Some(to)) = (passing.p95_ms, failing.p95_ms) else {
        return Some(stage);
    };
    let request = StageGrowth {
        stage: OUTSIDE_STAGES.into(),
        passing_p95_ms: from,
        failing_p95_ms: to,
    };
    Some(if rise(&request) > 2.0 * rise(&stage).max(0.0) {
        request
    } else {
        stage
    })
}

/// Each probe's cache hit rate and target CPU and RSS over its own seconds,
/// from the run's timeline and process samples.
pub fn per_probe_readings(r: &mut RunResult) {
    let Some(search) = r.capacity.as_mut().and_then(|c| c.search.as_mut()) else {
        return;
    };
    let inside = |p: &Probe, t_s: f64| t_s > p.start_s && t_s <= p.end_s + 0.5;
    for p in &mut search.probes {
        let hits: Vec<f64> = r
            .timeline
            .iter()
            .filter(|x| inside(p, x.t_s))
            .filter_map(|x| x.cache_hit_rate)
            .collect();
        p.cache_hit_rate = mean(&hits);
        if let Some(t) = &r.process.target {
            let seen: Vec<_> = t.samples.iter().filter(|s| inside(p, s.t_s)).collect();
            let cpu: Vec<f64> = seen.iter().map(|s| s.cpu_pct).collect();
            p.target_cpu_mean_pct = mean(&cpu);
            p.target_rss_max_mib = seen.iter().map(|s| s.rss_mib).reduce(f64::max);
        }
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(load: f64, passed: bool, stages: &[(&str, f64)]) -> Probe {
        Probe {
            load,
            kind: Some(ProbeKind::Probe),
            passed,
            failed: if passed {
                vec![]
            } else {
                vec!["p95 < 100ms".into()]
            },
            stages_p95_ms: stages.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_stage_that_grew_most_is_named_by_its_rise_in_ms() {
        let mut a = probe(
            40.0,
            true,
            &[("search", 20.0), ("llm", 500.0), ("total", 600.0)],
        );
        let mut b = probe(
            44.0,
            false,
            &[("search", 400.0), ("llm", 700.0), ("total", 1200.0)],
        );
        (a.p95_ms, b.p95_ms) = (Some(600.0), Some(1200.0));
        let g = grew_most(&a, &b).unwrap();
        assert_eq!(
            (g.stage.as_str(), g.passing_p95_ms, g.failing_p95_ms),
            ("search", 20.0, 400.0)
        );
        assert_eq!(grew_most(&a, &probe(44.0, false, &[])), None);
        // The request waited where no stage reports: a queue before them.
        b.p95_ms = Some(2000.0);
        let g = grew_most(&a, &b).unwrap();
        assert_eq!(
            (g.stage.as_str(), g.passing_p95_ms),
            (OUTSIDE_STAGES, 600.0)
        );
    }
}
