//! The LLM mock over HTTP: wire format, tokens, determinism, bad input.

mod common;

use std::time::Instant;

use common::*;
use genbench_mock::MockConfig;
use serde_json::{Value, json};

#[tokio::test]
async fn non_stream_completion_has_openai_shape_and_exact_usage() {
    let m = instant_with("").await;
    let url = format!("{}/v1/chat/completions", m.llm_url());
    let r = post(
        &url,
        &chat_body("gpt-4o-mini", "Write about solar power", Some(50), false),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["usage"]["completion_tokens"], 50);
    // system + user framing: 3 + 3 per message + reply priming 3, plus the
    // role names and texts as o200k tokens.
    let prompt = v["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(prompt > 12 && prompt < 30, "{prompt}");
    assert_eq!(v["usage"]["total_tokens"].as_u64().unwrap(), prompt + 50);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    let ledger = m.ledger();
    let l = &ledger.models["gpt-4o-mini"];
    assert_eq!(
        (l.requests, l.prompt_tokens, l.completion_tokens),
        (1, prompt, 50)
    );
}

#[tokio::test]
async fn output_is_deterministic_per_seed_model_and_prompt() {
    let a = instant_with("").await;
    let b = instant_with("").await;
    let c = start(MockConfig {
        seed: 99,
        ..MockConfig::instant()
    })
    .await;
    let text = |m: String, prompt: &'static str| async move {
        let r = post(
            &format!("{m}/v1/chat/completions"),
            &chat_body("gpt-4o-mini", prompt, Some(30), false),
        )
        .await;
        r.json::<Value>().await.unwrap()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let x = text(a.llm_url(), "topic one").await;
    assert_eq!(x, text(b.llm_url(), "topic one").await);
    assert_ne!(x, text(a.llm_url(), "topic two").await);
    assert_ne!(x, text(c.llm_url(), "topic one").await);
}

#[tokio::test]
async fn length_follows_the_preset_without_max_tokens() {
    let m = instant_with("").await;
    let mut lens = Vec::new();
    for i in 0..20 {
        let r = post(
            &format!("{}/v1/chat/completions", m.llm_url()),
            &chat_body("gpt-4o-mini", &format!("t{i}"), None, false),
        )
        .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        lens.push(v["usage"]["completion_tokens"].as_u64().unwrap());
    }
    lens.sort();
    // Preset median is 400 tokens with p95 1,200: twenty draws straddle it.
    assert!(lens[0] < 400 && lens[19] > 400, "{lens:?}");
}

#[tokio::test]
async fn stream_sends_one_token_per_chunk_then_usage_then_done() {
    let m = instant_with("").await;
    let url = format!("{}/v1/chat/completions", m.llm_url());
    let full: Value = post(
        &url,
        &chat_body("gpt-4o-mini", "Stream me", Some(40), false),
    )
    .await
    .json()
    .await
    .unwrap();
    let r = post(&url, &chat_body("gpt-4o-mini", "Stream me", Some(40), true)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_events(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"].get(0)?["delta"]["content"].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(content.len(), 40, "one token per chunk");
    assert_eq!(
        content.concat(),
        full["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    assert_eq!(finish["usage"], Value::Null);
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 40);
}

#[tokio::test]
async fn stream_is_paced_by_absolute_deadlines() {
    let m = start(MockConfig {
        presets: paced_presets(200.0),
        time_scale: 1.0,
        ..MockConfig::instant()
    })
    .await;
    let url = format!("{}/v1/chat/completions", m.llm_url());
    let t0 = Instant::now();
    let r = post(&url, &chat_body("paced", "pace", Some(41), true)).await;
    let mut r = r;
    let mut first = None;
    while let Some(chunk) = r.chunk().await.unwrap() {
        if first.is_none() && String::from_utf8_lossy(&chunk).contains("\"content\":\" ") {
            first = Some(t0.elapsed());
        }
    }
    let total = t0.elapsed();
    // Tokens are never early: the first at TTFT 50 ms, the 41st 200 ms later.
    assert!(first.unwrap().as_millis() >= 50, "{first:?}");
    assert!(total.as_millis() >= 250, "{total:?}");
}

#[tokio::test]
async fn unknown_model_is_404_unless_a_default_preset_is_set() {
    let strict = start(MockConfig::default()).await;
    let r = post(
        &format!("{}/v1/chat/completions", strict.llm_url()),
        &chat_body("gpt-9", "x", Some(1), false),
    )
    .await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "model_not_found");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let lenient = instant_with("").await;
    let r = post(
        &format!("{}/v1/chat/completions", lenient.llm_url()),
        &chat_body("gpt-9", "x", Some(1), false),
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn expect_400(url: &str, body: &str) -> Value {
    let r = common::http()
        .build()
        .unwrap()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "{body}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    v
}

#[tokio::test]
async fn bad_input_gets_openai_errors() {
    let m = instant_with("").await;
    let url = format!("{}/v1/chat/completions", m.llm_url());
    let v = expect_400(
        &url,
        r#"{"model": "gpt-4o-mini", "messages": [{"role": "user""#,
    )
    .await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not parse")
    );
    let v = expect_400(&url, r#"{"messages": [{"role": "user", "content": "x"}]}"#).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("model"));
    let v = expect_400(&url, r#"{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "max_tokens": "ten"}"#).await;
    assert_eq!(v["error"]["param"], "max_tokens");
    let v = expect_400(&url, r#"{"model": 7, "messages": []}"#).await;
    assert_eq!(v["error"]["param"], "model");
    expect_400(&url, r#"{"model": "gpt-4o-mini", "messages": []}"#).await;
    let v = expect_400(
        &url,
        r#"{"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]}"#,
    )
    .await;
    assert_eq!(v["error"]["param"], "messages[0].role");
    expect_400(&url, "").await;
    expect_400(&url, "[]").await;
    // The server is still fine afterwards.
    assert_eq!(
        post(&url, &chat_body("gpt-4o-mini", "ok", Some(1), false))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn oversize_body_is_413_on_a_live_connection() {
    let m = start(MockConfig {
        max_body_bytes: 64 * 1024,
        ..MockConfig::instant()
    })
    .await;
    let url = format!("{}/v1/chat/completions", m.llm_url());
    let client = common::http().build().unwrap();
    let big = chat_body("gpt-4o-mini", &"word ".repeat(100_000), Some(1), false);
    let r = client
        .post(&url)
        .json(&big)
        .send()
        .await
        .expect("a response, not a dropped connection");
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "request_too_large");
    let r = client
        .post(&url)
        .json(&chat_body("gpt-4o-mini", "small", Some(1), false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn embeddings_are_deterministic_in_float_and_base64() {
    use base64::Engine as _;
    let m = instant_with("").await;
    let url = format!("{}/v1/embeddings", m.llm_url());
    let body = json!({"model": "text-embedding-3-small", "input": ["hello world", "other"], "dimensions": 8});
    let a: Value = post(&url, &body).await.json().await.unwrap();
    let b: Value = post(&url, &body).await.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a["data"].as_array().unwrap().len(), 2);
    assert_eq!(a["data"][0]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(a["usage"]["prompt_tokens"], 3); // "hello world" 2 + "other" 1
    let mut b64 = body.clone();
    b64["encoding_format"] = "base64".into();
    let c: Value = post(&url, &b64).await.json().await.unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(c["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let first = f32::from_le_bytes(bytes[0..4].try_into().unwrap());
    assert_eq!(
        f64::from(first),
        a["data"][0]["embedding"][0].as_f64().unwrap()
    );
    let r = post(
        &url,
        &json!({"model": "text-embedding-3-small", "input": []}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(m.ledger().models["text-embedding-3-small"].prompt_tokens, 9);
}

#[tokio::test]
async fn models_are_listed() {
    let m = instant_with("").await;
    let v: Value = common::get(format!("{}/v1/models", m.llm_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"gpt-4o-mini") && ids.contains(&"text-embedding-3-small"),
        "{ids:?}"
    );
    let r = common::get(format!("{}/v1/models/gpt-4o", m.llm_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = common::get(format!("{}/v1/models/nope", m.llm_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn long_prompts_repeat_as_cached_tokens() {
    let m = instant_with("").await;
    let url = format!("{}/v1/chat/completions", m.llm_url());
    let prompt = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    let body = chat_body("gpt-4o-mini", &prompt, Some(1), false);
    let first: Value = post(&url, &body).await.json().await.unwrap();
    let second: Value = post(&url, &body).await.json().await.unwrap();
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    let cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    let prompt_tokens = second["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(
        cached >= 1024 && cached <= prompt_tokens && (cached - 1024).is_multiple_of(128),
        "{cached} of {prompt_tokens}"
    );
    let l = &m.ledger().models["gpt-4o-mini"];
    assert_eq!(l.cached_prompt_tokens, cached);
    let want =
        ((2 * prompt_tokens - cached) as f64 * 0.15 + cached as f64 * 0.075 + 2.0 * 0.60) / 1e6;
    assert!(
        (l.cost_usd - want).abs() < 1e-12,
        "{} vs {want}",
        l.cost_usd
    );
}
