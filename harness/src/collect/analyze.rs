//! The scenario-shaped analyses: which windows of the run matter (stress
//! steps, the seconds before a spike and the spike itself), judged from the
//! recordings merged over them.

use std::time::Duration;

use genbench_collectors::Recorder;
use genbench_collectors::analysis::{self, SpikeMeasure, Window, WindowSet};
use genbench_collectors::summary::latency_ms;
use genbench_model::{Capacity, CapacityStep, ScenarioKind, Spike, TimelinePoint};
use genbench_scenarios::{Metric, Scenario, Stage, Threshold};

/// Stages as windows: (window, rate at its start, its target).
fn stage_windows(stages: &[Stage]) -> Vec<(Window, f64, f64)> {
    let mut out = Vec::new();
    let (mut start, mut from) = (Duration::ZERO, 0.0);
    for s in stages {
        let end = start + s.duration;
        let w = Window {
            start_s: start.as_secs_f64(),
            end_s: end.as_secs_f64(),
        };
        out.push((w, from, s.target));
        start = end;
        from = s.target;
    }
    out
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

/// Stress steps: the stages that hold a rate (ramps are not steps),
/// consecutive holds at one rate merged. A plan with no holds (every stage
/// a ramp) uses the second half of each stage.
pub fn stress_steps(stages: &[Stage]) -> Vec<(Window, f64)> {
    let all = stage_windows(stages);
    let mut steps: Vec<(Window, f64)> = Vec::new();
    for (w, from, to) in &all {
        if !same(*from, *to) || *to <= 0.0 {
            continue;
        }
        match steps.last_mut() {
            Some((last, rate)) if same(*rate, *to) && same(last.end_s, w.start_s) => {
                last.end_s = w.end_s
            }
            _ => steps.push((*w, *to)),
        }
    }
    if steps.is_empty() {
        steps = all
            .iter()
            .filter(|(_, _, to)| *to > 0.0)
            .map(|(w, _, to)| {
                let half = Window {
                    start_s: (w.start_s + w.end_s) / 2.0,
                    end_s: w.end_s,
                };
                (half, *to)
            })
            .collect();
    }
    steps
}

/// Spike windows: (the base-rate holds before the burst, the burst). The
/// burst is every stage above the first hold's rate, ramps included.
pub fn spike_windows(stages: &[Stage]) -> Option<(Window, Window)> {
    let all = stage_windows(stages);
    let base = all
        .iter()
        .find(|(_, from, to)| same(*from, *to))
        .map_or(all.first()?.2, |s| s.2);
    let first = all.iter().position(|(_, _, to)| *to > base * 1.0001)?;
    let last = first
        + all[first..]
            .iter()
            .take_while(|(_, _, to)| *to > base * 1.0001)
            .count()
        - 1;
    let burst = Window {
        start_s: all[first].0.start_s,
        end_s: all[last].0.end_s,
    };
    let before = all[..first]
        .iter()
        .filter(|(_, from, to)| same(*from, *to) && same(*to, base))
        .map(|(w, ..)| *w)
        .reduce(|a, b| Window {
            start_s: a.start_s.min(b.start_s),
            end_s: a.end_s.max(b.end_s),
        })
        .unwrap_or(Window {
            start_s: 0.0,
            end_s: burst.start_s,
        });
    Some((before, burst))
}

/// The windows a scenario's analyses merge recordings over.
pub fn windows_for(s: &Scenario) -> WindowSet {
    let stages = s.load.stages();
    if s.search.is_some() {
        // A search judges its own probes; the stages (a built-in's) are not run.
        return WindowSet::default();
    }
    match s.kind {
        ScenarioKind::Stress => WindowSet::new(stress_steps(stages).into_iter().map(|(w, _)| w)),
        ScenarioKind::Spike => match spike_windows(stages) {
            Some((before, burst)) => WindowSet::new([before, burst]),
            None => WindowSet::default(),
        },
        _ => WindowSet::default(),
    }
}

/// The SLO expressions a step breaks, of those a step can be judged by
/// (latency, TTFB, TTFT, TPOT, ITL, goodput, error rate, throughput;
/// run-wide metrics such as cost or RSS growth do not apply to one step).
/// A step with no successful response breaks any latency expression.
pub fn broken(
    slo: &[Threshold],
    rec: &Recorder,
    achieved_rps: f64,
    error_rate: f64,
) -> Vec<String> {
    slo.iter()
        .filter(|t| {
            let v = match t.metric {
                Metric::Latency(l) => latency_ms(&rec.latency_us).map(|s| l.of(&s)),
                Metric::Ttfb(l) => latency_ms(&rec.ttfb_us).map(|s| l.of(&s)),
                Metric::Ttft(l) => latency_ms(&rec.llm.ttft_us).map(|s| l.of(&s)),
                Metric::Tpot(l) => latency_ms(&rec.llm.tpot_us).map(|s| l.of(&s)),
                Metric::Itl(l) => latency_ms(&rec.llm.itl_us).map(|s| l.of(&s)),
                Metric::Goodput => {
                    (rec.total() > 0).then(|| rec.goodput_met as f64 / rec.total() as f64)
                }
                Metric::ErrorRate => Some(error_rate),
                Metric::AbandonRate => {
                    (rec.total() > 0).then(|| rec.abandoned.total() as f64 / rec.total() as f64)
                }
                Metric::ThroughputRps => Some(achieved_rps),
                _ => return false,
            };
            !v.is_some_and(|v| t.passes(v))
        })
        .map(|t| t.expr.clone())
        .collect()
}

fn meets(slo: &[Threshold], rec: &Recorder, achieved_rps: f64, error_rate: f64) -> bool {
    broken(slo, rec, achieved_rps, error_rate).is_empty()
}

/// A window's successful responses per second over `covered_s`, and its
/// share of failed requests.
pub fn achieved(rec: &Recorder, covered_s: f64) -> (f64, f64) {
    let achieved_rps = if covered_s > 0.0 {
        rec.ok as f64 / covered_s
    } else {
        0.0
    };
    let total = rec.total();
    let error_rate = if total > 0 {
        rec.failed() as f64 / total as f64
    } else {
        0.0
    };
    (achieved_rps, error_rate)
}

/// The SLO a stress step is held to: the scenario's `slo`, else its
/// thresholds, else an error rate under 1% (and, where clients give up,
/// an abandon rate under 1%: a step whose every request was abandoned
/// has no errors, and must not pass for it).
pub fn slo_of(s: &Scenario) -> Vec<Threshold> {
    match (&s.slo, s.thresholds.is_empty()) {
        (Some(slo), _) => slo.thresholds.clone(),
        (None, false) => s.thresholds.clone(),
        (None, true) => {
            let mut d = vec!["error_rate < 1%"];
            if s.abandon.is_some() {
                d.push("abandon_rate < 1%");
            }
            d.iter()
                .map(|t| genbench_scenarios::parse_threshold(t).expect("valid"))
                .collect()
        }
    }
}

/// Each analysis window's target rate: a stress step's; none for a
/// spike's windows.
pub fn window_rates(s: &Scenario) -> Vec<Option<f64>> {
    match s.kind {
        ScenarioKind::Stress => stress_steps(s.load.stages())
            .into_iter()
            .map(|(_, r)| Some(r))
            .collect(),
        _ => Vec::new(),
    }
}

/// Stress capacity from the steps' merged recordings, each held to `slo`;
/// `rates`: each step's target rate.
pub fn capacity(slo: &[Threshold], rates: &[Option<f64>], set: &WindowSet) -> Capacity {
    let steps = set
        .iter_covered()
        .zip(rates)
        // A step shorter than one whole interval has no recording of its own.
        .filter(|((_, _, covered), _)| *covered > 0.0)
        .map(|((_, rec, covered), target)| {
            let (achieved_rps, error_rate) = achieved(rec, covered);
            let total = rec.total();
            let l = latency_ms(&rec.latency_us);
            CapacityStep {
                target_rps: target.unwrap_or(0.0),
                achieved_rps,
                p50_ms: l.map(|l| l.p50),
                p95_ms: l.map(|l| l.p95),
                p99_ms: l.map(|l| l.p99),
                error_rate,
                meets_slo: total > 0 && meets(slo, rec, achieved_rps, error_rate),
                stages_p95_ms: rec
                    .stages
                    .summary()
                    .into_iter()
                    .map(|(n, s)| (n, s.p95))
                    .collect(),
            }
        })
        .collect();
    analysis::capacity(steps, slo.iter().map(|t| t.expr.clone()).collect())
}

/// The spike from the windows before and during the burst and the
/// per-second timeline after it.
pub fn spike(recovery_factor: f64, set: &WindowSet, timeline: &[TimelinePoint]) -> Option<Spike> {
    let mut it = set.iter();
    let (_, before) = it.next()?;
    let (burst, during) = it.next()?;
    let m = SpikeMeasure {
        burst: *burst,
        baseline_p95_ms: latency_ms(&before.latency_us).map(|l| l.p95),
        burst_p95_ms: latency_ms(&during.latency_us).map(|l| l.p95),
        burst_errors: during.failed(),
    };
    Some(analysis::spike(m, timeline, recovery_factor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use genbench_scenarios::parse_shorthand;

    #[test]
    fn stress_steps_are_the_holds() {
        let st = parse_shorthand("1,2s;1,18s;2,2s;2,18s;4,2s;4,8s;4,10s").unwrap();
        let steps = stress_steps(&st);
        let got: Vec<(f64, f64, f64)> = steps
            .iter()
            .map(|(w, r)| (w.start_s, w.end_s, *r))
            .collect();
        assert_eq!(
            got,
            [(2.0, 20.0, 1.0), (22.0, 40.0, 2.0), (42.0, 60.0, 4.0)]
        );
        // All ramps: the second half of each.
        let ramps = parse_shorthand("10,10s;20,10s").unwrap();
        let got: Vec<(f64, f64)> = stress_steps(&ramps)
            .iter()
            .map(|(w, r)| (w.start_s, *r))
            .collect();
        assert_eq!(got, [(5.0, 10.0), (15.0, 20.0)]);
    }

    #[test]
    fn spike_windows_find_the_base_and_the_burst() {
        let st = parse_shorthand("2,2s;2,18s;20,1s;20,19s;2,1s;2,39s").unwrap();
        let (before, burst) = spike_windows(&st).unwrap();
        assert_eq!((before.start_s, before.end_s), (2.0, 20.0));
        assert_eq!((burst.start_s, burst.end_s), (20.0, 40.0));
        assert!(spike_windows(&parse_shorthand("5,10s").unwrap()).is_none());
    }
}
