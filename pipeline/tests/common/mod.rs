//! Helpers: mock providers and the pipeline, in-process on 127.0.0.1:0.
#![allow(dead_code)]

use genbench_mock::{Faults, MockAddrs, MockConfig, MockServers};
use genbench_pipeline::{Pipeline, PipelineConfig};
use serde_json::{Value, json};

pub struct Setup {
    pub mocks: MockServers,
    pub pipeline: Pipeline,
}

impl Setup {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.pipeline.url())
    }
}

pub async fn mocks(faults: &str) -> MockServers {
    let faults = if faults.is_empty() {
        Faults::default()
    } else {
        Faults::parse_spec(faults).unwrap()
    };
    MockServers::start(
        MockConfig {
            faults,
            ..MockConfig::instant()
        },
        MockAddrs::default(),
    )
    .await
    .unwrap()
}

/// Pipeline config pointing at `m`, with fast retries.
pub fn config_for(m: &MockServers) -> PipelineConfig {
    PipelineConfig {
        llm_url: format!("{}/v1", m.llm_url()),
        search_url: m.search_url(),
        retry_base_ms: 5,
        retry_max_ms: 20,
        ..PipelineConfig::default()
    }
}

pub async fn setup_with(faults: &str, edit: impl FnOnce(&mut PipelineConfig)) -> Setup {
    let mocks = mocks(faults).await;
    let mut cfg = config_for(&mocks);
    edit(&mut cfg);
    let pipeline = Pipeline::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Setup { mocks, pipeline }
}

pub async fn setup() -> Setup {
    setup_with("", |_| {}).await
}

/// `reqwest::get` through the pipeline's client builder: reqwest's own
/// builds a client with no crypto provider installed.
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    genbench_pipeline::client_builder()
        .build()?
        .get(url)
        .send()
        .await
}

pub async fn generate(s: &Setup, topic: &str) -> reqwest::Response {
    genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(s.url("/api/v1/generate-article"))
        .json(&json!({"topic": topic, "target_length": 120}))
        .send()
        .await
        .unwrap()
}

/// `Server-Timing` as (name, ms) pairs.
pub fn server_timing(r: &reqwest::Response) -> Vec<(String, f64)> {
    let h = r
        .headers()
        .get("server-timing")
        .expect("Server-Timing header")
        .to_str()
        .unwrap();
    h.split(',')
        .map(|part| {
            let mut it = part.trim().split(';');
            let name = it.next().unwrap().to_string();
            let dur = it
                .find_map(|p| p.strip_prefix("dur="))
                .unwrap()
                .parse()
                .unwrap();
            (name, dur)
        })
        .collect()
}

pub async fn json(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

/// The value of an unlabelled series on the pipeline's `/metrics`.
pub async fn metric(s: &Setup, name: &str) -> f64 {
    let text = get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}
