//! k6-style thresholds: `"p95 < 15s"`, `"error_rate < 1%"`,
//! `"cost_per_article < $0.05"`, `"rss_growth < 10MiB/h"`. Parsed once into
//! canonical units so checking a result is a comparison.

use serde::Serialize;

use crate::duration::parse_duration;

/// What a threshold looks at, with the unit its value is held in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Latency percentile or statistic, milliseconds.
    Latency(LatencyStat),
    /// Time to first body byte, milliseconds.
    Ttfb(LatencyStat),
    /// Time to the first content event of an LLM stream, milliseconds.
    Ttft(LatencyStat),
    /// Time per output token after the first, milliseconds.
    Tpot(LatencyStat),
    /// Gap between consecutive content events, milliseconds.
    Itl(LatencyStat),
    /// Fraction of requests meeting every `[slo]` objective, 0 to 1.
    Goodput,
    /// Requests meeting every `[slo]` objective, per second.
    GoodputRps,
    /// Output tokens per second over the whole run.
    OutputTps,
    /// Fraction of requests failed, 0 to 1.
    ErrorRate,
    /// Fraction of requests the client gave up on (`[load]
    /// abandon_after`, `[load.cancel]`), 0 to 1.
    AbandonRate,
    /// Fraction of cache hits, 0 to 1.
    CacheHitRate,
    /// Requests per second over the load window.
    ThroughputRps,
    /// Successful responses per second over the measured window.
    CompletionsRps,
    /// US dollars per article.
    CostPerArticle,
    /// Target RSS slope, MiB per hour.
    RssGrowth,
    /// A flow's latency from its start to its last answer, milliseconds.
    Flow(LatencyStat),
    /// Fraction of ended flows that failed, 0 to 1.
    FlowErrorRate,
    /// Completed flows per hour.
    FlowsPerHour,
    /// A `[collect.metrics]` series, by [`Threshold::series`]: its
    /// largest, smallest, mean or last reading, in its own unit.
    Series(SeriesStat),
}

/// How a series is reduced to one number: `max(queue_depth) < 100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesStat {
    Max,
    Min,
    Mean,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyStat {
    Mean,
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
}

impl LatencyStat {
    /// This statistic of a latency summary.
    pub fn of(self, s: &genbench_model::LatencySummaryMs) -> f64 {
        match self {
            LatencyStat::Mean => s.mean,
            LatencyStat::P50 => s.p50,
            LatencyStat::P90 => s.p90,
            LatencyStat::P95 => s.p95,
            LatencyStat::P99 => s.p99,
            LatencyStat::P999 => s.p999,
            LatencyStat::Max => s.max,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// As written, for reports.
    pub expr: String,
    pub metric: Metric,
    /// The series a [`Metric::Series`] threshold reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    pub op: Op,
    /// In the metric's canonical unit.
    pub value: f64,
}

impl Threshold {
    pub fn passes(&self, observed: f64) -> bool {
        match self.op {
            Op::Lt => observed < self.value,
            Op::Le => observed <= self.value,
            Op::Gt => observed > self.value,
            Op::Ge => observed >= self.value,
        }
    }
}

const METRICS_HELP: &str = "metrics: p50 p90 p95 p99 p999 mean max (latency), ttfb_p50 … ttfb_max, \
ttft_p50 …, tpot_p50 …, itl_p50 … (LLM streams), goodput, goodput_rps, output_tps, error_rate, \
abandon_rate, cache_hit_rate, throughput_rps, completions_rps, cost_per_article, rss_growth, \
flow_p50 … flow_max, flow_error_rate, flows_per_hour ([[flow.steps]] scenarios), and max(NAME) min(NAME) mean(NAME) last(NAME) of a [collect.metrics] series";

fn latency_stat(s: &str) -> Option<LatencyStat> {
    Some(match s {
        "mean" => LatencyStat::Mean,
        "p50" => LatencyStat::P50,
        "p90" => LatencyStat::P90,
        "p95" => LatencyStat::P95,
        "p99" => LatencyStat::P99,
        "p999" => LatencyStat::P999,
        "max" => LatencyStat::Max,
        _ => return None,
    })
}

fn metric(s: &str) -> Result<Metric, String> {
    if let Some(l) = latency_stat(s) {
        return Ok(Metric::Latency(l));
    }
    type Timed = fn(LatencyStat) -> Metric;
    let timed: [(&str, Timed); 5] = [
        ("flow_", Metric::Flow),
        ("ttfb_", Metric::Ttfb),
        ("ttft_", Metric::Ttft),
        ("tpot_", Metric::Tpot),
        ("itl_", Metric::Itl),
    ];
    for (prefix, m) in timed {
        if let Some(l) = s.strip_prefix(prefix).and_then(latency_stat) {
            return Ok(m(l));
        }
    }
    Ok(match s {
        "error_rate" => Metric::ErrorRate,
        "abandon_rate" => Metric::AbandonRate,
        "cache_hit_rate" => Metric::CacheHitRate,
        "throughput_rps" | "rps" => Metric::ThroughputRps,
        "completions_rps" => Metric::CompletionsRps,
        "goodput" => Metric::Goodput,
        "goodput_rps" => Metric::GoodputRps,
        "output_tps" => Metric::OutputTps,
        "cost_per_article" => Metric::CostPerArticle,
        "rss_growth" => Metric::RssGrowth,
        "flow_error_rate" => Metric::FlowErrorRate,
        "flows_per_hour" => Metric::FlowsPerHour,
        _ => return Err(format!("unknown metric `{s}`; {METRICS_HELP}")),
    })
}

/// `max(queue_depth)` and its kin; `None` when `s` is not a call.
fn series(s: &str) -> Result<Option<(SeriesStat, String)>, String> {
    let Some((f, rest)) = s.split_once('(') else {
        return Ok(None);
    };
    let stat = match f.trim() {
        "max" => SeriesStat::Max,
        "min" => SeriesStat::Min,
        "mean" => SeriesStat::Mean,
        "last" => SeriesStat::Last,
        other => {
            return Err(format!(
                "`{other}(...)`: a series is read with max(NAME), min(NAME), mean(NAME) or last(NAME)"
            ));
        }
    };
    let name = rest
        .strip_suffix(')')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("`{s}`: write {f}(NAME) with a [collect.metrics] series name"))?;
    Ok(Some((stat, name.to_string())))
}

fn number(s: &str, what: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{s}` is not {what}"))
}

fn value(m: Metric, s: &str) -> Result<f64, String> {
    let s = s.trim();
    match m {
        Metric::Latency(_)
        | Metric::Ttfb(_)
        | Metric::Ttft(_)
        | Metric::Tpot(_)
        | Metric::Itl(_)
        | Metric::Flow(_) => parse_duration(s)
            .map(|d| d.as_secs_f64() * 1e3)
            .map_err(|e| format!("a latency threshold needs a duration: {e}")),
        Metric::ErrorRate
        | Metric::AbandonRate
        | Metric::CacheHitRate
        | Metric::Goodput
        | Metric::FlowErrorRate => match s.strip_suffix('%') {
            Some(p) => number(p, "a percentage like 1%").map(|v| v / 100.0),
            None => number(s, "a fraction like 0.01 or a percentage like 1%"),
        },
        Metric::ThroughputRps | Metric::CompletionsRps | Metric::GoodputRps => number(
            s.trim_end_matches("rps").trim_end_matches("/s"),
            "a rate like 50 or 50/s",
        ),
        Metric::OutputTps => number(
            s.trim_end_matches("tokens/s").trim_end_matches("/s"),
            "a rate of tokens like 1000 or 1000/s",
        ),
        Metric::CostPerArticle => number(s.trim_start_matches('$'), "a price like $0.05"),
        Metric::Series(_) => number(s, "a number in the series' own unit"),
        Metric::FlowsPerHour => number(
            s.trim_end_matches("/h").trim_end_matches("per hour").trim(),
            "a rate like 50 or 50/h",
        ),
        Metric::RssGrowth => {
            let v = s
                .strip_suffix("MiB/h")
                .or_else(|| s.strip_suffix("MB/h"))
                .ok_or_else(|| format!("`{s}`: write memory growth as MiB/h, e.g. 10MiB/h"))?;
            number(v, "a number of MiB/h")
        }
    }
}

/// Parses `"METRIC OP VALUE"`.
pub fn parse_threshold(expr: &str) -> Result<Threshold, String> {
    let ops = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
    let (pos, op_str, op) = ops
        .iter()
        .filter_map(|(t, op)| expr.find(t).map(|p| (p, *t, *op)))
        .min_by_key(|(p, t, _)| (*p, std::cmp::Reverse(t.len())))
        .ok_or_else(|| {
            format!("`{expr}` has no comparison; write e.g. \"p95 < 15s\" or \"error_rate < 1%\"")
        })?;
    let (m, series) = match series(expr[..pos].trim())? {
        Some((stat, name)) => (Metric::Series(stat), Some(name)),
        None => (metric(expr[..pos].trim())?, None),
    };
    let v = value(m, &expr[pos + op_str.len()..])?;
    Ok(Threshold {
        expr: expr.trim().to_string(),
        metric: m,
        series,
        op,
        value: v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_metric_into_canonical_units() {
        let t = parse_threshold("p95 < 15s").unwrap();
        assert_eq!(
            (t.metric, t.op, t.value),
            (Metric::Latency(LatencyStat::P95), Op::Lt, 15_000.0)
        );
        assert_eq!(parse_threshold("ttfb_p99 <= 800ms").unwrap().value, 800.0);
        assert_eq!(parse_threshold("error_rate < 1%").unwrap().value, 0.01);
        assert_eq!(parse_threshold("error_rate<0.5").unwrap().value, 0.5);
        let a = parse_threshold("abandon_rate < 2%").unwrap();
        assert_eq!((a.metric, a.value), (Metric::AbandonRate, 0.02));
        assert_eq!(
            parse_threshold("cost_per_article < $0.05").unwrap().value,
            0.05
        );
        assert_eq!(parse_threshold("rss_growth < 10MiB/h").unwrap().value, 10.0);
        let t = parse_threshold("throughput_rps >= 50").unwrap();
        assert_eq!((t.op, t.value), (Op::Ge, 50.0));
        let t = parse_threshold("ttft_p95 < 600ms").unwrap();
        assert_eq!((t.metric, t.value), (Metric::Ttft(LatencyStat::P95), 600.0));
        let t = parse_threshold("tpot_p95 < 50ms").unwrap();
        assert_eq!((t.metric, t.value), (Metric::Tpot(LatencyStat::P95), 50.0));
        assert_eq!(parse_threshold("itl_p99 < 0.1s").unwrap().value, 100.0);
        let t = parse_threshold("goodput >= 95%").unwrap();
        assert_eq!((t.metric, t.value), (Metric::Goodput, 0.95));
        assert_eq!(parse_threshold("goodput_rps > 2/s").unwrap().value, 2.0);
        let t = parse_threshold("output_tps >= 1500 tokens/s").unwrap();
        assert_eq!((t.metric, t.value), (Metric::OutputTps, 1500.0));
        assert_eq!(parse_threshold("completions_rps > 9").unwrap().value, 9.0);
        let t = parse_threshold("flow_p95 < 5m").unwrap();
        assert_eq!(
            (t.metric, t.value),
            (Metric::Flow(LatencyStat::P95), 300_000.0)
        );
        let t = parse_threshold("flow_error_rate < 1%").unwrap();
        assert_eq!((t.metric, t.value), (Metric::FlowErrorRate, 0.01));
        let t = parse_threshold("flows_per_hour > 50/h").unwrap();
        assert_eq!(
            (t.metric, t.op, t.value),
            (Metric::FlowsPerHour, Op::Gt, 50.0)
        );
    }

    #[test]
    fn series_thresholds_name_their_series() {
        let t = parse_threshold("max(queue_depth) < 100").unwrap();
        assert_eq!(
            (t.metric, t.series.as_deref(), t.value),
            (Metric::Series(SeriesStat::Max), Some("queue_depth"), 100.0)
        );
        let t = parse_threshold("mean( busy ) >= 0.5").unwrap();
        assert_eq!(t.series.as_deref(), Some("busy"));
        assert!(
            parse_threshold("p95(x) < 1")
                .unwrap_err()
                .contains("max(NAME)")
        );
        assert!(
            parse_threshold("max() < 1")
                .unwrap_err()
                .contains("series name")
        );
    }

    #[test]
    fn checks_compare_in_canonical_units() {
        let t = parse_threshold("p95 < 15s").unwrap();
        assert!(t.passes(14_999.0) && !t.passes(15_000.0));
        assert!(
            parse_threshold("cache_hit_rate >= 60%")
                .unwrap()
                .passes(0.6)
        );
    }

    #[test]
    fn errors_say_what_to_write() {
        assert!(
            parse_threshold("p95 15s")
                .unwrap_err()
                .contains("no comparison")
        );
        assert!(
            parse_threshold("p96 < 1s")
                .unwrap_err()
                .contains("unknown metric")
        );
        assert!(
            parse_threshold("p95 < 15")
                .unwrap_err()
                .contains("needs a unit")
        );
        assert!(
            parse_threshold("rss_growth < 10")
                .unwrap_err()
                .contains("MiB/h")
        );
        assert!(
            parse_threshold("error_rate < lots")
                .unwrap_err()
                .contains("fraction")
        );
    }
}
