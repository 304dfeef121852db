//! The pipeline against the mock providers: stages, cache, timing, errors.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::post;
use common::*;
use genbench_pipeline::{CacheKind, Pipeline};
use serde_json::{Value, json};

#[tokio::test]
async fn stages_run_in_order_and_the_article_has_everything() {
    let s = setup().await;
    let r = generate(&s, "tidal energy").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-cache"], "MISS");
    let v = json(r).await;
    let names: Vec<&str> = v["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["cache", "search", "fetch", "extract", "prompt", "llm"]
    );
    let spans: Vec<(f64, f64)> = v["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["start_ms"].as_f64().unwrap(),
                t["end_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    for w in spans.windows(2) {
        assert!(
            w[0].1 <= w[1].0,
            "a stage started before the previous ended: {spans:?}"
        );
    }
    assert_eq!(v["cache"], "miss");
    assert_eq!(v["sources"].as_array().unwrap().len(), 5);
    assert_eq!(v["usage"]["completion_tokens"], 160); // 120 words -> 160 tokens
    assert!(v["context_tokens"].as_u64().unwrap() > 1000);
    // Cost: gpt-4o-mini prices on the mock's exact usage, plus one search.
    let ledger = s.mocks.ledger();
    let m = &ledger.models["gpt-4o-mini"];
    assert_eq!(
        v["usage"]["prompt_tokens"].as_u64().unwrap(),
        m.prompt_tokens
    );
    let want = m.cost_usd + 0.005;
    assert!(
        (v["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12,
        "{} vs {want}",
        v["cost_usd"]
    );
    assert_eq!((ledger.search.calls, ledger.web.pages), (1, 5));
}

#[tokio::test]
async fn second_identical_request_is_a_cache_hit() {
    let s = setup().await;
    let first = json(generate(&s, "solar").await).await;
    let r = generate(&s, "Solar").await;
    assert_eq!(r.headers()["x-cache"], "HIT");
    let second = json(r).await;
    assert_eq!(second["cache"], "hit");
    assert_eq!(second["article"], first["article"]);
    assert_eq!(second["cost_usd"], 0.0);
    assert_eq!(
        s.mocks.ledger().models["gpt-4o-mini"].requests,
        1,
        "the LLM was called once"
    );
    let other = generate(&s, "wind").await;
    assert_eq!(other.headers()["x-cache"], "MISS");
}

#[tokio::test]
async fn cache_off_never_hits() {
    let s = setup_with("", |c| c.cache.kind = CacheKind::Off).await;
    generate(&s, "solar").await;
    let r = generate(&s, "solar").await;
    assert_eq!(r.headers()["x-cache"], "MISS");
}

#[tokio::test]
async fn server_timing_parts_add_up_to_no_more_than_total() {
    let s = setup().await;
    for topic in ["a topic", "a topic"] {
        let r = generate(&s, topic).await;
        let parts = server_timing(&r);
        let total = parts.iter().find(|(n, _)| n == "total").unwrap().1;
        let sum: f64 = parts
            .iter()
            .filter(|(n, _)| n != "total")
            .map(|(_, d)| d)
            .sum();
        assert!(sum <= total + 1e-3, "{parts:?}");
        assert!(parts.iter().any(|(n, _)| n == "cache"));
    }
}

#[tokio::test]
async fn extra_delay_slows_only_the_stage_it_names() {
    // The mocks answer in a few ms (search ~150): 1 s stands out.
    let s = setup_with("", |c| c.extra_delay_ms.llm = 1000).await;
    let r = generate(&s, "a slow topic").await;
    let parts = server_timing(&r);
    let ms = |name: &str| parts.iter().find(|(n, _)| n == name).unwrap().1;
    assert!(ms("llm") >= 1000.0, "{parts:?}");
    for other in ["cache", "search", "fetch", "extract", "prompt"] {
        assert!(ms(other) < 1000.0, "{other}: {parts:?}");
    }
    let typo = toml::from_str::<genbench_pipeline::PipelineConfig>("extra_delay_ms = { lmm = 5 }");
    assert!(typo.unwrap_err().to_string().contains("lmm"));
}

/// An LLM that answers 429 `failures` times, then a completion.
async fn flaky_llm(failures: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let c = c.clone();
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst);
                if n < failures {
                    let body = json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}});
                    ([("retry-after-ms", "10")], (axum::http::StatusCode::TOO_MANY_REQUESTS, axum::Json(body))).into_response()
                } else {
                    axum::Json(json!({"choices": [{"message": {"content": "An article."}}],
                                      "usage": {"prompt_tokens": 10, "completion_tokens": 3}}))
                    .into_response()
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, calls)
}

use axum::response::IntoResponse;

#[tokio::test]
async fn llm_429s_are_retried() {
    let (addr, calls) = flaky_llm(2).await;
    let s = setup_with("", |c| c.llm_url = format!("http://{addr}/v1")).await;
    let r = generate(&s, "retry me").await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["article"], "An article.");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let metrics = common::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("genbench_pipeline_provider_retries_total{stage=\"llm\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn retries_run_out_as_503_rate_limited() {
    let (addr, calls) = flaky_llm(100).await;
    let s = setup_with("", |c| {
        c.llm_url = format!("http://{addr}/v1");
        c.max_retries = 2;
    })
    .await;
    let r = generate(&s, "retry me").await;
    assert_eq!(r.status(), 503);
    let v = json(r).await;
    assert_eq!(
        (v["error"]["stage"].as_str(), v["error"]["kind"].as_str()),
        (Some("llm"), Some("rate_limited"))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn provider_outages_name_the_stage() {
    // Search answering 5xx: 502 from the search stage.
    let s = setup_with("search.error_rate=1", |_| {}).await;
    let r = generate(&s, "x").await;
    assert_eq!(r.status(), 502);
    let v = json(r).await;
    assert_eq!(
        (v["error"]["stage"].as_str(), v["error"]["kind"].as_str()),
        (Some("search"), Some("provider_error"))
    );
    assert!(v["error"]["provider_status"].as_u64().unwrap() >= 500);

    // Nothing listening for the LLM: 503 unavailable from the llm stage.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = setup_with("", |c| c.llm_url = format!("http://{closed}/v1")).await;
    let v = json(generate(&s, "x").await).await;
    assert_eq!(
        (v["error"]["stage"].as_str(), v["error"]["kind"].as_str()),
        (Some("llm"), Some("unavailable"))
    );

    // An LLM that hangs: 504 from the llm stage.
    let s = setup_with("hang_rate=1,hang_ms=5000", |c| c.llm_timeout_ms = 200).await;
    let r = generate(&s, "x").await;
    assert_eq!(r.status(), 504);
    assert_eq!(json(r).await["error"]["stage"], "llm");

    // Every page failing: 503 from the fetch stage.
    let s = setup_with("web.error_rate=1", |c| c.max_retries = 0).await;
    let r = generate(&s, "x").await;
    assert_eq!(r.status(), 503);
    assert_eq!(json(r).await["error"]["stage"], "fetch");
}

#[tokio::test]
async fn bad_requests_get_400_or_422_with_the_reason() {
    let s = setup().await;
    let client = genbench_pipeline::client_builder().build().unwrap();
    let send = |body: &'static str| {
        client
            .post(s.url("/api/v1/generate-article"))
            .body(body)
            .send()
    };
    let cases: [(&str, u16, &str); 6] = [
        ("{\"topic\":", 400, "not valid JSON"),
        ("[]", 400, "JSON object"),
        ("{}", 422, "missing field: topic"),
        ("{\"topic\": 3}", 422, "string"),
        (
            "{\"topic\": \"x\", \"target_length\": 5}",
            422,
            "target_length",
        ),
        ("{\"topic\": \"x\", \"industry\": []}", 422, "industry"),
    ];
    for (body, status, needle) in cases {
        let r = send(body).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        assert!(
            server_timing(&r).iter().any(|(n, _)| n == "total"),
            "Server-Timing on errors too"
        );
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }
}

#[tokio::test]
async fn stream_sends_meta_deltas_done_and_fills_the_cache() {
    let s = setup().await;
    let r = genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(s.url("/api/v1/generate-article/stream"))
        .json(&json!({"topic": "geothermal", "target_length": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-cache"], "MISS");
    assert!(server_timing(&r).iter().any(|(n, _)| n == "search"));
    let text = r.text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert!(events[0].starts_with("event: meta"));
    let done = events.last().unwrap();
    assert!(done.starts_with("event: done"), "{done}");
    let done: Value =
        serde_json::from_str(done.lines().nth(1).unwrap().strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(done["usage"]["completion_tokens"], 80);
    let article: String = events[1..events.len() - 1]
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap();
            v["delta"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(events.len() - 2, 80, "one delta per token");
    let again = genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(s.url("/api/v1/generate-article"))
        .json(&json!({"topic": "geothermal", "target_length": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["x-cache"], "HIT");
    assert_eq!(json(again).await["article"], article);
}

#[tokio::test]
async fn metrics_health_and_config() {
    let s = setup().await;
    generate(&s, "a").await;
    generate(&s, "a").await;
    let m = common::get(s.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "genbench_pipeline_requests_total{endpoint=\"generate-article\",status=\"200\"} 2",
        "genbench_pipeline_stage_seconds_count{stage=\"llm\"} 1",
        "genbench_pipeline_stage_seconds_count{stage=\"total\"} 2",
        "genbench_pipeline_cache_hits_total 1",
        "genbench_pipeline_cache_misses_total 1",
        "genbench_pipeline_completion_tokens_total 160",
        "genbench_pipeline_in_flight 0",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
    let h: Value = common::get(s.url("/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    let c: Value = common::get(s.url("/config"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["model"], "gpt-4o-mini");
    assert_eq!(c["llm_api_key"], "<redacted>");
    let r = common::get(s.url("/debug/pprof/profile?seconds=1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "profiling is off by default");
}

#[tokio::test]
async fn bad_config_is_refused_before_start() {
    let cfg = genbench_pipeline::PipelineConfig {
        top_k: 0,
        ..Default::default()
    };
    let e = Pipeline::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("top_k"), "{e}");
}
