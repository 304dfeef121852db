//! What passes between the stages: the validated request, search hits,
//! the LLM's token usage and the article as the cache keeps it. Plain
//! data; it knows the configuration and nothing else of the pipeline.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::PipelineConfig;

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub title: String,
    pub url: String,
}

/// Token usage reported by the LLM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_prompt_tokens: u64,
}

impl Usage {
    pub fn from_json(u: &Value) -> Self {
        Usage {
            prompt_tokens: u["prompt_tokens"].as_u64().unwrap_or(0),
            completion_tokens: u["completion_tokens"].as_u64().unwrap_or(0),
            cached_prompt_tokens: u["prompt_tokens_details"]["cached_tokens"]
                .as_u64()
                .unwrap_or(0),
        }
    }
}

/// A validated request.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRequest {
    pub topic: String,
    pub industry: Option<String>,
    /// Words wanted.
    pub target_length: Option<u32>,
}

impl ArticleRequest {
    pub fn cache_key(&self, c: &PipelineConfig) -> String {
        format!(
            "genbench:article:v1:{}:{}:{}:{}|{}|{}",
            c.model,
            c.top_k,
            c.context_token_budget,
            self.topic.to_lowercase(),
            self.industry.as_deref().unwrap_or("").to_lowercase(),
            self.target_length.unwrap_or(0)
        )
    }

    /// Output tokens to ask for: about 4 tokens per 3 English words.
    pub fn max_tokens(&self, c: &PipelineConfig) -> u32 {
        self.target_length
            .map_or(c.max_output_tokens, |w| w.saturating_mul(4).div_ceil(3))
    }

    pub fn search_query(&self) -> String {
        match &self.industry {
            Some(i) => format!("{} {i}", self.topic),
            None => self.topic.clone(),
        }
    }
}

/// What the cache stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedArticle {
    pub article: String,
    pub sources: Vec<SearchHit>,
}
