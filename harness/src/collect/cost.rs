//! Cost sources: the `genbench mock` ledger (exact; read before and after
//! the run) and the price table for usage reported by responses (the mock's
//! presets, with the scenario's `[collect.cost.prices]` on top).

use std::time::Duration;

use anyhow::Context as _;
use genbench_collectors::body::Usage;
use genbench_collectors::cost::{ModelPrice, ModelSpend, PriceTable, Spend, UsageTally};
use genbench_model::{Cost, Unpriced};
use genbench_presets::Presets;
use genbench_scenarios::CostConfig;

use super::http;

/// A ledger snapshot as a `Spend`.
pub async fn read_ledger(llm_url: &str) -> anyhow::Result<Spend> {
    let url = format!("{}/mock/ledger", llm_url.trim_end_matches('/'));
    let body = http::get(&url, Duration::from_secs(5)).await?;
    let text = String::from_utf8_lossy(&body);
    let l = genbench_mock::parse_ledger(&text)
        .with_context(|| format!("{url} is not a genbench mock ledger"))?;
    let spend = |m: &genbench_mock::ModelLedger| ModelSpend {
        calls: m.requests,
        usage: Usage {
            prompt: m.prompt_tokens,
            completion: m.completion_tokens,
            cached_prompt: m.cached_prompt_tokens,
        },
        usd: m.cost_usd,
    };
    let cancelled = |m: &genbench_mock::ModelLedger| ModelSpend {
        calls: m.cancelled_requests,
        usage: Usage {
            prompt: m.cancelled_prompt_tokens,
            completion: m.cancelled_completion_tokens,
            cached_prompt: m.cancelled_cached_prompt_tokens,
        },
        usd: m.cancelled_cost_usd,
    };
    Ok(Spend {
        models: l
            .models
            .iter()
            .map(|(n, m)| (n.clone(), spend(m)))
            .collect(),
        cancelled: l
            .models
            .iter()
            .map(|(n, m)| (n.clone(), cancelled(m)))
            .collect(),
        search_calls: l.search.calls,
        search_usd: l.search.cost_usd,
    })
}

/// Where a stretch of the run (a search's probe) finds its own cost: the
/// mock ledger read at its start and end, or the usage its responses
/// reported, priced.
#[derive(Debug, Clone)]
pub enum StretchCost {
    None,
    Ledger(String),
    Usage(PriceTable),
}

impl StretchCost {
    /// The ledger as it stands, when the cost comes from one (a failed
    /// read leaves the stretch without a cost; the run's end reports it).
    pub async fn reading(&self) -> Option<Spend> {
        match self {
            StretchCost::Ledger(url) => read_ledger(url).await.ok(),
            _ => None,
        }
    }

    /// The stretch's cost: the ledger's difference over it, or its
    /// responses' `usage` priced; per article over its `articles`.
    pub fn cost(
        &self,
        before: Option<Spend>,
        after: Option<Spend>,
        usage: &UsageTally,
        articles: u64,
    ) -> Option<Cost> {
        match self {
            StretchCost::None => None,
            StretchCost::Ledger(_) => Some(after?.minus(&before?).cost(articles, "mock_ledger")),
            StretchCost::Usage(prices) if !usage.is_empty() => {
                let (spend, unpriced) = usage.priced(prices);
                unpriced
                    .is_empty()
                    .then(|| spend.cost(articles, "responses"))
            }
            StretchCost::Usage(_) => None,
        }
    }
}

/// The mock presets' prices, then the scenario's.
pub fn price_table(cfg: &CostConfig) -> PriceTable {
    let presets = Presets::builtin();
    let mut models: std::collections::BTreeMap<String, ModelPrice> = presets
        .llm
        .iter()
        .map(|(name, p)| {
            let t = p.usd_per_1m;
            let price = ModelPrice {
                input: t.input,
                cached_input: t.cached_input.unwrap_or(t.input),
                output: t.output,
            };
            (name.clone(), price)
        })
        .collect();
    for (name, p) in &cfg.prices {
        models.insert(
            name.clone(),
            ModelPrice {
                input: p.input_usd_per_1m,
                cached_input: p.cached_input_usd_per_1m.unwrap_or(p.input_usd_per_1m),
                output: p.output_usd_per_1m,
            },
        );
    }
    // The mock's default search provider.
    let default_search = presets
        .search
        .get("google-cse")
        .map_or(0.0, |s| s.usd_per_call);
    PriceTable {
        models,
        search_usd_per_call: cfg.search_usd_per_call.unwrap_or(default_search),
    }
}

/// `usage` priced as the `cost` section. Tokens of a model with no price
/// leave the cost unknown (`unpriced`, with the key that prices them),
/// never a "$0.00" that reads as measured.
pub fn priced(usage: &UsageTally, prices: &PriceTable, articles: u64, source: &str) -> Cost {
    let (spend, unpriced) = usage.priced(prices);
    let mut cost = spend.cost(articles, source);
    if unpriced.is_empty() {
        return cost;
    }
    let tokens = unpriced
        .iter()
        .filter_map(|m| spend.models.get(m))
        .map(|m| m.usage.prompt + m.usage.completion)
        .sum();
    let key = price_key(&unpriced[0]);
    eprintln!(
        "warning: cost unknown: {tokens} tokens of {} have no price; add [{key}] with input_usd_per_1m and output_usd_per_1m",
        unpriced.join(", ")
    );
    cost.unpriced = Some(Unpriced {
        tokens,
        models: unpriced,
        key,
    });
    cost
}

/// What the GenAI calls of abandoned requests cost (`usage`, from their
/// spans), when there were any.
pub fn abandoned(usage: &UsageTally, prices: &PriceTable) -> Option<genbench_model::AbandonedCost> {
    genbench_collectors::cost::abandoned_cost(&usage.priced(prices).0.models)
}

/// The scenario key that prices `model` (a response that names no model
/// is priced as the model `collect.cost.model` names).
pub fn price_key(model: &str) -> String {
    match model {
        "unknown" | "" => "collect.cost.model = \"NAME\" and collect.cost.prices.\"NAME\"".into(),
        m => format!("collect.cost.prices.\"{m}\""),
    }
}

/// The mock ledger's spend since the run began, read every few seconds for
/// the live outputs (a ledger is otherwise read only before and after).
pub struct LiveLedger {
    spent: std::sync::Arc<std::sync::Mutex<Option<Spend>>>,
    _task: super::AbortOnDrop<()>,
}

/// How often the live ledger is read.
const LIVE_LEDGER_EVERY: Duration = Duration::from_secs(5);

impl LiveLedger {
    pub fn start(url: String, before: Spend) -> Self {
        let spent = std::sync::Arc::new(std::sync::Mutex::new(None));
        let into = spent.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(LIVE_LEDGER_EVERY);
            loop {
                tick.tick().await;
                // A failed read leaves the last one: the end's read says
                // what went wrong, once.
                if let Ok(now) = read_ledger(&url).await {
                    *into.lock().unwrap_or_else(|p| p.into_inner()) = Some(now.minus(&before));
                }
            }
        });
        LiveLedger {
            spent,
            _task: super::AbortOnDrop(task),
        }
    }

    /// Spent since the run began, as of the last read.
    pub fn spent(&self) -> Option<Spend> {
        self.spent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(search_usd_per_call: Option<f64>) -> CostConfig {
        CostConfig {
            ledger: None,
            usage_pointer: "/usage".into(),
            model_pointer: "/model".into(),
            model: None,
            search_calls_pointer: None,
            prices: Default::default(),
            search_usd_per_call,
        }
    }

    #[test]
    fn tokens_without_a_price_make_the_cost_unknown() {
        let mut u = UsageTally::default();
        let usage = |p, c| Usage {
            prompt: p,
            completion: c,
            cached_prompt: 0,
        };
        u.record("gpt-4o-mini", usage(100, 20));
        u.record("local-llama", usage(70, 30));
        let cfg = config(None);
        let c = priced(&u, &price_table(&cfg), 2, "traces");
        assert!(c.is_unknown());
        let un = c.unpriced.as_ref().unwrap();
        assert_eq!(
            (un.tokens, un.models.clone()),
            (100, vec!["local-llama".to_string()])
        );
        assert_eq!(un.key, "collect.cost.prices.\"local-llama\"");
        assert!(c.total_usd > 0.0, "the priced model still counts");
        u = UsageTally::default();
        u.record("gpt-4o-mini", usage(100, 20));
        assert!(!priced(&u, &price_table(&cfg), 1, "traces").is_unknown());
    }

    #[test]
    fn scenario_prices_override_the_presets() {
        let mut cfg = config(Some(0.01));
        let base = price_table(&cfg);
        assert!(
            base.models.contains_key("gpt-4o-mini"),
            "{:?}",
            base.models.keys()
        );
        cfg.prices.insert(
            "gpt-4o-mini".into(),
            genbench_scenarios::Price {
                input_usd_per_1m: 1.0,
                cached_input_usd_per_1m: None,
                output_usd_per_1m: 2.0,
            },
        );
        let t = price_table(&cfg);
        let p = t.models["gpt-4o-mini"];
        assert_eq!((p.input, p.cached_input, p.output), (1.0, 1.0, 2.0));
        assert_eq!(t.search_usd_per_call, 0.01);
    }
}
