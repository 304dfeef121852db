//! What the articles cost: exact, from the mock providers' ledger (a
//! before/after difference), or estimated from the usage each response
//! reports and a price table.

use std::collections::BTreeMap;

use genbench_model::{AbandonedCost, Cost, TokenCounts};

use crate::body::Usage;

/// Calls and spend for one model.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelSpend {
    pub calls: u64,
    pub usage: Usage,
    pub usd: f64,
}

/// Everything spent over a span of time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spend {
    pub models: BTreeMap<String, ModelSpend>,
    pub search_calls: u64,
    pub search_usd: f64,
    /// Of `models`, the calls whose client went away mid-way, as billed
    /// (the mock ledger's `cancelled`).
    pub cancelled: BTreeMap<String, ModelSpend>,
}

/// `a - b` per model, a model whose calls went down (a reset ledger)
/// counting from zero; models with nothing spent between are left out.
fn models_minus(
    a: &BTreeMap<String, ModelSpend>,
    b: &BTreeMap<String, ModelSpend>,
) -> BTreeMap<String, ModelSpend> {
    a.iter()
        .map(|(name, a)| {
            let b = b.get(name).copied().unwrap_or_default();
            let b = if a.calls < b.calls {
                ModelSpend::default()
            } else {
                b
            };
            let d = ModelSpend {
                calls: a.calls - b.calls,
                usage: Usage {
                    prompt: a.usage.prompt.saturating_sub(b.usage.prompt),
                    completion: a.usage.completion.saturating_sub(b.usage.completion),
                    cached_prompt: a.usage.cached_prompt.saturating_sub(b.usage.cached_prompt),
                },
                usd: (a.usd - b.usd).max(0.0),
            };
            (name.clone(), d)
        })
        .filter(|(_, d)| d.calls > 0 || d.usd > 0.0)
        .collect()
}

fn tokens_of<'a>(models: impl Iterator<Item = &'a ModelSpend>) -> TokenCounts {
    let mut tokens = TokenCounts::default();
    for m in models {
        tokens.prompt += m.usage.prompt;
        tokens.completion += m.usage.completion;
        tokens.cached_prompt += m.usage.cached_prompt;
    }
    tokens
}

impl Spend {
    /// `self - before`: what was spent between two readings of a ledger.
    /// Counters that went down (the ledger was reset) count from zero.
    pub fn minus(&self, before: &Spend) -> Spend {
        let models = models_minus(&self.models, &before.models);
        let cancelled = models_minus(&self.cancelled, &before.cancelled);
        let reset = self.search_calls < before.search_calls;
        Spend {
            models,
            search_calls: if reset {
                self.search_calls
            } else {
                self.search_calls - before.search_calls
            },
            search_usd: if reset {
                self.search_usd
            } else {
                (self.search_usd - before.search_usd).max(0.0)
            },
            cancelled,
        }
    }

    /// The `cost` section, dividing by the `articles` served successfully.
    pub fn cost(&self, articles: u64, source: &str) -> Cost {
        let tokens = tokens_of(self.models.values());
        let total_usd = self.models.values().map(|m| m.usd).sum::<f64>() + self.search_usd;
        let per = |v: f64| (articles > 0).then(|| v / articles as f64);
        Cost {
            total_usd,
            per_article_usd: per(total_usd),
            tokens,
            by_model: self
                .models
                .iter()
                .map(|(k, m)| (k.clone(), m.usd))
                .collect(),
            search_calls: self.search_calls,
            source: source.into(),
            search_usd: self.search_usd,
            tokens_per_article: per((tokens.prompt + tokens.completion) as f64),
            articles,
            unpriced: None,
            abandoned: abandoned_cost(&self.cancelled),
        }
    }
}

/// `models`' calls as the cost of abandoned work, when there were any.
pub fn abandoned_cost(models: &BTreeMap<String, ModelSpend>) -> Option<AbandonedCost> {
    let calls = models.values().map(|m| m.calls).sum::<u64>();
    (calls > 0).then(|| AbandonedCost {
        calls,
        tokens: tokens_of(models.values()),
        usd: models.values().map(|m| m.usd).sum(),
    })
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelPrice {
    pub input: f64,
    pub cached_input: f64,
    pub output: f64,
}

impl ModelPrice {
    pub fn usd(&self, u: &Usage) -> f64 {
        let uncached = u.prompt.saturating_sub(u.cached_prompt) as f64;
        (uncached * self.input
            + u.cached_prompt as f64 * self.cached_input
            + u.completion as f64 * self.output)
            / 1e6
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    pub models: BTreeMap<String, ModelPrice>,
    pub search_usd_per_call: f64,
}

impl PriceTable {
    /// `model`'s price; a dated snapshot (`gpt-4o-mini-2024-07-18`, as
    /// providers name the model that answered) takes its family's price
    /// unless the table names the snapshot itself.
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.models.get(model).or_else(|| {
            let cut = model.len().checked_sub("-2024-07-18".len())?;
            let (family, date) = (model.get(..cut)?, model.get(cut..)?);
            let parts: Vec<&str> = date.strip_prefix('-')?.split('-').collect();
            let is_date = parts.iter().map(|p| p.len()).eq([4, 2, 2])
                && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
            is_date.then(|| self.models.get(family)).flatten()
        })
    }
}

/// Usage reported by responses, per worker: model names are looked up by a
/// short scan, and only a model never seen before allocates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageTally {
    models: Vec<(Box<str>, u64, Usage)>,
    pub search_calls: u64,
}

impl UsageTally {
    fn entry(&mut self, model: &str) -> &mut (Box<str>, u64, Usage) {
        match self.models.iter().position(|(m, ..)| &**m == model) {
            Some(i) => &mut self.models[i],
            None => {
                self.models.push((model.into(), 0, Usage::default()));
                self.models.last_mut().expect("just pushed")
            }
        }
    }

    fn add(&mut self, model: &str, calls: u64, u: &Usage) {
        let e = self.entry(model);
        e.1 += calls;
        e.2.prompt += u.prompt;
        e.2.completion += u.completion;
        e.2.cached_prompt += u.cached_prompt;
    }

    /// One response's usage.
    pub fn record(&mut self, model: &str, u: Usage) {
        self.add(model, 1, &u);
    }

    pub fn merge(&mut self, other: &UsageTally) {
        for (m, calls, u) in &other.models {
            self.add(m, *calls, u);
        }
        self.search_calls += other.search_calls;
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty() && self.search_calls == 0
    }

    /// Priced spend, and the models the table has no price for (their
    /// tokens count; their cost is 0 and the caller should say so).
    pub fn priced(&self, prices: &PriceTable) -> (Spend, Vec<String>) {
        let mut unpriced = Vec::new();
        let models = self
            .models
            .iter()
            .map(|(m, calls, u)| {
                let usd = match prices.get(m) {
                    Some(p) => p.usd(u),
                    None => {
                        unpriced.push(m.to_string());
                        0.0
                    }
                };
                let s = ModelSpend {
                    calls: *calls,
                    usage: *u,
                    usd,
                };
                (m.to_string(), s)
            })
            .collect();
        let spend = Spend {
            models,
            search_calls: self.search_calls,
            search_usd: self.search_calls as f64 * prices.search_usd_per_call,
            cancelled: BTreeMap::new(),
        };
        (spend, unpriced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(prompt: u64, completion: u64, cached_prompt: u64) -> Usage {
        Usage {
            prompt,
            completion,
            cached_prompt,
        }
    }

    #[test]
    fn ledger_differences_and_per_article_figures() {
        let mut before = Spend::default();
        before.models.insert(
            "gpt-4o-mini".into(),
            ModelSpend {
                calls: 2,
                usage: u(2000, 400, 0),
                usd: 0.01,
            },
        );
        before.search_calls = 2;
        before.search_usd = 0.01;
        let mut after = before.clone();
        after.models.insert(
            "gpt-4o-mini".into(),
            ModelSpend {
                calls: 6,
                usage: u(6000, 1400, 1000),
                usd: 0.03,
            },
        );
        after.search_calls = 6;
        after.search_usd = 0.03;
        let d = after.minus(&before);
        let c = d.cost(10, "mock_ledger");
        assert_eq!(c.tokens.prompt, 4000);
        assert_eq!(c.tokens.cached_prompt, 1000);
        assert_eq!(c.search_calls, 4);
        assert!((c.total_usd - 0.04).abs() < 1e-12);
        assert!((c.per_article_usd.unwrap() - 0.004).abs() < 1e-12);
        assert!((c.search_usd - 0.02).abs() < 1e-12);
        assert_eq!(c.tokens_per_article, Some(500.0));
        assert_eq!(Spend::default().cost(0, "x").per_article_usd, None);
    }

    #[test]
    fn a_reset_ledger_counts_from_zero() {
        let before = Spend {
            search_calls: 50,
            search_usd: 0.25,
            ..Default::default()
        };
        let after = Spend {
            search_calls: 3,
            search_usd: 0.015,
            ..Default::default()
        };
        assert_eq!(after.minus(&before).search_calls, 3);
    }

    #[test]
    fn responses_are_priced_per_model_with_cached_tokens_cheaper() {
        let mut a = UsageTally::default();
        a.record("gpt-4o", u(1_000_000, 0, 500_000));
        let mut b = UsageTally::default();
        b.record("gpt-4o", u(0, 1_000_000, 0));
        b.record("local-llama", u(10, 10, 0));
        b.search_calls = 2;
        a.merge(&b);
        let prices = PriceTable {
            models: BTreeMap::from([(
                "gpt-4o".into(),
                ModelPrice {
                    input: 2.5,
                    cached_input: 1.25,
                    output: 10.0,
                },
            )]),
            search_usd_per_call: 0.005,
        };
        let (spend, unpriced) = a.priced(&prices);
        assert_eq!(unpriced, ["local-llama"]);
        let m = spend.models["gpt-4o"];
        assert_eq!(m.calls, 2);
        // 0.5M uncached at 2.5 + 0.5M cached at 1.25 + 1M out at 10.
        assert!((m.usd - (1.25 + 0.625 + 10.0)).abs() < 1e-9);
        assert!((spend.search_usd - 0.01).abs() < 1e-12);
        assert_eq!(spend.models["local-llama"].usage.prompt, 10);
    }
}
