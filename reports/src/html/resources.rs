//! The closing sections of `report.html`: cost, the flamegraph, and the
//! scenario and machine the run ran with.

use std::fmt::Write as _;

use base64::Engine as _;
use genbench_model::RunResult;

use super::charts;
use super::page::{figure, h2, para, table};
use crate::escape::html;
use crate::fmt::{enum_name, opt_usd, usd};

pub fn cost(o: &mut String, r: &RunResult) {
    h2(o, "cost", "Cost");
    let Some(c) = &r.cost else {
        para(
            o,
            "No cost was collected: point the target at genbench mock, or set [collect.cost] to price the usage in responses.",
        );
        return;
    };
    para(
        o,
        &format!(
            "{} per article over {} articles ({} total, source {}); {} tokens per article: {} prompt ({} of them cached), {} completion over the run.",
            opt_usd(c.per_article_usd),
            c.articles,
            usd(c.total_usd),
            c.source,
            c.tokens_per_article
                .map_or("-".into(), |v| format!("{v:.0}")),
            c.tokens.prompt,
            c.tokens.cached_prompt,
            c.tokens.completion
        ),
    );
    figure(
        o,
        "cost",
        "Cost over the run by model and search.",
        charts::cost(r),
        "Nothing was billed.",
    );
    let mut rows: Vec<Vec<String>> = c
        .by_model
        .iter()
        .map(|(m, v)| vec![m.clone(), usd(*v)])
        .collect();
    rows.push(vec![
        format!("search ({} calls)", c.search_calls),
        usd(c.search_usd),
    ]);
    table(o, &["model", "USD"], &rows);
}

pub fn flamegraph(o: &mut String, r: &RunResult, svg: Option<&[u8]>) {
    h2(o, "flamegraph", "Flamegraph");
    if let Some(p) = &r.profile {
        let tool = p.tool.as_ref().map_or("no profiler".into(), enum_name);
        para(
            o,
            &format!("{tool}, {}: {}", enum_name(&p.status), p.detail),
        );
    }
    match svg {
        // A sandboxed frame: the SVG keeps its own script (click to zoom,
        // search) and cannot reach this page. Its src is set once the page
        // has laid out: a flamegraph sizes itself to its frame when it
        // loads, and a frame loaded before layout is 0 pixels wide.
        Some(bytes) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            let height = svg_height(bytes).unwrap_or(640).clamp(200, 6000) + 4;
            let _ = writeln!(
                o,
                "<figure class=\"chart\" data-chart=\"flamegraph\"><iframe class=\"flamegraph\" sandbox=\"allow-scripts\" title=\"flamegraph\" style=\"height:{height}px\" data-src=\"data:image/svg+xml;base64,{b64}\"></iframe>\n\
<figcaption>The target's CPU time by stack: click a frame to zoom, Ctrl-F to search.{}</figcaption></figure>\n\
<script>window.addEventListener('load', function () {{ document.querySelectorAll('iframe[data-src]').forEach(function (f) {{ f.src = f.dataset.src; }}); }});</script>",
                r.artifacts
                    .flamegraph_svg
                    .as_ref()
                    .map_or(String::new(), |f| format!(" Also in {}.", html(f)))
            );
        }
        None => para(o, "No flamegraph was captured in this run."),
    }
}

/// The height a flamegraph SVG asks for, from its root element.
fn svg_height(svg: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(&svg[..svg.len().min(4096)]).ok()?;
    let root = &text[text.find("<svg")?..];
    let root = &root[..root.find('>')?];
    let at = root.find(" height=\"")? + " height=\"".len();
    let value = &root[at..];
    value[..value.find('"')?]
        .trim_end_matches("px")
        .parse::<f64>()
        .ok()
        .map(|v| v as u32)
}

pub fn environment(o: &mut String, r: &RunResult) {
    h2(o, "environment", "Scenario and environment");
    let rows = vec![
        vec!["genbench".into(), r.tool_version.clone()],
        vec!["results schema".into(), r.schema_version.to_string()],
        vec!["status".into(), enum_name(&r.status)],
        vec![
            "scenario".into(),
            format!("{} ({})", r.scenario.name, enum_name(&r.scenario.kind)),
        ],
        vec![
            "target".into(),
            format!("{} {}", enum_name(&r.target.kind), r.target.url),
        ],
        vec![
            "target pid".into(),
            r.target.pid.map_or("-".into(), |p| p.to_string()),
        ],
        vec!["started".into(), r.started_at.clone()],
        vec!["duration".into(), format!("{:.1} s", r.duration_s)],
    ];
    let mut rows = rows;
    if let Some(h) = &r.host {
        rows.push(vec![
            "machine".into(),
            format!("{} {}, {} cores", h.os, h.arch, h.cpus),
        ]);
        if let Some(b) = &h.cpu_brand {
            rows.push(vec!["CPU".into(), b.clone()]);
        }
        if let Some(k) = &h.kernel {
            rows.push(vec!["kernel".into(), k.clone()]);
        }
        if let Some(m) = h.memory_mib {
            rows.push(vec!["memory".into(), format!("{:.1} GiB", m / 1024.0)]);
        }
    }
    table(o, &["", ""], &rows);
    let resolved = serde_json::to_string_pretty(&r.scenario.resolved).unwrap_or_default();
    let _ = writeln!(
        o,
        "<p>The scenario as it ran (defaults and overrides applied):</p>\n<pre>{}</pre>",
        html(&resolved)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flamegraph_height_comes_from_its_root_element() {
        let svg = br#"<?xml version="1.0"?><svg version="1.1" width="1200" height="2070" onload="init(evt)"><rect height="5"/></svg>"#;
        assert_eq!(svg_height(svg), Some(2070));
        assert_eq!(svg_height(b"<svg width=\"10\">"), None);
        assert_eq!(svg_height(b"not svg"), None);
    }
}
