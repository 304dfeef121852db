//! Provider presets: latency, speed and price per model, search and web
//! provider. The shipped set is `presets.toml`; a user file of the same shape
//! replaces or adds entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rng::LogNormal;

const BUILTIN: &str = include_str!("../presets.toml");

/// A presets file that does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct PresetsError {
    pub origin: String,
    pub message: String,
}

/// A latency or length distribution as published: median and p95.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MedianP95 {
    pub median: f64,
    pub p95: f64,
}

impl MedianP95 {
    pub fn dist(&self) -> LogNormal {
        LogNormal::from_median_p95(self.median, self.p95)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    Cl100kBase,
    O200kBase,
}

/// Prices in US dollars per million tokens. No `cached_input` price means the
/// provider has no prompt caching, so no prompt token is ever reported cached.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TokenPrices {
    pub input: f64,
    #[serde(default)]
    pub cached_input: Option<f64>,
    pub output: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmPreset {
    pub tokenizer: TokenizerKind,
    pub ttft_ms: MedianP95,
    /// Extra fixed delay before the first token ("thinking").
    #[serde(default)]
    pub thinking_ms: f64,
    /// Mean output speed; 0 means unlimited.
    pub tokens_per_s: f64,
    /// Each request's speed is drawn uniformly within ±this fraction.
    #[serde(default)]
    pub tokens_per_s_jitter: f64,
    /// Length of an answer when the request sets no `max_tokens`.
    pub output_tokens: MedianP95,
    pub usd_per_1m: TokenPrices,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingPreset {
    pub tokenizer: TokenizerKind,
    pub dimensions: usize,
    pub latency_ms: MedianP95,
    pub usd_per_1m_input: f64,
}

/// A rare, much slower band of calls on top of the log-normal body.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tail {
    pub rate: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SearchPreset {
    pub latency_ms: MedianP95,
    #[serde(default)]
    pub tail: Option<Tail>,
    pub max_results: u32,
    /// Requests per second above which the provider answers 429.
    #[serde(default)]
    pub rps_limit: Option<f64>,
    pub usd_per_call: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebPreset {
    pub latency_ms: MedianP95,
    /// Words of main text per synthetic article page.
    pub page_words: usize,
}

/// Every preset the mock knows, by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Presets {
    /// When the figures were gathered.
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub llm: BTreeMap<String, LlmPreset>,
    #[serde(default)]
    pub embedding: BTreeMap<String, EmbeddingPreset>,
    #[serde(default)]
    pub search: BTreeMap<String, SearchPreset>,
    #[serde(default)]
    pub web: BTreeMap<String, WebPreset>,
}

impl Presets {
    /// The presets shipped in `presets.toml`.
    pub fn builtin() -> Self {
        // The file is part of the source tree and covered by a test, so a
        // parse failure here is a build defect, not user input.
        toml::from_str(BUILTIN).expect("built-in presets.toml parses")
    }

    /// Parses a user presets file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, PresetsError> {
        toml::from_str(text).map_err(|e| PresetsError {
            origin: origin.to_string(),
            message: e.to_string(),
        })
    }

    /// Entries of `other` replace or add to ours.
    pub fn merge(&mut self, other: Presets) {
        if !other.as_of.is_empty() {
            self.as_of = other.as_of;
        }
        self.llm.extend(other.llm);
        self.embedding.extend(other.embedding);
        self.search.extend(other.search);
        self.web.extend(other.web);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_with_the_documented_models() {
        let p = Presets::builtin();
        assert_eq!(p.as_of, "2026-11");
        for m in [
            "gpt-4o-mini",
            "gpt-4o",
            "llama-3.3-70b-versatile",
            "llama-3.1-8b-instant",
            "gemini-2.5-flash",
            "instant",
        ] {
            assert!(p.llm.contains_key(m), "missing {m}");
        }
        let mini = &p.llm["gpt-4o-mini"];
        assert_eq!(mini.usd_per_1m.input, 0.15);
        assert_eq!(mini.usd_per_1m.cached_input, Some(0.075));
        assert_eq!(mini.usd_per_1m.output, 0.60);
        assert_eq!(mini.ttft_ms.median, 450.0);
        assert!(p.search.contains_key("google-cse"));
        assert!(p.web.contains_key("typical"));
    }

    #[test]
    fn user_file_overrides_and_adds() {
        let mut p = Presets::builtin();
        let user = Presets::parse(
            r#"
            [llm.gpt-4o-mini]
            tokenizer = "o200k_base"
            ttft_ms = { median = 1.0, p95 = 2.0 }
            tokens_per_s = 10.0
            output_tokens = { median = 5.0, p95 = 6.0 }
            usd_per_1m = { input = 1.0, output = 2.0 }
            [search.my-search]
            latency_ms = { median = 1.0, p95 = 1.0 }
            max_results = 3
            usd_per_call = 0.1
            "#,
            "user.toml",
        )
        .unwrap();
        p.merge(user);
        assert_eq!(p.llm["gpt-4o-mini"].tokens_per_s, 10.0);
        assert!(p.llm.contains_key("gpt-4o"));
        assert_eq!(p.search["my-search"].max_results, 3);
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_file() {
        let err = Presets::parse("[llm.x]\nspeed = 3\n", "mine.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("mine.toml"), "{msg}");
        assert!(msg.contains("speed"), "{msg}");
    }
}
