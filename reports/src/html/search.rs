//! The capacity-by-search part of `report.html`'s capacity section: the
//! answer, what broke first above it, and every probe in the order run.

use genbench_model::{CapacitySearch, ProbeKind};

use super::page::{para, table};
use crate::fmt::{num, opt_ms, opt_pct, opt_usd, pct, search_answer};

pub const DEFINITIONS: &str = "Each probe held one load for its window (a rate in the open \
model, users in the closed), judged on the SLO over every request it sent. Loads double from \
the minimum until one fails, then the middle (in ratio) of the highest pass and the lowest \
failure is probed until they are within the resolution; the answer is then held for longer to \
confirm it. An open-model probe whose requests in flight keep rising (by 5% of its rate a \
second or more, latency rising too) fails at once.";

pub fn search(o: &mut String, s: &CapacitySearch) {
    let mut text = format!("{}.", capitalised(&search_answer(s)));
    if !s.failed_first.is_empty() {
        text.push_str(&format!(
            " Broken first above it: {}.",
            s.failed_first.join("; ")
        ));
    }
    if let Some(g) = &s.grew_most {
        text.push_str(&format!(
            " Grew most: {}, p95 {} at the last passing load, {} at the first failing.",
            g.stage,
            opt_ms(Some(g.passing_p95_ms)),
            opt_ms(Some(g.failing_p95_ms))
        ));
    }
    para(o, &text);
    let rows: Vec<Vec<String>> = s
        .probes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                (i + 1).to_string(),
                match p.kind {
                    Some(ProbeKind::Confirm) => "hold",
                    _ => "probe",
                }
                .into(),
                format!("{} {}", num(p.load), s.unit),
                format!("{:.0}–{:.0} s", p.start_s, p.end_s),
                if p.passed { "pass" } else { "fail" }.into(),
                num(p.achieved_rps),
                opt_ms(p.p95_ms),
                pct(p.error_rate),
                opt_pct(p.cache_hit_rate),
                p.target_cpu_mean_pct
                    .map_or("-".into(), |c| format!("{c:.0}%")),
                opt_usd(p.cost_per_article_usd),
                match p.oversaturated {
                    Some(x) => format!("over-saturated after {:.0} s", x.after_s),
                    None => p.failed.join("; "),
                },
            ]
        })
        .collect();
    table(
        o,
        &[
            "#",
            "",
            "load",
            "seconds",
            "verdict",
            "ok/s",
            "p95",
            "errors",
            "cache hits",
            "target CPU",
            "cost/article",
            "why it failed",
        ],
        &rows,
    );
    para(o, DEFINITIONS);
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}
