//! Several runs of one scenario as one result (`genbench run --repeat N`):
//! histograms added, never percentiles averaged; counts summed; rates over
//! the summed windows. What cannot be pooled exactly is left out rather
//! than guessed: the per-request token distributions, cache latencies by
//! status, target processes and the analyses (each run keeps its own).

use std::collections::BTreeMap;

use base64::Engine as _;
use genbench_model::{
    CacheStats, Cost, Errors, LlmMetrics, RequestCounts, RunResult, RunStatus, StageSummaryMs,
};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;

use crate::summary::{encode_histogram, hit_rate, latency_ms};

/// Why runs cannot be pooled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    #[error("nothing to pool")]
    Empty,
    #[error("run {0} has a histogram that does not decode")]
    BadHistogram(usize),
    #[error("the parts do not match: {0}")]
    Mismatch(String),
}

/// A histogram from `histograms.*` in results.json.
pub fn decode_histogram(b64: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Deserializer::new().deserialize(&mut &bytes[..]).ok()
}

/// The sum of each run's histogram; `None` when no run has one.
fn added<'a>(
    encoded: impl Iterator<Item = Option<&'a str>>,
) -> Result<Option<Histogram<u64>>, PoolError> {
    let mut sum: Option<Histogram<u64>> = None;
    for (i, e) in encoded.enumerate() {
        let Some(e) = e else { continue };
        let h = decode_histogram(e).ok_or(PoolError::BadHistogram(i + 1))?;
        match &mut sum {
            Some(s) => s.add(&h).map_err(|_| PoolError::BadHistogram(i + 1))?,
            None => sum = Some(h),
        }
    }
    Ok(sum)
}

/// Seconds of load a run's throughput was measured over.
pub(crate) fn window_s(r: &RunResult) -> f64 {
    if r.throughput_rps > 0.0 {
        r.requests.total as f64 / r.throughput_rps
    } else {
        0.0
    }
}

pub(crate) fn per_s(n: f64, s: f64) -> f64 {
    if s > 0.0 { n / s } else { 0.0 }
}

/// One result for `runs`, which the caller has checked are of one scenario.
/// Thresholds are left empty for the caller to judge on the pooled numbers.
pub fn pool(runs: &[RunResult]) -> Result<RunResult, PoolError> {
    let first = runs.first().ok_or(PoolError::Empty)?;
    let mut r = RunResult::new(
        &first.tool_version,
        first.scenario.clone(),
        first.target.clone(),
        first.started_at.clone(),
    );
    r.host = first.host.clone();
    r.status = if runs.iter().all(|x| x.status == RunStatus::Completed) {
        RunStatus::Completed
    } else {
        RunStatus::Interrupted
    };
    let sum = |f: fn(&RunResult) -> u64| runs.iter().map(f).sum::<u64>();
    r.duration_s = runs.iter().map(|x| x.duration_s).sum();
    r.requests = RequestCounts {
        total: sum(|x| x.requests.total),
        ok: sum(|x| x.requests.ok),
        failed: sum(|x| x.requests.failed),
        abandoned: sum(|x| x.requests.abandoned),
        abandoned_unanswered: sum(|x| x.requests.abandoned_unanswered),
        abandoned_cancelled: sum(|x| x.requests.abandoned_cancelled),
    };
    let window: f64 = runs.iter().map(window_s).sum();
    r.throughput_rps = per_s(r.requests.total as f64, window);
    r.completions_rps = Some(per_s(r.requests.ok as f64, r.duration_s));
    let refs: Vec<&RunResult> = runs.iter().collect();
    pool_histograms(&mut r, &refs)?;
    r.errors = pool_errors(&refs, r.requests.total);
    r.llm = pool_llm(&refs, &r, window);
    r.cache = pool_cache(&refs);
    r.cost = pool_cost(&refs);
    r.timeline = timeline(runs);
    Ok(r)
}

pub(crate) fn pool_histograms(r: &mut RunResult, runs: &[&RunResult]) -> Result<(), PoolError> {
    let h = |f: fn(&RunResult) -> Option<&str>| added(runs.iter().map(|x| f(x)));
    let latency = h(|x| x.histograms.latency_us.as_deref())?;
    let ttfb = h(|x| x.histograms.ttfb_us.as_deref())?;
    let gaps = h(|x| x.histograms.chunk_gap_us.as_deref())?;
    let summary = |h: &Option<Histogram<u64>>| h.as_ref().and_then(latency_ms);
    let encode = |h: &Option<Histogram<u64>>| h.as_ref().and_then(encode_histogram);
    (r.latency_ms, r.ttfb_ms, r.chunk_gap_ms) = (summary(&latency), summary(&ttfb), summary(&gaps));
    r.histograms.latency_us = encode(&latency);
    r.histograms.ttfb_us = encode(&ttfb);
    r.histograms.chunk_gap_us = encode(&gaps);
    for (field, get) in [
        (
            &mut r.histograms.ttft_us,
            (|x: &RunResult| x.histograms.ttft_us.as_deref()) as fn(&RunResult) -> Option<&str>,
        ),
        (&mut r.histograms.tpot_us, |x| {
            x.histograms.tpot_us.as_deref()
        }),
        (&mut r.histograms.itl_us, |x| x.histograms.itl_us.as_deref()),
    ] {
        *field = encode(&added(runs.iter().map(|x| get(x)))?);
    }
    let names: std::collections::BTreeSet<&String> = runs
        .iter()
        .flat_map(|x| x.histograms.stages_us.keys())
        .collect();
    for name in names {
        let Some(hist) = added(
            runs.iter()
                .map(|x| x.histograms.stages_us.get(name).map(String::as_str)),
        )?
        else {
            continue;
        };
        if let Some(e) = encode_histogram(&hist) {
            r.histograms.stages_us.insert(name.clone(), e);
        }
        if !hist.is_empty() {
            let ms = |us: u64| us as f64 / 1000.0;
            r.stages.insert(
                name.clone(),
                StageSummaryMs {
                    mean: hist.mean() / 1000.0,
                    p50: ms(hist.value_at_quantile(0.5)),
                    p95: ms(hist.value_at_quantile(0.95)),
                    p99: ms(hist.value_at_quantile(0.99)),
                    count: hist.len(),
                    source: None,
                },
            );
        }
    }
    Ok(())
}

pub(crate) fn pool_errors(runs: &[&RunResult], total: u64) -> Errors {
    let mut e = Errors::default();
    let mut failed = 0;
    for x in runs {
        for (k, n) in &x.errors.by_kind {
            *e.by_kind.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &x.errors.by_check {
            *e.by_check.entry(k.clone()).or_default() += n;
        }
        failed += x.requests.failed;
    }
    e.rate = if total > 0 {
        failed as f64 / total as f64
    } else {
        0.0
    };
    e
}

pub(crate) fn pool_llm(runs: &[&RunResult], r: &RunResult, window: f64) -> Option<LlmMetrics> {
    let all: Vec<&LlmMetrics> = runs.iter().filter_map(|x| x.llm.as_ref()).collect();
    if all.is_empty() {
        return None;
    }
    let sum = |f: fn(&LlmMetrics) -> u64| all.iter().map(|m| f(m)).sum::<u64>();
    let summary = |b64: &Option<String>| {
        b64.as_deref()
            .and_then(decode_histogram)
            .and_then(|h| latency_ms(&h))
    };
    let output_tokens = sum(|m| m.output_tokens);
    Some(LlmMetrics {
        streams: sum(|m| m.streams),
        ttft_ms: summary(&r.histograms.ttft_us),
        tpot_ms: summary(&r.histograms.tpot_us),
        itl_ms: summary(&r.histograms.itl_us),
        output_tokens,
        // Per-request distributions have no histogram in results.json.
        output_tokens_per_request: None,
        tokens_from_usage: sum(|m| m.tokens_from_usage),
        tokens_counted: sum(|m| m.tokens_counted),
        output_tps: per_s(output_tokens as f64, window),
        output_tps_per_request: None,
    })
}

pub(crate) fn pool_cache(runs: &[&RunResult]) -> Option<CacheStats> {
    let all: Vec<&CacheStats> = runs.iter().filter_map(|x| x.cache.as_ref()).collect();
    let first = all.first()?;
    let hits = all.iter().map(|c| c.hits).sum();
    let misses = all.iter().map(|c| c.misses).sum();
    Some(CacheStats {
        hits,
        misses,
        hit_rate: hit_rate(hits, misses),
        source: first.source.clone(),
        latency_hit_ms: None,
        latency_miss_ms: None,
    })
}

pub(crate) fn pool_cost(runs: &[&RunResult]) -> Option<Cost> {
    let all: Vec<&Cost> = runs.iter().filter_map(|x| x.cost.as_ref()).collect();
    let first = all.first()?;
    let mut c = Cost {
        total_usd: 0.0,
        per_article_usd: None,
        tokens: Default::default(),
        by_model: BTreeMap::new(),
        search_calls: 0,
        source: first.source.clone(),
        search_usd: 0.0,
        tokens_per_article: None,
        articles: 0,
        unpriced: None,
        abandoned: None,
    };
    for x in &all {
        if let Some(a) = &x.abandoned {
            let p = c.abandoned.get_or_insert_with(Default::default);
            p.calls += a.calls;
            p.usd += a.usd;
            p.tokens.prompt += a.tokens.prompt;
            p.tokens.completion += a.tokens.completion;
            p.tokens.cached_prompt += a.tokens.cached_prompt;
        }
        c.total_usd += x.total_usd;
        c.search_usd += x.search_usd;
        c.search_calls += x.search_calls;
        c.articles += x.articles;
        c.tokens.prompt += x.tokens.prompt;
        c.tokens.completion += x.tokens.completion;
        c.tokens.cached_prompt += x.tokens.cached_prompt;
        for (m, usd) in &x.by_model {
            *c.by_model.entry(m.clone()).or_default() += usd;
        }
    }
    if c.articles > 0 {
        let n = c.articles as f64;
        c.per_article_usd = Some(c.total_usd / n);
        c.tokens_per_article = Some((c.tokens.prompt + c.tokens.completion) as f64 / n);
    }
    Some(c)
}

/// The runs one after another: each run's seconds offset by the runs
/// before it.
fn timeline(runs: &[RunResult]) -> Vec<genbench_model::TimelinePoint> {
    let mut offset = 0.0;
    let mut out = Vec::new();
    for x in runs {
        out.extend(x.timeline.iter().map(|p| {
            let mut p = *p;
            p.t_s += offset;
            p
        }));
        offset += x.duration_s;
    }
    out
}

#[cfg(test)]
mod tests {
    use genbench_model::{TargetKind, TimelinePoint};

    use super::*;

    fn hist(values: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    fn run(lat: std::ops::Range<u64>, failed: u64, usd: f64) -> RunResult {
        let mut r = RunResult::example("ci", genbench_model::ScenarioKind::Baseline);
        r.scenario.seed = Some(7);
        r.target.kind = TargetKind::Embedded;
        r.target.mock_time_scale = Some(1.0);
        let n = lat.end - lat.start;
        r.status = RunStatus::Completed;
        r.duration_s = 10.0;
        r.throughput_rps = n as f64 / 10.0;
        r.requests = RequestCounts {
            total: n,
            ok: n - failed,
            failed,
            ..Default::default()
        };
        r.errors.by_kind.insert("timeout".into(), failed);
        r.histograms.latency_us = encode_histogram(&hist(lat.clone()));
        r.histograms.stages_us.insert(
            "llm".into(),
            encode_histogram(&hist(lat.map(|v| v / 2))).unwrap(),
        );
        r.cost = Some(Cost {
            total_usd: usd,
            per_article_usd: Some(usd / (n - failed) as f64),
            tokens: genbench_model::TokenCounts {
                prompt: 100 * (n - failed),
                completion: 10 * (n - failed),
                cached_prompt: 0,
            },
            by_model: BTreeMap::from([("gpt-4o-mini".into(), usd)]),
            search_calls: 0,
            source: "mock_ledger".into(),
            search_usd: 0.0,
            tokens_per_article: Some(110.0),
            articles: n - failed,
            unpriced: None,
            abandoned: None,
        });
        r.timeline = vec![TimelinePoint {
            t_s: 1.0,
            ..Default::default()
        }];
        r
    }

    #[test]
    fn pooled_histograms_hold_every_run_s_values() {
        let (a, b) = (run(1000..2000, 0, 1.0), run(5000..5500, 100, 2.0));
        let p = pool(&[a, b]).unwrap();
        let whole = hist((1000..2000).chain(5000..5500));
        let got = decode_histogram(p.histograms.latency_us.as_deref().unwrap()).unwrap();
        assert_eq!(got, whole);
        assert_eq!(p.latency_ms, latency_ms(&whole));
        assert_eq!(p.stages["llm"].count, 1500);
        assert_eq!(p.requests.total, 1500);
        assert_eq!(p.requests.failed, 100);
        assert_eq!(p.errors.by_kind["timeout"], 100);
        assert!((p.errors.rate - 100.0 / 1500.0).abs() < 1e-12);
        assert!(
            (p.throughput_rps - 75.0).abs() < 1e-9,
            "{}",
            p.throughput_rps
        );
        let c = p.cost.unwrap();
        assert_eq!(c.articles, 1400);
        assert_eq!(c.per_article_usd, Some(3.0 / 1400.0));
        assert_eq!(c.tokens_per_article, Some(110.0));
        assert_eq!(c.by_model["gpt-4o-mini"], 3.0);
        let t: Vec<f64> = p.timeline.iter().map(|x| x.t_s).collect();
        assert_eq!(t, [1.0, 11.0]);
        assert_eq!(p.status, RunStatus::Completed);
    }

    #[test]
    fn nothing_or_garbage_is_an_error() {
        assert_eq!(pool(&[]).unwrap_err(), PoolError::Empty);
        let mut bad = run(1..10, 0, 0.0);
        bad.histograms.latency_us = Some("not base64!".into());
        assert_eq!(
            pool(&[run(1..10, 0, 0.0), bad]).unwrap_err(),
            PoolError::BadHistogram(2)
        );
    }
}
