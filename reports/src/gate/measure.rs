//! Each metric measured on both sides: the value shown for each side
//! (pooled over its runs), the change and its interval, and how the
//! interval was found.

use genbench_model::RunResult;
use serde::Serialize;

use super::blocks;
use super::stats::{Cdf, Diff, Obs, Rng, difference, variance};
use crate::hdr;

/// Bootstrap replicates per run and metric.
const DRAWS: usize = 2000;

/// What a change is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// A fraction of the baseline (0.12 is 12% more).
    Relative,
    /// In the metric's own unit (percentage points for a rate).
    Absolute,
}

/// How the interval of a change was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Runs resampled as blocks, and within them the pooled values (from
    /// the histograms).
    Bootstrap,
    /// As `Bootstrap`, with request i of every run on both sides drawn
    /// together: the same seeded request, so what it met on the way (the
    /// mocks' delays, the cache) cancels.
    Paired,
    /// Several runs a side, whose spread set the interval.
    BetweenRuns,
    /// Several runs a side that agreed more closely than one run's own
    /// sampling allows: that sampling set the interval.
    WithinRuns,
    /// Deterministic under the mocks: compared exactly.
    Exact,
    /// Nothing to build an interval from (one run a side and no
    /// within-run spread, or too few values beyond a percentile):
    /// reported, never judged.
    NoInterval,
}

/// One metric on both sides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub baseline: f64,
    pub current: f64,
    /// On the change's scale: a relative change and its interval are
    /// fractions of the baseline.
    pub diff: Diff,
    pub method: Method,
}

/// Everything a side's runs give for one metric, or `None` if any run
/// lacks it.
fn all<T>(runs: &[&RunResult], f: impl Fn(&RunResult) -> Option<T>) -> Option<Vec<T>> {
    runs.iter().map(|r| f(r)).collect()
}

/// Builds the interval from per-run observations on the log scale (for a
/// relative change) or as they are (absolute).
fn judge(
    b: &[Obs],
    c: &[Obs],
    scale: Scale,
    confidence: f64,
    shown: (f64, f64),
) -> Option<Measured> {
    let diff = difference(b, c, confidence)?;
    let method = if diff.lo == diff.hi {
        Method::NoInterval
    } else if b.len() + c.len() > 2 && diff.from_runs {
        Method::BetweenRuns
    } else {
        Method::WithinRuns
    };
    Some(Measured {
        baseline: shown.0,
        current: shown.1,
        diff: to_scale(diff, scale),
        method,
    })
}

fn to_scale(d: Diff, scale: Scale) -> Diff {
    match scale {
        Scale::Absolute => d,
        Scale::Relative => Diff {
            d: d.d.exp_m1(),
            lo: d.lo.exp_m1(),
            hi: d.hi.exp_m1(),
            from_runs: d.from_runs,
        },
    }
}

/// A percentile of a histogram (µs), shown in ms, pooled over each side's
/// runs; the interval from the run-blocked bootstrap of the pooled values
/// ([`blocks::blocked`]).
pub fn quantile(
    base: &[&RunResult],
    cur: &[&RunResult],
    hist: impl Fn(&RunResult) -> Option<&str>,
    q: f64,
    confidence: f64,
    seed: u64,
) -> Option<Measured> {
    let cdf = |r: &RunResult| hdr::decode(hist(r)).and_then(|h| Cdf::new(&h));
    let (cb, cc) = (all(base, cdf)?, all(cur, cdf)?);
    let shown = |c: &[Cdf]| Cdf::pooled(c).at(q) / 1000.0;
    let diff = blocks::blocked(&cb, &cc, q, DRAWS, confidence, &mut Rng::new(seed))?;
    let n = |c: &[Cdf]| c.iter().map(Cdf::len).sum::<u64>();
    let m = Measured {
        baseline: shown(&cb),
        current: shown(&cc),
        diff: to_scale(diff, Scale::Relative),
        method: Method::Bootstrap,
    };
    Some(with_enough_tail(m, q, n(&cb).min(n(&cc))))
}

/// Fewest pooled values beyond a percentile for its interval to be judged.
pub const MIN_TAIL: f64 = 2.0;

/// A percentile with fewer than [`MIN_TAIL`] values beyond it on a side
/// (p99 of 180 requests is the second slowest) is shown, never judged: a
/// bootstrap cannot say how far the slowest few would move (it is not
/// consistent for the extremes), and one slow request under a neighbour's
/// load read as a +46% regression of p99.
fn with_enough_tail(m: Measured, q: f64, pooled: u64) -> Measured {
    if (pooled as f64) * (1.0 - q) < MIN_TAIL {
        Measured {
            method: Method::NoInterval,
            ..m
        }
    } else {
        m
    }
}

/// Request latency's percentile: paired by request ([`blocks::paired`])
/// when every run on both sides kept its requests one by one and sent as
/// many, else as [`quantile`] does from the histograms.
pub fn latency_quantile(
    base: &[&RunResult],
    cur: &[&RunResult],
    q: f64,
    confidence: f64,
    seed: u64,
) -> Option<Measured> {
    let paired = all(base, in_schedule_order)
        .zip(all(cur, in_schedule_order))
        .and_then(|(b, c)| common_prefix(b, c))
        .and_then(|(b, c)| {
            let diff = blocks::paired(&b, &c, q, DRAWS, confidence, &mut Rng::new(seed))?;
            let shown = |side: &[Vec<f64>]| {
                let mut v: Vec<f64> = side.concat();
                blocks::quantile_of(&mut v, q)
            };
            let pooled = (b.len().min(c.len()) * b[0].len()) as u64;
            let m = Measured {
                baseline: shown(&b),
                current: shown(&c),
                diff: to_scale(diff, Scale::Relative),
                method: Method::Paired,
            };
            Some(with_enough_tail(m, q, pooled))
        });
    paired.or_else(|| {
        quantile(
            base,
            cur,
            |r| r.histograms.latency_us.as_deref(),
            q,
            confidence,
            seed,
        )
    })
}

/// Each run's request latencies (ms) in schedule order.
type Runs = Vec<Vec<f64>>;

/// Every run cut to the requests all of them sent: request i is the same
/// seeded request in each, so a run that reached its time limit a few
/// requests short (a loaded machine) still pairs on the rest. `None` when
/// a run sent under half of what the longest did.
fn common_prefix(mut b: Runs, mut c: Runs) -> Option<(Runs, Runs)> {
    let lens = || b.iter().chain(&c).map(Vec::len);
    let (shortest, longest) = (lens().min()?, lens().max()?);
    if shortest == 0 || 2 * shortest < longest {
        return None;
    }
    for run in b.iter_mut().chain(c.iter_mut()) {
        run.truncate(shortest);
    }
    Some((b, c))
}

/// A run's request latencies (ms) in the order they were scheduled, when
/// it kept every request and none failed: what pairs request i of one run
/// with request i of another.
fn in_schedule_order(r: &RunResult) -> Option<Vec<f64>> {
    let points = r.points.as_ref()?;
    if points.len() as u64 != r.requests.total || points.iter().any(|p| p.error.is_some()) {
        return None;
    }
    let mut by_start: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.t_s * 1000.0 - p.latency_ms, p.latency_ms))
        .collect();
    by_start.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(by_start.into_iter().map(|p| p.1).collect())
}

/// A per-run value with the variance of its estimate, compared on `scale`;
/// shown as the mean of the side's runs.
pub fn per_run(
    base: &[&RunResult],
    cur: &[&RunResult],
    value: impl Fn(&RunResult) -> Option<(f64, f64)>,
    scale: Scale,
    confidence: f64,
) -> Option<Measured> {
    let (vb, vc) = (all(base, &value)?, all(cur, &value)?);
    let mean = |v: &[(f64, f64)]| v.iter().map(|p| p.0).sum::<f64>() / v.len() as f64;
    let shown = (mean(&vb), mean(&vc));
    let obs = |v: &[(f64, f64)]| -> Option<Vec<Obs>> {
        v.iter()
            .map(|&(x, var)| match scale {
                Scale::Absolute => Some(Obs { x, var_within: var }),
                // Var of ln(x) ≈ var / x², the delta method.
                Scale::Relative => (x > 0.0).then(|| Obs {
                    x: x.ln(),
                    var_within: var / (x * x),
                }),
            })
            .collect()
    };
    judge(&obs(&vb)?, &obs(&vc)?, scale, confidence, shown)
}

/// A value pooled over each side and compared exactly.
pub fn exact(base: f64, cur: f64, scale: Scale) -> Option<Measured> {
    let d = match scale {
        Scale::Absolute => cur - base,
        Scale::Relative if base > 0.0 => cur / base - 1.0,
        Scale::Relative if cur == base => 0.0,
        Scale::Relative => return None,
    };
    Some(Measured {
        baseline: base,
        current: cur,
        diff: Diff {
            d,
            lo: d,
            hi: d,
            from_runs: false,
        },
        method: Method::Exact,
    })
}

/// Mean and variance of the mean of a series of readings.
pub fn mean_and_var(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    Some((m, variance(v) / v.len() as f64))
}
