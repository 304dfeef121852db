//! The comparison of N runs, the first one the base: a side-by-side table
//! with deltas, the configuration keys that differ, overlaid latency
//! curves and cost per article against p95 with the Pareto front.

mod metrics;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use genbench_model::RunResult;

use crate::chart::{self, PALETTE, Scatter, Svg};
use crate::escape::{html, md_cell};
use crate::gate::{self, GateReport, Rules};
use crate::html::page;
use crate::nines::{self, Curve};
use crate::{hdr, pareto};
use metrics::{Direction, METRICS, Metric, delta, judged};

/// One run in a comparison, under the name it is shown by.
#[derive(Debug, Clone)]
pub struct Run {
    pub label: String,
    pub result: RunResult,
    /// The run's report.html as a link from the comparison's directory,
    /// when the caller knows where both are.
    pub report_href: Option<String>,
}

/// Longest value shown for a configuration key; longer ones are cut.
const MAX_VALUE_CHARS: usize = 80;

fn shown(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        // Thresholds and SLOs as written, not as parsed.
        serde_json::Value::Array(items) if items.iter().all(|i| i.get("expr").is_some()) => items
            .iter()
            .filter_map(|i| i.get("expr").and_then(|e| e.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    if s.chars().count() > MAX_VALUE_CHARS {
        let cut: String = s.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), shown(other));
        }
    }
}

/// Scenario keys whose values differ between runs: what was varied.
pub fn differences(runs: &[Run]) -> Vec<(String, Vec<String>)> {
    let flat: Vec<BTreeMap<String, String>> = runs
        .iter()
        .map(|r| {
            let mut m = BTreeMap::new();
            flatten("", &r.result.scenario.resolved, &mut m);
            m
        })
        .collect();
    let keys: std::collections::BTreeSet<&String> = flat.iter().flat_map(|m| m.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let vals: Vec<String> = flat
                .iter()
                .map(|m| m.get(k).cloned().unwrap_or_else(|| "-".into()))
                .collect();
            vals.iter()
                .any(|v| v != &vals[0])
                .then(|| (k.clone(), vals))
        })
        .collect()
}

/// (cost per article, p95 ms) of the runs that have both.
fn cost_points(runs: &[Run]) -> Vec<(usize, f64, f64)> {
    runs.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let cost = r.result.cost.as_ref()?.per_article_usd?;
            let p95 = r.result.latency_ms?.p95;
            Some((i, p95, cost))
        })
        .collect()
}

/// Labels of the runs on the Pareto front of p95 and cost per article.
pub fn pareto_front(runs: &[Run]) -> Vec<usize> {
    let pts = cost_points(runs);
    let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.1, p.2)).collect();
    pareto::front(&xy).into_iter().map(|i| pts[i].0).collect()
}

fn curves(runs: &[Run]) -> Option<Svg> {
    let curves: Vec<Curve> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let h = hdr::decode(r.result.histograms.latency_us.as_deref())?;
            Some(Curve {
                name: r.label.clone(),
                color: PALETTE[i % PALETTE.len()],
                points: hdr::percentile_curve_ms(&h),
            })
        })
        .filter(|c| !c.points.is_empty())
        .collect();
    (!curves.is_empty()).then(|| nines::percentiles(&curves))
}

fn scatter(runs: &[Run]) -> Option<Svg> {
    let pts = cost_points(runs);
    if pts.is_empty() {
        return None;
    }
    let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.1, p.2)).collect();
    let points: Vec<(String, f64, f64)> = pts
        .iter()
        .map(|&(i, x, y)| (runs[i].label.clone(), x, y))
        .collect();
    let front = pareto::front(&xy);
    Some(chart::scatter(&Scatter {
        x_desc: "p95 latency (ms)".into(),
        y_desc: "cost per article (USD)".into(),
        points,
        front,
    }))
}

/// Each run against the first by the gate's statistics (none for the
/// first); `Err` says why a run cannot be (another scenario, seed or load).
fn gates(runs: &[Run]) -> Vec<Option<Result<GateReport, String>>> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let base = [(first.label.clone(), first.result.clone())];
    runs.iter()
        .enumerate()
        .map(|(i, r)| {
            (i > 0).then(|| {
                let cur = [(r.label.clone(), r.result.clone())];
                gate::check(&base, &cur).map_err(|e| e.0)?;
                Ok(gate::gate(&base, &cur, &Rules::default()))
            })
        })
        .collect()
}

/// A cell's change from the base, its direction and what the gate said of
/// it: its verdict where it judged the row, else the 1% rule and no word.
fn judge(
    m: &Metric,
    g: Option<&Result<GateReport, String>>,
    base: f64,
    v: f64,
) -> Option<(f64, Direction, Option<&'static str>)> {
    let (rel, dir) = delta(m, base, v)?;
    let verdict = g
        .and_then(|g| g.as_ref().ok())
        .zip(m.gate)
        .and_then(|(g, name)| g.metrics.iter().find(|x| x.name == name));
    Some(
        match verdict.and_then(|x| Some((judged(x)?, gate::significance(x)?))) {
            Some((d, word)) => (rel, d, Some(word)),
            None => (rel, dir, None),
        },
    )
}

fn class(d: Direction) -> &'static str {
    match d {
        Direction::Better => "better",
        Direction::Worse => "worse",
        Direction::Same | Direction::Neither => "",
    }
}

fn html_table(o: &mut String, runs: &[Run], gates: &[Option<Result<GateReport, String>>]) {
    o.push_str("<table data-table=\"comparison\">\n<tr><th>metric</th>");
    for r in runs {
        // Only relative links: a scheme (javascript:, http:) is never
        // written into the page.
        match r.report_href.as_ref().filter(|h| !h.contains(':')) {
            Some(href) => {
                let _ = write!(
                    o,
                    "<th><a href=\"{}\">{}</a></th>",
                    html(href),
                    html(&r.label)
                );
            }
            None => {
                let _ = write!(o, "<th>{}</th>", html(&r.label));
            }
        }
    }
    o.push_str("</tr>\n");
    for m in METRICS {
        let vals: Vec<Option<f64>> = runs.iter().map(|r| (m.get)(&r.result)).collect();
        if vals.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(o, "<tr><td>{}</td>", m.name);
        for (i, v) in vals.iter().enumerate() {
            let Some(v) = v else {
                o.push_str("<td>-</td>");
                continue;
            };
            let g = gates.get(i).and_then(Option::as_ref);
            match (i, vals[0].and_then(|b| judge(m, g, b, *v))) {
                (0, _) | (_, None) => {
                    let _ = write!(o, "<td>{}</td>", html(&(m.show)(*v)));
                }
                (_, Some((0.0, _, _))) => {
                    let _ = write!(o, "<td>{} <small>(same)</small></td>", html(&(m.show)(*v)));
                }
                (_, Some((rel, dir, word))) => {
                    let _ = write!(
                        o,
                        "<td{}>{} <small>({:+.1}%{})</small></td>",
                        match class(dir) {
                            "" => String::new(),
                            c => format!(" class=\"{c}\""),
                        },
                        html(&(m.show)(*v)),
                        rel * 100.0,
                        word.map_or(String::new(), |w| format!(", {w}"))
                    );
                }
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// Each run against the base as `genbench gate` would judge it, one run a
/// side.
fn gate_section(o: &mut String, runs: &[Run], gates: &[Option<Result<GateReport, String>>]) {
    if gates.iter().all(Option::is_none) {
        return;
    }
    page::h2(o, "gate", "Gate: each run against the first");
    for (r, g) in runs.iter().zip(gates) {
        match g {
            None => {}
            Some(Err(why)) => page::para(o, &format!("{}: not judged: {why}", r.label)),
            Some(Ok(g)) => {
                let _ = writeln!(o, "<h3>{}</h3>", html(&r.label));
                page::para(o, &gate::headline(g));
                let rows: Vec<Vec<String>> = gate::rows(g).into_iter().map(Vec::from).collect();
                page::table(o, &gate::HEAD, &rows);
            }
        }
    }
}

/// Renders `comparison.html`.
pub fn comparison_html(runs: &[Run]) -> Vec<u8> {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<h1>genbench: {} runs compared</h1>\n<p class=\"sub\">Deltas are against the first run, {}. Where a run is comparable with it (same scenario, seed and load), latency, throughput, errors, cache, cost and leak rows are judged by the gate's statistics: green or red only when significant (the interval excludes no change and the change passes the floor), otherwise within noise or under the floor; other rows are coloured beyond 1%.</p>",
        runs.len(),
        runs.first().map_or(String::new(), |r| html(&r.label))
    );
    let diffs = differences(runs);
    page::h2(&mut o, "configuration", "What differs");
    if diffs.is_empty() {
        page::para(&mut o, "The runs' scenarios are identical.");
    } else {
        let mut head = vec!["scenario key"];
        head.extend(runs.iter().map(|r| r.label.as_str()));
        let rows: Vec<Vec<String>> = diffs
            .into_iter()
            .map(|(k, vals)| std::iter::once(k).chain(vals).collect())
            .collect();
        page::table(&mut o, &head, &rows);
    }
    let gates = gates(runs);
    page::h2(&mut o, "side-by-side", "Side by side");
    html_table(&mut o, runs, &gates);
    gate_section(&mut o, runs, &gates);
    page::h2(&mut o, "latency", "Latency distributions");
    page::figure(
        &mut o,
        "latency-curves",
        "Each run's latency distribution (HdrHistogram; log scales).",
        curves(runs),
        "No run has a latency histogram.",
    );
    page::h2(&mut o, "cost-latency", "Cost per article against p95");
    page::figure(
        &mut o,
        "cost-vs-p95",
        "Each run's cost per article against its p95; the Pareto front joins the runs no other beats on both.",
        scatter(runs),
        "No run has both a cost per article and a p95.",
    );
    let front: Vec<String> = pareto_front(runs)
        .into_iter()
        .map(|i| runs[i].label.clone())
        .collect();
    if !front.is_empty() {
        page::para(
            &mut o,
            &format!("On the Pareto front: {}.", front.join(", ")),
        );
    }
    page::document(&format!("genbench: {} runs compared", runs.len()), &o).into_bytes()
}

fn md_value(
    m: &Metric,
    base: Option<f64>,
    v: Option<f64>,
    g: Option<&Result<GateReport, String>>,
) -> String {
    let Some(v) = v else { return "-".into() };
    let shown = (m.show)(v);
    match base.and_then(|b| judge(m, g, b, v)) {
        Some((rel, _, _)) if g.is_some() && rel == 0.0 => format!("{shown} (same)"),
        Some((rel, dir, word)) if g.is_some() => {
            let dir = match dir {
                Direction::Better => ", better",
                Direction::Worse => ", **worse**",
                Direction::Same | Direction::Neither => "",
            };
            let word = word.map_or(String::new(), |w| format!(", {w}"));
            format!("{shown} ({:+.1}%{dir}{word})", rel * 100.0)
        }
        _ => shown,
    }
}

/// Renders `comparison.md`.
pub fn comparison_markdown(runs: &[Run]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "### genbench: {} runs compared\n", runs.len());
    let labels: Vec<String> = runs.iter().map(|r| md_cell(&r.label)).collect();
    let _ = writeln!(
        o,
        "| metric | {} |\n|---|{}",
        labels.join(" | "),
        "---:|".repeat(runs.len())
    );
    let gates = gates(runs);
    for (k, vals) in differences(runs) {
        let vals: Vec<String> = vals.iter().map(|v| md_cell(v)).collect();
        let _ = writeln!(o, "| {} | {} |", md_cell(&k), vals.join(" | "));
    }
    for m in METRICS {
        let vals: Vec<Option<f64>> = runs.iter().map(|r| (m.get)(&r.result)).collect();
        if vals.iter().all(Option::is_none) {
            continue;
        }
        let cells: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| md_value(m, vals[0], *v, gates.get(i).and_then(Option::as_ref)))
            .collect();
        let _ = writeln!(o, "| {} | {} |", m.name, cells.join(" | "));
    }
    let front: Vec<String> = pareto_front(runs)
        .into_iter()
        .map(|i| md_cell(&runs[i].label))
        .collect();
    if !front.is_empty() {
        let _ = writeln!(
            o,
            "\nPareto front (no other run has both a lower p95 and a lower cost per article): {}.",
            front.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "\nDeltas are against {}; \"significant\", \"within noise\" and \"under the floor\" are the gate's statistics (genbench gate).",
        labels.first().cloned().unwrap_or_default()
    );
    o
}
