//! Each metric measured on both sides: the value shown for each side
//! (pooled over its runs), the change and its interval, and how the
//! interval was found.

use genbench_model::RunResult;
use hdrhistogram::Histogram;
use serde::Serialize;

use super::stats::{Cdf, Diff, Obs, Rng, bootstrap_difference, difference, variance};
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
    /// One run a side: bootstrap replicates of each histogram.
    Bootstrap,
    /// Several runs a side, whose spread set the interval.
    BetweenRuns,
    /// Several runs a side that agreed more closely than one run's own
    /// sampling allows: that sampling set the interval.
    WithinRuns,
    /// Deterministic under the mocks: compared exactly.
    Exact,
    /// Nothing to build an interval from (one run a side and no
    /// within-run spread): reported, never judged.
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

/// A percentile of a histogram (µs), shown in ms: pooled over each side's
/// runs for the values shown, bootstrapped per run for the interval.
pub fn quantile(
    base: &[&RunResult],
    cur: &[&RunResult],
    hist: impl Fn(&RunResult) -> Option<&str>,
    q: f64,
    confidence: f64,
    seed: u64,
) -> Option<Measured> {
    let decode = |r: &RunResult| hdr::decode(hist(r)).filter(|h| !h.is_empty());
    let (hb, hc) = (all(base, decode)?, all(cur, decode)?);
    let mut rng = Rng::new(seed);
    let pooled = |hs: &[Histogram<u64>]| {
        let mut all = hs[0].clone();
        for h in &hs[1..] {
            let _ = all.add(h);
        }
        Cdf::new(&all).map(|c| c.at(q) / 1000.0)
    };
    let shown = (pooled(&hb)?, pooled(&hc)?);
    let mut side = |hs: &[Histogram<u64>]| -> Option<Vec<(Obs, Vec<f64>)>> {
        hs.iter()
            .map(|h| {
                let cdf = Cdf::new(h)?;
                let draws: Vec<f64> = cdf
                    .bootstrap_quantile(q, DRAWS, &mut rng)
                    .into_iter()
                    .map(f64::ln)
                    .collect();
                let obs = Obs {
                    x: cdf.at(q).ln(),
                    var_within: variance(&draws),
                };
                Some((obs, draws))
            })
            .collect()
    };
    let (sb, sc) = (side(&hb)?, side(&hc)?);
    if let ([(ob, db)], [(oc, dc)]) = (&sb[..], &sc[..]) {
        let diff = bootstrap_difference(db, dc, oc.x - ob.x, confidence);
        return Some(Measured {
            baseline: shown.0,
            current: shown.1,
            diff: to_scale(diff, Scale::Relative),
            method: Method::Bootstrap,
        });
    }
    let obs = |s: &[(Obs, Vec<f64>)]| s.iter().map(|(o, _)| *o).collect::<Vec<_>>();
    judge(&obs(&sb), &obs(&sc), Scale::Relative, confidence, shown)
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
