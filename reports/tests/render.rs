//! The renderers on fixed fixtures: results.json files that real runs
//! wrote (`fixtures/`), rendered and compared with reviewed snapshots.
//! HTML snapshots keep the page's text and structure and summarize each
//! chart (its element counts), so a change to either shows as a diff of
//! a readable size.

use genbench_model::RunResult;
use genbench_reports::{
    Run, comparison_html, comparison_markdown, junit, report_html, summary_markdown,
};

fn fixture(name: &str) -> RunResult {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn flamegraph() -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/flamegraph.svg",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const FIXTURES: [&str; 4] = ["baseline", "stress", "spike", "soak-leak"];

/// The page with each inline `<svg>` replaced by a count of what it draws,
/// and embedded data by its length.
fn skeleton(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</svg>")
            .map_or(rest.len(), |e| start + e + "</svg>".len());
        let svg = &rest[start..end];
        let count = |tag: &str| svg.matches(tag).count();
        out.push_str(&format!(
            "<svg polylines={} lines={} rects={} circles={} texts={}/>",
            count("<polyline"),
            count("<line"),
            count("<rect"),
            count("<circle"),
            count("<text")
        ));
        rest = &rest[end..];
    }
    out.push_str(rest);
    let mut out2 = String::new();
    let mut rest = out.as_str();
    while let Some(start) = rest.find("base64,") {
        let start = start + "base64,".len();
        out2.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        out2.push_str(&format!("[{} bytes]", end - start));
        rest = &rest[end..];
    }
    out2.push_str(rest);
    out2
}

fn html(r: &RunResult, flame: Option<&[u8]>) -> String {
    String::from_utf8(report_html(r, flame)).unwrap()
}

#[test]
fn markdown_summaries() {
    for name in FIXTURES {
        insta::assert_snapshot!(format!("summary-{name}"), summary_markdown(&fixture(name)));
    }
}

#[test]
fn junit_one_testcase_per_threshold() {
    for name in FIXTURES {
        let r = fixture(name);
        let xml = junit(&r);
        assert_eq!(
            xml.matches("<testcase ").count(),
            r.thresholds.len(),
            "{name}"
        );
        let failed = r.thresholds.iter().filter(|t| !t.passed).count();
        assert_eq!(xml.matches("<failure ").count(), failed, "{name}");
        insta::assert_snapshot!(format!("junit-{name}"), xml);
    }
}

#[test]
fn html_reports() {
    let flame = flamegraph();
    for name in FIXTURES {
        let r = fixture(name);
        let f = r
            .artifacts
            .flamegraph_svg
            .is_some()
            .then_some(flame.as_slice());
        insta::assert_snapshot!(format!("report-{name}"), skeleton(&html(&r, f)));
    }
}

#[test]
fn html_has_every_chart_its_run_supports() {
    let charts = |h: &str| -> Vec<String> {
        h.split("data-chart=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .collect()
    };
    let common = [
        "latency-over-time",
        "latency-distribution",
        "throughput-errors",
        "stages",
        "cache-hit-rate",
        "cpu",
        "rss",
        "cost",
    ];
    let flame = flamegraph();
    for (name, extra) in [
        ("baseline", vec!["flamegraph"]),
        ("stress", vec!["capacity"]),
        ("spike", vec!["spike"]),
        ("soak-leak", vec![]),
    ] {
        let r = fixture(name);
        let got = charts(&html(&r, Some(&flame)));
        for c in common.iter().chain(extra.iter()) {
            assert!(
                got.iter().any(|g| g == c),
                "{name}: no {c} chart in {got:?}"
            );
        }
        assert!(
            !html(&r, Some(&flame)).contains("data-chart-error"),
            "{name}"
        );
    }
}

#[test]
fn html_is_self_contained() {
    for name in FIXTURES {
        let h = html(&fixture(name), Some(&flamegraph()));
        for needle in [
            "src=\"http",
            "href=\"http",
            "<link",
            "@import",
            "url(",
            "src=\"//",
        ] {
            assert!(
                !h.contains(needle),
                "{name}: the report fetches something: {needle}"
            );
        }
    }
}

/// A replay's section, of `file`.
fn replay(
    file: &str,
    fidelity: Option<genbench_model::LatencySummaryMs>,
) -> genbench_model::ReplayResult {
    genbench_model::ReplayResult {
        file: file.into(),
        format: "jsonl".into(),
        rows: 1200,
        window_rows: 1000,
        sent: 998,
        passes: 1,
        time_scale: 3.0,
        trace_span_s: 600.0,
        held_by_rate_cap: 4,
        credentials_dropped: 1000,
        fidelity_ms: fidelity,
        error: Some("the trace changed after the scan".into()),
    }
}

#[test]
fn a_replay_says_what_it_sent_and_how_closely() {
    let mut r = fixture("baseline");
    assert!(
        !html(&r, None).contains("id=\"replay\""),
        "no section without a replay"
    );
    r.replay = Some(replay("staging.jsonl.zst", r.latency_ms));
    let page = html(&r, None);
    for want in [
        "id=\"replay\"",
        "staging.jsonl.zst (jsonl)",
        "998 sent of 1000 in the window (1200 in the file)",
        "1 pass(es) at 3x over 600.0 s of the trace",
        "the trace changed after the scan",
    ] {
        assert!(page.contains(want), "{want}");
    }
    let md = summary_markdown(&r);
    assert!(
        md.contains(
            "Replay of staging.jsonl.zst (jsonl): 998 of 1000 rows sent at 3x; fidelity p99"
        ),
        "{md}"
    );
}

/// Every string a target or a scenario file controls, carrying markup.
fn hostile() -> RunResult {
    const XSS: &str = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
    let mut r = fixture("baseline");
    r.scenario.name = XSS.into();
    r.target.url = format!("http://127.0.0.1:1/{XSS}");
    r.errors.by_kind.insert(XSS.into(), 3);
    r.errors.by_check.insert(format!("body_contains {XSS}"), 2);
    r.connections = Some(genbench_model::Connections {
        protocol: XSS.into(),
        opened: 2,
        resumed: 1,
        failed: 0,
        connect_ms: r.latency_ms,
        tls_ms: r.latency_ms,
        tls: Some(genbench_model::TlsVerify {
            mode: genbench_model::TlsMode::CaCert,
            ca_cert: Some(XSS.into()),
        }),
    });
    let stage = r.stages.values().next().copied().unwrap();
    r.stages.insert(XSS.into(), stage);
    if let Some(c) = r.cost.as_mut() {
        c.by_model.insert(XSS.into(), 0.5);
        c.source = XSS.into();
    }
    if let Some(c) = r.cache.as_mut() {
        c.source = XSS.into();
    }
    r.thresholds[0].expr = XSS.into();
    r.replay = Some(replay(XSS, r.latency_ms));
    r.scenario.resolved = serde_json::json!({ "description": XSS });
    r.started_at = XSS.into();
    r
}

#[test]
fn markup_in_results_is_shown_as_text() {
    let r = hostile();
    for (what, out) in [
        ("html", html(&r, None)),
        (
            "comparison",
            String::from_utf8(comparison_html(&[
                Run {
                    label: "<script>x</script>".into(),
                    result: r.clone(),
                    report_href: Some("a/\"><script>window.__xss=1</script>".into()),
                },
                Run {
                    label: "b".into(),
                    result: fixture("baseline"),
                    report_href: Some("javascript:window.__xss=3".into()),
                },
            ]))
            .unwrap(),
        ),
    ] {
        assert!(!out.contains("<script>window"), "{what}: raw script");
        assert!(!out.contains("<img src=x"), "{what}: raw img");
        assert!(!out.contains("<script>x"), "{what}: raw label");
        assert!(!out.contains("javascript:"), "{what}: a scheme in a link");
        assert!(
            out.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"),
            "{what}: escaped text missing"
        );
    }
    let md = summary_markdown(&r);
    assert!(!md.contains("<script>"), "{md}");
    let xml = junit(&r);
    assert!(!xml.contains("<script>"), "{xml}");
}

/// `r` as if every request had taken `f` times as long: its latency
/// histogram and summary both, as a real run's would agree.
fn scale_latency(r: &mut RunResult, f: f64) {
    use base64::Engine as _;
    use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = b64
        .decode(r.histograms.latency_us.as_ref().unwrap())
        .unwrap();
    let h: hdrhistogram::Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
    let mut scaled = hdrhistogram::Histogram::<u64>::new_from(&h);
    for v in h.iter_recorded() {
        let x = (v.value_iterated_to() as f64 * f).round().max(1.0) as u64;
        scaled.record_n(x, v.count_at_value()).unwrap();
    }
    let mut out = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&scaled, &mut out)
        .unwrap();
    r.histograms.latency_us = Some(b64.encode(out));
    let l = r.latency_ms.as_mut().unwrap();
    let ms = |q: f64| scaled.value_at_quantile(q) as f64 / 1000.0;
    (l.p50, l.p90, l.p95, l.p99, l.p999) = (ms(0.5), ms(0.9), ms(0.95), ms(0.99), ms(0.999));
    (l.min, l.max, l.mean) = (l.min * f, l.max * f, l.mean * f);
}

/// Cost per article (and total) `f` times the base's.
fn scale_cost(r: &mut RunResult, f: f64) {
    let c = r.cost.as_mut().unwrap();
    c.per_article_usd = c.per_article_usd.map(|v| v * f);
    c.total_usd *= f;
}

fn runs() -> Vec<Run> {
    let base = fixture("baseline");
    let mut pricier = base.clone();
    scale_cost(&mut pricier, 8.0);
    scale_latency(&mut pricier, 0.5);
    let mut worse = base.clone();
    scale_cost(&mut worse, 2.0);
    scale_latency(&mut worse, 1.5);
    worse.scenario.resolved["pipeline"] = serde_json::json!({ "model": "gpt-4o" });
    vec![
        Run {
            label: "base".into(),
            result: base,
            report_href: None,
        },
        Run {
            label: "faster, pricier".into(),
            result: pricier,
            report_href: None,
        },
        Run {
            label: "slower, pricier".into(),
            result: worse,
            report_href: None,
        },
    ]
}

#[test]
fn comparison_marks_the_pareto_front_and_directions() {
    let md = comparison_markdown(&runs());
    assert!(md.contains("Pareto front (no other run has both a lower p95 and a lower cost per article): faster, pricier, base."), "{md}");
    assert!(md.contains("| pipeline.model | - | - | gpt-4o |"), "{md}");
    // The gate's statistics decide: a 50% shift of a p50 that sits between
    // two modes in 38 requests is within noise; p95 of 38 requests has
    // under 2 beyond it, so its 50% shift is shown and never called
    // significant; the cost, exact under the mocks, is.
    assert!(md.contains("2.43 s (+50.1%, **worse**) |"), "{md}");
    assert!(md.contains("2.03 ms (+50.0%, within noise)"), "{md}");
    assert!(
        md.contains("$0.00545 (+100.0%, **worse**, significant)"),
        "{md}"
    );
    insta::assert_snapshot!("comparison-md", md);
    let h = String::from_utf8(comparison_html(&runs())).unwrap();
    assert!(
        h.contains("data-chart=\"latency-curves\"") && h.contains("data-chart=\"cost-vs-p95\"")
    );
    assert!(
        h.contains("<td class=\"worse\">"),
        "a worse delta is coloured"
    );
    assert!(
        h.contains("<td class=\"better\">"),
        "a better delta is coloured"
    );
    assert!(h.contains("<h2 id=\"gate\">"), "the gate's section");
    insta::assert_snapshot!("comparison-html", skeleton(&h));
}

/// A run that measured nothing (the target refused every connection, or it
/// was interrupted at once) still renders, saying what is missing.
#[test]
fn an_empty_run_renders_and_says_what_is_missing() {
    let mut r = fixture("baseline");
    r.requests = Default::default();
    r.latency_ms = None;
    r.ttfb_ms = None;
    r.cache = None;
    r.cost = None;
    r.stages.clear();
    r.timeline.clear();
    r.process = Default::default();
    r.histograms = Default::default();
    r.thresholds.iter_mut().for_each(|t| {
        t.observed = None;
        t.passed = false;
    });
    let page = html(&r, None);
    for missing in [
        "latency-over-time",
        "latency-distribution",
        "throughput-errors",
        "stages",
    ] {
        assert!(
            page.contains(&format!("data-chart-missing=\"{missing}\"")),
            "{missing}"
        );
    }
    assert!(page.contains("not measured"));
    assert!(summary_markdown(&r).contains("no successful responses"));
    assert_eq!(junit(&r).matches("<failure ").count(), r.thresholds.len());
    let runs = [
        Run {
            label: "empty".into(),
            result: r.clone(),
            report_href: None,
        },
        Run {
            label: "base".into(),
            result: fixture("baseline"),
            report_href: None,
        },
    ];
    assert!(comparison_markdown(&runs).contains("| latency p95 | - |"));
    let _ = comparison_html(&runs);
}

#[test]
fn connections_and_failed_checks_are_reported() {
    let mut r = fixture("baseline");
    r.errors.by_check.insert("json_equals /status".into(), 7);
    r.connections = Some(genbench_model::Connections {
        protocol: "h2".into(),
        opened: 4,
        resumed: 3,
        failed: 1,
        connect_ms: r.latency_ms,
        tls_ms: r.latency_ms,
        tls: Some(genbench_model::TlsVerify {
            mode: genbench_model::TlsMode::Insecure,
            ca_cert: None,
        }),
    });
    let page = html(&r, None);
    for needle in [
        "json_equals /status",
        "TLS handshake",
        "NOT verified (--insecure)",
        "4 (3 resumed a TLS session, 1 attempts failed)",
    ] {
        assert!(page.contains(needle), "report.html lacks {needle}");
    }
    let md = summary_markdown(&r);
    assert!(
        md.contains(r"| failed checks | json\_equals /status 7 |"),
        "{md}"
    );
    assert!(
        md.contains("h2 · 4 opened (3 resumed, 1 failed), TLS **not verified**"),
        "{md}"
    );
}

/// A run of few requests shows each one in the latency chart, coloured by
/// how it went, instead of per-second percentiles.
#[test]
fn few_requests_are_drawn_one_by_one() {
    let mut r = fixture("baseline");
    r.points = Some(
        (0..30)
            .map(|i| genbench_model::RequestPoint {
                t_s: f64::from(i),
                latency_ms: if i % 3 == 0 { 1.0 } else { 800.0 },
                error: (i == 7).then_some(genbench_model::ErrorKind::Timeout),
                cache_hit: Some(i % 3 == 0),
                trace_id: None,
            })
            .collect(),
    );
    let h = String::from_utf8(report_html(&r, None)).unwrap();
    assert!(
        h.contains("Each request, at its end"),
        "the caption says so"
    );
    let start = h.find("data-chart=\"latency-over-time\"").unwrap();
    let svg = &h[start..start + h[start..].find("</svg>").unwrap()];
    // 30 dots plus the legend's three (hit, miss, failed).
    assert_eq!(svg.matches("<circle").count(), 33, "{}", skeleton(svg));
}

/// A merged leak verdict from segments that each watched their own target
/// says whose it is.
#[test]
fn a_merged_leak_names_its_segment() {
    let mut r = fixture("soak-leak");
    let said = |r: &RunResult| html(r, None).contains("the fit and memory shown are segment 3");
    assert!(!said(&r));
    r.leak.as_mut().unwrap().segment = Some(3);
    assert!(said(&r));
}

fn searched() -> genbench_model::CapacitySearch {
    use genbench_model::{Oversaturation, Probe, ProbeKind, SearchOutcome, StageGrowth};
    let probe = |load: f64, passed: bool, kind: ProbeKind| Probe {
        load,
        kind: Some(kind),
        passed,
        failed: if passed {
            vec![]
        } else {
            vec!["p95 < 500ms".into()]
        },
        p95_ms: Some(if passed { 120.0 } else { 900.0 }),
        cost_per_article_usd: Some(0.002_18),
        ..Default::default()
    };
    let mut over = probe(40.0, false, ProbeKind::Probe);
    over.oversaturated = Some(Oversaturation {
        after_s: 6.0,
        queue_growth_per_s: 3.0,
        latency_growth_ms_per_s: 120.0,
    });
    genbench_model::CapacitySearch {
        variable: "rate".into(),
        unit: "req/s".into(),
        outcome: SearchOutcome::Within,
        max_sustainable: Some(33.6),
        lowest_failing: Some(36.7),
        confirmed: true,
        resolution: 0.1,
        failed_first: vec!["p95 < 500ms".into()],
        grew_most: Some(StageGrowth {
            stage: "(outside the stages)".into(),
            passing_p95_ms: 142.6,
            failing_p95_ms: 514.8,
        }),
        probes: vec![
            probe(20.0, true, ProbeKind::Probe),
            over,
            probe(36.7, false, ProbeKind::Probe),
            probe(33.6, true, ProbeKind::Confirm),
        ],
    }
}

#[test]
fn a_capacity_search_gives_its_answer_and_every_probe() {
    let mut r = fixture("baseline");
    r.capacity = Some(genbench_model::Capacity {
        max_sustainable_rps: Some(33.6),
        knee_rps: None,
        slo: vec!["p95 < 500ms".into()],
        steps: Vec::new(),
        search: Some(searched()),
    });
    let page = html(&r, None);
    for want in [
        "33.60 req/s max sustainable, confirmed: 36.70 req/s failed, narrowed to 10%.",
        "Broken first above it: p95 &lt; 500ms.",
        "Grew most: (outside the stages), p95 142.6 ms at the last passing load, 514.8 ms",
        "over-saturated after 6 s",
        "by search, 4 probes",
        "<th>cost/article</th>",
        "<td>$0.00218</td>",
    ] {
        assert!(page.contains(want), "{want}\n{page}");
    }
    assert_eq!(page.matches("<td>hold</td>").count(), 1);
    let md = summary_markdown(&r);
    assert!(
        md.contains("| capacity | 33.60 req/s max sustainable, confirmed: 36.70 req/s failed"),
        "{md}"
    );
}

#[test]
fn abandoned_requests_and_their_cost_are_said_in_every_report() {
    let mut r = fixture("baseline");
    r.requests.abandoned = 14;
    r.requests.abandoned_cancelled = 14;
    let cost = r.cost.get_or_insert_with(Default::default);
    cost.source = "mock_ledger".into();
    cost.abandoned = Some(genbench_model::AbandonedCost {
        calls: 14,
        tokens: genbench_model::TokenCounts {
            prompt: 126,
            completion: 984,
            cached_prompt: 0,
        },
        usd: 0.000_609,
    });
    let said = "14 abandoned (0 unanswered at abandon_after, 14 cancelled); $0.000609 spent on 14 provider calls cut short (126 prompt and 984 completion tokens)";
    let page = html(&r, None);
    assert!(page.contains(said), "{page}");
    assert!(page.contains("14 abandoned</"), "the requests card");
    let md = summary_markdown(&r);
    // Markdown escapes the key's underscore.
    let cell = said.replace('_', "\\_");
    assert!(md.contains(&format!("| abandoned | {cell} |")), "{md}");
    r.requests.abandoned = 0;
    r.requests.abandoned_cancelled = 0;
    r.cost.as_mut().unwrap().abandoned = None;
    assert!(!html(&r, None).contains("abandoned ("));
}
