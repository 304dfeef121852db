//! The segments of one run (`genbench run --segment I/N`, sent side by
//! side from one start instant) as the one result a single machine would
//! have measured: histograms added, never percentiles averaged; counts
//! summed; rates over the common load window; timelines aligned by wall
//! clock, each second's percentiles from the parts' histograms of that
//! second; flows' recordings added and summarised again. Each part's
//! `offset_s` is how long after the earliest part it started. What the
//! parts cannot give exactly is left out: per-second hit rates, send lag.
//! The analyses, which need the scenario's windows, are the caller's.

use std::collections::BTreeMap;
use std::time::Duration;

use genbench_model::{
    CacheStats, Cost, FlowsResult, Goodput, Histograms, MAX_POINTS, RunResult, RunStatus,
    TargetKind, TimelinePoint,
};

use crate::flows::FlowStats;
use crate::pool::{
    PoolError, pool_cache, pool_cost, pool_errors, pool_histograms, pool_llm, window_s,
};
use hdrhistogram::Histogram;

use crate::summary::hit_rate;

/// One segment's result and when it started.
pub struct Part<'a> {
    pub result: &'a RunResult,
    /// Seconds after the earliest part's start.
    pub offset_s: f64,
}

/// Each merged second's latency histogram (the parts' of that second
/// added), by its timeline `t_s`, for the seconds' percentiles.
pub type Seconds = BTreeMap<i64, Histogram<u64>>;

/// The second of the merged timeline that a part's second starting
/// `start_s` into it falls in: the timeline's point for [k, k+1) is k + 1.
pub fn second_of(offset_s: f64, start_s: f64) -> i64 {
    (offset_s + start_s + 1.0).round() as i64
}

/// One result for `parts`, which the caller has checked are the segments
/// of one run; `seconds`, when every part's were read, gives each merged
/// second its percentiles. Thresholds are left for the caller to judge.
pub fn merge(parts: &[Part<'_>], seconds: Option<&Seconds>) -> Result<RunResult, PoolError> {
    let first = parts.first().ok_or(PoolError::Empty)?.result;
    // The parts are borrowed, never copied: 100 of them are tens of MiB.
    let runs: Vec<&RunResult> = parts.iter().map(|p| p.result).collect();
    let mut r = RunResult::new(
        &first.tool_version,
        first.scenario.clone(),
        first.target.clone(),
        parts
            .iter()
            .min_by(|a, b| a.offset_s.total_cmp(&b.offset_s))
            .map_or(first.started_at.clone(), |p| p.result.started_at.clone()),
    );
    r.host = first.host.clone();
    r.status = if runs.iter().all(|x| x.status == RunStatus::Completed) {
        RunStatus::Completed
    } else if runs.iter().any(|x| x.status == RunStatus::Aborted) {
        RunStatus::Aborted
    } else {
        RunStatus::Interrupted
    };
    // The earliest abort on the merged clock.
    r.abort = parts
        .iter()
        .filter_map(|p| {
            let a = p.result.abort.as_ref()?;
            Some(genbench_model::AbortInfo {
                at_s: a.at_s + p.offset_s,
                rule: a.rule.clone(),
            })
        })
        .min_by(|a, b| a.at_s.total_cmp(&b.at_s));
    r.duration_s = parts
        .iter()
        .map(|p| p.offset_s + p.result.duration_s)
        .fold(0.0, f64::max);
    let sum = |f: fn(&RunResult) -> u64| runs.iter().map(|x| f(x)).sum::<u64>();
    r.requests.total = sum(|x| x.requests.total);
    r.requests.ok = sum(|x| x.requests.ok);
    r.requests.failed = sum(|x| x.requests.failed);
    // The segments share one load window: the planned stages.
    let window = runs.iter().map(|x| window_s(x)).fold(0.0, f64::max);
    let per = |n: u64, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    r.throughput_rps = per(r.requests.total, window);
    r.completions_rps = Some(per(r.requests.ok, r.duration_s));
    pool_histograms(&mut r, &runs)?;
    r.errors = pool_errors(&runs, r.requests.total);
    r.llm = pool_llm(&runs, &r, window);
    r.cache = pool_cache(&runs);
    r.caches = named_caches(&runs);
    r.cost = cost(&runs);
    r.goodput = goodput(&runs, r.requests.total, window);
    r.flows = flows(parts, r.duration_s, &mut r.histograms)?;
    r.timeline = timeline(parts, seconds);
    r.outages = crate::outages::outages(&r.timeline);
    r.points = points(parts);
    r.series = first.series.clone();
    r.process.target = first.process.target.clone();
    Ok(r)
}

fn named_caches(runs: &[&RunResult]) -> BTreeMap<String, CacheStats> {
    let mut out: BTreeMap<String, CacheStats> = BTreeMap::new();
    for (name, c) in runs.iter().flat_map(|x| &x.caches) {
        let m = out.entry(name.clone()).or_insert_with(|| CacheStats {
            hits: 0,
            misses: 0,
            hit_rate: None,
            source: c.source.clone(),
            latency_hit_ms: None,
            latency_miss_ms: None,
        });
        m.hits += c.hits;
        m.misses += c.misses;
        m.hit_rate = hit_rate(m.hits, m.misses);
    }
    out
}

fn goodput(runs: &[&RunResult], total: u64, window_s: f64) -> Option<Goodput> {
    let first = runs.iter().find_map(|x| x.goodput.as_ref())?;
    let met = runs
        .iter()
        .filter_map(|x| x.goodput.as_ref())
        .map(|g| g.met)
        .sum();
    Some(Goodput {
        objectives: first.objectives,
        met,
        share: if total > 0 {
            met as f64 / total as f64
        } else {
            0.0
        },
        rps: if window_s > 0.0 {
            met as f64 / window_s
        } else {
            0.0
        },
    })
}

/// Every part's flow recording added, summarised as a run summarises its
/// own; the merged histograms into `h`.
fn flows(
    parts: &[Part<'_>],
    duration_s: f64,
    h: &mut Histograms,
) -> Result<Option<FlowsResult>, PoolError> {
    let mut total: Option<(FlowStats, &FlowsResult)> = None;
    let (mut unfinished, mut poll) = (0, None::<f64>);
    for p in parts {
        let Some(f) = &p.result.flows else { continue };
        let stats = FlowStats::decode(f, &p.result.histograms, p.offset_s)?;
        match &mut total {
            Some((t, _)) => t.merge(&stats),
            None => total = Some((stats, f)),
        }
        unfinished += f.unfinished;
        poll = match (poll, f.poll_interval_s) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let Some((stats, first)) = total else {
        return Ok(None);
    };
    let names: Vec<String> = first.steps.iter().map(|s| s.name.clone()).collect();
    stats.encode(&names, h);
    let poll = poll.map(Duration::from_secs_f64);
    let duration = Duration::from_secs_f64(duration_s.max(0.0));
    Ok(Some(stats.result(&names, duration, unfinished, poll)))
}

/// Usage priced from responses adds up, and so do the ledgers of embedded
/// targets (each segment had its own mock). A shared ledger does not: every
/// segment of an external target read the same one, before waiting for the
/// start instant and after its drain, so each saw the spend of all the
/// segments that sent inside its window, and the widest reading (the
/// largest) is the whole run's.
fn cost(runs: &[&RunResult]) -> Option<Cost> {
    let all: Vec<&Cost> = runs.iter().filter_map(|x| x.cost.as_ref()).collect();
    let shared = runs.iter().all(|x| x.target.kind == TargetKind::External)
        && all.iter().all(|c| c.source == "mock_ledger");
    if !shared {
        return pool_cost(runs);
    }
    let widest = all
        .iter()
        .max_by(|a, b| a.total_usd.total_cmp(&b.total_usd))?;
    let mut c = (*widest).clone();
    c.articles = all.iter().map(|x| x.articles).sum();
    c.source = "mock_ledger (the widest of the segments' readings)".into();
    if c.articles > 0 {
        let n = c.articles as f64;
        c.per_article_usd = Some(c.total_usd / n);
        c.tokens_per_article = Some((c.tokens.prompt + c.tokens.completion) as f64 / n);
    }
    Some(c)
}

/// Every part's seconds on one wall clock: counts and rates of one second
/// add up, and its percentiles come from the parts' histograms of that
/// second added, when every part's interval log was read (else none).
fn timeline(parts: &[Part<'_>], seconds: Option<&Seconds>) -> Vec<TimelinePoint> {
    let mut points = counts_by_second(parts);
    let Some(by_s) = seconds else {
        return points;
    };
    for p in &mut points {
        if let Some(h) = by_s.get(&(p.t_s as i64)).filter(|h| !h.is_empty()) {
            let q = |x: f64| Some(h.value_at_quantile(x) as f64 / 1000.0);
            (p.p50_ms, p.p95_ms, p.p99_ms) = (q(0.5), q(0.95), q(0.99));
        }
    }
    points
}

fn counts_by_second(parts: &[Part<'_>]) -> Vec<TimelinePoint> {
    let mut by_s: BTreeMap<i64, TimelinePoint> = BTreeMap::new();
    for p in parts {
        for x in &p.result.timeline {
            let t = second_of(p.offset_s, x.t_s - 1.0) as f64;
            let m = by_s.entry(t as i64).or_insert_with(|| TimelinePoint {
                t_s: t,
                ..Default::default()
            });
            m.rps += x.rps;
            m.errors += x.errors;
            m.in_flight += x.in_flight;
            m.target_rate = add(m.target_rate, x.target_rate);
            m.flows_completed = add(m.flows_completed, x.flows_completed);
            m.flows_failed = add(m.flows_failed, x.flows_failed);
        }
    }
    by_s.into_values().collect()
}

/// The sum of two optional figures; none when neither part has one.
fn add<T: std::ops::Add<Output = T> + Default>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
    }
}

fn points(parts: &[Part<'_>]) -> Option<Vec<genbench_model::RequestPoint>> {
    let mut out = Vec::new();
    for p in parts {
        for x in p.result.points.as_ref()? {
            let mut x = *x;
            x.t_s += p.offset_s;
            out.push(x);
        }
    }
    if out.len() > MAX_POINTS {
        return None;
    }
    out.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    Some(out)
}

#[cfg(test)]
mod tests {
    use genbench_model::{ScenarioKind, TokenCounts};
    use hdrhistogram::Histogram;

    use super::*;
    use crate::pool::decode_histogram;
    use crate::summary::encode_histogram;

    fn part(lat: std::ops::Range<u64>, kind: TargetKind, usd: f64) -> RunResult {
        let mut r = RunResult::example("s", ScenarioKind::Stress);
        r.scenario.seed = Some(1);
        r.target.kind = kind;
        let n = lat.end - lat.start;
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        lat.for_each(|v| h.record(v).unwrap());
        r.status = RunStatus::Completed;
        r.duration_s = 10.0;
        r.throughput_rps = n as f64 / 10.0;
        r.requests.total = n;
        r.requests.ok = n;
        r.histograms.latency_us = encode_histogram(&h);
        r.timeline = (1..=10)
            .map(|t| TimelinePoint {
                t_s: f64::from(t),
                rps: 1.0,
                target_rate: Some(1.0),
                ..Default::default()
            })
            .collect();
        r.cost = Some(Cost {
            total_usd: usd,
            per_article_usd: None,
            tokens: TokenCounts::default(),
            by_model: BTreeMap::new(),
            search_calls: 0,
            source: "mock_ledger".into(),
            search_usd: 0.0,
            tokens_per_article: None,
            articles: n,
            unpriced: None,
            abandoned: None,
        });
        r
    }

    #[test]
    fn parts_side_by_side_make_one_run() {
        let (a, b) = (
            part(1000..2000, TargetKind::External, 3.0),
            part(5000..6000, TargetKind::External, 2.9),
        );
        let parts = [
            Part {
                result: &a,
                offset_s: 0.0,
            },
            Part {
                result: &b,
                offset_s: 0.4,
            },
        ];
        // The first second: one request of each part.
        let mut first = Histogram::<u64>::new(3).unwrap();
        first.record(1000).unwrap();
        first.record(9000).unwrap();
        assert_eq!((second_of(0.0, 0.0), second_of(0.4, 0.0)), (1, 1));
        let seconds = Seconds::from([(1, first)]);
        let m = merge(&parts, Some(&seconds)).unwrap();
        let h = decode_histogram(m.histograms.latency_us.as_deref().unwrap()).unwrap();
        assert_eq!(h.len(), 2000);
        assert_eq!(
            h.value_at_quantile(0.25),
            decode_histogram(a.histograms.latency_us.as_deref().unwrap())
                .unwrap()
                .value_at_quantile(0.5)
        );
        // Side by side: one 10 s window, not two.
        assert_eq!(m.throughput_rps, 200.0);
        assert!((m.duration_s - 10.4).abs() < 1e-9);
        // Seconds on one clock: a part 0.4 s late lands in the same seconds.
        assert_eq!(m.timeline.len(), 10);
        assert!(
            m.timeline
                .iter()
                .all(|p| p.rps == 2.0 && p.target_rate == Some(2.0))
        );
        // The first second's percentiles: both parts' requests in it.
        let p = &m.timeline[0];
        assert_eq!(
            (p.p50_ms.map(f64::round), p.p99_ms.map(f64::round)),
            (Some(1.0), Some(9.0))
        );
        assert_eq!(m.timeline[1].p50_ms, None);
        // A shared ledger: the widest reading, over every part's articles.
        let c = m.cost.unwrap();
        assert_eq!((c.total_usd, c.articles), (3.0, 2000));
        assert_eq!(c.per_article_usd, Some(3.0 / 2000.0));
        // Embedded targets had a ledger each: they add up.
        let (a, b) = (
            part(1..10, TargetKind::Embedded, 1.0),
            part(1..10, TargetKind::Embedded, 2.0),
        );
        let part = |r| Part {
            result: r,
            offset_s: 0.0,
        };
        let m = merge(&[part(&a), part(&b)], None).unwrap();
        assert_eq!(m.cost.unwrap().total_usd, 3.0);
    }
}
