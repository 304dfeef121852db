//! The analyses of a merged run (`genbench merge`), computed again from
//! what its segments recorded: one segment's capacity, spike or leak
//! verdict does not combine with another's, but the windows' recordings
//! add up, and the merged timeline holds every part's seconds.

use genbench_collectors::analysis::{self, LeakInput, WindowSet};
use genbench_collectors::merge::Part;
use genbench_model::{
    GaugeSample, GaugeSeries, Leak, LeakSettings, LeakVerdict, RunResult, ScenarioKind,
    SegmentAnalysis, TargetKind,
};

use super::{analyze, memory};

/// Fills `r`'s capacity, spike and leak from `parts`, as the run would
/// have from one machine's recordings. Says why on stderr when it cannot.
pub fn fill(r: &mut RunResult, parts: &[Part<'_>]) {
    let inputs: Option<Vec<&SegmentAnalysis>> = parts
        .iter()
        .map(|p| p.result.segment.as_ref()?.analysis.as_ref())
        .collect();
    let Some(inputs) = inputs else {
        eprintln!(
            "warning: no capacity, spike or leak analysis: a part was written by a genbench \
that did not keep the analyses' recordings (run every segment with this version)"
        );
        return;
    };
    let Some(first) = inputs.first() else { return };
    match windows(&inputs) {
        Ok(set) => match r.scenario.kind {
            ScenarioKind::Stress if !set.is_empty() => {
                r.capacity = capacity(first, &set);
            }
            ScenarioKind::Spike => {
                r.spike = analyze::spike(first.recovery_factor, &set, &r.timeline);
            }
            _ => {}
        },
        Err(e) => eprintln!("warning: no capacity or spike analysis: {e}"),
    }
    if let Some(settings) = first.leak {
        r.leak = leak(r, parts, settings);
        if r.leak.is_none() {
            eprintln!("warning: no leak verdict: too few memory readings in the parts");
        }
    }
}

/// Every part's window recordings added, window by window.
fn windows(inputs: &[&SegmentAnalysis]) -> Result<WindowSet, String> {
    let mut set: Option<WindowSet> = None;
    for (i, a) in inputs.iter().enumerate() {
        let part =
            WindowSet::from_recordings(&a.windows).map_err(|e| format!("part {}: {e}", i + 1))?;
        match &mut set {
            Some(s) => s.merge(&part).map_err(|e| e.to_string())?,
            None => set = Some(part),
        }
    }
    Ok(set.unwrap_or_default())
}

fn capacity(a: &SegmentAnalysis, set: &WindowSet) -> Option<genbench_model::Capacity> {
    let slo: Vec<genbench_scenarios::Threshold> = a
        .slo
        .iter()
        .map(|e| genbench_scenarios::parse_threshold(e))
        .collect::<Result<_, _>>()
        .map_err(|e| eprintln!("warning: no capacity analysis: the parts' SLO: {e}"))
        .ok()?;
    let rates: Vec<Option<f64>> = a.windows.iter().map(|w| w.target_rps).collect();
    Some(analyze::capacity(&slo, &rates, set))
}

/// One target watched by every segment (an external one's gauge, read
/// over HTTP): its readings from all parts on the merged clock, fitted
/// once. Targets of their own (embedded, or a process by pid, which is
/// one host's): each part's own fit, the worst of them, naming its
/// segment. The merged result shows the series that was judged.
fn leak(r: &mut RunResult, parts: &[Part<'_>], s: LeakSettings) -> Option<Leak> {
    let shared = parts.iter().all(|p| {
        p.result.target.kind == TargetKind::External && p.result.process.memory_gauge.is_some()
    });
    if !shared {
        let (worst, l) = parts
            .iter()
            .filter_map(|p| Some((p.result, p.result.leak.as_ref()?)))
            .max_by(|(_, a), (_, b)| {
                rank(a.verdict)
                    .cmp(&rank(b.verdict))
                    .then(a.slope_mib_per_h.total_cmp(&b.slope_mib_per_h))
            })?;
        r.process.target = worst.process.target.clone();
        r.process.memory_gauge = worst.process.memory_gauge.clone();
        let mut l = l.clone();
        l.segment = worst.segment.as_ref().map(|s| s.index);
        return Some(l);
    }
    let mut samples: Vec<GaugeSample> = parts
        .iter()
        .flat_map(|p| {
            let g = p.result.process.memory_gauge.iter();
            g.flat_map(|g| {
                g.samples.iter().map(|x| GaugeSample {
                    t_s: x.t_s + p.offset_s,
                    mib: x.mib,
                })
            })
        })
        .collect();
    samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    let source = parts
        .first()?
        .result
        .process
        .memory_gauge
        .as_ref()?
        .source
        .clone();
    let series: Vec<(f64, f64)> = samples.iter().map(|x| (x.t_s, x.mib)).collect();
    r.process.memory_gauge = Some(GaugeSeries {
        source: source.clone(),
        samples,
    });
    analysis::leak(&LeakInput {
        series: &series,
        signal: &source,
        warmup_s: s.warmup_s,
        tolerance_mib_per_h: s.tolerance_mib_per_h,
        window_s: memory::window_s(r.duration_s - s.warmup_s),
        // A shared gauge, never RSS: nothing to settle.
        settle: false,
    })
}

/// How bad a verdict is, for the worst of several.
fn rank(v: LeakVerdict) -> u8 {
    match v {
        LeakVerdict::NoLeak => 0,
        LeakVerdict::Inconclusive => 1,
        LeakVerdict::Leak => 2,
    }
}

#[cfg(test)]
mod tests {
    use genbench_model::SegmentInfo;

    use super::*;

    fn part(index: u32, kind: TargetKind, leak: Option<Leak>) -> RunResult {
        let mut r = RunResult::example("soak", ScenarioKind::Soak);
        r.scenario.seed = Some(1);
        r.target.kind = kind;
        r.duration_s = 3600.0;
        r.leak = leak;
        r.segment = Some(SegmentInfo {
            index,
            count: 3,
            scenario_hash: "h".into(),
            seed: 1,
            start_at: None,
            start_lag_ms: None,
            analysis: Some(SegmentAnalysis {
                leak: Some(SETTINGS),
                ..SegmentAnalysis::default()
            }),
        });
        r
    }

    const SETTINGS: LeakSettings = LeakSettings {
        warmup_s: 600.0,
        tolerance_mib_per_h: 5.0,
    };

    fn fit(verdict: LeakVerdict, slope: f64) -> Leak {
        let input = LeakInput {
            series: &[],
            signal: "rss",
            warmup_s: 0.0,
            tolerance_mib_per_h: 5.0,
            window_s: 0.0,
            settle: false,
        };
        let ramp: Vec<(f64, f64)> = (0..100).map(|i| (i as f64 * 36.0, i as f64)).collect();
        let mut l = analysis::leak(&LeakInput {
            series: &ramp,
            ..input
        })
        .unwrap();
        (l.verdict, l.slope_mib_per_h) = (verdict, slope);
        l
    }

    fn merged(parts: &[RunResult]) -> RunResult {
        let parts: Vec<Part<'_>> = parts
            .iter()
            .map(|r| Part {
                result: r,
                offset_s: 0.0,
            })
            .collect();
        let mut r = part(0, TargetKind::Embedded, None);
        r.segment = None;
        fill(&mut r, &parts);
        r
    }

    #[test]
    fn targets_of_their_own_give_the_worst_segments_fit() {
        let parts = [
            part(0, TargetKind::Embedded, Some(fit(LeakVerdict::NoLeak, 1.0))),
            part(1, TargetKind::Embedded, Some(fit(LeakVerdict::Leak, 40.0))),
            part(
                2,
                TargetKind::Embedded,
                Some(fit(LeakVerdict::Inconclusive, 90.0)),
            ),
        ];
        let l = merged(&parts).leak.unwrap();
        // A leak outranks a steeper slope that could not be told apart.
        assert_eq!((l.verdict, l.segment), (LeakVerdict::Leak, Some(1)));
        let l = merged(&parts[..1]).leak.unwrap();
        assert_eq!((l.verdict, l.segment), (LeakVerdict::NoLeak, Some(0)));
    }

    /// Three segments reading one external target's heap gauge, each a
    /// third of the time: fitted once over their readings together, which
    /// no one part's sparse series could judge.
    #[test]
    fn one_target_watched_by_every_segment_is_fitted_once() {
        let parts: Vec<RunResult> = (0..3u32)
            .map(|i| {
                let mut r = part(i, TargetKind::External, None);
                let samples = (0..120)
                    .map(|k| 30.0 * k as f64 + 10.0 * f64::from(i))
                    .map(|t| GaugeSample {
                        t_s: t,
                        mib: 100.0 + 20.0 * t / 3600.0,
                    })
                    .collect();
                r.process.memory_gauge = Some(GaugeSeries {
                    source: "metrics:heap_bytes".into(),
                    samples,
                });
                r
            })
            .collect();
        let m = merged(&parts);
        let l = m.leak.unwrap();
        assert_eq!((l.verdict, l.segment), (LeakVerdict::Leak, None));
        assert!(
            (l.slope_mib_per_h - 20.0).abs() < 0.5,
            "{}",
            l.slope_mib_per_h
        );
        assert_eq!(l.signal, "metrics:heap_bytes");
        let g = m.process.memory_gauge.unwrap();
        assert_eq!(g.samples.len(), 360);
        assert!(g.samples.windows(2).all(|w| w[0].t_s <= w[1].t_s));
    }

    #[test]
    fn parts_without_the_analyses_inputs_get_none() {
        let mut p = part(0, TargetKind::Embedded, Some(fit(LeakVerdict::Leak, 9.0)));
        p.segment.as_mut().unwrap().analysis = None;
        assert!(merged(&[p]).leak.is_none());
    }
}
