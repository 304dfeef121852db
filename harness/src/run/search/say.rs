//! What a search says: each probe's verdict on stderr as it goes, and its
//! answer in the run's summary on stdout.

use std::fmt::Write as _;

use genbench_model::{CapacitySearch, Probe, ProbeKind};

use genbench_reports::fmt::{ms, num, search_answer, usd};

/// A load in its unit.
fn load(v: f64, unit: &str) -> String {
    format!("{} {unit}", num(v))
}

/// A probe's verdict, as the search goes.
pub fn verdict(probe: &Probe) {
    let p95 = probe.p95_ms.map_or("-".into(), ms);
    let why = if probe.failed.is_empty() {
        String::new()
    } else {
        format!(": {}", probe.failed.join("; "))
    };
    let verdict = if probe.passed { "passed" } else { "failed" };
    eprintln!(
        "search:   {verdict} ({} requests, p95 {p95}){why}",
        probe.requests
    );
}

/// The answer, what broke first above it, and each probe.
pub fn summary_lines(o: &mut String, s: &CapacitySearch) {
    let u = s.unit.as_str();
    let answer = search_answer(s);
    let _ = writeln!(o, "  capacity    {answer}");
    if !s.failed_first.is_empty() {
        let _ = writeln!(o, "  broke first {}", s.failed_first.join("; "));
    }
    if let Some(g) = &s.grew_most {
        let _ = writeln!(
            o,
            "  grew most   {}: p95 {} at the last passing load, {} at the first failing",
            g.stage,
            ms(g.passing_p95_ms),
            ms(g.failing_p95_ms)
        );
    }
    for (i, p) in s.probes.iter().enumerate() {
        let kind = match p.kind {
            Some(ProbeKind::Confirm) => "hold",
            _ => "probe",
        };
        let early = p.oversaturated.map_or(String::new(), |x| {
            format!(", stopped after {:.0} s", x.after_s)
        });
        let cost = p
            .cost_per_article_usd
            .map_or(String::new(), |c| format!(", {} per article", usd(c)));
        let _ = writeln!(
            o,
            "  {kind:<5} {:>2}  {:>14}  {:<4}  p95 {:>9}  {:>7.1} ok/s  errors {:.1}%  {:.0}-{:.0} s{early}{cost}",
            i + 1,
            load(p.load, u),
            if p.passed { "pass" } else { "FAIL" },
            p.p95_ms.map_or("-".into(), ms),
            p.achieved_rps,
            p.error_rate * 100.0,
            p.start_s,
            p.end_s
        );
    }
}
