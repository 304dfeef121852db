//! Calls to the providers, by URL only: search, page fetch and LLM, with
//! timeouts, retries with backoff on 429 and 5xx (honouring Retry-After),
//! and a per-host limit on concurrent page fetches. HTTPS providers are
//! reached with rustls (reqwest's; system roots), HTTP/2 where they offer it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::config::PipelineConfig;
use crate::error::{Failure, Stage, StageError};
use crate::metrics::Metrics;
use crate::types::{SearchHit, Usage};

pub struct Providers {
    http: reqwest::Client,
    cfg: PipelineConfig,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    metrics: Arc<Metrics>,
}

fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    let h = r.headers();
    if let Some(ms) = h
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let s = h
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .parse::<f64>()
        .ok()?;
    Some(Duration::from_secs_f64(s.max(0.0)))
}

impl Providers {
    pub fn new(cfg: PipelineConfig, metrics: Arc<Metrics>) -> Result<Self, crate::PipelineError> {
        let http = crate::tls::client_builder()
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| crate::PipelineError::Client(e.to_string()))?;
        Ok(Providers {
            http,
            cfg,
            hosts: Mutex::default(),
            metrics,
        })
    }

    fn backoff(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let max = Duration::from_millis(self.cfg.retry_max_ms);
        let base =
            Duration::from_millis(self.cfg.retry_base_ms).saturating_mul(1 << attempt.min(16));
        hint.unwrap_or(base).min(max)
    }

    /// Sends `make()` until it succeeds, fails for good, or retries run out.
    async fn send(
        &self,
        stage: Stage,
        timeout: Duration,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, StageError> {
        let mut attempt = 0;
        loop {
            let outcome = make().timeout(timeout).send().await;
            let retry_in = match outcome {
                Ok(r) if r.status().is_success() => return Ok(r),
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    let status = r.status().as_u16();
                    if attempt >= self.cfg.max_retries {
                        let failure = if status == 429 {
                            Failure::RateLimited
                        } else {
                            Failure::Status(status)
                        };
                        let body = r.text().await.unwrap_or_default();
                        return Err(StageError::new(
                            stage,
                            failure,
                            format!(
                                "provider answered {status} after {} retries: {}",
                                attempt,
                                snippet(&body)
                            ),
                        ));
                    }
                    self.backoff(attempt, retry_after(&r))
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    return Err(StageError::new(
                        stage,
                        Failure::Status(status),
                        format!(
                            "provider refused the request with {status}: {}",
                            snippet(&body)
                        ),
                    ));
                }
                Err(e) if e.is_timeout() => {
                    return Err(StageError::new(
                        stage,
                        Failure::Timeout,
                        format!("no answer within {} ms", timeout.as_millis()),
                    ));
                }
                Err(e) => {
                    if attempt >= self.cfg.max_retries {
                        return Err(StageError::new(
                            stage,
                            Failure::Unavailable,
                            format!("provider unreachable: {e}"),
                        ));
                    }
                    self.backoff(attempt, None)
                }
            };
            self.metrics.retry(stage);
            tokio::time::sleep(retry_in).await;
            attempt += 1;
        }
    }

    /// The HTTP client the providers are called with (connection pools,
    /// TLS roots), for the span exporter to share.
    pub fn client(&self) -> reqwest::Client {
        self.http.clone()
    }

    pub async fn search(&self, query: &str) -> Result<Vec<SearchHit>, StageError> {
        let url = format!("{}/customsearch/v1", self.cfg.search_url);
        let num = self.cfg.top_k.to_string();
        let timeout = Duration::from_millis(self.cfg.search_timeout_ms);
        let r = self
            .send(Stage::Search, timeout, || {
                self.http.get(&url).query(&[
                    ("key", self.cfg.search_key.as_str()),
                    ("cx", self.cfg.search_cx.as_str()),
                    ("q", query),
                    ("num", num.as_str()),
                ])
            })
            .await?;
        let v: Value = r
            .json()
            .await
            .map_err(|e| StageError::new(Stage::Search, Failure::BadResponse, e.to_string()))?;
        let hits: Vec<SearchHit> = v["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        Some(SearchHit {
                            title: i["title"].as_str()?.into(),
                            url: i["link"].as_str()?.into(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(hits)
    }

    fn host_limit(&self, url: &str) -> Arc<Semaphore> {
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{h}:{:?}", u.port())))
            .unwrap_or_default();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.cfg.per_host_concurrency)))
            .clone()
    }

    /// One page's HTML; at most `per_host_concurrency` in flight per host.
    pub async fn fetch(&self, url: &str) -> Result<String, StageError> {
        let limit = self.host_limit(url);
        let _permit = limit
            .acquire()
            .await
            .map_err(|_| StageError::new(Stage::Fetch, Failure::Unavailable, "closed"))?;
        let timeout = Duration::from_millis(self.cfg.fetch_timeout_ms);
        let r = self
            .send(Stage::Fetch, timeout, || self.http.get(url))
            .await?;
        r.text()
            .await
            .map_err(|e| StageError::new(Stage::Fetch, Failure::BadResponse, e.to_string()))
    }

    fn chat(&self, messages: &Value, max_tokens: u32, stream: bool) -> Value {
        let mut body =
            json!({"model": self.cfg.model, "messages": messages, "max_tokens": max_tokens});
        if stream {
            body["stream"] = true.into();
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    fn llm_request(&self, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/chat/completions", self.cfg.llm_url))
            .bearer_auth(&self.cfg.llm_api_key)
            .json(body)
    }

    pub async fn complete(
        &self,
        messages: &Value,
        max_tokens: u32,
    ) -> Result<(String, Usage), StageError> {
        let body = self.chat(messages, max_tokens, false);
        let timeout = Duration::from_millis(self.cfg.llm_timeout_ms);
        let r = self
            .send(Stage::Llm, timeout, || self.llm_request(&body))
            .await?;
        let v: Value = r
            .json()
            .await
            .map_err(|e| StageError::new(Stage::Llm, Failure::BadResponse, e.to_string()))?;
        let text = v["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| {
                StageError::new(
                    Stage::Llm,
                    Failure::BadResponse,
                    "no choices[0].message.content",
                )
            })?;
        Ok((text.to_string(), Usage::from_json(&v["usage"])))
    }

    /// Starts a streamed completion; retries happen before the first byte.
    pub async fn complete_stream(
        &self,
        messages: &Value,
        max_tokens: u32,
    ) -> Result<reqwest::Response, StageError> {
        let body = self.chat(messages, max_tokens, true);
        let timeout = Duration::from_millis(self.cfg.llm_timeout_ms);
        self.send(Stage::Llm, timeout, || self.llm_request(&body))
            .await
    }
}

fn snippet(s: &str) -> &str {
    let end = s.char_indices().nth(200).map_or(s.len(), |(i, _)| i);
    &s[..end]
}
