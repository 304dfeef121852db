//! LLM endpoints end to end: the `llm` built-in against the embedded mock
//! at gpt-4o-mini's preset pace (TPOT and the mock's ledger), and a server
//! that sends a role-only event first and no usage (TTFT apart from TTFB,
//! tokens counted with the tokenizer, goodput and LLM thresholds).

use std::time::Duration;

use crate::support;

use crate::support::{out_dir, results, run_expecting, run_ok, schema_errors};

fn f(v: &serde_json::Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(|x| x.as_f64())
        .unwrap_or_else(|| panic!("no number at {path} in {v:#}"))
}

#[test]
fn the_llm_builtin_matches_the_mock_pace_and_ledger() {
    let dir = out_dir("llm-builtin");
    // Two concurrent streams for 6 s: low concurrency, a handful of streams
    // of 128 tokens at 80 tokens/s.
    let stdout = run_ok(&["run", "llm", "--set", "load.stages=2,1ms;2,6s"], &dir);
    for line in [
        "ttft ",
        "tpot ",
        "itl ",
        "tokens ",
        "goodput ",
        "completions/s",
    ] {
        assert!(stdout.contains(line), "{line} missing from\n{stdout}");
    }
    let v = results(&dir);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    assert_eq!(v["requests"]["failed"], 0, "{stdout}");
    let streams = v["llm"]["streams"].as_u64().unwrap();
    assert!(streams >= 4, "{stdout}");
    // 80 tokens/s is 12.5 ms per token.
    let tpot = f(&v, "/llm/tpot_ms/p50");
    assert!((tpot - 12.5).abs() <= 1.0, "TPOT p50 {tpot} ms\n{stdout}");
    // Every token the mock billed was counted, and from the stream's usage.
    assert_eq!(v["llm"]["output_tokens"], v["cost"]["tokens"]["completion"]);
    assert_eq!(v["cost"]["source"], "mock_ledger");
    assert_eq!(v["llm"]["tokens_from_usage"].as_u64(), Some(streams));
    assert!(f(&v, "/llm/ttft_ms/p50") > 0.0);
    assert!(f(&v, "/llm/output_tps") > 0.0);
    let g = &v["goodput"];
    assert_eq!(f(g, "/objectives/ttft_ms"), 1000.0);
    assert!(g["met"].as_u64().unwrap() <= v["requests"]["total"].as_u64().unwrap());
    assert!(v["completions_rps"].as_f64().unwrap() > 0.0);
    assert!(
        v["send_lag_ms"].is_null(),
        "the closed model has no send lag"
    );
    assert!(
        std::fs::read_to_string(dir.join("report.html"))
            .unwrap()
            .contains("time per output token (TPOT)")
    );
}

/// Content events: " one", " two", ... one per `gap` after a role-only
/// event sent at once, then `[DONE]`; no usage.
const WORDS: [&str; 6] = [" one", " two", " three", " four", " five", " six"];

async fn role_first_server(first_content: Duration, gap: Duration) -> String {
    use axum::body::Body;
    use futures_util::stream;
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move || async move {
            let event = |delta: &str| {
                format!("data: {{\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{delta}}}]}}\n\n")
            };
            let mut frames = vec![(Duration::ZERO, event(r#"{"role":"assistant","content":""}"#))];
            for (i, w) in WORDS.iter().enumerate() {
                let at = first_content + gap * i as u32;
                frames.push((at, event(&format!("{{\"content\":\"{w}\"}}"))));
            }
            let last = frames.last().map(|f| f.0).unwrap_or_default();
            frames.push((last, "data: [DONE]\n\n".to_string()));
            let start = tokio::time::Instant::now();
            let body = stream::unfold(frames.into_iter(), move |mut it| async move {
                let (at, text) = it.next()?;
                tokio::time::sleep_until(start + at).await;
                Some((Ok::<_, std::io::Error>(text), it))
            });
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(body))
                .unwrap()
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    url
}

const SCENARIO: &str = r#"
name = "role-first"
thresholds = ["ttft_p95 < 2s", "goodput >= 99%", "output_tps > 1", "tpot_p95 < 1ms"]

[slo]
ttft = "2s"
tpot = "200ms"

[load]
model = "closed"
stages = "2,1ms;2,2s"
timeout = "10s"

[request]
method = "POST"
path = "/v1/chat/completions"
body = '{"model": "gpt-4o-mini", "stream": true, "messages": []}'
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttft_waits_for_content_and_tokens_are_counted_without_usage() {
    let url = role_first_server(Duration::from_millis(150), Duration::from_millis(20)).await;
    let dir = out_dir("llm-role-first");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("role-first.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let file = file.display().to_string();
    let d = dir.join("out");
    // tpot_p95 < 1ms fails (20 ms a token): exit 1, everything written.
    let stdout = tokio::task::spawn_blocking(move || {
        run_expecting(1, &["run", &file, "--target", &url], &d)
    })
    .await
    .unwrap();
    let v = results(&dir.join("out"));
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    assert_eq!(v["requests"]["failed"], 0, "{stdout}");
    // The role event came at once; the first content 150 ms later.
    let (ttfb, ttft) = (f(&v, "/ttfb_ms/p50"), f(&v, "/llm/ttft_ms/p50"));
    assert!(ttfb < 100.0, "ttfb {ttfb}\n{stdout}");
    assert!((150.0..400.0).contains(&ttft), "ttft {ttft}\n{stdout}");
    // Five 20 ms gaps over six tokens: TPOT 20 ms, ITL 20 ms.
    let (tpot, itl) = (f(&v, "/llm/tpot_ms/p50"), f(&v, "/llm/itl_ms/p50"));
    assert!((tpot - 20.0).abs() < 5.0, "tpot {tpot}\n{stdout}");
    assert!((itl - 20.0).abs() < 5.0, "itl {itl}\n{stdout}");
    let streams = v["llm"]["streams"].as_u64().unwrap();
    let text: String = WORDS.concat();
    let per = genbench::engine::llm::tokenizer("gpt-4o-mini")
        .encode_ordinary(&text)
        .len() as u64;
    assert_eq!(v["llm"]["output_tokens"].as_u64(), Some(per * streams));
    assert_eq!(v["llm"]["tokens_counted"].as_u64(), Some(streams));
    assert_eq!(f(&v, "/goodput/share"), 1.0);
    let passed: Vec<bool> = v["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, true, true, false], "{stdout}");
}

#[test]
fn objectives_and_llm_thresholds_are_validated_before_any_load() {
    let dir = out_dir("llm-bad-slo");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        SCENARIO.replace("tpot = \"200ms\"", "tpot_p95 = \"200ms\""),
    )
    .unwrap();
    let o = support::genbench()
        .args([
            "run",
            &file.display().to_string(),
            "--target",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("slo.tpot_p95") && err.contains("ttft"),
        "{err}"
    );
}

/// Answers every chat completion with a one-event stream and counts the
/// requests for each `model` it is asked for.
async fn model_counting_server() -> (
    String,
    std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>,
) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let counts = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: String| {
            let counts = counts.clone();
            async move {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let model = v["model"].as_str().unwrap_or("?").to_string();
                *counts.lock().unwrap().entry(model.clone()).or_insert(0) += 1;
                let event = format!(
                    "data: {{\"model\":\"{model}\",\"choices\":[{{\"delta\":{{\"content\":\"hi\"}}}}]}}\n\ndata: [DONE]\n\n"
                );
                ([("content-type", "text/event-stream")], event)
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_varies_a_json_body_field_against_an_external_target() {
    let (url, seen) = model_counting_server().await;
    let dir = out_dir("llm-matrix");
    let d = dir.clone();
    let stdout = tokio::task::spawn_blocking(move || {
        run_ok(
            &[
                "matrix",
                "llm",
                "--target",
                &url,
                "--vary",
                "request.json.model=model-a,model-b",
                "--set",
                "load.stages=1,1ms;1,1s",
                "--set",
                "load.max_requests=20",
            ],
            &d,
        )
    })
    .await
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        ["model-a", "model-b"],
        "{stdout}"
    );
    for run in ["01-model-model-a", "02-model-model-b"] {
        let v = results(&dir.join(run));
        assert_eq!(v["target"]["kind"], "external");
        let model = run
            .trim_start_matches("01-model-")
            .trim_start_matches("02-model-");
        assert_eq!(v["llm"]["streams"].as_u64(), Some(seen[model]), "{run}");
    }
    assert!(dir.join("comparison.html").exists());
}
