//! Configuration and the state shared by all three mock servers.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::MockError;
use crate::faults::{FaultState, Faults};
use crate::ledger::Ledger;
use crate::presets::{LlmPreset, Presets, SearchPreset, WebPreset};

/// Everything `genbench mock` can be told; validated by [`MockConfig::validate`].
#[derive(Debug, Clone, Serialize)]
pub struct MockConfig {
    /// Seeds output text, latency draws and faults.
    pub seed: u64,
    pub presets: Presets,
    /// Preset for models that have none; `None` answers them 404.
    pub default_llm_preset: Option<String>,
    pub search_preset: String,
    pub web_preset: String,
    pub faults: Faults,
    pub max_body_bytes: usize,
    /// Multiplies every preset latency and token gap: 0 makes the mock
    /// instant while keeping prices and token counts, 0.1 runs ten times fast.
    /// Injected faults' delays are not scaled.
    pub time_scale: f64,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            seed: 0,
            presets: Presets::builtin(),
            default_llm_preset: None,
            search_preset: "google-cse".into(),
            web_preset: "typical".into(),
            faults: Faults::default(),
            max_body_bytes: 8 * 1024 * 1024,
            time_scale: 1.0,
        }
    }
}

fn known<V>(m: &std::collections::BTreeMap<String, V>) -> String {
    m.keys().cloned().collect::<Vec<_>>().join(", ")
}

impl MockConfig {
    /// No latency anywhere, real token counts and prices: for tests and for
    /// measuring a pipeline's own overhead.
    pub fn instant() -> Self {
        MockConfig {
            time_scale: 0.0,
            default_llm_preset: Some("instant".into()),
            search_preset: "instant".into(),
            web_preset: "instant".into(),
            ..Self::default()
        }
    }

    pub fn validate(&self) -> Result<(), MockError> {
        if !(self.time_scale >= 0.0 && self.time_scale.is_finite()) {
            return Err(MockError::Config {
                origin: "time_scale".into(),
                message: format!(
                    "{} is not a factor >= 0 (1 = preset speed, 0 = instant)",
                    self.time_scale
                ),
            });
        }
        let p = &self.presets;
        if let Some(d) = &self.default_llm_preset
            && !p.llm.contains_key(d)
        {
            return Err(MockError::UnknownPreset {
                kind: "llm",
                name: d.clone(),
                known: known(&p.llm),
            });
        }
        if !p.search.contains_key(&self.search_preset) {
            return Err(MockError::UnknownPreset {
                kind: "search",
                name: self.search_preset.clone(),
                known: known(&p.search),
            });
        }
        if !p.web.contains_key(&self.web_preset) {
            return Err(MockError::UnknownPreset {
                kind: "web",
                name: self.web_preset.clone(),
                known: known(&p.web),
            });
        }
        Ok(())
    }
}

/// Remembers prompt prefixes to report `cached_tokens` as OpenAI does: for
/// prompts of 1,024 tokens or more, in 128-token steps of a prefix seen before.
#[derive(Debug, Default)]
pub struct PrefixCache {
    seen: Mutex<HashSet<u64>>,
}

const CACHE_MIN_TOKENS: usize = 1024;
const CACHE_STEP_TOKENS: usize = 128;
/// Bounds memory in long runs; forgetting everything at once mimics eviction.
const CACHE_MAX_ENTRIES: usize = 1 << 20;

impl PrefixCache {
    /// Returns how many leading tokens were cached, and remembers this prompt.
    pub fn lookup_and_insert(&self, model_key: u64, ids: &[u32]) -> usize {
        if ids.len() < CACHE_MIN_TOKENS {
            return 0;
        }
        let mut h = model_key;
        let mut checkpoints = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            h = crate::rng::hash_bytes(h, &id.to_le_bytes());
            let len = i + 1;
            if len >= CACHE_MIN_TOKENS && (len - CACHE_MIN_TOKENS).is_multiple_of(CACHE_STEP_TOKENS)
            {
                checkpoints.push((len, h));
            }
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let cached = checkpoints
            .iter()
            .rev()
            .find(|(_, h)| seen.contains(h))
            .map_or(0, |(len, _)| *len);
        if seen.len() + checkpoints.len() > CACHE_MAX_ENTRIES {
            seen.clear();
        }
        seen.extend(checkpoints.iter().map(|(_, h)| *h));
        cached
    }
}

/// Shared by the handlers of all three servers.
#[derive(Debug)]
pub struct AppState {
    pub config: MockConfig,
    pub ledger: Ledger,
    pub faults: FaultState,
    pub prompt_cache: PrefixCache,
    /// Base URL of the web mock, for the links search results return.
    pub web_base: String,
}

pub type Shared = Arc<AppState>;

impl AppState {
    pub fn llm_preset(&self, model: &str) -> Option<&LlmPreset> {
        let p = &self.config.presets.llm;
        p.get(model).or_else(|| {
            self.config
                .default_llm_preset
                .as_ref()
                .and_then(|d| p.get(d))
        })
    }

    /// A preset latency in ms, scaled by `time_scale`.
    pub fn scaled_ms(&self, ms: f64) -> f64 {
        (ms * self.config.time_scale).max(0.0)
    }

    /// A preset speed scaled by `time_scale`; 0 means unlimited.
    pub fn scaled_speed(&self, tokens_per_s: f64) -> f64 {
        if self.config.time_scale == 0.0 || tokens_per_s <= 0.0 {
            0.0
        } else {
            tokens_per_s / self.config.time_scale
        }
    }

    pub fn search_preset(&self) -> &SearchPreset {
        &self.config.presets.search[&self.config.search_preset]
    }

    pub fn web_preset(&self) -> &WebPreset {
        &self.config.presets.web[&self.config.web_preset]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_cache_reports_longest_seen_prefix_in_steps() {
        let c = PrefixCache::default();
        let a: Vec<u32> = (0..1500).collect();
        assert_eq!(c.lookup_and_insert(1, &a), 0);
        assert_eq!(c.lookup_and_insert(1, &a), 1408); // 1024 + 3 * 128
        let mut b = a.clone();
        b[1100] = 9; // diverges after 1,100 tokens
        assert_eq!(c.lookup_and_insert(1, &b), 1024);
        assert_eq!(c.lookup_and_insert(2, &a), 0, "other model, other cache");
        assert_eq!(
            c.lookup_and_insert(1, &a[..1000]),
            0,
            "short prompts never cache"
        );
    }

    #[test]
    fn unknown_presets_are_rejected_with_the_known_list() {
        let cfg = MockConfig {
            search_preset: "nope".into(),
            ..MockConfig::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("google-cse"), "{e}");
        assert!(MockConfig::default().validate().is_ok());
        assert!(MockConfig::instant().validate().is_ok());
    }
}
