//! The sections of `report.html` that every run has, top to bottom: the
//! header, the summary cards, thresholds, latency, throughput, stages and
//! cache. CPU, memory and the scenario's analyses (leak, capacity, spike)
//! are in `analyses`; cost, the flamegraph and the environment in
//! `resources`.

use std::fmt::Write as _;

use genbench_model::{LatencySummaryMs, LeakVerdict, RunResult, RunStatus};

use super::charts;
use super::page::{cards, figure, h2, para, table};
use crate::escape::html;
use crate::fmt::{enum_name, ms, num, opt_ms, opt_pct, opt_usd, pct, usd};

/// `running`: the run so far, as the live dashboard shows it.
pub fn header(o: &mut String, r: &RunResult, running: bool) {
    let (class, status) = match r.status {
        _ if running => ("warn", "running"),
        RunStatus::Completed => ("ok", "completed"),
        RunStatus::Interrupted => ("warn", "interrupted"),
        RunStatus::Aborted => ("bad", "aborted"),
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
    if let Some(a) = &r.abort {
        para(
            o,
            &format!(
                "Aborted at {:.0} s by [abort]: {}. Everything measured until then is below.",
                a.at_s, a.rule
            ),
        );
    }
    let flows = if r.flows.is_some() {
        "<a href=\"#flows\">flows</a>"
    } else {
        ""
    };
    let _ = write!(
        o,
        "<nav><a href=\"#thresholds\">thresholds</a><a href=\"#latency\">latency</a>{flows}"
    );
    o.push_str("<a href=\"#throughput\">throughput</a><a href=\"#stages\">stages</a>");
    if r.traces.is_some() {
        o.push_str("<a href=\"#traces\">spans</a>");
    }
    o.push_str("<a href=\"#cache\">cache</a><a href=\"#process\">CPU and memory</a><a href=\"#analysis\">analysis</a><a href=\"#cost\">cost</a><a href=\"#flamegraph\">flamegraph</a><a href=\"#environment\">scenario</a></nav>\n");
}

/// A flow run's cards: flows ended and their latency, before the requests'.
/// A summary card: title, value, the line under it, and its CSS class.
type Card = (String, String, String, &'static str);

fn flow_cards(r: &RunResult) -> Vec<Card> {
    let Some(f) = &r.flows else {
        return Vec::new();
    };
    vec![
        (
            "flows completed".into(),
            f.completed.to_string(),
            format!("{} failed, {:.1} per hour", f.failed, f.per_hour),
            if f.failed > 0 { "bad" } else { "ok" },
        ),
        (
            "flow p95".into(),
            p(&f.latency_ms, |s| s.p95),
            format!(
                "scheduled start to last answer; p50 {}",
                p(&f.latency_ms, |s| s.p50)
            ),
            "",
        ),
    ]
}

fn p(s: &Option<LatencySummaryMs>, f: fn(&LatencySummaryMs) -> f64) -> String {
    opt_ms(s.as_ref().map(f))
}

/// The verdicts in one line each: thresholds, leak, capacity, spike.
fn verdicts(r: &RunResult) -> Vec<Card> {
    let mut v = Vec::new();
    if let Some(g) = &r.generator_limited {
        let what = match g.send_lag_p99_ms {
            Some(_) if g.cores_used < g.cores * 0.9 => "behind schedule",
            _ => "saturated",
        };
        v.push((
            "load generator".into(),
            what.into(),
            g.message.clone(),
            "warn",
        ));
    }
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
        let knee = match &c.search {
            Some(s) => format!("by search, {} probes", s.probes.len()),
            None => c
                .knee_rps
                .map_or("no knee".into(), |v| format!("knee {} req/s", num(v))),
        };
        let m = match c
            .search
            .as_ref()
            .and_then(|s| s.max_sustainable.map(|v| (s, v)))
        {
            Some((s, v)) if s.variable == "users" => format!("{} users", num(v)),
            _ => m,
        };
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
    let mut c = flow_cards(r);
    c.extend(traffic_cards(r));
    c.extend(latency_cards(r));
    c.extend(spend_cards(r));
    c.extend(verdicts(r));
    cards(o, &c);
}

/// Requests, throughput and the error rate.
fn traffic_cards(r: &RunResult) -> [Card; 3] {
    let err_class = if r.errors.rate > 0.0 { "bad" } else { "ok" };
    [
        (
            "requests".into(),
            r.requests.total.to_string(),
            match r.requests.abandoned {
                0 => format!("{} ok, {} failed", r.requests.ok, r.requests.failed),
                n => format!(
                    "{} ok, {} failed, {n} abandoned",
                    r.requests.ok, r.requests.failed
                ),
            },
            "",
        ),
        (
            "throughput".into(),
            format!("{:.2} req/s", r.throughput_rps),
            match r.completions_rps {
                Some(c) => format!("sent in the load window; {c:.2} completions/s"),
                None => "over the load window".into(),
            },
            "",
        ),
        (
            "error rate".into(),
            pct(r.errors.rate),
            format!("{} kinds", r.errors.by_kind.len()),
            err_class,
        ),
    ]
}

/// The latency percentiles and the first token (or byte).
fn latency_cards(r: &RunResult) -> [Card; 4] {
    [
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
        match r.llm.as_ref().map(|l| &l.ttft_ms) {
            Some(t) => (
                "TTFT p50".into(),
                p(t, |s| s.p50),
                format!("first content event; p95 {}", p(t, |s| s.p95)),
                "",
            ),
            None => (
                "TTFB p50".into(),
                p(&r.ttfb_ms, |s| s.p50),
                format!("first byte; p95 {}", p(&r.ttfb_ms, |s| s.p95)),
                "",
            ),
        },
    ]
}

/// The cache hit rate and the cost per article.
fn spend_cards(r: &RunResult) -> [Card; 2] {
    [
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
    ]
}

pub fn thresholds(o: &mut String, r: &RunResult) {
    h2(o, "thresholds", "Thresholds");
    if r.thresholds.is_empty() {
        para(o, "The scenario sets no thresholds.");
        return;
    }
    o.push_str("<table>\n<tr><th>threshold</th><th>observed</th><th>result</th></tr>\n");
    for t in &r.thresholds {
        let class = match (t.passed, t.inconclusive) {
            (true, false) => "ok",
            (true, true) => "warn",
            (false, _) => "bad",
        };
        let word = t.word();
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
    let caption = if charts::shows_requests(r) {
        "Each request, at its end: its latency from its scheduled time, coloured by cache hit, \
miss or failure, with the target rate. Per-second percentiles of so few requests would be noise; \
runs of more than 2,000 requests show percentiles instead."
            .to_string()
    } else if window > 1 {
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
    para(o, &throughput_definition(r));
    for x in &r.outages {
        para(o, &crate::fmt::outage_text(x));
    }
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
    if !r.errors.by_check.is_empty() {
        let rows: Vec<Vec<String>> = r
            .errors
            .by_check
            .iter()
            .map(|(k, n)| vec![k.clone(), n.to_string()])
            .collect();
        table(o, &["failed check", "responses"], &rows);
    }
    connections(o, r);
}

/// What the throughput figures count, stated where they are shown.
fn throughput_definition(r: &RunResult) -> String {
    let mut t = format!(
        "Throughput {:.2} req/s: requests sent (answered or failed) in the load window, over the \
load window (the planned stages, or less if the run was stopped); the drain after the last send \
is not counted.",
        r.throughput_rps
    );
    if let Some(c) = r.completions_rps {
        t.push_str(&format!(
            " Completions {c:.2}/s: successful responses over the whole measured window ({:.1} s, drain included).",
            r.duration_s
        ));
    }
    if let Some(l) = &r.send_lag_ms {
        t.push_str(&format!(
            " Requests left p50 {} and p99 {} after their scheduled instant (latency counts from that instant).",
            ms(l.p50),
            ms(l.p99)
        ));
    }
    t
}

/// New connections, timed apart from requests: a run whose latency moved
/// because the target kept closing connections says so here.
fn connections(o: &mut String, r: &RunResult) {
    let Some(c) = &r.connections else { return };
    let p = |s: &Option<LatencySummaryMs>| {
        s.map_or("-".to_string(), |s| {
            format!("p50 {} · p95 {} · max {}", ms(s.p50), ms(s.p95), ms(s.max))
        })
    };
    let mut rows = vec![
        vec!["protocol".to_string(), c.protocol.clone()],
        vec![
            "opened".to_string(),
            format!(
                "{} ({} resumed a TLS session, {} attempts failed)",
                c.opened, c.resumed, c.failed
            ),
        ],
        vec!["DNS + TCP connect".to_string(), p(&c.connect_ms)],
    ];
    if let Some(t) = &c.tls {
        rows.push(vec!["TLS handshake".to_string(), p(&c.tls_ms)]);
        let how = match t.mode {
            genbench_model::TlsMode::SystemRoots => {
                "against the system's root certificates".to_string()
            }
            genbench_model::TlsMode::CaCert => {
                format!("against --ca-cert {}", t.ca_cert.as_deref().unwrap_or("?"))
            }
            genbench_model::TlsMode::Insecure => "NOT verified (--insecure)".to_string(),
        };
        rows.push(vec!["certificate".to_string(), how]);
    }
    table(o, &["connections", ""], &rows);
}

pub fn stages(o: &mut String, r: &RunResult) {
    h2(o, "stages", "Where the time goes");
    let from_histogram = r
        .stages
        .values()
        .any(|s| s.source == Some(genbench_model::StageSource::Prometheus));
    let mut caption = if from_histogram {
        "Time per stage, from the target's Server-Timing header and its own Prometheus histogram (percentiles interpolated within its buckets): mean, with p95 behind it."
    } else {
        "Time per stage, from the target's Server-Timing header: mean, with p95 behind it."
    }
    .to_string();
    if let Some(t) = r.stages.get(charts::TOTAL) {
        caption.push_str(&format!(
            " The whole request (\"{}\") took {} on average, p95 {}.",
            charts::TOTAL,
            ms(t.mean),
            ms(t.p95)
        ));
    }
    if let Some(rest) = charts::unaccounted_ms(r) {
        caption.push_str(&format!(
            " {} of it is in no named stage (queueing, work between stages).",
            ms(rest)
        ));
    }
    figure(
        o,
        "stages",
        &caption,
        charts::stages(r),
        if r.traces.is_some() {
            "The target reported no Server-Timing stages besides the total; its spans' stages are in the next section."
        } else {
            "The target reported no Server-Timing stages besides the total: send Server-Timing, or name its spans ([collect.traces]) or stage histogram ([collect.stages])."
        },
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
    named_caches(o, r);
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

/// `[collect.caches.NAME]`: one row per named cache.
fn named_caches(o: &mut String, r: &RunResult) {
    if r.caches.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = r
        .caches
        .iter()
        .map(|(name, c)| {
            vec![
                name.clone(),
                c.hits.to_string(),
                c.misses.to_string(),
                opt_pct(c.hit_rate),
                c.source.clone(),
            ]
        })
        .collect();
    table(
        o,
        &["named cache", "hits", "misses", "hit rate", "source"],
        &rows,
    );
}
