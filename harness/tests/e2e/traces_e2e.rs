//! `[collect.traces]` end to end: a loopback service reads the
//! `traceparent` genbench sends, records the spans an instrumented article
//! service would (its server span; search; two page fetches side by side;
//! a GenAI chat span with token usage) and exports them in batches to the
//! run's OTLP/HTTP receiver, alternating protobuf, JSON and gzip, with a
//! span of another trace and a truncated batch among them. genbench must
//! join every request, report each stage's mean exactly as the service
//! timed it, its critical path, and cost from the spans' tokens.

use crate::support;

use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::support::otlp::{
    export_request, follow_endpoint, hex, in_thread, kv, next_id, now_ns, post, s, span,
};
use crate::support::{genbench, out_dir, results, schema_errors};
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use prost::Message;

/// What the service timed itself: per stage, the sum of durations (ns) and
/// count; and the tokens it reported.
#[derive(Default)]
struct Own {
    sums: std::collections::BTreeMap<&'static str, (u128, u64)>,
    longest_fetch_ns: u128,
    tokens: (u64, u64),
    pending: Vec<Span>,
    statuses: Vec<u16>,
}

struct Svc {
    own: Mutex<Own>,
    endpoint: OnceLock<String>,
}

impl Svc {
    fn new() -> Arc<Svc> {
        Arc::new(Svc {
            own: Mutex::new(Own::default()),
            endpoint: OnceLock::new(),
        })
    }
}

async fn timed(ms: u64) -> (u64, u64) {
    let a = now_ns();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    (a, now_ns())
}

async fn article(
    axum::extract::State(svc): axum::extract::State<Arc<Svc>>,
    headers: HeaderMap,
) -> String {
    let tp = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "traceparent {tp:?}");
    let (trace, parent) = (hex(parts[1]), hex(parts[2]));
    let start = now_ns();
    let root_id = next_id();
    let root = root_id.to_be_bytes();
    let search = timed(3).await;
    let (f1, f2) = tokio::join!(timed(4), timed(9));
    let chat = timed(6).await;
    let (input, output) = (
        120 + u64::from(trace[15] % 7),
        30 + u64::from(trace[14] % 5),
    );
    let end = now_ns();
    let client = |t, host: &str| {
        span(
            &trace,
            next_id(),
            &root,
            "GET",
            SpanKind::Client,
            t,
            vec![
                kv("http.request.method", s("GET")),
                kv("server.address", s(host)),
                kv("server.port", Value::IntValue(443)),
            ],
        )
    };
    let spans = vec![
        client(search, "search.example"),
        client(f1, "pages.example"),
        client(f2, "pages.example"),
        span(
            &trace,
            next_id(),
            &root,
            "chat gpt-4o-mini",
            SpanKind::Client,
            chat,
            vec![
                kv("gen_ai.operation.name", s("chat")),
                kv("gen_ai.request.model", s("gpt-4o-mini")),
                kv("gen_ai.usage.input_tokens", Value::IntValue(input as i64)),
                kv("gen_ai.usage.output_tokens", Value::IntValue(output as i64)),
            ],
        ),
        span(
            &trace,
            root_id,
            &parent,
            "POST /article",
            SpanKind::Server,
            (start, end),
            vec![],
        ),
    ];
    let mut own = svc.own.lock().unwrap();
    let d = |t: (u64, u64)| u128::from(t.1 - t.0);
    for (stage, t) in [
        ("search.example:443", search),
        ("pages.example:443", f1),
        ("pages.example:443", f2),
        ("chat gpt-4o-mini", chat),
    ] {
        let e = own.sums.entry(stage).or_default();
        e.0 += d(t);
        e.1 += 1;
    }
    own.longest_fetch_ns += d(f1).max(d(f2));
    own.tokens.0 += input;
    own.tokens.1 += output;
    own.pending.extend(spans);
    "{\"article\": \"text\"}".into()
}

/// The exporter: every 100 ms, what the service recorded, in turn as
/// protobuf, JSON and gzipped JSON, with one span of a trace not
/// genbench's; first, a truncated batch.
async fn export(svc: Arc<Svc>) {
    let endpoint = loop {
        if let Some(e) = svc.endpoint.get() {
            break e.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let truncated = ExportTraceServiceRequest::default().encode_to_vec();
    let mut bad = vec![0x0a, 0x10];
    bad.extend_from_slice(&truncated);
    let status = post(&endpoint, "application/x-protobuf", false, bad).await;
    svc.own.lock().unwrap().statuses.push(status);
    for n in 0u64.. {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut spans = std::mem::take(&mut svc.own.lock().unwrap().pending);
        if spans.is_empty() {
            continue;
        }
        spans.push(span(
            &[7; 16],
            next_id(),
            &[],
            "background",
            SpanKind::Internal,
            (1, 2),
            vec![],
        ));
        let req = export_request(spans);
        let status = match n % 3 {
            0 => {
                post(
                    &endpoint,
                    "application/x-protobuf",
                    false,
                    req.encode_to_vec(),
                )
                .await
            }
            1 => {
                post(
                    &endpoint,
                    "application/json",
                    false,
                    serde_json::to_vec(&req).unwrap(),
                )
                .await
            }
            _ => {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&serde_json::to_vec(&req).unwrap()).unwrap();
                post(&endpoint, "application/json", true, gz.finish().unwrap()).await
            }
        };
        svc.own.lock().unwrap().statuses.push(status);
    }
}

const SCENARIO: &str = r#"
name = "traces"
[load]
model = "closed"
think_time = "0s"
stages = "4,1ms;4,20s"
max_requests = 40

[request]
method = "POST"
path = "/article"
body = "{}"

[collect.traces]
listen = "127.0.0.1:0"
drain = "5s"
slowest = 3
"#;

#[test]
fn spans_become_stages_critical_path_and_cost() {
    let svc = Svc::new();
    let url = support::serve(
        axum::Router::new()
            .route("/article", axum::routing::post(article))
            .with_state(svc.clone()),
    );
    in_thread(export(svc.clone()));
    let dir = out_dir("traces");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("traces.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let child = genbench()
        .args(["run", file.to_str().unwrap(), "--target", &url, "--records"])
        .arg(dir.join("records.jsonl"))
        .arg("--out")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, err_text) = follow_endpoint(child, &svc.endpoint);
    let r = results(&dir);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let own = svc.own.lock().unwrap();
    let t = &r["traces"];
    assert_eq!(t["requests"], 40, "{t:#}");
    assert_eq!(
        (t["joined"].as_u64(), t["join_rate"].as_f64()),
        (Some(40), Some(1.0)),
        "{err_text}"
    );
    assert_eq!(t["spans"]["ours"], 200);
    assert!(t["spans"]["other"].as_u64().unwrap() >= 1);
    assert_eq!(t["spans"]["rejected_batches"], 1);
    assert_eq!(own.statuses[0], 400, "a truncated batch is refused");
    assert!(
        own.statuses[1..].iter().all(|s| *s == 200),
        "{:?}",
        own.statuses
    );
    // Each stage's mean is the service's own, to the nanosecond's rounding.
    for (stage, (sum, n)) in &own.sums {
        let s = &t["stages"][*stage];
        assert_eq!(s["count"].as_u64(), Some(*n), "{stage}: {t:#}");
        let mean = *sum as f64 / *n as f64 / 1e6;
        let got = s["duration_ms"]["mean"].as_f64().unwrap();
        assert!((got - mean).abs() < 1e-6, "{stage}: {got} vs {mean}");
        assert_eq!(r["stages"][*stage]["source"], "traces");
    }
    // Two fetches side by side: the longer one is on the path.
    let path = t["stages"]["pages.example:443"]["critical_path_ms_per_request"]
        .as_f64()
        .unwrap();
    let longest = own.longest_fetch_ns as f64 / 40.0 / 1e6;
    assert!((path - longest).abs() < 1e-6, "{path} vs {longest}");
    assert_eq!(t["slowest"].as_array().unwrap().len(), 3);
    assert_eq!(t["slowest"][0]["spans"].as_array().unwrap().len(), 5);
    // Cost from the spans' tokens at gpt-4o-mini's preset price.
    let c = &r["cost"];
    assert_eq!(c["source"], "traces");
    assert_eq!(
        (
            c["tokens"]["prompt"].as_u64(),
            c["tokens"]["completion"].as_u64()
        ),
        (Some(own.tokens.0), Some(own.tokens.1))
    );
    assert!(c.get("unpriced").is_none(), "{c}");
    let price = genbench_presets::Presets::builtin().llm["gpt-4o-mini"].usd_per_1m;
    let usd = (own.tokens.0 as f64 * price.input + own.tokens.1 as f64 * price.output) / 1e6;
    assert!(
        (c["total_usd"].as_f64().unwrap() - usd).abs() < 1e-12,
        "{c}"
    );
    assert!(stdout.contains("40 of 40 requests joined"), "{stdout}");
    // The trace id is in the records and the points.
    let records = std::fs::read_to_string(dir.join("records.jsonl")).unwrap();
    let ids: std::collections::HashSet<String> = records
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["trace_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 40);
    let p = r["points"][0]["trace_id"].as_str().unwrap();
    assert!(ids.contains(p));
}

/// The embedded pipeline sends its spans to the run's receiver beside its
/// `Server-Timing`; the built-in baseline shows the two sources of one
/// service's stages agreeing.
#[test]
fn the_embedded_pipeline_s_spans_agree_with_its_server_timing() {
    let dir = out_dir("traces-baseline");
    let stdout = support::run_ok(
        &[
            "run",
            "baseline",
            "--duration",
            "6s",
            "--mock-time-scale",
            "0.05",
            "--profile",
            "off",
        ],
        &dir,
    );
    let r = results(&dir);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let t = &r["traces"];
    assert_eq!(t["joined"], t["requests"], "{stdout}");
    assert!(t["requests"].as_u64().unwrap() >= 8, "{t:#}");
    for stage in ["cache", "search", "fetch", "extract", "prompt", "llm"] {
        let spans = &t["stages"][stage];
        let header = &r["stages"][stage];
        assert_eq!(spans["count"], header["count"], "{stage}");
        let (a, b) = (
            spans["duration_ms"]["mean"].as_f64().unwrap(),
            header["mean"].as_f64().unwrap(),
        );
        // The same instants, timed once: the header's histogram keeps two
        // significant figures and µs.
        assert!(
            (a - b).abs() <= 0.02 * b + 0.002,
            "{stage}: spans {a} ms, Server-Timing {b} ms"
        );
    }
    assert!(header_source_is_server_timing(&r["stages"]["llm"]));
    // The LLM call's GenAI span: the model and its time.
    let chat = &t["stages"]["chat gpt-4o-mini"];
    assert_eq!(chat["count"], r["stages"]["llm"]["count"]);
    assert!(stdout.contains("requests joined (100.0%)"), "{stdout}");
}

fn header_source_is_server_timing(s: &serde_json::Value) -> bool {
    s.get("source").is_none_or(|v| v == "server_timing")
}

/// A service whose search slows and starts answering 429 once more than
/// 12 requests a second arrive: a stress run's steps must say that search
/// is what breaks first, and at which step its provider's limit binds.
#[test]
fn a_stress_run_says_which_stage_breaks_first() {
    #[derive(Default)]
    struct Busy {
        arrivals: Mutex<std::collections::VecDeque<std::time::Instant>>,
    }
    let busy = Arc::new(Busy::default());
    let svc = Svc::new();
    async fn stressed(
        axum::extract::State((svc, busy)): axum::extract::State<(Arc<Svc>, Arc<Busy>)>,
        headers: HeaderMap,
    ) -> String {
        let rate = {
            let mut a = busy.arrivals.lock().unwrap();
            let now = std::time::Instant::now();
            a.push_back(now);
            while a.front().is_some_and(|t| now - *t > Duration::from_secs(1)) {
                a.pop_front();
            }
            a.len()
        };
        let tp = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let parts: Vec<&str> = tp.split('-').collect();
        let (trace, parent) = (hex(parts[1]), hex(parts[2]));
        let start = now_ns();
        let root = next_id().to_be_bytes();
        let overloaded = rate > 12;
        let search = timed(if overloaded { 30 } else { 3 }).await;
        let chat = timed(5).await;
        let mut attrs = vec![
            kv("http.request.method", s("GET")),
            kv("server.address", s("search.example")),
        ];
        if overloaded {
            attrs.push(kv("http.response.status_code", Value::IntValue(429)));
        }
        let spans = vec![
            span(
                &trace,
                next_id(),
                &root,
                "GET",
                SpanKind::Client,
                search,
                attrs,
            ),
            span(
                &trace,
                next_id(),
                &root,
                "chat",
                SpanKind::Client,
                chat,
                vec![kv("gen_ai.operation.name", s("chat"))],
            ),
            span(
                &trace,
                u64::from_be_bytes(root),
                &parent,
                "POST /article",
                SpanKind::Server,
                (start, now_ns()),
                vec![],
            ),
        ];
        svc.own.lock().unwrap().pending.extend(spans);
        "{}".into()
    }
    let url = support::serve(
        axum::Router::new()
            .route("/article", axum::routing::post(stressed))
            .with_state((svc.clone(), busy)),
    );
    in_thread(export(svc.clone()));
    let dir = out_dir("traces-stress");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stress.toml");
    std::fs::write(
        &file,
        r#"
name = "traces-stress"
kind = "stress"
slo = ["error_rate < 50%"]
[load]
model = "open"
arrivals = "constant"
stages = "5,1ms;5,3s;25,1ms;25,3s"
timeout = "10s"
[request]
method = "POST"
path = "/article"
body = "{}"
[collect.traces]
listen = "127.0.0.1:0"
drain = "5s"
"#,
    )
    .unwrap();
    let child = genbench()
        .args(["run", file.to_str().unwrap(), "--target", &url, "--out"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (_, err) = follow_endpoint(child, &svc.endpoint);
    let r = results(&dir);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let steps = r["traces"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{err}");
    let p95 = |i: usize, stage: &str| steps[i]["stages_p95_ms"][stage].as_f64().unwrap();
    assert!(
        p95(0, "search.example") < 10.0 && p95(1, "search.example") > 25.0,
        "{steps:?}"
    );
    assert!(p95(1, "chat") < 10.0);
    assert!(steps[0]["failures"].as_array().unwrap().is_empty());
    let f = &steps[1]["failures"][0];
    assert_eq!(
        (f["stage"].as_str(), f["status"].as_str()),
        (Some("search.example"), Some("429"))
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("search.example grows fastest"),
        "report says what breaks first"
    );
}

/// The Collector's file exporter as a source: OTLP JSON, one export
/// request a line, read once the load has ended.
async fn export_to_file(svc: Arc<Svc>, path: std::path::PathBuf) {
    use std::io::Write;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let spans = std::mem::take(&mut svc.own.lock().unwrap().pending);
        if spans.is_empty() {
            continue;
        }
        let req = export_request(spans);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(f, "{}", serde_json::to_string(&req).unwrap()).unwrap();
        // A line the Collector never writes: counted as refused, skipped.
        writeln!(f, "{{\"resourceSpans\": [{{").unwrap();
    }
}

#[test]
fn spans_from_a_collector_s_file_are_read_after_the_load() {
    let svc = Svc::new();
    let url = support::serve(
        axum::Router::new()
            .route("/article", axum::routing::post(article))
            .with_state(svc.clone()),
    );
    let dir = out_dir("traces-file");
    std::fs::create_dir_all(&dir).unwrap();
    let spans = dir.join("spans.jsonl");
    in_thread(export_to_file(svc.clone(), spans.clone()));
    let file = dir.join("file.toml");
    let scenario = SCENARIO.replace(
        "listen = \"127.0.0.1:0\"\ndrain = \"5s\"",
        &format!("file = {:?}\ndrain = \"1s\"", spans.display().to_string()),
    );
    assert_ne!(scenario, SCENARIO);
    std::fs::write(&file, scenario).unwrap();
    support::run_ok(&["run", file.to_str().unwrap(), "--target", &url], &dir);
    let r = results(&dir);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let t = &r["traces"];
    assert_eq!(t["source"], "file");
    assert_eq!(
        (t["requests"].as_u64(), t["joined"].as_u64()),
        (Some(40), Some(40)),
        "{t:#}"
    );
    assert!(t["spans"]["rejected_batches"].as_u64().unwrap() >= 1);
    assert_eq!(r["cost"]["source"], "traces");
}
