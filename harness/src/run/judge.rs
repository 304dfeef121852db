//! Thresholds judged against a finished result.

use genbench_model::{RunResult, ThresholdResult};
use genbench_scenarios::{Metric, SeriesStat, Threshold};

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
/// `rss_growth` fails only when the whole CI is on the failing side, as the
/// leak verdict does, so noise never fails a gate.
pub fn evaluate(thresholds: &[Threshold], r: &RunResult) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let observed = observe(t, r);
            let passed = match (t.metric, &r.leak) {
                (Metric::RssGrowth, Some(l)) => {
                    t.passes(l.ci95_mib_per_h[0]) || t.passes(l.ci95_mib_per_h[1])
                }
                _ => observed.is_some_and(|v| t.passes(v)),
            };
            ThresholdResult {
                expr: t.expr.clone(),
                observed,
                passed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use genbench_model::{ScenarioInfo, TargetInfo, TargetKind};

    fn with_leak(slope: f64, ci: [f64; 2]) -> RunResult {
        let info = ScenarioInfo {
            name: "soak".into(),
            kind: genbench_model::ScenarioKind::Soak,
            resolved: serde_json::Value::Null,
            seed: None,
        };
        let target = TargetInfo {
            kind: TargetKind::External,
            url: "http://127.0.0.1:1".into(),
            pid: None,
            mock_time_scale: None,
        };
        let mut r = RunResult::new("0", info, target, String::new());
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
    fn rss_growth_fails_only_when_the_whole_ci_is_over_the_limit() {
        let t = [genbench_scenarios::parse_threshold("rss_growth < 10MiB/h").unwrap()];
        // A noisy steady run: the point slope is over, the CI straddles.
        let noisy = evaluate(&t, &with_leak(19.6, [-9.7, 48.9]));
        assert_eq!(noisy[0].observed, Some(19.6));
        assert!(noisy[0].passed);
        let leaking = evaluate(&t, &with_leak(4490.0, [4477.0, 4502.0]));
        assert!(!leaking[0].passed);
        let t = [genbench_scenarios::parse_threshold("rss_growth < 10MiB/h").unwrap()];
        let mut none = with_leak(0.0, [0.0, 0.0]);
        none.leak = None;
        assert!(!evaluate(&t, &none)[0].passed, "not measured fails");
    }
}
