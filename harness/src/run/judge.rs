//! Thresholds judged against a finished result.

use genbench_model::{RunResult, ThresholdResult};
use genbench_scenarios::{Inconclusive, Metric, SeriesStat, Threshold};

/// The observed value of a threshold's metric, `None` if not measured.
fn observe(t: &Threshold, r: &RunResult) -> Option<f64> {
    match t.metric {
        Metric::Latency(l) => r.latency_ms.as_ref().map(|s| l.of(s)),
        Metric::Ttfb(l) => r.ttfb_ms.as_ref().map(|s| l.of(s)),
        Metric::Ttft(l) => r.llm.as_ref()?.ttft_ms.as_ref().map(|s| l.of(s)),
        Metric::Tpot(l) => r.llm.as_ref()?.tpot_ms.as_ref().map(|s| l.of(s)),
        Metric::Itl(l) => r.llm.as_ref()?.itl_ms.as_ref().map(|s| l.of(s)),
        Metric::Goodput => r.goodput.map(|g| g.share),
        Metric::GoodputRps => r.goodput.map(|g| g.rps),
        Metric::OutputTps => r.llm.as_ref().map(|l| l.output_tps),
        Metric::CompletionsRps => r.completions_rps,
        Metric::ErrorRate => (r.requests.total > 0).then_some(r.errors.rate),
        Metric::AbandonRate => {
            let q = &r.requests;
            (q.total > 0).then(|| q.abandoned as f64 / q.total as f64)
        }
        Metric::CacheHitRate => r.cache.as_ref().and_then(|c| c.hit_rate),
        Metric::ThroughputRps => Some(r.throughput_rps),
        Metric::CostPerArticle => r.cost.as_ref().and_then(|c| c.per_article_usd),
        Metric::RssGrowth => r.leak.as_ref().map(|l| l.slope_mib_per_h),
        Metric::Flow(l) => r.flows.as_ref()?.latency_ms.as_ref().map(|s| l.of(s)),
        Metric::FlowErrorRate => r
            .flows
            .as_ref()
            .filter(|f| f.ended > 0)
            .map(|f| f.error_rate),
        Metric::FlowsPerHour => r.flows.as_ref().map(|f| f.per_hour),
        Metric::Series(stat) => {
            let s = r.series.get(t.series.as_deref()?)?;
            match stat {
                SeriesStat::Max => s.max,
                SeriesStat::Min => s.min,
                SeriesStat::Mean => s.mean,
                SeriesStat::Last => s.last,
            }
        }
    }
}

/// Evaluates thresholds. One that could not be measured fails: a gate that
/// passes what it never saw would be worse than one that says so.
///
/// Memory growth is a fitted slope, and a short run's slope is noisy (a
/// steady process read +20 MiB/h with a 95% CI of -10 to +49 over 24 s):
/// `rss_growth` is met only when its whole CI and the Theil–Sen
/// cross-check are on the passing side, failed when all three are on the
/// failing side, and otherwise inconclusive, which fails the run unless
/// `[analysis] inconclusive = "pass"`. Noise neither fails nor passes a
/// memory budget on its own.
pub fn evaluate(
    thresholds: &[Threshold],
    r: &RunResult,
    policy: Inconclusive,
) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let observed = observe(t, r);
            let (passed, inconclusive) = match (t.metric, &r.leak) {
                (Metric::RssGrowth, Some(l)) => {
                    let sides = [
                        l.ci95_mib_per_h[0],
                        l.ci95_mib_per_h[1],
                        l.theil_sen_mib_per_h,
                    ];
                    let passing = sides.iter().filter(|v| t.passes(**v)).count();
                    match passing {
                        3 => (true, false),
                        0 => (false, false),
                        _ => (policy == Inconclusive::Pass, true),
                    }
                }
                _ => (observed.is_some_and(|v| t.passes(v)), false),
            };
            ThresholdResult {
                expr: t.expr.clone(),
                observed,
                passed,
                inconclusive,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_leak(slope: f64, ci: [f64; 2]) -> RunResult {
        let mut r = RunResult::example("soak", genbench_model::ScenarioKind::Soak);
        r.started_at = String::new();
        r.leak = Some(genbench_model::Leak {
            slope_mib_per_h: slope,
            ci95_mib_per_h: ci,
            theil_sen_mib_per_h: slope,
            warmup_excluded_s: 0.0,
            verdict: genbench_model::LeakVerdict::Inconclusive,
            tolerance_mib_per_h: 10.0,
            samples: 20,
            signal: "rss".into(),
            window_s: 0.0,
            level_shifts: 0,
            steps_mib_per_h: 0.0,
            segment: None,
        });
        r
    }

    #[test]
    fn rss_growth_passes_only_when_shown_kept_and_fails_only_when_shown_broken() {
        let t = [genbench_scenarios::parse_threshold("rss_growth < 10MiB/h").unwrap()];
        let judge = |slope, ci, ts, policy| {
            let mut r = with_leak(slope, ci);
            r.leak.as_mut().unwrap().theil_sen_mib_per_h = ts;
            evaluate(&t, &r, policy).remove(0)
        };
        let kept = judge(2.0, [1.0, 3.0], 2.5, Inconclusive::Fail);
        assert!(kept.passed && !kept.inconclusive && kept.word() == "pass");
        let leaking = judge(4490.0, [4477.0, 4502.0], 4490.0, Inconclusive::Pass);
        assert!(!leaking.passed && !leaking.inconclusive && leaking.word() == "FAIL");
        // A noisy steady run: the CI straddles the limit.
        let noisy = judge(19.6, [-9.7, 48.9], 19.0, Inconclusive::Fail);
        assert_eq!(noisy.observed, Some(19.6));
        assert!(!noisy.passed && noisy.inconclusive && noisy.word() == "INCONCLUSIVE");
        // A slope fitted around allocator steps reads a quarter of the leak
        // and its CI is under the limit; Theil-Sen over the whole series
        // sees the leak: never a pass unless the scenario allows it.
        let contradicted = judge(3.6, [2.2, 5.0], 14.2, Inconclusive::Fail);
        assert!(!contradicted.passed && contradicted.inconclusive);
        let allowed = judge(3.6, [2.2, 5.0], 14.2, Inconclusive::Pass);
        assert!(allowed.passed && allowed.inconclusive && allowed.word() == "inconclusive");
        let mut none = with_leak(0.0, [0.0, 0.0]);
        none.leak = None;
        let not_measured = evaluate(&t, &none, Inconclusive::Pass).remove(0);
        assert!(
            !not_measured.passed && !not_measured.inconclusive,
            "not measured fails"
        );
    }
}
