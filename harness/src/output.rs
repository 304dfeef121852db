//! What a run leaves behind: `results.json` in the output directory and a
//! short summary table on stdout.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use genbench_model::{LatencySummaryMs, RunResult};

pub fn write_results(dir: &Path, r: &RunResult) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let path = dir.join("results.json");
    let json = serde_json::to_vec_pretty(r).context("cannot serialize results")?;
    // Write then rename, so an interrupted write never leaves half a file.
    let tmp = dir.join(".results.json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.1} ms")
    }
}

fn lat(s: &Option<LatencySummaryMs>) -> String {
    match s {
        Some(s) => format!(
            "p50 {}  p95 {}  p99 {}  max {}",
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.max)
        ),
        None => "no successful responses".into(),
    }
}

fn usd(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        format!("${v:.5}")
    } else {
        format!("${v:.2}")
    }
}

/// The collectors' and analyses' lines of the summary.
fn collected(o: &mut String, r: &RunResult) {
    if !r.stages.is_empty() {
        let mut by_mean: Vec<_> = r.stages.iter().collect();
        by_mean.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
        let parts: Vec<String> = by_mean
            .iter()
            .take(6)
            .map(|(name, s)| format!("{name} {} ({})", ms(s.mean), s.count))
            .collect();
        let _ = writeln!(o, "  stages      mean (responses): {}", parts.join(", "));
    }
    if let Some(c) = &r.cost {
        let per = c.per_article_usd.map_or("-".to_string(), usd);
        let _ = writeln!(
            o,
            "  cost        {per} per article, {} total, {:.0} tokens per article ({})",
            usd(c.total_usd),
            c.tokens_per_article.unwrap_or(0.0),
            c.source
        );
    }
    for (name, p) in [
        ("target", &r.process.target),
        ("harness", &r.process.harness),
    ] {
        if let Some(p) = p {
            let _ = writeln!(
                o,
                "  {name:<11} CPU mean {:.0}% max {:.0}%, RSS {:.1} -> {:.1} MiB (max {:.1})",
                p.cpu_pct.mean, p.cpu_pct.max, p.rss_mib.start, p.rss_mib.end, p.rss_mib.max
            );
        }
    }
    if let Some(l) = &r.leak {
        let verdict = serde_json::to_value(l.verdict).ok();
        let _ = writeln!(
            o,
            "  leak        {} : RSS {:+.1} MiB/h (95% CI {:+.1} to {:+.1}; Theil-Sen {:+.1}) over {} readings",
            verdict.as_ref().and_then(|v| v.as_str()).unwrap_or("?"),
            l.slope_mib_per_h,
            l.ci95_mib_per_h[0],
            l.ci95_mib_per_h[1],
            l.theil_sen_mib_per_h,
            l.samples
        );
    }
    if let Some(c) = &r.capacity {
        let rps = |v: Option<f64>| v.map_or("none".to_string(), |v| format!("{v} req/s"));
        let _ = writeln!(
            o,
            "  capacity    max sustainable {}, knee {}",
            rps(c.max_sustainable_rps),
            rps(c.knee_rps)
        );
    }
    if let Some(s) = &r.spike {
        let rec = s.recovery_s.map_or("not recovered".to_string(), |v| {
            format!("recovered in {v:.0} s")
        });
        let _ = writeln!(
            o,
            "  spike       burst p95 {}, {} errors, {rec}",
            ms(s.p95_during_burst_ms),
            s.errors_during_burst
        );
    }
    if let Some(p) = &r.profile {
        let status = serde_json::to_value(p.status).ok();
        let _ = writeln!(
            o,
            "  profile     {}: {}",
            status.as_ref().and_then(|v| v.as_str()).unwrap_or("?"),
            p.detail
        );
    }
}

/// The table printed at the end of a run.
pub fn summary(r: &RunResult, results_path: &Path) -> String {
    let mut o = String::new();
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "genbench run: {} against {} ({:.1} s, {status})",
        r.scenario.name, r.target.url, r.duration_s
    );
    let _ = writeln!(
        o,
        "  requests    {} total, {} ok, {} failed ({:.2}%)",
        r.requests.total,
        r.requests.ok,
        r.requests.failed,
        r.errors.rate * 100.0
    );
    if !r.errors.by_kind.is_empty() {
        let kinds: Vec<String> = r
            .errors
            .by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(o, "  errors      {}", kinds.join(", "));
    }
    let _ = writeln!(o, "  throughput  {:.2} req/s", r.throughput_rps);
    let _ = writeln!(o, "  latency     {}", lat(&r.latency_ms));
    let _ = writeln!(o, "  ttfb        {}", lat(&r.ttfb_ms));
    if r.chunk_gap_ms.is_some() {
        let _ = writeln!(o, "  chunk gap   {}", lat(&r.chunk_gap_ms));
    }
    if let Some(c) = &r.cache {
        let _ = writeln!(
            o,
            "  cache       hit rate {:.1}% ({} hits, {} misses, {})",
            c.hit_rate.unwrap_or(0.0) * 100.0,
            c.hits,
            c.misses,
            c.source
        );
    }
    collected(&mut o, r);
    for t in &r.thresholds {
        let seen = t
            .observed
            .map_or("not measured".to_string(), |v| format!("{v:.4}"));
        let _ = writeln!(
            o,
            "  threshold   {:<28} {:<14} {}",
            t.expr,
            seen,
            if t.passed { "pass" } else { "FAIL" }
        );
    }
    let _ = writeln!(o, "  results     {}", results_path.display());
    o
}
