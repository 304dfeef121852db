//! Helpers shared by the HTTP tests: mocks on 127.0.0.1:0 and SSE parsing.
#![allow(dead_code)]

use genbench_mock::{Faults, MockAddrs, MockConfig, MockServers, Presets};
use serde_json::Value;

pub async fn start(config: MockConfig) -> MockServers {
    MockServers::start(config, MockAddrs::default())
        .await
        .expect("mock starts")
}

/// Instant presets everywhere, plus `faults`.
pub async fn instant_with(faults: &str) -> MockServers {
    let faults = if faults.is_empty() {
        Faults::default()
    } else {
        Faults::parse_spec(faults).unwrap()
    };
    start(MockConfig {
        faults,
        ..MockConfig::instant()
    })
    .await
}

/// Presets where `paced` streams at `tokens_per_s` with no TTFT and no jitter.
pub fn paced_presets(tokens_per_s: f64) -> Presets {
    let mut p = Presets::builtin();
    p.merge(
        Presets::parse(
            &format!(
                r#"[llm.paced]
                tokenizer = "o200k_base"
                ttft_ms = {{ median = 50.0, p95 = 50.0 }}
                tokens_per_s = {tokens_per_s}
                output_tokens = {{ median = 40.0, p95 = 40.0 }}
                usd_per_1m = {{ input = 1.0, output = 2.0 }}"#
            ),
            "test",
        )
        .unwrap(),
    );
    p
}

pub fn chat_body(model: &str, prompt: &str, max_tokens: Option<u32>, stream: bool) -> Value {
    let mut v = serde_json::json!({
        "model": model,
        "messages": [{"role": "system", "content": "You write articles."}, {"role": "user", "content": prompt}],
    });
    if let Some(m) = max_tokens {
        v["max_tokens"] = m.into();
    }
    if stream {
        v["stream"] = true.into();
        v["stream_options"] = serde_json::json!({"include_usage": true});
    }
    v
}

/// A reqwest client builder with rustls's ring provider installed: in a
/// workspace build reqwest has the pipeline's `rustls-no-provider` feature,
/// and without a provider its `build()` panics.
pub fn http() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// `reqwest::get` through [`http`]: reqwest's own builds a client with no
/// provider installed.
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    http().build()?.get(url).send().await
}

pub async fn post(url: &str, body: &Value) -> reqwest::Response {
    http()
        .build()
        .unwrap()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// Splits an SSE body into the payloads of its `data:` lines.
pub fn sse_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}
