//! The ledger: every call the mock served, with tokens and cost, so a pipeline
//! pointed at the mock gets exact cost per article without instrumenting it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Prices per million tokens captured when a model is first counted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    pub input: f64,
    pub cached_input: f64,
    pub output: f64,
}

/// Token usage of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt: u64,
    pub cached_prompt: u64,
    pub completion: u64,
}

impl Usage {
    fn add(&mut self, u: Usage) {
        self.prompt += u.prompt;
        self.cached_prompt += u.cached_prompt;
        self.completion += u.completion;
    }
}

#[derive(Debug, Default)]
struct ModelEntry {
    prices: Prices,
    requests: u64,
    failed: u64,
    usage: Usage,
    /// Of the above, calls whose client went away before the answer was
    /// complete, and what they were billed.
    cancelled: u64,
    cancelled_usage: Usage,
}

#[derive(Debug, Default)]
struct Inner {
    models: BTreeMap<String, ModelEntry>,
    search_calls: u64,
    search_failed: u64,
    search_usd: f64,
    web_pages: u64,
}

/// Shared, thread-safe ledger. One short lock per call; the mock is not the
/// system under test, so this is not on anyone's hot path.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<Inner>,
    in_flight: Arc<AtomicI64>,
}

/// Counts for one model in a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelLedger {
    pub requests: u64,
    pub failed_requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_prompt_tokens: u64,
    pub cost_usd: f64,
    /// Of `requests`, those whose client went away before the answer was
    /// complete: a stream billed up to the cancel, a non-streamed call in
    /// full (its generation runs to the end regardless).
    #[serde(default)]
    pub cancelled_requests: u64,
    /// Of the tokens above, those billed for cancelled calls.
    #[serde(default)]
    pub cancelled_prompt_tokens: u64,
    #[serde(default)]
    pub cancelled_completion_tokens: u64,
    #[serde(default)]
    pub cancelled_cached_prompt_tokens: u64,
    /// Of `cost_usd`, the cancelled calls' share.
    #[serde(default)]
    pub cancelled_cost_usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchLedger {
    pub calls: u64,
    pub failed_calls: u64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WebLedger {
    pub pages: u64,
}

/// What `GET /mock/ledger` returns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerSnapshot {
    pub models: BTreeMap<String, ModelLedger>,
    pub search: SearchLedger,
    pub web: WebLedger,
    pub total_cost_usd: f64,
    pub in_flight: i64,
}

fn cost(p: &Prices, u: &Usage) -> f64 {
    let uncached = u.prompt.saturating_sub(u.cached_prompt) as f64;
    (uncached * p.input + u.cached_prompt as f64 * p.cached_input + u.completion as f64 * p.output)
        / 1e6
}

/// Decrements the in-flight gauge when the request (or its stream) ends.
#[derive(Debug)]
pub struct InFlight(Arc<AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave counts half-written in
        // a way that matters more than losing the ledger, so recover it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn enter(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(&self.in_flight))
    }

    /// Counts a call to `model`; tokens are added with [`Ledger::add_usage`]
    /// once known, so a stream cut mid-way bills what it sent.
    pub fn model_call(&self, model: &str, prices: Prices, failed: bool) {
        let mut g = self.lock();
        let e = g.models.entry(model.to_string()).or_default();
        e.prices = prices;
        e.requests += 1;
        e.failed += u64::from(failed);
    }

    pub fn add_usage(&self, model: &str, usage: Usage) {
        let mut g = self.lock();
        if let Some(e) = g.models.get_mut(model) {
            e.usage.add(usage);
        }
    }

    /// Bills a call whose client went away before its answer was complete:
    /// `usage` is what it generated up to then (counted in the totals as
    /// well as apart).
    pub fn add_cancelled(&self, model: &str, usage: Usage) {
        let mut g = self.lock();
        if let Some(e) = g.models.get_mut(model) {
            e.usage.add(usage);
            e.cancelled += 1;
            e.cancelled_usage.add(usage);
        }
    }

    pub fn search_call(&self, usd: f64, failed: bool) {
        let mut g = self.lock();
        g.search_calls += 1;
        if failed {
            g.search_failed += 1;
        } else {
            g.search_usd += usd;
        }
    }

    pub fn web_page(&self) {
        self.lock().web_pages += 1;
    }

    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }

    pub fn snapshot(&self) -> LedgerSnapshot {
        let g = self.lock();
        let models: BTreeMap<String, ModelLedger> = g
            .models
            .iter()
            .map(|(name, e)| {
                let m = ModelLedger {
                    requests: e.requests,
                    failed_requests: e.failed,
                    prompt_tokens: e.usage.prompt,
                    completion_tokens: e.usage.completion,
                    cached_prompt_tokens: e.usage.cached_prompt,
                    cost_usd: cost(&e.prices, &e.usage),
                    cancelled_requests: e.cancelled,
                    cancelled_prompt_tokens: e.cancelled_usage.prompt,
                    cancelled_completion_tokens: e.cancelled_usage.completion,
                    cancelled_cached_prompt_tokens: e.cancelled_usage.cached_prompt,
                    cancelled_cost_usd: cost(&e.prices, &e.cancelled_usage),
                };
                (name.clone(), m)
            })
            .collect();
        let total = models.values().map(|m| m.cost_usd).sum::<f64>() + g.search_usd;
        LedgerSnapshot {
            models,
            search: SearchLedger {
                calls: g.search_calls,
                failed_calls: g.search_failed,
                cost_usd: g.search_usd,
            },
            web: WebLedger { pages: g.web_pages },
            total_cost_usd: total,
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

type NoLabels = prometheus_client::encoding::NoLabelSet;

impl LedgerSnapshot {
    /// Prometheus text exposition format 0.0.4, by the `prometheus-client`
    /// crate's encoder (which escapes model names in labels).
    pub fn to_prometheus(&self) -> String {
        let mut registry = prometheus_client::registry::Registry::with_prefix("genbench_mock");
        registry.register_collector(Box::new(self.clone()));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

impl prometheus_client::collector::Collector for LedgerSnapshot {
    fn encode(
        &self,
        mut enc: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::metrics::MetricType::{Counter, Gauge};
        type Field = fn(&ModelLedger) -> u64;
        let per_model: [(&str, &str, Field); 7] = [
            ("requests", "LLM and embedding calls", |m| m.requests),
            (
                "failed_requests",
                "calls answered with an error or cut",
                |m| m.failed_requests,
            ),
            ("prompt_tokens", "prompt tokens billed", |m| m.prompt_tokens),
            (
                "cached_prompt_tokens",
                "prompt tokens served from the prompt cache",
                |m| m.cached_prompt_tokens,
            ),
            ("completion_tokens", "completion tokens billed", |m| {
                m.completion_tokens
            }),
            (
                "cancelled_requests",
                "calls whose client went away before the answer was complete",
                |m| m.cancelled_requests,
            ),
            (
                "cancelled_completion_tokens",
                "completion tokens billed for cancelled calls",
                |m| m.cancelled_completion_tokens,
            ),
        ];
        for (name, help, f) in per_model {
            let mut m = enc.encode_descriptor(name, help, None, Counter)?;
            for (model, l) in &self.models {
                m.encode_family(&[("model", model.as_str())])?
                    .encode_counter::<NoLabels, _, u64>(&f(l), None)?;
            }
        }
        let help = "cost in US dollars at preset prices";
        let mut m = enc.encode_descriptor("cost_usd", help, None, Counter)?;
        for (model, l) in &self.models {
            m.encode_family(&[("model", model.as_str())])?
                .encode_counter::<NoLabels, _, u64>(&l.cost_usd, None)?;
        }
        let search = &self.search;
        let counters = [
            ("search_calls", "search API calls", search.calls),
            (
                "search_failed_calls",
                "search calls answered with an error",
                search.failed_calls,
            ),
            ("web_pages", "web pages served", self.web.pages),
        ];
        for (name, help, v) in counters {
            enc.encode_descriptor(name, help, None, Counter)?
                .encode_counter::<NoLabels, _, u64>(&v, None)?;
        }
        enc.encode_descriptor(
            "search_cost_usd",
            "search cost in US dollars",
            None,
            Counter,
        )?
        .encode_counter::<NoLabels, _, u64>(&search.cost_usd, None)?;
        enc.encode_descriptor(
            "in_flight",
            "requests being served, streams included",
            None,
            Gauge,
        )?
        .encode_gauge(&self.in_flight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: Prices = Prices {
        input: 0.15,
        cached_input: 0.075,
        output: 0.60,
    };

    #[test]
    fn cost_follows_the_worked_example() {
        // 8k input + 1.5k output on gpt-4o-mini = $0.0021.
        let l = Ledger::default();
        l.model_call("gpt-4o-mini", MINI, false);
        l.add_usage(
            "gpt-4o-mini",
            Usage {
                prompt: 8000,
                cached_prompt: 0,
                completion: 1500,
            },
        );
        let s = l.snapshot();
        assert!((s.models["gpt-4o-mini"].cost_usd - 0.0021).abs() < 1e-12);
        l.search_call(0.015, false);
        l.search_call(0.015, false);
        l.search_call(0.015, false);
        let s = l.snapshot();
        assert!((s.total_cost_usd - (0.0021 + 0.045)).abs() < 1e-12);
    }

    #[test]
    fn cached_tokens_bill_at_the_cached_price() {
        let l = Ledger::default();
        l.model_call("m", MINI, false);
        l.add_usage(
            "m",
            Usage {
                prompt: 2000,
                cached_prompt: 1000,
                completion: 0,
            },
        );
        let want = (1000.0 * 0.15 + 1000.0 * 0.075) / 1e6;
        assert!((l.snapshot().models["m"].cost_usd - want).abs() < 1e-15);
    }

    #[test]
    fn reset_clears_and_prometheus_escapes_labels() {
        let l = Ledger::default();
        l.model_call("we\"ird", MINI, true);
        let text = l.snapshot().to_prometheus();
        assert!(
            text.contains("genbench_mock_failed_requests_total{model=\"we\\\"ird\"} 1"),
            "{text}"
        );
        l.reset();
        assert!(l.snapshot().models.is_empty());
    }

    #[test]
    fn cancelled_calls_count_in_the_totals_and_apart() {
        let l = Ledger::default();
        l.model_call("m", MINI, false);
        l.model_call("m", MINI, false);
        let u = |prompt, completion| Usage {
            prompt,
            cached_prompt: 0,
            completion,
        };
        l.add_usage("m", u(1000, 500));
        l.add_cancelled("m", u(1000, 120));
        let m = &l.snapshot().models["m"];
        assert_eq!((m.requests, m.cancelled_requests), (2, 1));
        assert_eq!(
            (m.completion_tokens, m.cancelled_completion_tokens),
            (620, 120)
        );
        let want = (1000.0 * 0.15 + 120.0 * 0.60) / 1e6;
        assert!((m.cancelled_cost_usd - want).abs() < 1e-15);
        let text = l.snapshot().to_prometheus();
        assert!(
            text.contains("genbench_mock_cancelled_completion_tokens_total{model=\"m\"} 120"),
            "{text}"
        );
    }

    #[test]
    fn in_flight_follows_guards() {
        let l = Ledger::default();
        let a = l.enter();
        let b = l.enter();
        assert_eq!(l.snapshot().in_flight, 2);
        drop(a);
        drop(b);
        assert_eq!(l.snapshot().in_flight, 0);
    }
}
