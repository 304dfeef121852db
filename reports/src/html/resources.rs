//! The closing sections of `report.html`: cost, and the scenario and
//! machine the run ran with.

use std::fmt::Write as _;

use genbench_model::RunResult;

use super::charts;
use super::page::{figure, h2, para, table};
use crate::escape::html;
use crate::fmt::{enum_name, usd};

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
            "{} over {} articles ({} total, source {}); {} tokens per article: {} prompt ({} of them cached), {} completion over the run.",
            crate::fmt::cost_per_article(c),
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
    if let Some(a) = crate::fmt::abandoned(r) {
        para(o, &format!("Abandoned: {a}."));
    }
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

pub fn environment(o: &mut String, r: &RunResult) {
    h2(o, "environment", "Scenario and environment");
    let mut rows = vec![
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
