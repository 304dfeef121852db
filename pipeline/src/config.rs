//! The pipeline's configuration: the knobs teams compare (model, cache,
//! sources, context budget, limits, retries) plus a deliberate leak. Read from
//! TOML and flags, validated before the server starts, echoed at `GET /config`.

use serde::{Deserialize, Serialize};

use crate::PipelineError;
use crate::error::Stage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheKind {
    Off,
    Memory,
    Redis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    pub kind: CacheKind,
    pub ttl_s: u64,
    /// Articles kept in memory; the oldest go first.
    pub capacity: usize,
    pub redis_url: String,
    /// Concurrent misses of one article wait for the first to make it
    /// (single flight) instead of each running the pipeline.
    pub coalesce: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            kind: CacheKind::Memory,
            ttl_s: 300,
            capacity: 10_000,
            redis_url: "redis://127.0.0.1:6379".into(),
            coalesce: true,
        }
    }
}

/// Prices the pipeline uses to report `cost_usd` per article. Defaults are
/// gpt-4o-mini's and Google Custom Search's list prices (November 2026).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Prices {
    pub input_usd_per_1m: f64,
    pub cached_input_usd_per_1m: f64,
    pub output_usd_per_1m: f64,
    pub search_usd_per_call: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            input_usd_per_1m: 0.15,
            cached_input_usd_per_1m: 0.075,
            output_usd_per_1m: 0.60,
            search_usd_per_call: 0.005,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// An OpenAI SDK `base_url`: it includes the version path (`/v1`), and
    /// the pipeline appends `/chat/completions`.
    pub llm_url: String,
    pub llm_api_key: String,
    /// Base URL of a Google-Custom-Search-compatible API.
    pub search_url: String,
    pub search_key: String,
    pub search_cx: String,
    pub model: String,
    /// Output tokens asked of the LLM when the request gives no target_length.
    pub max_output_tokens: u32,
    /// A table, or a word: `off`, `on` (= `memory`), `memory`, `redis`.
    #[serde(deserialize_with = "cache_spec")]
    pub cache: CacheConfig,
    /// Search results fetched and used as sources.
    pub top_k: u32,
    /// Tokens of source text allowed into the prompt.
    pub context_token_budget: usize,
    /// Articles generated at once; more wait for a slot.
    pub max_concurrent_requests: usize,
    /// Page fetches in flight per host.
    pub per_host_concurrency: usize,
    pub search_timeout_ms: u64,
    pub fetch_timeout_ms: u64,
    pub llm_timeout_ms: u64,
    /// Retries of a provider call answered 429 or 5xx.
    pub max_retries: u32,
    pub retry_base_ms: u64,
    /// Longest wait honoured from a provider's Retry-After.
    pub retry_max_ms: u64,
    /// Memory kept forever per request: proves a soak test catches leaks.
    pub leak_bytes_per_request: usize,
    /// Time added to a stage on purpose (`extra_delay_ms.llm = 200`): lets
    /// a gate or compare prove it catches a slower stage.
    pub extra_delay_ms: ExtraDelayMs,
    /// Serves `/debug/pprof/profile` (the profiler allocates ~150 MB when it starts).
    pub profiling: bool,
    /// The job API's worker pool and queue (`POST /api/v1/jobs`).
    pub jobs: JobsConfig,
    pub prices: Prices,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            llm_url: "http://127.0.0.1:8701/v1".into(),
            llm_api_key: "unused".into(),
            search_url: "http://127.0.0.1:8702".into(),
            search_key: "unused".into(),
            search_cx: "genbench".into(),
            model: "gpt-4o-mini".into(),
            max_output_tokens: 1500,
            cache: CacheConfig::default(),
            top_k: 5,
            context_token_budget: 6000,
            max_concurrent_requests: 256,
            per_host_concurrency: 8,
            search_timeout_ms: 10_000,
            fetch_timeout_ms: 5_000,
            llm_timeout_ms: 120_000,
            max_retries: 3,
            retry_base_ms: 200,
            retry_max_ms: 20_000,
            leak_bytes_per_request: 0,
            extra_delay_ms: ExtraDelayMs::default(),
            profiling: false,
            jobs: JobsConfig::default(),
            prices: Prices::default(),
        }
    }
}

/// Milliseconds added to each stage, all 0 unless set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtraDelayMs {
    pub cache: u64,
    pub search: u64,
    pub fetch: u64,
    pub extract: u64,
    pub prompt: u64,
    pub llm: u64,
    /// In the handler outside every stage, on every request (hit or
    /// miss): time no stage reports, as a service with no stages has.
    pub handler: u64,
}

impl ExtraDelayMs {
    pub fn of(&self, stage: Stage) -> u64 {
        match stage {
            Stage::Cache => self.cache,
            Stage::Search => self.search,
            Stage::Fetch => self.fetch,
            Stage::Extract => self.extract,
            Stage::Prompt => self.prompt,
            Stage::Llm => self.llm,
        }
    }
}

/// `cache = "off"` as shorthand for `cache.kind = "off"`, so a matrix can
/// vary `pipeline.cache=on,off`.
fn cache_spec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<CacheConfig, D::Error> {
    let kind = match toml::Value::deserialize(d)? {
        toml::Value::String(w) => match w.as_str() {
            "off" => CacheKind::Off,
            "on" | "memory" => CacheKind::Memory,
            "redis" => CacheKind::Redis,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "cache = {other:?}: use off, on (memory), redis, or a [cache] table"
                )));
            }
        },
        table => return CacheConfig::deserialize(table).map_err(serde::de::Error::custom),
    };
    Ok(CacheConfig {
        kind,
        ..CacheConfig::default()
    })
}

fn bad(message: String) -> PipelineError {
    PipelineError::Config {
        origin: "configuration".into(),
        message,
    }
}

impl PipelineConfig {
    /// Parses a TOML file; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PipelineError> {
        let c: PipelineConfig = toml::from_str(text).map_err(|e| PipelineError::Config {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), PipelineError> {
        for (name, url) in [("llm_url", &self.llm_url), ("search_url", &self.search_url)] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad(format!(
                    "{name} = {url:?}: give an http:// or https:// base URL"
                )));
            }
        }
        if !(1..=10).contains(&self.top_k) {
            return Err(bad(format!(
                "top_k = {}: must be 1 to 10 (search returns at most 10)",
                self.top_k
            )));
        }
        let positive = [
            ("max_concurrent_requests", self.max_concurrent_requests),
            ("per_host_concurrency", self.per_host_concurrency),
            ("context_token_budget", self.context_token_budget),
            ("max_output_tokens", self.max_output_tokens as usize),
            ("jobs.workers", self.jobs.workers),
            ("jobs.queue_capacity", self.jobs.queue_capacity),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(bad(format!("{name} must be at least 1")));
            }
        }
        if self.cache.kind == CacheKind::Memory && self.cache.capacity == 0 {
            return Err(bad(
                "cache.capacity must be at least 1; use cache.kind = \"off\" to disable".into(),
            ));
        }
        Ok(())
    }
}

/// The worker pool's settings (`[jobs]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs generated at once.
    pub workers: usize,
    /// Jobs waiting for a worker; one more is refused with 429.
    pub queue_capacity: usize,
    /// Finished jobs kept for their result; the oldest go first.
    pub kept: usize,
    /// Seconds a refused client is told to wait (`Retry-After`).
    pub retry_after_s: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 4,
            queue_capacity: 64,
            kept: 10_000,
            retry_after_s: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_toml_overrides() {
        assert!(PipelineConfig::default().validate().is_ok());
        let c = PipelineConfig::from_toml(
            "model = \"gpt-4o\"\ntop_k = 3\n[cache]\nkind = \"off\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(
            (c.model.as_str(), c.top_k, c.cache.kind),
            ("gpt-4o", 3, CacheKind::Off)
        );
        assert_eq!(c.cache.ttl_s, 300);
    }

    #[test]
    fn cache_takes_a_word_or_a_table() {
        let kind = |t: &str| PipelineConfig::from_toml(t, "p.toml").map(|c| c.cache.kind);
        assert_eq!(kind("cache = \"off\"").unwrap(), CacheKind::Off);
        assert_eq!(kind("cache = \"on\"").unwrap(), CacheKind::Memory);
        assert_eq!(kind("cache = \"redis\"").unwrap(), CacheKind::Redis);
        assert_eq!(
            kind("cache = { kind = \"off\", ttl_s = 5 }").unwrap(),
            CacheKind::Off
        );
        let e = kind("cache = { knd = \"off\" }").unwrap_err().to_string();
        assert!(e.contains("knd"), "{e}");
        let e = kind("cache = \"sometimes\"").unwrap_err().to_string();
        assert!(e.contains("off, on (memory), redis"), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_the_fix() {
        let e = PipelineConfig::from_toml("topk = 3\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.toml") && e.contains("topk"), "{e}");
        let e = PipelineConfig::from_toml("top_k = 30\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 to 10"), "{e}");
        let e = PipelineConfig::from_toml("llm_url = \"localhost:1\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http://"), "{e}");
    }
}
