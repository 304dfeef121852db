//! What a run leaves behind: `results.json`, `report.html`, `summary.md`
//! and, when asked for, `junit.xml` in the output directory, and a short
//! summary table on stdout.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use genbench_model::{LatencySummaryMs, RunResult, StageSource};
// The summary formats numbers as the report and summary.md do.
use genbench_reports::fmt::{ms, usd};

pub const RESULTS: &str = "results.json";
pub const REPORT: &str = "report.html";
pub const SUMMARY: &str = "summary.md";
pub const JUNIT: &str = "junit.xml";

/// Writes `bytes` to `path` through a temporary file and a rename, so an
/// interrupted write never leaves half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        // A full disk leaves no half file behind, only the error.
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("cannot write {}: {e}", path.display());
    }
    Ok(())
}

/// Writes results.json into `dir`. If it cannot be written there (a full
/// disk, a directory gone), the results are saved in the temporary
/// directory instead and the error says where: a run's measurements are
/// never lost to its output directory.
pub fn write_results(dir: &Path, r: &RunResult) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(RESULTS);
    let json = serde_json::to_vec_pretty(r).context("cannot serialize results")?;
    let Err(e) = write_atomic(&path, &json) else {
        return Ok(path);
    };
    let rescue = std::env::temp_dir().join(format!("genbench-results-{}.json", std::process::id()));
    match write_atomic(&rescue, &json) {
        Ok(()) => anyhow::bail!(
            "{e:#}; the results were saved to {} instead (`genbench report` reads them there)",
            rescue.display()
        ),
        Err(e2) => anyhow::bail!("{e:#}; nor could they be saved elsewhere: {e2:#}"),
    }
}

/// The run's flamegraph, if results.json names one that is there.
pub fn read_flamegraph(dir: &Path, r: &RunResult) -> Option<Vec<u8>> {
    let name = r.artifacts.flamegraph_svg.as_ref()?;
    match std::fs::read(dir.join(name)) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!("flamegraph {name} not embedded: {e}");
            None
        }
    }
}

/// Everything a run writes: the reports are named in results.json, then
/// results.json is written first, so a failing report never costs the
/// measurements.
pub fn write_run(dir: &Path, r: &mut RunResult, junit: bool) -> anyhow::Result<std::path::PathBuf> {
    r.artifacts.report_html = Some(REPORT.into());
    r.artifacts.summary_md = Some(SUMMARY.into());
    if junit {
        r.artifacts.junit_xml = Some(JUNIT.into());
    }
    let path = write_results(dir, r)?;
    let whole = |e: anyhow::Error| {
        anyhow::anyhow!(
            "{e:#}; {} is whole: `genbench report {}` writes the report again once there is room",
            path.display(),
            path.display()
        )
    };
    let flame = read_flamegraph(dir, r);
    write_atomic(
        &dir.join(REPORT),
        &genbench_reports::report_html(r, flame.as_deref()),
    )
    .map_err(whole)?;
    write_atomic(
        &dir.join(SUMMARY),
        genbench_reports::summary_markdown(r).as_bytes(),
    )
    .map_err(whole)?;
    if junit {
        write_atomic(&dir.join(JUNIT), genbench_reports::junit(r).as_bytes()).map_err(whole)?;
    }
    Ok(path)
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

/// A flow scenario's lines: flows, their latency and time queued, polls,
/// each step, and what failed flows.
fn flow_lines(o: &mut String, f: &genbench_model::FlowsResult) {
    let _ = writeln!(
        o,
        "  flows       {} completed, {} failed ({:.2}%), {} unfinished; {:.1} per hour",
        f.completed,
        f.failed,
        f.error_rate * 100.0,
        f.unfinished,
        f.per_hour
    );
    let _ = writeln!(o, "  flow time   {}", lat(&f.latency_ms));
    if let Some(q) = &f.queued_ms {
        let _ = writeln!(
            o,
            "  queued      p50 {}  p95 {}  max {}",
            ms(q.p50),
            ms(q.p95),
            ms(q.max)
        );
    }
    if let (Some(p), Some(every)) = (&f.polls_per_flow, f.poll_interval_s) {
        let _ = writeln!(
            o,
            "  polls       {:.1} per flow (max {}), every {}: flows are seen done up to that late",
            p.mean,
            p.max,
            ms(every * 1000.0)
        );
    }
    for s in &f.steps {
        let p95 = s.latency_ms.map_or("-".into(), |l| ms(l.p95));
        let errors: u64 = s.errors.values().sum();
        let _ = writeln!(
            o,
            "  step        {:<14} {} requests, {errors} failed, p95 {p95}",
            s.name, s.requests
        );
    }
    for x in &f.failures {
        let seen = x
            .example
            .as_deref()
            .map_or(String::new(), |e| format!(" ({e})"));
        let _ = writeln!(
            o,
            "  failed      {} flows at step {}: {}{seen}",
            x.count,
            x.step,
            x.kind.name()
        );
    }
}

/// What the target's spans said: the join, the critical path by stage,
/// upstream failures.
fn traces_lines(o: &mut String, t: &genbench_model::TracesResult) {
    let _ = writeln!(
        o,
        "  traces      {} of {} requests joined ({}), {} spans ({} of other traces, {} batches refused)",
        t.joined,
        t.requests,
        t.join_rate
            .map_or("-".into(), |j| format!("{:.1}%", j * 100.0)),
        t.spans.ours,
        t.spans.other,
        t.spans.rejected_batches
    );
    let mut path: Vec<_> = t
        .stages
        .iter()
        .filter(|(_, s)| s.critical_path_ms_per_request > 0.0)
        .collect();
    path.sort_by(|a, b| {
        b.1.critical_path_ms_per_request
            .total_cmp(&a.1.critical_path_ms_per_request)
    });
    let mut parts: Vec<String> = path
        .iter()
        .take(6)
        .map(|(n, s)| format!("{n} {}", ms(s.critical_path_ms_per_request)))
        .collect();
    if let Some(s) = &t.self_ms {
        parts.push(format!("service's own {}", ms(s.mean)));
    }
    if let Some(s) = &t.outside_root_ms {
        parts.push(format!("outside its span {}", ms(s.mean)));
    }
    if !parts.is_empty() {
        let _ = writeln!(o, "  path        per request: {}", parts.join(", "));
    }
    if !t.failures.is_empty() {
        let f: Vec<String> = t
            .failures
            .iter()
            .take(6)
            .map(|f| format!("{} {} x{}", f.stage, f.status, f.count))
            .collect();
        let _ = writeln!(o, "  upstream    failed spans: {}", f.join(", "));
    }
}

/// "; steady 9.98 req/s over 5-60 s", when the run had a plateau.
pub fn steady_text(r: &RunResult) -> String {
    match (r.steady_rps, r.steady_window_s) {
        (Some(rps), Some([a, b])) => format!("; steady {rps:.2} req/s over {a:.0}-{b:.0} s"),
        _ => String::new(),
    }
}

/// The collectors' and analyses' lines of the summary.
fn collected(o: &mut String, r: &RunResult) {
    stage_lines(o, r);
    if let Some(g) = &r.generator_limited {
        let _ = writeln!(o, "  generator   {}", g.message);
    }
    if let Some(t) = &r.traces {
        traces_lines(o, t);
    }
    if let Some(c) = &r.cost {
        let per = genbench_reports::cost_per_article(c);
        let _ = writeln!(
            o,
            "  cost        {per}, {} total, {:.0} tokens per article ({})",
            usd(c.total_usd),
            c.tokens_per_article.unwrap_or(0.0),
            c.source
        );
    }
    process_lines(o, r);
    analysis_lines(o, r);
}

/// Each stage source's stages by mean, longest first.
fn stage_lines(o: &mut String, r: &RunResult) {
    // The spans' stages have lines of their own (traces, path).
    for (source, label) in [
        (None, "responses"),
        (Some(StageSource::Prometheus), "its histogram"),
    ] {
        let mut by_mean: Vec<_> = r
            .stages
            .iter()
            .filter(|(_, s)| s.source.filter(|x| *x != StageSource::ServerTiming) == source)
            .collect();
        if by_mean.is_empty() {
            continue;
        }
        by_mean.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
        let parts: Vec<String> = by_mean
            .iter()
            .take(6)
            .map(|(name, s)| format!("{name} {} ({})", ms(s.mean), s.count))
            .collect();
        let _ = writeln!(o, "  stages      mean ({label}): {}", parts.join(", "));
    }
}

/// The target's and the harness's CPU and memory, and the leak verdict.
fn process_lines(o: &mut String, r: &RunResult) {
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
            "  leak        {} : {} {:+.1} MiB/h (95% CI {:+.1} to {:+.1}; Theil-Sen {:+.1}) over {} readings",
            verdict.as_ref().and_then(|v| v.as_str()).unwrap_or("?"),
            l.signal.strip_prefix("metrics:").unwrap_or("RSS"),
            l.slope_mib_per_h,
            l.ci95_mib_per_h[0],
            l.ci95_mib_per_h[1],
            l.theil_sen_mib_per_h,
            l.samples
        );
    }
}

/// Capacity, the spike's recovery and the profile's status.
fn analysis_lines(o: &mut String, r: &RunResult) {
    if let Some(s) = r.capacity.as_ref().and_then(|c| c.search.as_ref()) {
        crate::run::search::summary_lines(o, s);
    } else if let Some(c) = &r.capacity {
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

/// TTFT, TPOT, ITL, tokens and goodput, when measured.
fn llm_lines(o: &mut String, r: &RunResult) {
    if let Some(l) = &r.llm {
        let _ = writeln!(o, "  ttft        {} (first content event)", lat(&l.ttft_ms));
        let _ = writeln!(o, "  tpot        {}", lat(&l.tpot_ms));
        let _ = writeln!(o, "  itl         {}", lat(&l.itl_ms));
        let per = l.output_tokens_per_request.map_or(0.0, |v| v.mean);
        let tps = l.output_tps_per_request.map_or(0.0, |v| v.p50);
        let _ = writeln!(
            o,
            "  tokens      {} output over {} streams ({per:.0} per request; {} from usage, {} counted), \
{:.0} tokens/s in the load window, p50 {tps:.1} tokens/s per request",
            l.output_tokens, l.streams, l.tokens_from_usage, l.tokens_counted, l.output_tps
        );
    }
    if let Some(g) = &r.goodput {
        let _ = writeln!(
            o,
            "  goodput     {:.1}% of requests ({}) met {}; {:.2} req/s",
            g.share * 100.0,
            g.met,
            genbench_reports::objectives_text(&g.objectives),
            g.rps
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
    request_lines(&mut o, r);
    let _ = writeln!(
        o,
        "  throughput  {:.2} req/s sent in the load window; {:.2} completions/s over the run{}",
        r.throughput_rps,
        r.completions_rps.unwrap_or(0.0),
        steady_text(r)
    );
    if let Some(l) = &r.send_lag_ms {
        let _ = writeln!(
            o,
            "  send lag    p50 {}  p99 {}  max {}",
            ms(l.p50),
            ms(l.p99),
            ms(l.max)
        );
    }
    if let Some(rp) = &r.replay {
        crate::run::replay::summary_lines(&mut o, rp);
    }
    let _ = writeln!(o, "  latency     {}", lat(&r.latency_ms));
    let _ = writeln!(o, "  ttfb        {}", lat(&r.ttfb_ms));
    if let Some(f) = &r.flows {
        flow_lines(&mut o, f);
    }
    llm_lines(&mut o, r);
    if let Some(c) = &r.connections {
        let _ = writeln!(o, "  connections {}", connections_line(c));
    }
    if r.chunk_gap_ms.is_some() {
        let _ = writeln!(o, "  chunk gap   {}", lat(&r.chunk_gap_ms));
    }
    cache_lines(&mut o, r);
    collected(&mut o, r);
    for t in &r.thresholds {
        let seen = genbench_reports::threshold_value(&t.expr, t.observed);
        let _ = writeln!(o, "  threshold   {:<28} {:<14} {}", t.expr, seen, t.word());
    }
    let _ = writeln!(o, "  results     {}", results_path.display());
    if let Some(report) = &r.artifacts.report_html {
        let dir = results_path.parent().unwrap_or(Path::new(""));
        let _ = writeln!(o, "  report      {}", dir.join(report).display());
    }
    o
}

/// Requests by outcome, errors by kind, outages and failed checks.
fn request_lines(o: &mut String, r: &RunResult) {
    let _ = writeln!(
        o,
        "  requests    {} total, {} ok, {} failed ({:.2}%)",
        r.requests.total,
        r.requests.ok,
        r.requests.failed,
        r.errors.rate * 100.0
    );
    if let Some(a) = genbench_reports::abandoned_text(r) {
        let _ = writeln!(o, "  abandoned   {a}");
    }
    if !r.errors.by_kind.is_empty() {
        let kinds: Vec<String> = r
            .errors
            .by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(o, "  errors      {}", kinds.join(", "));
    }
    for x in &r.outages {
        let _ = writeln!(o, "  outage      {}", genbench_reports::outage_text(x));
    }
    if !r.errors.by_check.is_empty() {
        let checks: Vec<String> = r
            .errors
            .by_check
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        let _ = writeln!(o, "  checks      failed {}", checks.join(", "));
    }
}

/// The cache's hit rate, and each named cache's.
fn cache_lines(o: &mut String, r: &RunResult) {
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
    for (name, c) in &r.caches {
        let _ = writeln!(
            o,
            "  cache       {name}: hit rate {:.1}% ({} hits, {} misses, {})",
            c.hit_rate.unwrap_or(0.0) * 100.0,
            c.hits,
            c.misses,
            c.source
        );
    }
}

/// Reads a `results.json`, with errors that say what is wrong with it.
pub fn read_results(path: &Path) -> anyhow::Result<RunResult> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {}: give the results.json a run wrote",
            path.display()
        )
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(genbench_model::SCHEMA_VERSION) => {}
        Some(v) => anyhow::bail!(
            "{} has schema_version {v}; this genbench reads {}: render it with the genbench that wrote it",
            path.display(),
            genbench_model::SCHEMA_VERSION
        ),
        None => anyhow::bail!(
            "{} has no schema_version: it is not a genbench results.json",
            path.display()
        ),
    }
    serde_json::from_value(value)
        .with_context(|| format!("{} does not match the results contract", path.display()))
}

/// `h2, 4 opened (3 resumed, 0 failed), connect p50 0.2 ms, TLS p50 8.1 ms, CA file`.
fn connections_line(c: &genbench_model::Connections) -> String {
    let p50 =
        |s: &Option<genbench_model::LatencySummaryMs>| s.map_or("-".to_string(), |s| ms(s.p50));
    let mut line = format!(
        "{}, {} opened ({} resumed, {} failed), connect p50 {}",
        c.protocol,
        c.opened,
        c.resumed,
        c.failed,
        p50(&c.connect_ms)
    );
    if let Some(t) = &c.tls {
        line.push_str(&format!(", TLS p50 {}, ", p50(&c.tls_ms)));
        line.push_str(match t.mode {
            genbench_model::TlsMode::SystemRoots => "system roots",
            genbench_model::TlsMode::CaCert => "--ca-cert",
            genbench_model::TlsMode::Insecure => "NOT VERIFIED (--insecure)",
        });
    }
    line
}

#[cfg(test)]
mod tests {
    use genbench_model::Cost;

    use super::*;

    /// The summary, summary.md and the report write a figure the same way.
    #[test]
    fn the_summary_formats_numbers_as_the_reports_do() {
        let mut r = RunResult::example("s", genbench_model::ScenarioKind::Baseline);
        r.target.url = "http://x".into();
        r.started_at = "2026-12-04T00:00:00Z".into();
        r.latency_ms = Some(LatencySummaryMs {
            p50: 0.35,
            p95: 1.5,
            p99: 12.26,
            max: 1500.0,
            ..LatencySummaryMs::default()
        });
        r.cost = Some(Cost {
            per_article_usd: Some(0.002_18),
            total_usd: 0.0218,
            ..Cost::default()
        });
        let text = summary(&r, Path::new("results.json"));
        let md = genbench_reports::summary_markdown(&r);
        for figure in ["0.35 ms", "1.50 ms", "12.3 ms", "$0.00218"] {
            assert!(text.contains(figure), "summary lacks {figure}:\n{text}");
            assert!(md.contains(figure), "summary.md lacks {figure}:\n{md}");
        }
        // Where the summary.md has no max, the summary's is the same style.
        assert!(text.contains("max 1.50 s"), "{text}");
    }

    /// A saturated load generator is said on every output.
    #[test]
    fn every_output_says_when_genbench_was_the_limit() {
        let mut r: RunResult =
            serde_json::from_str(include_str!("../../reports/tests/fixtures/stress.json"))
                .expect("fixture");
        let samples: Vec<genbench_model::ProcessSample> =
            [(1.0, 150.0), (2.0, 198.0), (3.0, 199.0)]
                .iter()
                .map(|&(t_s, cpu_pct)| genbench_model::ProcessSample {
                    t_s,
                    cpu_pct,
                    rss_mib: 20.0,
                })
                .collect();
        r.generator_limited = genbench_collectors::self_limit::judge(&samples, 2.0, None, false);
        let said = "genbench used 2.0 of 2 cores from 2 s";
        assert!(summary(&r, Path::new("r.json")).contains(said));
        assert!(genbench_reports::summary_markdown(&r).contains(said));
        let html = String::from_utf8(genbench_reports::report_html(&r, None)).unwrap();
        assert!(html.contains(said) && html.contains("load generator"));
    }
}
