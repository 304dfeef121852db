//! The gate's verdicts as bytes: a plain-text table for the terminal,
//! Markdown for a CI job summary, JUnit XML with one testcase per metric.

use std::fmt::Write as _;

use super::{GateReport, MetricVerdict, Scale, Verdict};
use crate::escape::{md_cell, xml};
use crate::fmt::{ms, num, pct, usd};

/// GitHub refuses a job summary over 1 MiB; the Markdown stays well under.
pub const MARKDOWN_LIMIT: usize = 1 << 20;

fn value(unit: &str, v: Option<f64>) -> String {
    let Some(v) = v else { return "-".into() };
    match unit {
        "ms" => ms(v),
        "USD" => usd(v),
        "fraction" => pct(v),
        "MiB/h" => format!("{v:+.1} MiB/h"),
        "req/s" => format!("{} req/s", num(v)),
        _ => num(v),
    }
}

/// A change (or an interval bound) as written: relative in %, absolute in
/// the unit (percentage points for a fraction).
fn change(m: &MetricVerdict, v: f64) -> String {
    match (m.scale, m.unit) {
        (Scale::Relative, _) => format!("{:+.1}%", v * 100.0),
        (Scale::Absolute, "fraction") => format!("{:+.2} pp", v * 100.0),
        (Scale::Absolute, "MiB/h") => format!("{v:+.1} MiB/h"),
        (Scale::Absolute, _) => format!("{v:+}"),
    }
}

fn floor(m: &MetricVerdict) -> String {
    match (m.scale, m.unit) {
        (Scale::Relative, _) => format!("{}%", num(m.noise_floor * 100.0)),
        (Scale::Absolute, "fraction") => format!("{} pp", num(m.noise_floor * 100.0)),
        (Scale::Absolute, unit) => format!("{} {unit}", num(m.noise_floor)),
    }
}

fn interval(m: &MetricVerdict) -> String {
    match (m.ci, m.method) {
        (_, Some(super::Method::Exact)) => "exact".into(),
        (Some([lo, hi]), _) => format!("{} to {}", change(m, lo), change(m, hi)),
        _ => "-".into(),
    }
}

fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed => "REGRESSED",
        Verdict::Unchanged => "unchanged",
        Verdict::Improved => "improved",
        Verdict::Undecided => "undecided",
        Verdict::NotMeasured => "not measured",
        Verdict::Disabled => "disabled",
    }
}

/// Metrics worth a row: measured ones (and disabled ones, so a reader sees
/// what was switched off).
fn shown(r: &GateReport) -> impl Iterator<Item = &MetricVerdict> {
    r.metrics
        .iter()
        .filter(|m| m.verdict != Verdict::NotMeasured)
}

/// The table's columns.
pub const HEAD: [&str; 7] = [
    "metric", "baseline", "current", "change", "interval", "floor", "verdict",
];

/// One row per metric worth showing, worst first, as [`HEAD`] names them.
pub fn rows(r: &GateReport) -> Vec<[String; 7]> {
    shown(r)
        .map(|m| {
            [
                m.name.clone(),
                value(m.unit, m.baseline),
                value(m.unit, m.current),
                m.change.map_or("-".into(), |c| change(m, c)),
                interval(m),
                floor(m),
                word(m.verdict).into(),
            ]
        })
        .collect()
}

/// How a difference reads beside a comparison's number: beyond noise and
/// the floor, beyond noise but under the floor, or within noise.
pub fn significance(m: &MetricVerdict) -> Option<&'static str> {
    match m.verdict {
        Verdict::Regressed | Verdict::Improved => Some("significant"),
        Verdict::Unchanged => Some(match m.ci {
            Some([lo, hi]) if lo > 0.0 || hi < 0.0 => "under the floor",
            _ if m.change == Some(0.0) => "same",
            _ => "within noise",
        }),
        _ => None,
    }
}

/// The terminal table.
pub fn text(r: &GateReport) -> String {
    let rows = rows(r);
    let head = HEAD;
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut o = String::new();
    let line = |o: &mut String, cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(o, "{}", parts.join("  ").trim_end());
    };
    line(&mut o, &head.map(String::from));
    for row in &rows {
        line(&mut o, row);
    }
    let _ = writeln!(o, "\n{}", headline(r));
    o
}

/// One line: passed or which metrics regressed, and over how many runs.
pub fn headline(r: &GateReport) -> String {
    let regressed: Vec<&str> = r
        .metrics
        .iter()
        .filter(|m| m.verdict == Verdict::Regressed)
        .map(|m| m.name.as_str())
        .collect();
    let runs = format!(
        "{} baseline run(s) against {} current, {}% intervals",
        r.baseline.len(),
        r.current.len(),
        num(r.confidence * 100.0)
    );
    if regressed.is_empty() {
        format!("gate passed: no metric regressed ({runs})")
    } else {
        format!("gate FAILED: {} regressed ({runs})", regressed.join(", "))
    }
}

/// Markdown for `$GITHUB_STEP_SUMMARY`, worst first.
pub fn markdown(r: &GateReport) -> String {
    let mut o = String::new();
    let mark = if r.regressed() { "❌" } else { "✅" };
    let _ = writeln!(o, "## {mark} genbench gate: {}\n", md_cell(&r.scenario));
    let _ = writeln!(o, "{}\n", md_cell(&headline(r)));
    let _ = writeln!(
        o,
        "| metric | baseline | current | change | interval | floor | verdict |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---|---:|---|");
    for m in shown(r) {
        let verdict = match m.verdict {
            Verdict::Regressed => "**regressed**".to_string(),
            v => word(v).to_string(),
        };
        let row = format!(
            "| {} | {} | {} | {} | {} | {} | {verdict} |\n",
            md_cell(&m.name),
            value(m.unit, m.baseline),
            value(m.unit, m.current),
            m.change.map_or("-".into(), |c| change(m, c)),
            interval(m),
            floor(m),
        );
        // Rows are worst first, so what a cut drops matters least.
        if o.len() + row.len() > MARKDOWN_LIMIT - 200 {
            let _ = writeln!(o, "\n(more metrics in gate.json)");
            break;
        }
        o.push_str(&row);
    }
    let _ = writeln!(
        o,
        "\nA change counts when its interval excludes zero and it is larger than the floor; cost, tokens and cache hits against the mocks compare exactly."
    );
    o
}

/// JUnit XML: one testcase per metric; a regression is a failure, a metric
/// not measured or turned off is skipped.
pub fn junit(r: &GateReport) -> String {
    let failures = r
        .metrics
        .iter()
        .filter(|m| m.verdict == Verdict::Regressed)
        .count();
    let skipped = r
        .metrics
        .iter()
        .filter(|m| {
            matches!(
                m.verdict,
                Verdict::NotMeasured | Verdict::Disabled | Verdict::Undecided
            )
        })
        .count();
    let n = r.metrics.len();
    let suite = xml(&format!("genbench gate {}", r.scenario));
    let class = xml(&format!("genbench.gate.{}", r.scenario));
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"genbench gate\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\">\n<testsuite name=\"{suite}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    );
    for m in &r.metrics {
        let _ = write!(
            o,
            "<testcase name=\"{}\" classname=\"{class}\" time=\"0\"",
            xml(&m.name)
        );
        let detail = format!(
            "{}: baseline {}, current {}, change {} (interval {}, floor {})",
            m.name,
            value(m.unit, m.baseline),
            value(m.unit, m.current),
            m.change.map_or("-".into(), |c| change(m, c)),
            interval(m),
            floor(m)
        );
        match m.verdict {
            Verdict::Regressed => {
                let _ = writeln!(
                    o,
                    ">\n<failure message=\"{d}\" type=\"regression\">{d}</failure>\n</testcase>",
                    d = xml(&detail)
                );
            }
            Verdict::NotMeasured | Verdict::Disabled | Verdict::Undecided => {
                let _ = writeln!(
                    o,
                    ">\n<skipped message=\"{}\"/>\n</testcase>",
                    xml(word(m.verdict))
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    ">\n<system-out>{}</system-out>\n</testcase>",
                    xml(&detail)
                );
            }
        }
    }
    o.push_str("</testsuite>\n</testsuites>\n");
    o
}
