//! The regression gate: did the current build get slower, costlier or
//! leakier than the baseline? Each side is one or more results of the same
//! scenario; every metric gets its change, an interval for it, and a
//! verdict. A change is a regression only when its interval excludes zero
//! on the worse side and it exceeds the metric's noise floor; metrics the
//! mocks make deterministic are compared exactly.

mod blocks;
mod measure;
mod render;
mod rules;
mod stats;

use genbench_model::{RunResult, RunStatus, SCHEMA_VERSION, TargetKind};
use serde::Serialize;

pub use measure::{Method, Scale};
pub use render::{HEAD, headline, junit, markdown, rows, significance, text};
pub use rules::{Direction, FloorSpec, MetricRule, Rules};

use measure::{Measured, exact, latency_quantile, mean_and_var, per_run, quantile};

/// One side's results, each with the name it is reported by (its file).
pub type Side<'a> = &'a [(String, RunResult)];

/// What happened to one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regressed,
    /// Changed by less than its floor, or not beyond noise.
    Unchanged,
    Improved,
    /// No interval could be built: shown, never judged.
    Undecided,
    /// Not measured on one side or both.
    NotMeasured,
    /// Turned off in the rules.
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricVerdict {
    pub name: String,
    pub unit: &'static str,
    pub direction: Direction,
    pub scale: Scale,
    pub method: Option<Method>,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// current − baseline on `scale`: a fraction of the baseline when
    /// relative.
    pub change: Option<f64>,
    pub ci: Option<[f64; 2]>,
    pub noise_floor: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    /// `regressed` when any metric regressed, else `passed`.
    pub verdict: &'static str,
    pub scenario: String,
    pub confidence: f64,
    pub baseline: Vec<String>,
    pub current: Vec<String>,
    /// Worst first: regressions by how far past their floor, then the rest.
    pub metrics: Vec<MetricVerdict>,
}

impl GateReport {
    pub fn regressed(&self) -> bool {
        self.metrics.iter().any(|m| m.verdict == Verdict::Regressed)
    }
}

/// Why two sides cannot be compared (exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Incomparable(pub String);

/// Checks that every result is a complete genbench run of one scenario,
/// seed and load, each with its latency histogram.
pub fn check(base: Side, cur: Side) -> Result<(), Incomparable> {
    let bad = |m: String| Err(Incomparable(m));
    let (Some((first_name, first)), false) = (base.first(), cur.is_empty()) else {
        return bad("give at least one result on each side (--baseline and --current)".into());
    };
    for (name, r) in base.iter().chain(cur) {
        if r.schema_version != SCHEMA_VERSION {
            return bad(format!(
                "{name}: results schema version {} (this genbench reads {SCHEMA_VERSION})",
                r.schema_version
            ));
        }
        if r.status != RunStatus::Completed {
            return bad(format!(
                "{name}: the run did not complete (status {:?}); gate only completed runs",
                r.status
            ));
        }
        if hdr::decode(r.histograms.latency_us.as_deref()).is_none_or(|h| h.is_empty()) {
            return bad(format!(
                "{name}: no latency histogram (histograms.latency_us), so percentiles cannot be compared; re-run it with this genbench"
            ));
        }
        let differs = |what: &str, a: String, b: String| {
            Incomparable(format!(
                "{name} and {first_name} ran different {what} ({b} vs {a}): a gate compares builds on the same scenario, seed and load"
            ))
        };
        if r.scenario.name != first.scenario.name || r.scenario.kind != first.scenario.kind {
            return Err(differs(
                "scenarios",
                first.scenario.name.clone(),
                r.scenario.name.clone(),
            ));
        }
        if r.scenario.seed != first.scenario.seed {
            let s = |v: Option<u64>| v.map_or("none recorded".into(), |v| v.to_string());
            return Err(differs("seeds", s(first.scenario.seed), s(r.scenario.seed)));
        }
        let load = |r: &RunResult| r.scenario.resolved.get("load").cloned();
        if load(r) != load(first) {
            let show = |r: &RunResult| load(r).map_or("none".into(), |v| v.to_string());
            return Err(differs("load", show(first), show(r)));
        }
        if r.target.mock_time_scale != first.target.mock_time_scale {
            let s = |v: Option<f64>| v.map_or("none".into(), |v| v.to_string());
            return Err(differs(
                "mock time scales",
                s(first.target.mock_time_scale),
                s(r.target.mock_time_scale),
            ));
        }
    }
    Ok(())
}

use crate::hdr;

struct Def {
    name: String,
    unit: &'static str,
    direction: Direction,
    scale: Scale,
    /// `None`: the rules' default (relative) floor.
    floor: Option<f64>,
}

fn def(
    name: &str,
    unit: &'static str,
    direction: Direction,
    scale: Scale,
    floor: Option<f64>,
) -> Def {
    Def {
        name: name.into(),
        unit,
        direction,
        scale,
        floor,
    }
}

/// Deterministic under the mocks: both sides ran against the embedded target.
fn mocked(runs: &[&RunResult]) -> bool {
    runs.iter().all(|r| r.target.kind == TargetKind::Embedded)
}

fn seed_of(name: &str) -> u64 {
    // FNV-1a: each metric's bootstrap stream depends on its name alone.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Compares the sides metric by metric. Call [`check`] first.
pub fn gate(base: Side, cur: Side, rules: &Rules) -> GateReport {
    let b: Vec<&RunResult> = base.iter().map(|(_, r)| r).collect();
    let c: Vec<&RunResult> = cur.iter().map(|(_, r)| r).collect();
    let conf = rules.confidence;
    let mut out = timed_metrics(&b, &c, conf);
    out.extend(stage_metrics(&b, &c, conf));
    out.extend(run_metrics(&b, &c, conf));
    let mut metrics: Vec<MetricVerdict> =
        out.into_iter().map(|(d, m)| verdict(d, m, rules)).collect();
    metrics.sort_by(|x, y| {
        x.verdict
            .cmp(&y.verdict)
            .then(severity(y).total_cmp(&severity(x)))
    });
    let report = GateReport {
        verdict: "passed",
        scenario: b[0].scenario.name.clone(),
        confidence: conf,
        baseline: base.iter().map(|(n, _)| n.clone()).collect(),
        current: cur.iter().map(|(n, _)| n.clone()).collect(),
        metrics,
    };
    GateReport {
        verdict: if report.regressed() {
            "regressed"
        } else {
            "passed"
        },
        ..report
    }
}

/// A metric as the gate names it, and what the two sides measured.
type Compared = (Def, Option<Measured>);

/// Request latency at p50, p95 and p99, and the LLM streams' TTFT and TPOT
/// at p50 and p95, each request paired where the runs allow.
fn timed_metrics(b: &[&RunResult], c: &[&RunResult], conf: f64) -> Vec<Compared> {
    let lower = Direction::LowerIsBetter;
    let mut out = Vec::new();
    for (q, pct) in [(0.5, "p50"), (0.95, "p95"), (0.99, "p99")] {
        let name = format!("latency_{pct}");
        let m = latency_quantile(b, c, q, conf, seed_of(&name));
        out.push((def(&name, "ms", lower, Scale::Relative, None), m));
    }
    type Hist = fn(&RunResult) -> Option<&str>;
    let llm: [(&str, Hist); 2] = [
        ("ttft", |r| r.histograms.ttft_us.as_deref()),
        ("tpot", |r| r.histograms.tpot_us.as_deref()),
    ];
    for (q, pct) in [(0.5, "p50"), (0.95, "p95")] {
        for (what, hist) in llm {
            let name = format!("{what}_{pct}");
            let m = quantile(b, c, hist, q, conf, seed_of(&name));
            out.push((def(&name, "ms", lower, Scale::Relative, None), m));
        }
    }
    out
}

/// Each stage's p95, for every stage either side reported.
fn stage_metrics(b: &[&RunResult], c: &[&RunResult], conf: f64) -> Vec<Compared> {
    let stages: std::collections::BTreeSet<&String> = b
        .iter()
        .chain(c)
        .flat_map(|r| r.histograms.stages_us.keys())
        .collect();
    stages
        .into_iter()
        .map(|stage| {
            let name = format!("{}{stage}", rules::STAGE_PREFIX);
            let m = quantile(
                b,
                c,
                |r| r.histograms.stages_us.get(stage).map(String::as_str),
                0.95,
                conf,
                seed_of(&name),
            );
            let d = def(&name, "ms", Direction::LowerIsBetter, Scale::Relative, None);
            (d, m)
        })
        .collect()
}

/// The figures each run gives once: throughput, error rate, cache hit
/// rate, cost and tokens per article, RSS slope and CPU per request.
/// Against the mocks, whose counts are exact, cache, cost and tokens are
/// compared exactly rather than by a test.
fn run_metrics(b: &[&RunResult], c: &[&RunResult], conf: f64) -> Vec<Compared> {
    let (lower, higher) = (Direction::LowerIsBetter, Direction::HigherIsBetter);
    let mut out = Vec::new();
    let m = per_run(b, c, throughput, Scale::Relative, conf);
    out.push((def("throughput", "req/s", higher, Scale::Relative, None), m));
    let m = per_run(b, c, error_rate, Scale::Absolute, conf);
    let d = def(
        "error_rate",
        "fraction",
        lower,
        Scale::Absolute,
        Some(0.005),
    );
    out.push((d, m));
    let is_mocked = mocked(b) && mocked(c);
    let m = if is_mocked {
        pooled(b, hit_totals)
            .zip(pooled(c, hit_totals))
            .and_then(|(x, y)| exact(x, y, Scale::Absolute))
    } else {
        per_run(b, c, hit_rate, Scale::Absolute, conf)
    };
    let floor = if is_mocked { 0.0 } else { 0.02 };
    let d = def(
        "cache_hit_rate",
        "fraction",
        higher,
        Scale::Absolute,
        Some(floor),
    );
    out.push((d, m));
    for (name, unit, f) in [
        (
            "cost_per_article",
            "USD",
            cost_totals as fn(&RunResult) -> Option<(f64, f64)>,
        ),
        ("tokens_per_article", "tokens", token_totals),
    ] {
        let m = if is_mocked {
            pooled(b, f)
                .zip(pooled(c, f))
                .and_then(|(x, y)| exact(x, y, Scale::Relative))
        } else {
            per_run(
                b,
                c,
                |r| f(r).filter(|t| t.1 > 0.0).map(|t| (t.0 / t.1, 0.0)),
                Scale::Relative,
                conf,
            )
        };
        let floor = is_mocked.then_some(0.0);
        out.push((def(name, unit, lower, Scale::Relative, floor), m));
    }
    let m = per_run(b, c, rss_slope, Scale::Absolute, conf);
    let d = def("rss_slope", "MiB/h", lower, Scale::Absolute, Some(10.0));
    out.push((d, m));
    let m = per_run(b, c, cpu_per_request, Scale::Relative, conf);
    out.push((
        def("cpu_per_request", "ms", lower, Scale::Relative, None),
        m,
    ));
    out
}

/// How far a change went the worse way, in noise floors.
fn severity(m: &MetricVerdict) -> f64 {
    let sign = if m.direction == Direction::LowerIsBetter {
        1.0
    } else {
        -1.0
    };
    let worse = m.change.map_or(f64::NEG_INFINITY, |c| sign * c);
    if m.noise_floor > 0.0 {
        worse / m.noise_floor
    } else {
        worse * 1e12
    }
}

fn verdict(d: Def, m: Option<Measured>, rules: &Rules) -> MetricVerdict {
    let rule = rules.applied(&d.name, d.direction, d.floor);
    let mut v = MetricVerdict {
        name: d.name,
        unit: d.unit,
        direction: rule.direction,
        scale: d.scale,
        method: m.map(|m| m.method),
        baseline: m.map(|m| m.baseline),
        current: m.map(|m| m.current),
        change: m.map(|m| m.diff.d),
        ci: m.map(|m| [m.diff.lo, m.diff.hi]),
        noise_floor: rule.floor,
        verdict: Verdict::NotMeasured,
    };
    v.verdict = match m {
        _ if !rule.enabled => Verdict::Disabled,
        None => Verdict::NotMeasured,
        Some(m) if m.method == Method::NoInterval => Verdict::Undecided,
        Some(m) => decide(m, rule.direction, rule.floor),
    };
    v
}

/// Worse when the whole interval is on the worse side of zero and the
/// change is past the floor; better the same way round. Exact metrics
/// have a zero-width interval, so the floor alone decides (a tolerance).
fn decide(m: Measured, direction: Direction, floor: f64) -> Verdict {
    let sign = if direction == Direction::LowerIsBetter {
        1.0
    } else {
        -1.0
    };
    let (d, lo, hi) = (sign * m.diff.d, sign * m.diff.lo, sign * m.diff.hi);
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    // Exact values carry float rounding from their sums.
    let eps = 1e-9 * (m.baseline.abs().max(m.current.abs()).max(1.0));
    if m.method == Method::Exact {
        return if d > floor + eps {
            Verdict::Regressed
        } else if d < -floor - eps {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
    }
    if lo > 0.0 && d > floor {
        Verdict::Regressed
    } else if hi < 0.0 && d < -floor {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// Pools a (numerator, denominator) total over a side's runs.
fn pooled(runs: &[&RunResult], f: impl Fn(&RunResult) -> Option<(f64, f64)>) -> Option<f64> {
    let (mut n, mut d) = (0.0, 0.0);
    for r in runs {
        let (a, b) = f(r)?;
        n += a;
        d += b;
    }
    (d > 0.0).then(|| n / d)
}

fn throughput(r: &RunResult) -> Option<(f64, f64)> {
    let per_s: Vec<f64> = r.timeline.iter().map(|p| p.rps).collect();
    let var = mean_and_var(&per_s).map_or(0.0, |(_, v)| v);
    (r.throughput_rps > 0.0).then_some((r.throughput_rps, var))
}

fn error_rate(r: &RunResult) -> Option<(f64, f64)> {
    let n = r.requests.total as f64;
    if n == 0.0 {
        return None;
    }
    // Binomial variance, kept off zero for a run with no errors.
    let p = (r.requests.failed as f64 + 0.5) / (n + 1.0);
    Some((r.requests.failed as f64 / n, p * (1.0 - p) / n))
}

fn hit_totals(r: &RunResult) -> Option<(f64, f64)> {
    let c = r.cache.as_ref()?;
    Some((c.hits as f64, (c.hits + c.misses) as f64))
}

fn hit_rate(r: &RunResult) -> Option<(f64, f64)> {
    let (hits, n) = hit_totals(r)?;
    (n > 0.0).then(|| {
        let p = (hits + 0.5) / (n + 1.0);
        (hits / n, p * (1.0 - p) / n)
    })
}

fn cost_totals(r: &RunResult) -> Option<(f64, f64)> {
    let c = r.cost.as_ref()?;
    (c.articles > 0).then_some((c.total_usd, c.articles as f64))
}

fn token_totals(r: &RunResult) -> Option<(f64, f64)> {
    let c = r.cost.as_ref()?;
    let t = c.tokens.prompt + c.tokens.completion;
    (c.articles > 0).then_some((t as f64, c.articles as f64))
}

fn rss_slope(r: &RunResult) -> Option<(f64, f64)> {
    let l = r.leak.as_ref()?;
    let half = (l.ci95_mib_per_h[1] - l.ci95_mib_per_h[0]) / 2.0;
    Some((l.slope_mib_per_h, (half / 1.96).powi(2)))
}

/// The target's CPU time per request, ms, from its 1 Hz readings.
fn cpu_per_request(r: &RunResult) -> Option<(f64, f64)> {
    let p = r.process.target.as_ref()?;
    let cpu: Vec<f64> = p.samples.iter().map(|s| s.cpu_pct).collect();
    let (mean, var) = mean_and_var(&cpu)?;
    let n = r.requests.total as f64;
    if n == 0.0 || mean <= 0.0 {
        return None;
    }
    let per_req = |pct: f64| pct / 100.0 * r.duration_s * 1000.0 / n;
    Some((per_req(mean), per_req(1.0).powi(2) * var))
}

#[cfg(test)]
mod tests;
