//! What the service's own spans said (`traces`): the join, each stage's
//! time on a request's critical path, the stages' durations, upstream
//! failures, and a waterfall of the slowest requests' span trees. Absent
//! when the run collected no spans.

use std::fmt::Write as _;

use genbench_model::{RunResult, SpanTree, TracesResult};

use super::page::{figure, h2, para, table};
use crate::chart::{self, BLUE_, BarChart};
use crate::escape::html;
use crate::fmt::{ms, pct};

/// Most trees drawn; the rest are in results.json.
const TREES_SHOWN: usize = 5;
/// Most spans of one tree drawn.
const SPANS_SHOWN: usize = 60;

pub fn traces(o: &mut String, r: &RunResult) {
    let Some(t) = &r.traces else {
        return;
    };
    h2(o, "traces", "Inside the service (its spans)");
    para(o, &join_text(t));
    figure(
        o,
        "critical-path",
        "Mean time per request on the critical path, by stage: parallel spans count once (three fetches side by side are one fetch's time), a parent's own time is its gaps between children. \"service's own\" is the service's span's time outside every child; \"outside its span\" is genbench's service time minus that span (network, queueing before the service saw the request).",
        critical_path(t),
        "No request's root span arrived, so no critical path.",
    );
    let mut rows: Vec<Vec<String>> = t
        .stages
        .iter()
        .map(|(name, s)| {
            let d = &s.duration_ms;
            vec![
                html(name),
                s.count.to_string(),
                ms(d.mean),
                ms(d.p50),
                ms(d.p95),
                ms(d.p99),
                ms(s.critical_path_ms_per_request),
                s.errors.to_string(),
            ]
        })
        .collect();
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    table(
        o,
        &[
            "stage",
            "spans",
            "mean",
            "p50",
            "p95",
            "p99",
            "on the path per request",
            "errors",
        ],
        &rows,
    );
    failures(o, t);
    waterfalls(o, &t.slowest);
}

fn join_text(t: &TracesResult) -> String {
    let rate = t.join_rate.map_or("-".into(), pct);
    let source = match (t.source.as_str(), &t.endpoint) {
        ("otlp_http", Some(e)) => format!("received over OTLP/HTTP at {}", html(e)),
        ("file", _) => "read from the Collector's file".into(),
        _ => "received".into(),
    };
    format!(
        "Spans {source}: {} of {} requests' traces joined ({rate}); {} spans of this run, {} of other traces (dropped), {} batches refused, {} spans without their request's root.",
        t.joined,
        t.requests,
        t.spans.ours,
        t.spans.other,
        t.spans.rejected_batches,
        t.spans.unrooted
    )
}

fn critical_path(t: &TracesResult) -> Option<chart::Svg> {
    let mut bars: Vec<(String, f64, Option<f64>)> = t
        .stages
        .iter()
        .filter(|(_, s)| s.critical_path_ms_per_request > 0.0)
        .map(|(n, s)| (n.clone(), s.critical_path_ms_per_request, None))
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    bars.truncate(12);
    if let Some(s) = &t.self_ms {
        bars.push(("service's own".into(), s.mean, None));
    }
    if let Some(s) = &t.outside_root_ms {
        bars.push(("outside its span".into(), s.mean, None));
    }
    if bars.is_empty() {
        return None;
    }
    Some(chart::bars(&BarChart {
        y_desc: "ms per request".into(),
        bars,
        front_name: "mean".into(),
        back_name: None,
        color: Some(BLUE_),
    }))
}

fn failures(o: &mut String, t: &TracesResult) {
    if t.failures.is_empty() {
        return;
    }
    para(
        o,
        "Upstream failures: spans with an error status or an HTTP status of 400 and above, by stage and status (429s name the provider whose limit binds).",
    );
    let rows: Vec<Vec<String>> = t
        .failures
        .iter()
        .map(|f| vec![html(&f.stage), html(&f.status), f.count.to_string()])
        .collect();
    table(o, &["stage", "status", "spans"], &rows);
}

/// Each tree as rows of bars on the root's time axis.
fn waterfalls(o: &mut String, trees: &[SpanTree]) {
    if trees.is_empty() {
        return;
    }
    para(
        o,
        &format!(
            "The slowest requests' span trees ({} of {} kept), each span a bar on its request's time axis.",
            trees.len().min(TREES_SHOWN),
            trees.len()
        ),
    );
    o.push_str("<style>.wf{font-size:12px;margin:4px 0 14px}.wf .row{display:grid;grid-template-columns:34% 1fr 80px;gap:6px;align-items:center}.wf .n{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.wf .tr{position:relative;height:12px;background:var(--bg)}.wf .b{position:absolute;top:1px;height:10px;background:#4878d0;min-width:1px}.wf .e{background:var(--bad)}.wf .d{text-align:right;font-variant-numeric:tabular-nums}</style>\n");
    for t in trees.iter().take(TREES_SHOWN) {
        waterfall(o, t);
    }
}

fn waterfall(o: &mut String, t: &SpanTree) {
    let total = t.duration_ms.max(f64::MIN_POSITIVE);
    let _ = writeln!(
        o,
        "<div class=\"wf\"><div><b>{}</b> trace {}</div>",
        ms(t.duration_ms),
        html(&t.trace_id)
    );
    for s in t.spans.iter().take(SPANS_SHOWN) {
        let left = (s.start_ms / total * 100.0).clamp(0.0, 100.0);
        let width = (s.duration_ms / total * 100.0).clamp(0.0, 100.0 - left);
        let label = if s.stage == s.name {
            html(&s.name)
        } else {
            format!(
                "{} <span class=\"na\">{}</span>",
                html(&s.stage),
                html(&s.name)
            )
        };
        let _ = writeln!(
            o,
            "<div class=\"row\"><span class=\"n\" style=\"padding-left:{}px\" title=\"{}\">{label}</span><span class=\"tr\"><span class=\"b{}\" style=\"left:{left:.2}%;width:{width:.2}%\"></span></span><span class=\"d\">{}</span></div>",
            (s.depth.min(12) * 12),
            html(&s.name),
            if s.error { " e" } else { "" },
            ms(s.duration_ms)
        );
    }
    if t.spans.len() > SPANS_SHOWN {
        let _ = writeln!(
            o,
            "<div class=\"na\">{} more spans in results.json</div>",
            t.spans.len() - SPANS_SHOWN
        );
    }
    o.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use genbench_model::{TraceStage, TreeSpan};

    use super::*;

    #[test]
    fn untrusted_names_are_text_and_the_waterfall_fits() {
        let mut r = RunResult::example("s", genbench_model::ScenarioKind::Baseline);
        r.target.url = "http://x".into();
        r.started_at = "2026-12-04T00:00:00Z".into();
        let evil = "<script>alert(1)</script>";
        let mut t = TracesResult {
            source: "otlp_http".into(),
            requests: 2,
            joined: 2,
            join_rate: Some(1.0),
            ..TracesResult::default()
        };
        t.stages.insert(
            evil.into(),
            TraceStage {
                count: 2,
                critical_path_ms_per_request: 5.0,
                ..TraceStage::default()
            },
        );
        t.slowest.push(SpanTree {
            trace_id: "ab".repeat(16),
            duration_ms: 10.0,
            spans: vec![TreeSpan {
                stage: evil.into(),
                name: evil.into(),
                start_ms: 2.0,
                duration_ms: 50.0,
                depth: 1,
                error: true,
            }],
        });
        r.traces = Some(t);
        let mut o = String::new();
        traces(&mut o, &r);
        assert!(!o.contains(evil), "{o}");
        assert!(o.contains("&lt;script&gt;"));
        // A span longer than its root is drawn within the axis.
        assert!(o.contains("left:20.00%;width:80.00%"), "{o}");
        assert!(o.contains("class=\"b e\""));
        let mut none = String::new();
        r.traces = None;
        traces(&mut none, &r);
        assert!(none.is_empty());
    }
}
