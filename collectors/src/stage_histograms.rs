//! Per-stage time from the target's own Prometheus histogram
//! (`article_stage_seconds{stage="search"}`): what each stage did between
//! two readings, from the buckets' and `_sum`/`_count`'s differences. The
//! mean is exact (`_sum / _count`); percentiles are interpolated inside
//! the bucket they fall in, as PromQL's `histogram_quantile` does, and
//! are only as fine as the buckets. A summary (`quantile` labels) gives
//! its mean over the window and its quantiles as the service computed
//! them, over its own window.

use std::collections::BTreeMap;

use genbench_model::{StageSource, StageSummaryMs};

use crate::prometheus::lines;

/// One stage's cumulative reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageReading {
    /// (upper bound, cumulative count), ascending, `+Inf` last.
    pub buckets: Vec<(f64, f64)>,
    /// A summary's (quantile, value).
    pub quantiles: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

/// Every stage's reading, by the label's value.
pub type Reading = BTreeMap<String, StageReading>;

/// Distinct stages kept; a label with a value per request cannot grow
/// memory without bound.
const MAX_STAGES: usize = 64;

/// Milliseconds per unit of the metric, from its name.
pub fn ms_per_unit(name: &str) -> f64 {
    if name.ends_with("_milliseconds") || name.ends_with("_ms") {
        1.0
    } else if name.ends_with("_microseconds") || name.ends_with("_us") {
        0.001
    } else {
        // `_seconds`, and Prometheus' base unit when the name says none.
        1000.0
    }
}

/// Reads histogram (or summary) `name` from `text`, split by `label`.
pub fn read(text: &str, name: &str, label: &str) -> Reading {
    let mut out = Reading::new();
    for l in lines(text, name) {
        let Some(stage) = l.label(label) else {
            continue;
        };
        if !out.contains_key(&stage) && out.len() >= MAX_STAGES {
            continue;
        }
        let suffix = &l.name[name.len()..];
        let r = out.entry(stage).or_default();
        match suffix {
            "_bucket" => {
                let le = l.label("le").and_then(|v| match v.as_str() {
                    "+Inf" | "Inf" => Some(f64::INFINITY),
                    v => v.parse().ok(),
                });
                if let Some(le) = le {
                    r.buckets.push((le, l.value));
                }
            }
            "_sum" => r.sum = l.value,
            "_count" => r.count = l.value,
            "" => {
                if let Some(q) = l.label("quantile").and_then(|q| q.parse().ok()) {
                    r.quantiles.push((q, l.value));
                }
            }
            _ => {}
        }
    }
    for r in out.values_mut() {
        r.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        r.quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out.retain(|_, r| r.count > 0.0 || !r.buckets.is_empty());
    out
}

/// `q` of a distribution given as cumulative buckets, interpolated
/// linearly inside its bucket (the first bucket starts at 0; a quantile in
/// the `+Inf` bucket is the highest finite bound).
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, cum) in buckets {
        if cum >= rank && cum > prev.1 {
            if le.is_infinite() {
                return Some(prev.0);
            }
            let within = (rank - prev.1) / (cum - prev.1);
            return Some(prev.0 + (le - prev.0) * within);
        }
        prev = (le, cum);
    }
    Some(prev.0)
}

/// What each stage did between `before` and `after` (a counter that went
/// down, a restarted service, counts from zero), in ms.
pub fn stages(
    before: &Reading,
    after: &Reading,
    ms_per_unit: f64,
) -> BTreeMap<String, StageSummaryMs> {
    let mut out = BTreeMap::new();
    for (stage, a) in after {
        let b = before.get(stage).filter(|b| b.count <= a.count);
        let count = a.count - b.map_or(0.0, |b| b.count);
        if count <= 0.0 {
            continue;
        }
        let sum = a.sum - b.map_or(0.0, |b| b.sum);
        let buckets: Vec<(f64, f64)> = a
            .buckets
            .iter()
            .map(|&(le, cum)| {
                let was = b
                    .and_then(|b| b.buckets.iter().find(|x| x.0 == le))
                    .map_or(0.0, |x| x.1);
                (le, (cum - was).max(0.0))
            })
            .collect();
        let q = |p: f64| {
            let v = if buckets.is_empty() {
                a.quantiles
                    .iter()
                    .find(|x| (x.0 - p).abs() < 1e-9)
                    .map(|x| x.1)
            } else {
                quantile(&buckets, p)
            };
            v.map_or(f64::NAN, |v| v * ms_per_unit)
        };
        let s = StageSummaryMs {
            mean: sum / count * ms_per_unit,
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
            count: count.round() as u64,
            source: Some(StageSource::Prometheus),
        };
        out.insert(stage.clone(), s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(search: [u64; 4], sum: f64) -> String {
        let count = search[3];
        format!(
            "# TYPE article_stage_seconds histogram\n\
article_stage_seconds_bucket{{stage=\"search\",le=\"0.1\"}} {}\n\
article_stage_seconds_bucket{{stage=\"search\",le=\"0.2\"}} {}\n\
article_stage_seconds_bucket{{stage=\"search\",le=\"0.5\"}} {}\n\
article_stage_seconds_bucket{{stage=\"search\",le=\"+Inf\"}} {}\n\
article_stage_seconds_sum{{stage=\"search\"}} {sum}\n\
article_stage_seconds_count{{stage=\"search\"}} {count}\n\
article_stage_seconds_created{{stage=\"search\"}} 1.7e9\n",
            search[0], search[1], search[2], search[3]
        )
    }

    #[test]
    fn means_are_exact_and_percentiles_interpolated_in_the_window() {
        let before = read(&text([5, 5, 5, 5], 0.25), "article_stage_seconds", "stage");
        let after = read(
            &text([5, 15, 25, 25], 4.25),
            "article_stage_seconds",
            "stage",
        );
        let s = &stages(&before, &after, ms_per_unit("article_stage_seconds"))["search"];
        // 20 observations in the window, summing 4 s.
        assert_eq!(s.count, 20);
        assert!((s.mean - 200.0).abs() < 1e-9);
        // Rank 10 of 20: the last of the (0.1, 0.2] bucket's 10.
        assert!((s.p50 - 200.0).abs() < 1e-9, "{s:?}");
        // Rank 19 of 20: 9/10 of the way through (0.2, 0.5].
        assert!((s.p95 - 470.0).abs() < 1e-9, "{s:?}");
        assert_eq!(s.source, Some(StageSource::Prometheus));
    }

    #[test]
    fn units_summaries_and_resets() {
        assert_eq!(ms_per_unit("x_milliseconds"), 1.0);
        assert_eq!(ms_per_unit("x_seconds"), 1000.0);
        let summary = "lat_ms{stage=\"llm\",quantile=\"0.5\"} 800\nlat_ms{stage=\"llm\",quantile=\"0.95\"} 1500\nlat_ms{stage=\"llm\",quantile=\"0.99\"} 1900\nlat_ms_sum{stage=\"llm\"} 9000\nlat_ms_count{stage=\"llm\"} 10\n";
        let r = read(summary, "lat_ms", "stage");
        let s = &stages(&Reading::new(), &r, ms_per_unit("lat_ms"))["llm"];
        assert_eq!((s.count, s.mean, s.p50, s.p95), (10, 900.0, 800.0, 1500.0));
        // A service restarted between the readings: the later reading whole.
        let big = read(
            &text([50, 50, 50, 50], 5.0),
            "article_stage_seconds",
            "stage",
        );
        let small = read(&text([1, 2, 2, 2], 0.3), "article_stage_seconds", "stage");
        assert_eq!(stages(&big, &small, 1000.0)["search"].count, 2);
        assert!(quantile(&[(1.0, 0.0), (f64::INFINITY, 0.0)], 0.5).is_none());
        assert_eq!(
            quantile(&[(1.0, 0.0), (f64::INFINITY, 4.0)], 0.5),
            Some(1.0)
        );
    }
}
