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
