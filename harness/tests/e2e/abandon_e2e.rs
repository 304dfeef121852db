//! Clients that give up, against a `genbench mock` of the test's own at a
//! quarter of gpt-4o-mini's preset pace, whose ledger the test reads
//! itself after each run: what the provider billed for the calls cut short
//! is what genbench reports as the cost of abandoned work.

use crate::support;

use std::time::Duration;

use crate::support::{out_dir, results, run_expecting, schema_errors, write_file};
use genbench_mock::{LedgerSnapshot, MockAddrs, MockConfig, MockServers};
use serde_json::Value;

fn scenario(ledger: &str, stream: bool, give_up: &str) -> String {
    format!(
        r#"
name = "abandon"
thresholds = ["abandon_rate > 20%", "abandon_rate < 30%"]

[load]
model = "closed"
stages = "8,1ms;8,5s"
timeout = "30s"
{give_up}

[request]
method = "POST"
path = "/v1/chat/completions"
body = '{{"model": "gpt-4o-mini", "stream": {stream}, "max_tokens": 200, "messages": [{{"role": "user", "content": "an article"}}]}}'

[collect.cost]
ledger = "{ledger}"
"#
    )
}

/// Runs `scenario` against a fresh mock, expecting exit `code`; the results
/// and the mock's ledger as it stands once genbench has exited.
async fn run(
    name: &'static str,
    stream: bool,
    give_up: &'static str,
    code: i32,
) -> (Value, LedgerSnapshot) {
    let config = MockConfig {
        time_scale: 0.25,
        ..MockConfig::default()
    };
    let m = MockServers::start(config, MockAddrs::default())
        .await
        .unwrap();
    let url = m.llm_url();
    let v = tokio::task::spawn_blocking(move || {
        let dir = out_dir(name);
        let file = write_file(&dir, "s.toml", &scenario(&url, stream, give_up));
        run_expecting(code, &["run", &file, "--target", &url], &dir);
        results(&dir)
    })
    .await
    .unwrap();
    (v, m.shutdown(Duration::from_secs(1)).await)
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no count at {path} in {v:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_streams_cost_what_the_ledger_billed_for_them() {
    // Streams of 200 tokens at 320 tokens/s after a ~110 ms first token
    // take ~0.75 s; every fourth is cancelled 400 ms after its send.
    let give_up = "abandon_after = \"20s\"\n[load.cancel]\nrate = 0.25\nafter = \"400ms\"";
    let (v, ledger) = run("abandon-streams", true, give_up, 0).await;
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let total = u(&v, "/requests/total");
    let cancelled = u(&v, "/requests/abandoned_cancelled");
    assert!(total >= 20, "{v:#}");
    assert_eq!(cancelled, total / 4, "every fourth request: {v:#}");
    assert_eq!(u(&v, "/requests/abandoned"), cancelled);
    assert_eq!(u(&v, "/requests/abandoned_unanswered"), 0);
    assert_eq!(u(&v, "/requests/failed"), 0, "abandoned is not failed");
    assert_eq!(u(&v, "/requests/ok") + cancelled, total);
    let observed = v["thresholds"][0]["observed"].as_f64().unwrap();
    assert_eq!(observed, cancelled as f64 / total as f64);
    assert!(
        v["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["passed"] == true)
    );

    let m = &ledger.models["gpt-4o-mini"];
    // Every stream genbench cancelled, the mock saw go away.
    assert_eq!(m.cancelled_requests, cancelled, "{ledger:#?}");
    // Cut mid-way: some tokens generated, fewer than a whole answer.
    assert!(m.cancelled_completion_tokens > 0);
    assert!(m.cancelled_completion_tokens < 200 * cancelled);
    let a = &v["cost"]["abandoned"];
    assert_eq!(u(a, "/calls"), m.cancelled_requests);
    assert_eq!(u(a, "/tokens/completion"), m.cancelled_completion_tokens);
    assert_eq!(u(a, "/tokens/prompt"), m.cancelled_prompt_tokens);
    let usd = a["usd"].as_f64().unwrap();
    assert!((usd - m.cancelled_cost_usd).abs() < 1e-12, "{usd} {m:?}");
    assert!(usd > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_answers_are_billed_whole_for_a_call_that_is_not_streamed() {
    // A non-streamed answer of 200 tokens takes ~0.75 s: every request is
    // still unanswered at 300 ms, and the mock, as a provider, finishes the
    // generation it started and bills it.
    // Every request abandoned: `abandon_rate < 30%` fails the run (exit 1).
    let (v, ledger) = run("abandon-whole", false, "abandon_after = \"300ms\"", 1).await;
    let total = u(&v, "/requests/total");
    assert!(total >= 40, "{v:#}");
    assert_eq!(u(&v, "/requests/abandoned_unanswered"), total);
    assert_eq!(u(&v, "/requests/ok"), 0);
    let m = &ledger.models["gpt-4o-mini"];
    assert_eq!(m.cancelled_requests, total, "{ledger:#?}");
    assert_eq!(m.cancelled_completion_tokens, 200 * total);
    assert_eq!(
        u(&v, "/cost/abandoned/tokens/completion"),
        m.cancelled_completion_tokens
    );
    assert_eq!(v["errors"]["rate"].as_f64(), Some(0.0));
    assert_eq!(v["thresholds"][1]["observed"].as_f64(), Some(1.0));
    assert_eq!(v["thresholds"][1]["passed"], false);
}

/// A service of the test's own that reports its LLM calls as GenAI spans
/// and lets them run on when its client hangs up: every fourth request
/// answers only 600 ms after its call, and genbench gives up at 300 ms.
mod spans {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::Duration;

    use axum::http::HeaderMap;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
    use prost::Message;

    use crate::support::otlp::{export_request, hex, kv, next_id, now_ns, post, s, span};

    #[derive(Default)]
    pub struct Svc {
        pub endpoint: OnceLock<String>,
        n: AtomicU64,
        pending: Mutex<Vec<Span>>,
        /// Tokens (prompt, completion) of the slow requests' calls.
        pub slow_tokens: Mutex<(u64, u64)>,
    }

    pub async fn article(
        axum::extract::State(svc): axum::extract::State<Arc<Svc>>,
        headers: HeaderMap,
    ) -> String {
        let tp = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let parts: Vec<&str> = tp.split('-').collect();
        let (trace, parent) = (hex(parts[1]), hex(parts[2]));
        let slow = svc.n.fetch_add(1, Ordering::Relaxed) % 4 == 3;
        let start = now_ns();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (input, output) = (
            100 + u64::from(trace[15] % 9),
            40 + u64::from(trace[14] % 7),
        );
        let root = next_id();
        let chat = span(
            &trace,
            next_id(),
            &root.to_be_bytes(),
            "chat gpt-4o-mini",
            SpanKind::Client,
            (start, now_ns()),
            vec![
                kv("gen_ai.operation.name", s("chat")),
                kv("gen_ai.request.model", s("gpt-4o-mini")),
                kv("gen_ai.usage.input_tokens", Value::IntValue(input as i64)),
                kv("gen_ai.usage.output_tokens", Value::IntValue(output as i64)),
            ],
        );
        svc.pending.lock().unwrap().push(chat);
        if slow {
            let mut t = svc.slow_tokens.lock().unwrap();
            t.0 += input;
            t.1 += output;
        } else {
            let server = span(
                &trace,
                root,
                &parent,
                "POST /article",
                SpanKind::Server,
                (start, now_ns()),
                vec![],
            );
            svc.pending.lock().unwrap().push(server);
            return "{}".into();
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        "{}".into()
    }

    /// Posts what the service recorded every 100 ms, as protobuf.
    pub async fn export(svc: Arc<Svc>) {
        let endpoint = loop {
            if let Some(e) = svc.endpoint.get() {
                break e.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let spans = std::mem::take(&mut *svc.pending.lock().unwrap());
            if spans.is_empty() {
                continue;
            }
            let req = export_request(spans);
            post(
                &endpoint,
                "application/x-protobuf",
                false,
                req.encode_to_vec(),
            )
            .await;
        }
    }
}

const SPANS_SCENARIO: &str = r#"
name = "abandon-spans"

[load]
model = "closed"
stages = "4,1ms;4,30s"
max_requests = 40
timeout = "10s"
abandon_after = "300ms"

[request]
method = "POST"
path = "/article"
body = "{}"

[collect.traces]
listen = "127.0.0.1:0"
drain = "3s"
"#;

#[test]
fn abandoned_requests_cost_what_their_genai_spans_report() {
    use std::sync::Arc;
    let svc = Arc::new(spans::Svc::default());
    let url = support::serve(
        axum::Router::new()
            .route("/article", axum::routing::post(spans::article))
            .with_state(svc.clone()),
    );
    support::otlp::in_thread(spans::export(svc.clone()));
    let dir = out_dir("abandon-spans");
    let file = write_file(&dir, "s.toml", SPANS_SCENARIO);
    let child = support::genbench()
        .args(["run", &file, "--target", &url, "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, _) = support::otlp::follow_endpoint(child, &svc.endpoint);
    let v = results(&dir);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    assert_eq!(u(&v, "/requests/total"), 40, "{stdout}");
    assert_eq!(u(&v, "/requests/abandoned_unanswered"), 10, "{stdout}");
    assert_eq!(v["cost"]["source"], "traces");
    let a = &v["cost"]["abandoned"];
    let (prompt, completion) = *svc.slow_tokens.lock().unwrap();
    assert_eq!(u(a, "/calls"), 10, "{a}");
    assert_eq!(
        (u(a, "/tokens/prompt"), u(a, "/tokens/completion")),
        (prompt, completion)
    );
    let price = genbench_presets::Presets::builtin().llm["gpt-4o-mini"].usd_per_1m;
    let usd = (prompt as f64 * price.input + completion as f64 * price.output) / 1e6;
    assert!((a["usd"].as_f64().unwrap() - usd).abs() < 1e-12, "{a}");
    assert!(stdout.contains("10 abandoned (10 unanswered"), "{stdout}");
}
