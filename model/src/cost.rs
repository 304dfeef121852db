//! What a run's articles cost: the `cost` section, and the share of it
//! spent on work nobody received.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub prompt: u64,
    pub completion: u64,
    pub cached_prompt: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub total_usd: f64,
    pub per_article_usd: Option<f64>,
    pub tokens: TokenCounts,
    pub by_model: BTreeMap<String, f64>,
    pub search_calls: u64,
    /// "mock_ledger" (exact) or "responses" (from usage fields and a price table).
    pub source: String,
    /// The search API's share of `total_usd`.
    #[serde(default)]
    pub search_usd: f64,
    /// Prompt plus completion tokens per successful article.
    #[serde(default)]
    pub tokens_per_article: Option<f64>,
    /// Successful articles the per-article figures divide by.
    #[serde(default)]
    pub articles: u64,
    /// Tokens that no price covered: the cost above leaves them out, so it
    /// is a lower bound, never a "$0.00" that looks measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpriced: Option<Unpriced>,
    /// What was spent on calls the client abandoned mid-way: tokens
    /// generated for articles nobody received. Known from the mock
    /// ledger's cancelled calls; `None` where the source cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned: Option<AbandonedCost>,
}

/// Provider calls whose client went away before the answer was complete,
/// as the provider billed them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AbandonedCost {
    /// Calls cancelled mid-way.
    pub calls: u64,
    /// The tokens billed for them: the prompt, and what was generated up
    /// to the cancel.
    pub tokens: TokenCounts,
    pub usd: f64,
}

/// Tokens the cost could not price, and how to price them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unpriced {
    /// Prompt plus completion tokens left out of the cost.
    pub tokens: u64,
    /// The models with no price ("unknown" where no model was named).
    pub models: Vec<String>,
    /// The scenario key that prices them.
    pub key: String,
}

impl Cost {
    /// Whether the cost is known: some tokens went unpriced.
    pub fn is_unknown(&self) -> bool {
        self.unpriced.as_ref().is_some_and(|u| u.tokens > 0)
    }
}
