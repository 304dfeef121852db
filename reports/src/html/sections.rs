//! The sections of `report.html`, top to bottom.

use std::fmt::Write as _;

use base64::Engine as _;
use genbench_model::{LatencySummaryMs, LeakVerdict, RunResult, RunStatus};

use super::charts;
use super::page::{cards, figure, h2, para, table};
use crate::escape::html;
use crate::fmt::{enum_name, ms, num, opt_ms, opt_pct, opt_usd, pct, usd};

pub fn header(o: &mut String, r: &RunResult) {
    let (class, status) = match r.status {
        RunStatus::Completed => ("ok", "completed"),
        RunStatus::Interrupted => ("warn", "interrupted"),
        RunStatus::Failed => ("bad", "failed"),
    };
    let _ = writeln!(
        o,
        "<h1>{} <span class=\"badge {class}\">{status}</span></h1>\n<p class=\"sub\">{} scenario against {} ({}), started {}, ran {:.1} s. genbench {}.</p>",
        html(&r.scenario.name),
        html(&enum_name(&r.scenario.kind)),
        html(&r.target.url),
        html(&enum_name(&r.target.kind)),
        html(&r.started_at),
        r.duration_s,
        html(&r.tool_version),
    );
    o.push_str("<nav><a href=\"#thresholds\">thresholds</a><a href=\"#latency\">latency</a><a href=\"#throughput\">throughput</a><a href=\"#stages\">stages</a><a href=\"#cache\">cache</a><a href=\"#process\">CPU and memory</a><a href=\"#analysis\">analysis</a><a href=\"#cost\">cost</a><a href=\"#flamegraph\">flamegraph</a><a href=\"#environment\">scenario</a></nav>\n");
}

fn p(s: &Option<LatencySummaryMs>, f: fn(&LatencySummaryMs) -> f64) -> String {
    opt_ms(s.as_ref().map(f))
}

/// The verdicts in one line each: thresholds, leak, capacity, spike.
fn verdicts(r: &RunResult) -> Vec<(String, String, String, &'static str)> {
    let mut v = Vec::new();
    if !r.thresholds.is_empty() {
        let passed = r.thresholds.iter().filter(|t| t.passed).count();
        let all = passed == r.thresholds.len();
        v.push((
            "thresholds".into(),
            format!("{passed}/{} pass", r.thresholds.len()),
            if all { "all passed" } else { "some failed" }.into(),
            if all { "ok" } else { "bad" },
        ));
    }
    if let Some(l) = &r.leak {
        let class = match l.verdict {
            LeakVerdict::Leak => "bad",
            LeakVerdict::NoLeak => "ok",
            LeakVerdict::Inconclusive => "warn",
        };
        v.push((
            "leak verdict".into(),
            enum_name(&l.verdict),
            format!("{:+.1} MiB/h", l.slope_mib_per_h),
            class,
        ));
    }
    if let Some(c) = &r.capacity {
        let m = c
            .max_sustainable_rps
            .map_or("none".into(), |v| format!("{} req/s", num(v)));
        let knee = c
            .knee_rps
            .map_or("no knee".into(), |v| format!("knee {} req/s", num(v)));
        v.push(("max sustainable".into(), m, knee, ""));
    }
    if let Some(s) = &r.spike {
        let (val, class) = s.recovery_s.map_or(("not recovered".into(), "bad"), |v| {
            (format!("{v:.0} s"), "ok")
        });
        v.push((
            "spike recovery".into(),
            val,
            format!("{} errors in the burst", s.errors_during_burst),
            class,
        ));
    }
    v
}

pub fn summary_cards(o: &mut String, r: &RunResult) {
    let err_class = if r.errors.rate > 0.0 { "bad" } else { "ok" };
    let mut c = vec![
        (
            "requests".into(),
            r.requests.total.to_string(),
            format!("{} ok, {} failed", r.requests.ok, r.requests.failed),
            "",
        ),
        (
            "throughput".into(),
            format!("{:.2} req/s", r.throughput_rps),
            "over the load window".into(),
            "",
        ),
        (
            "error rate".into(),
            pct(r.errors.rate),
            format!("{} kinds", r.errors.by_kind.len()),
            err_class,
        ),
        (
            "p50".into(),
            p(&r.latency_ms, |s| s.p50),
            "latency".into(),
            "",
        ),
        (
            "p95".into(),
            p(&r.latency_ms, |s| s.p95),
            "latency".into(),
            "",
        ),
        (
            "p99".into(),
            p(&r.latency_ms, |s| s.p99),
            "latency".into(),
            "",
        ),
        (
            "TTFT p50".into(),
            p(&r.ttfb_ms, |s| s.p50),
            format!("p95 {}", p(&r.ttfb_ms, |s| s.p95)),
            "",
        ),
        (
            "cache hit rate".into(),
            opt_pct(r.cache.as_ref().and_then(|c| c.hit_rate)),
            r.cache
                .as_ref()
                .map_or("not measured".into(), |c| c.source.clone()),
            "",
        ),
        (
            "cost per article".into(),
            opt_usd(r.cost.as_ref().and_then(|c| c.per_article_usd)),
            r.cost.as_ref().map_or("not measured".into(), |c| {
                format!("{} total", usd(c.total_usd))
            }),
            "",
        ),
    ];
    c.extend(verdicts(r));
    cards(o, &c);
}

pub fn thresholds(o: &mut String, r: &RunResult) {
    h2(o, "thresholds", "Thresholds");
    if r.thresholds.is_empty() {
        para(o, "The scenario sets no thresholds.");
        return;
    }
    o.push_str("<table>\n<tr><th>threshold</th><th>observed</th><th>result</th></tr>\n");
    for t in &r.thresholds {
        let (class, word) = if t.passed {
            ("ok", "pass")
        } else {
            ("bad", "FAIL")
        };
        let seen = crate::fmt::observed(&t.expr, t.observed);
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{word}</td></tr>",
            html(&t.expr),
            html(&seen)
        );
    }
    o.push_str("</table>\n");
}

fn latency_rows(r: &RunResult) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (name, s) in [
        ("latency", &r.latency_ms),
        ("time to first byte", &r.ttfb_ms),
        ("chunk gap", &r.chunk_gap_ms),
    ] {
        if let Some(s) = s {
            rows.push(
                [name.to_string()]
                    .into_iter()
                    .chain([s.min, s.mean, s.p50, s.p90, s.p95, s.p99, s.p999, s.max].map(ms))
                    .collect(),
            );
        }
    }
    rows
}

pub fn latency(o: &mut String, r: &RunResult) {
    h2(o, "latency", "Latency");
    table(
        o,
        &[
            "", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max",
        ],
        &latency_rows(r),
    );
    let window = charts::latency_window_s(r);
    let caption = if window > 1 {
        format!(
            "Latency percentiles, measured from each request's scheduled time, with the target rate; \
each point is the median of {window} seconds' percentiles (the run is longer than the chart is wide)."
        )
    } else {
        "Latency percentiles each second, measured from each request's scheduled time, with the target rate.".to_string()
    };
    figure(
        o,
        "latency-over-time",
        &caption,
        charts::latency_over_time(r),
        "No timeline was recorded.",
    );
    figure(
        o,
        "latency-distribution",
        "Latency distribution over the whole run (HdrHistogram; log scales).",
        charts::latency_distribution(r),
        "No response completed, so there is no distribution.",
    );
}

pub fn throughput(o: &mut String, r: &RunResult) {
    h2(o, "throughput", "Throughput and errors");
    figure(
        o,
        "throughput-errors",
        "Responses, requests in flight and errors each second.",
        charts::throughput_errors(r),
        "No timeline was recorded.",
    );
    if r.errors.by_kind.is_empty() {
        para(o, "No request failed.");
    } else {
        let rows: Vec<Vec<String>> = r
            .errors
            .by_kind
            .iter()
            .map(|(k, n)| vec![k.clone(), n.to_string()])
            .collect();
        table(o, &["error kind", "count"], &rows);
    }
}

pub fn stages(o: &mut String, r: &RunResult) {
    h2(o, "stages", "Where the time goes");
    figure(
        o,
        "stages",
        "Time per stage, from the target's Server-Timing header: mean, with p95 behind it.",
        charts::stages(r),
        "The target reported no Server-Timing stages.",
    );
    let rows: Vec<Vec<String>> = charts::stages_by_mean(r)
        .into_iter()
        .map(|(n, s)| {
            vec![
                n.clone(),
                ms(s.mean),
                ms(s.p50),
                ms(s.p95),
                ms(s.p99),
                s.count.to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        table(
            o,
            &["stage", "mean", "p50", "p95", "p99", "responses"],
            &rows,
        );
    }
}

pub fn cache(o: &mut String, r: &RunResult) {
    h2(o, "cache", "Cache");
    let Some(c) = &r.cache else {
        para(
            o,
            "No cache status was collected ([collect.cache] in the scenario).",
        );
        return;
    };
    let mut rows = vec![
        vec!["hits".into(), c.hits.to_string()],
        vec!["misses".into(), c.misses.to_string()],
        vec!["hit rate".into(), opt_pct(c.hit_rate)],
        vec!["source".into(), c.source.clone()],
    ];
    for (name, s) in [("hit", &c.latency_hit_ms), ("miss", &c.latency_miss_ms)] {
        if let Some(s) = s {
            rows.push(vec![
                format!("latency of a {name}"),
                format!("p50 {}, p95 {}", ms(s.p50), ms(s.p95)),
            ]);
        }
    }
    table(o, &["cache", ""], &rows);
    figure(
        o,
        "cache-hit-rate",
        "Cache hit rate each second.",
        charts::cache_hit_rate(r),
        "The source gives no per-second hit rate.",
    );
}

pub fn process(o: &mut String, r: &RunResult) {
    h2(o, "process", "CPU and memory");
    let mut rows = Vec::new();
    for (name, p) in [
        ("target", &r.process.target),
        ("harness", &r.process.harness),
    ] {
        if let Some(p) = p {
            rows.push(vec![
                name.into(),
                p.pid.map_or("-".into(), |v| v.to_string()),
                format!("{:.0}%", p.cpu_pct.mean),
                format!("{:.0}%", p.cpu_pct.max),
                format!("{:.1}", p.rss_mib.start),
                format!("{:.1}", p.rss_mib.max),
                format!("{:.1}", p.rss_mib.end),
            ]);
        }
    }
    if rows.is_empty() {
        para(
            o,
            "No process was watched (give --target-pid for an external target).",
        );
        return;
    }
    table(
        o,
        &[
            "process",
            "pid",
            "CPU mean",
            "CPU max",
            "RSS start MiB",
            "RSS max MiB",
            "RSS end MiB",
        ],
        &rows,
    );
    figure(
        o,
        "cpu",
        "CPU each second, % of one core, process and children.",
        charts::cpu(r),
        "No CPU readings.",
    );
    figure(
        o,
        "rss",
        "Resident memory each second, with the fitted leak slope when the scenario judges leaks.",
        charts::rss(r),
        "No memory readings.",
    );
    if let Some(l) = &r.leak {
        para(
            o,
            &format!(
                "Leak verdict: {}. Slope {:+.1} MiB/h (95% CI {:+.1} to {:+.1}), Theil-Sen {:+.1} MiB/h, over {} readings after a {:.0} s warm-up; tolerance {:.1} MiB/h.",
                enum_name(&l.verdict),
                l.slope_mib_per_h,
                l.ci95_mib_per_h[0],
                l.ci95_mib_per_h[1],
                l.theil_sen_mib_per_h,
                l.samples,
                l.warmup_excluded_s,
                l.tolerance_mib_per_h
            ),
        );
    }
}

fn capacity(o: &mut String, r: &RunResult) {
    let Some(c) = &r.capacity else { return };
    h2(o, "capacity", "Capacity");
    para(
        o,
        &format!(
            "Maximum sustainable rate {}; knee {}. Each step held to: {}.",
            c.max_sustainable_rps
                .map_or("none (no step met the SLO)".into(), |v| format!(
                    "{} req/s",
                    num(v)
                )),
            c.knee_rps
                .map_or("not found".into(), |v| format!("{} req/s", num(v))),
            if c.slo.is_empty() {
                "no SLO".into()
            } else {
                c.slo.join(", ")
            }
        ),
    );
    figure(
        o,
        "capacity",
        "Achieved rate, p95 and errors at each offered rate.",
        charts::capacity(r),
        "No step held a rate long enough to judge.",
    );
    let rows: Vec<Vec<String>> = c
        .steps
        .iter()
        .map(|s| {
            vec![
                num(s.target_rps),
                num(s.achieved_rps),
                opt_ms(s.p50_ms),
                opt_ms(s.p95_ms),
                opt_ms(s.p99_ms),
                pct(s.error_rate),
                if s.meets_slo { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    table(
        o,
        &[
            "offered req/s",
            "achieved req/s",
            "p50",
            "p95",
            "p99",
            "errors",
            "meets SLO",
        ],
        &rows,
    );
}

fn spike(o: &mut String, r: &RunResult) {
    let Some(s) = &r.spike else { return };
    h2(o, "spike", "Spike");
    para(
        o,
        &format!(
            "Burst from {:.0} s to {:.0} s: p95 {} (before it {}), {} errors; {}.",
            s.burst_start_s,
            s.burst_end_s,
            ms(s.p95_during_burst_ms),
            opt_ms(s.baseline_p95_ms),
            s.errors_during_burst,
            s.recovery_s.map_or(
                "p95 had not recovered when the run ended".into(),
                |v| format!("p95 recovered {v:.0} s after the burst")
            )
        ),
    );
    figure(
        o,
        "spike",
        "The burst (shaded), p95 against the pre-burst p95, and the recovery.",
        charts::spike(r),
        "No timeline was recorded.",
    );
}

pub fn analyses(o: &mut String, r: &RunResult) {
    o.push_str("<div id=\"analysis\"></div>\n");
    capacity(o, r);
    spike(o, r);
}

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
