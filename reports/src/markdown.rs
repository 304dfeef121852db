//! `summary.md`: a run in a few lines that fit a GitHub job summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull-request comment.

use std::fmt::Write as _;

use genbench_model::{LatencySummaryMs, RunResult};

use crate::escape::md_cell;
use crate::fmt::{enum_name, ms, num, opt_ms, opt_pct, pct, usd};

fn lat(s: &Option<LatencySummaryMs>) -> String {
    match s {
        Some(s) => format!("p50 {} · p95 {} · p99 {}", ms(s.p50), ms(s.p95), ms(s.p99)),
        None => "no successful responses".into(),
    }
}

fn analyses(o: &mut String, r: &RunResult) {
    for x in &r.outages {
        let _ = writeln!(o, "| outage | {} |", md_cell(&crate::fmt::outage_text(x)));
    }
    if let Some(l) = &r.leak {
        let _ = writeln!(
            o,
            "| leak | **{}**: {:+.1} MiB/h (95% CI {:+.1} to {:+.1}; Theil-Sen {:+.1}) |",
            enum_name(&l.verdict),
            l.slope_mib_per_h,
            l.ci95_mib_per_h[0],
            l.ci95_mib_per_h[1],
            l.theil_sen_mib_per_h
        );
    }
    if let Some(s) = r.capacity.as_ref().and_then(|c| c.search.as_ref()) {
        let _ = writeln!(o, "| capacity | {} |", crate::fmt::search_answer(s));
    } else if let Some(c) = &r.capacity {
        let _ = writeln!(
            o,
            "| capacity | max sustainable {}, knee {} |",
            c.max_sustainable_rps
                .map_or("none".into(), |v| format!("{} req/s", num(v))),
            c.knee_rps
                .map_or("none".into(), |v| format!("{} req/s", num(v)))
        );
    }
    if let Some(s) = &r.spike {
        let _ = writeln!(
            o,
            "| spike | burst p95 {}, {} errors, {} |",
            ms(s.p95_during_burst_ms),
            s.errors_during_burst,
            s.recovery_s
                .map_or("not recovered".into(), |v| format!("recovered in {v:.0} s"))
        );
    }
}

fn llm(o: &mut String, r: &RunResult) {
    if let Some(l) = &r.llm {
        let _ = writeln!(o, "| TTFT (first content) | {} |", lat(&l.ttft_ms));
        let _ = writeln!(o, "| TPOT | {} |", lat(&l.tpot_ms));
        let _ = writeln!(o, "| inter-token latency | {} |", lat(&l.itl_ms));
        let _ = writeln!(
            o,
            "| output tokens | {} over {} streams, {} tokens/s |",
            l.output_tokens,
            l.streams,
            num(l.output_tps)
        );
    }
    if let Some(g) = &r.goodput {
        let _ = writeln!(
            o,
            "| goodput | {} ({} requests) met {}, {} req/s |",
            pct(g.share),
            g.met,
            crate::fmt::objectives_text(&g.objectives),
            num(g.rps)
        );
    }
}

fn body(o: &mut String, r: &RunResult) {
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(
        o,
        "| requests | {} ({} failed, {}) |",
        r.requests.total,
        r.requests.failed,
        pct(r.errors.rate)
    );
    let mut completions = r.completions_rps.map_or(String::new(), |c| {
        format!("; {c:.2} completions/s over the run")
    });
    if let (Some(rps), Some([a, b])) = (r.steady_rps, r.steady_window_s) {
        completions.push_str(&format!("; steady {rps:.2} req/s over {a:.0}-{b:.0} s"));
    }
    let _ = writeln!(
        o,
        "| throughput | {:.2} req/s sent in the load window{completions} |",
        r.throughput_rps
    );
    let _ = writeln!(o, "| latency | {} |", lat(&r.latency_ms));
    let _ = writeln!(o, "| time to first byte | {} |", lat(&r.ttfb_ms));
    if let Some(f) = &r.flows {
        let _ = writeln!(
            o,
            "| flows | {} completed, {} failed ({}), {:.1} per hour |",
            f.completed,
            f.failed,
            pct(f.error_rate),
            f.per_hour
        );
        let _ = writeln!(o, "| flow latency | {} |", lat(&f.latency_ms));
    }
    llm(o, r);
    resources(o, r);
    errors(o, r);
    analyses(o, r);
}

/// Caches, what abandoned requests cost, the cost per article, and the
/// target's CPU and memory.
fn resources(o: &mut String, r: &RunResult) {
    let caches = r.cache.iter().map(|c| ("cache hit rate".to_string(), c));
    let named = r
        .caches
        .iter()
        .map(|(n, c)| (format!("{} hit rate", md_cell(n)), c));
    for (label, c) in caches.chain(named) {
        let _ = writeln!(
            o,
            "| {label} | {} ({}) |",
            opt_pct(c.hit_rate),
            md_cell(&c.source)
        );
    }
    if let Some(a) = crate::fmt::abandoned(r) {
        let _ = writeln!(o, "| abandoned | {} |", md_cell(&a));
    }
    if let Some(c) = &r.cost {
        let _ = writeln!(
            o,
            "| cost | {}, {} total |",
            md_cell(&crate::fmt::cost_per_article(c)),
            usd(c.total_usd)
        );
    }
    if let Some(p) = &r.process.target {
        let _ = writeln!(
            o,
            "| target CPU / RSS | mean {:.0}% · RSS {:.1} → {:.1} MiB (max {:.1}) |",
            p.cpu_pct.mean, p.rss_mib.start, p.rss_mib.end, p.rss_mib.max
        );
    }
}

/// Errors by kind and by check, and the connections (TLS included).
fn errors(o: &mut String, r: &RunResult) {
    if !r.errors.by_kind.is_empty() {
        let kinds: Vec<String> = r
            .errors
            .by_kind
            .iter()
            .map(|(k, n)| format!("{} {n}", md_cell(k)))
            .collect();
        let _ = writeln!(o, "| errors | {} |", kinds.join(", "));
    }
    if !r.errors.by_check.is_empty() {
        let checks: Vec<String> = r
            .errors
            .by_check
            .iter()
            .map(|(k, n)| format!("{} {n}", md_cell(k)))
            .collect();
        let _ = writeln!(o, "| failed checks | {} |", checks.join(", "));
    }
    if let Some(c) = &r.connections {
        let tls = match c.tls.as_ref().map(|t| t.mode) {
            None => String::new(),
            Some(genbench_model::TlsMode::Insecure) => ", TLS **not verified** (--insecure)".into(),
            Some(_) => format!(
                ", TLS p50 {}",
                c.tls_ms.map_or("-".into(), |t| crate::fmt::ms(t.p50))
            ),
        };
        let _ = writeln!(
            o,
            "| connections | {} · {} opened ({} resumed, {} failed){tls} |",
            md_cell(&c.protocol),
            c.opened,
            c.resumed,
            c.failed
        );
    }
}

fn thresholds(o: &mut String, r: &RunResult) {
    if r.thresholds.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n| threshold | observed | |\n|---|---:|---|");
    for t in &r.thresholds {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            md_cell(&t.expr),
            crate::fmt::observed(&t.expr, t.observed),
            match t.word() {
                "pass" | "inconclusive" => t.word().to_string(),
                w => format!("**{w}**"),
            }
        );
    }
}

/// Renders `summary.md`.
pub fn summary(r: &RunResult) -> String {
    let failed = r.thresholds.iter().filter(|t| !t.passed).count();
    let verdict = if failed > 0 {
        format!("{failed} threshold(s) failed")
    } else if r.thresholds.is_empty() {
        "no thresholds".into()
    } else {
        "all thresholds passed".into()
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "### genbench: {} ({}), {}\n",
        md_cell(&r.scenario.name),
        enum_name(&r.status),
        verdict
    );
    let _ = writeln!(
        o,
        "{} against {}, {:.1} s, started {}.\n",
        enum_name(&r.scenario.kind),
        md_cell(&r.target.url),
        r.duration_s,
        md_cell(&r.started_at)
    );
    if let Some(g) = &r.generator_limited {
        let _ = writeln!(o, "> **Weak figures:** {}.\n", md_cell(&g.message));
    }
    if let Some(rp) = &r.replay {
        let _ = writeln!(
            o,
            "Replay of {} ({}): {} of {} rows sent at {}x; fidelity p99 {}.\n",
            md_cell(&rp.file),
            md_cell(&rp.format),
            rp.sent,
            rp.window_rows,
            rp.time_scale,
            opt_ms(rp.fidelity_ms.map(|f| f.p99))
        );
    }
    body(&mut o, r);
    thresholds(&mut o, r);
    if let Some(stage) = crate::html::stages_by_mean(r)
        .into_iter()
        .find(|(n, _)| n.as_str() != "total")
    {
        let _ = writeln!(
            o,
            "\nLongest stage: {} (mean {}, p95 {}).",
            md_cell(stage.0),
            ms(stage.1.mean),
            opt_ms(Some(stage.1.p95))
        );
    }
    o
}
