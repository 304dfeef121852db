//! The rows of a comparison: each metric, how to read it from a result,
//! how to show it, and which direction is better.

use genbench_model::RunResult;

use crate::fmt::{ms, num, pct, usd};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
    /// A count that describes the run rather than judges it.
    Neither,
}

pub struct Metric {
    pub name: &'static str,
    pub get: fn(&RunResult) -> Option<f64>,
    pub show: fn(f64) -> String,
    pub better: Better,
    /// The gate's metric judging this row's difference, where it has one.
    pub gate: Option<&'static str>,
}

fn mib(v: f64) -> String {
    format!("{v:.1} MiB")
}

fn cpu(v: f64) -> String {
    format!("{v:.1}%")
}

fn mib_h(v: f64) -> String {
    format!("{v:+.1} MiB/h")
}

fn rps(v: f64) -> String {
    format!("{} req/s", num(v))
}

pub const METRICS: &[Metric] = &[
    Metric {
        name: "requests",
        get: |r| Some(r.requests.total as f64),
        show: num,
        better: Better::Neither,
        gate: None,
    },
    Metric {
        name: "throughput",
        get: |r| Some(r.throughput_rps),
        show: rps,
        better: Better::Higher,
        gate: Some("throughput"),
    },
    Metric {
        name: "error rate",
        get: |r| Some(r.errors.rate),
        show: pct,
        better: Better::Lower,
        gate: Some("error_rate"),
    },
    Metric {
        name: "latency p50",
        get: |r| r.latency_ms.map(|s| s.p50),
        show: ms,
        better: Better::Lower,
        gate: Some("latency_p50"),
    },
    Metric {
        name: "latency p95",
        get: |r| r.latency_ms.map(|s| s.p95),
        show: ms,
        better: Better::Lower,
        gate: Some("latency_p95"),
    },
    Metric {
        name: "latency p99",
        get: |r| r.latency_ms.map(|s| s.p99),
        show: ms,
        better: Better::Lower,
        gate: Some("latency_p99"),
    },
    Metric {
        name: "TTFB p50",
        get: |r| r.ttfb_ms.map(|s| s.p50),
        show: ms,
        better: Better::Lower,
        gate: None,
    },
    Metric {
        name: "TTFB p95",
        get: |r| r.ttfb_ms.map(|s| s.p95),
        show: ms,
        better: Better::Lower,
        gate: None,
    },
    Metric {
        name: "cache hit rate",
        get: |r| r.cache.as_ref().and_then(|c| c.hit_rate),
        show: pct,
        better: Better::Higher,
        gate: Some("cache_hit_rate"),
    },
    Metric {
        name: "cost per article",
        get: |r| r.cost.as_ref().and_then(|c| c.per_article_usd),
        show: usd,
        better: Better::Lower,
        gate: Some("cost_per_article"),
    },
    Metric {
        name: "tokens per article",
        get: |r| r.cost.as_ref().and_then(|c| c.tokens_per_article),
        show: num,
        better: Better::Lower,
        gate: Some("tokens_per_article"),
    },
    Metric {
        name: "total cost",
        get: |r| r.cost.as_ref().map(|c| c.total_usd),
        show: usd,
        better: Better::Lower,
        gate: None,
    },
    Metric {
        name: "target CPU mean",
        get: |r| r.process.target.as_ref().map(|p| p.cpu_pct.mean),
        show: cpu,
        better: Better::Lower,
        gate: None,
    },
    Metric {
        name: "target RSS max",
        get: |r| r.process.target.as_ref().map(|p| p.rss_mib.max),
        show: mib,
        better: Better::Lower,
        gate: None,
    },
    Metric {
        name: "leak slope",
        get: |r| r.leak.as_ref().map(|l| l.slope_mib_per_h),
        show: mib_h,
        better: Better::Lower,
        gate: Some("rss_slope"),
    },
    Metric {
        name: "max sustainable",
        get: |r| r.capacity.as_ref().and_then(|c| c.max_sustainable_rps),
        show: rps,
        better: Better::Higher,
        gate: None,
    },
    Metric {
        name: "spike recovery",
        get: |r| r.spike.as_ref().and_then(|s| s.recovery_s),
        show: |v| format!("{v:.0} s"),
        better: Better::Lower,
        gate: None,
    },
];

/// How a value compares with the first run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Better,
    Worse,
    /// Within noise by the gate's statistics, or, for a row the gate does
    /// not judge, under 1%.
    Same,
    Neither,
}

/// The direction the gate's verdict gives a row, where it judged it.
pub fn judged(v: &crate::gate::MetricVerdict) -> Option<Direction> {
    use crate::gate::Verdict;
    match v.verdict {
        Verdict::Regressed => Some(Direction::Worse),
        Verdict::Improved => Some(Direction::Better),
        Verdict::Unchanged => Some(Direction::Same),
        _ => None,
    }
}

/// The relative change from `base` to `v` and whether it is for the
/// better. `None` when there is no base to compare with.
pub fn delta(m: &Metric, base: f64, v: f64) -> Option<(f64, Direction)> {
    if base == 0.0 {
        return (v == 0.0).then_some((0.0, Direction::Same));
    }
    let rel = (v - base) / base.abs();
    let dir = if rel.abs() < 0.01 {
        Direction::Same
    } else {
        match (m.better, rel > 0.0) {
            (Better::Neither, _) => Direction::Neither,
            (Better::Lower, true) | (Better::Higher, false) => Direction::Worse,
            (Better::Lower, false) | (Better::Higher, true) => Direction::Better,
        }
    };
    Some((rel, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str) -> &'static Metric {
        METRICS.iter().find(|m| m.name == name).unwrap()
    }

    #[test]
    fn directions_follow_the_metric() {
        let p95 = metric("latency p95");
        assert_eq!(delta(p95, 100.0, 120.0), Some((0.2, Direction::Worse)));
        assert_eq!(
            delta(p95, 100.0, 80.0).map(|d| d.1),
            Some(Direction::Better)
        );
        let tput = metric("throughput");
        assert_eq!(
            delta(tput, 100.0, 120.0).map(|d| d.1),
            Some(Direction::Better)
        );
        assert_eq!(
            delta(tput, 100.0, 80.0).map(|d| d.1),
            Some(Direction::Worse)
        );
        assert_eq!(
            delta(tput, 100.0, 100.5).map(|d| d.1),
            Some(Direction::Same)
        );
        let reqs = metric("requests");
        assert_eq!(
            delta(reqs, 100.0, 200.0).map(|d| d.1),
            Some(Direction::Neither)
        );
        assert_eq!(delta(p95, 0.0, 5.0), None);
    }
}
