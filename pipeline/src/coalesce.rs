//! Single flight for concurrent misses of one article (`cache.coalesce`):
//! the first request for a key makes the article, the others that arrive
//! while it is being made wait for it instead of running the whole pipeline
//! again. Without it, two simultaneous requests for one topic both pay for
//! search, fetch and the LLM; with it, a hot topic costs one generation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::error::StageError;
use crate::types::{CachedArticle, Usage};

/// What the request that made an article knows of it.
#[derive(Debug, Clone)]
pub struct Made {
    pub cached: CachedArticle,
    pub usage: Usage,
    pub cost_usd: f64,
    pub context_tokens: usize,
}

/// Articles being made, by cache key.
#[derive(Debug, Default)]
pub struct Flights {
    map: Mutex<HashMap<String, Arc<OnceCell<Made>>>>,
}

impl Flights {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OnceCell<Made>>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the article for `key` with `make`, or waits for the request
    /// already making it. `true` when this call made it. When the maker
    /// fails, one waiting request makes it in turn.
    pub async fn run<F, Fut>(&self, key: &str, make: F) -> Result<(Made, bool), StageError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Made, StageError>>,
    {
        let cell = self.lock().entry(key.to_string()).or_default().clone();
        let led = AtomicBool::new(false);
        let made = cell
            .get_or_try_init(|| {
                led.store(true, Ordering::Relaxed);
                make()
            })
            .await
            .cloned();
        let led = led.load(Ordering::Relaxed);
        if led {
            // Done (stored in the cache) or failed: later requests look
            // again rather than wait on this flight.
            let mut map = self.lock();
            if map.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                map.remove(key);
            }
        }
        made.map(|m| (m, led))
    }

    /// Flights in progress.
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    fn made() -> Made {
        Made {
            cached: CachedArticle {
                article: "a".into(),
                sources: Vec::new(),
            },
            usage: Usage::default(),
            cost_usd: 0.01,
            context_tokens: 1,
        }
    }

    #[tokio::test]
    async fn concurrent_requests_for_one_key_make_it_once() {
        let flights = Flights::default();
        let makes = AtomicUsize::new(0);
        let one = || async {
            flights
                .run("k", || async {
                    makes.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(made())
                })
                .await
                .unwrap()
                .1
        };
        let led = futures_util::future::join_all((0..8).map(|_| one())).await;
        assert_eq!(makes.load(Ordering::Relaxed), 1);
        assert_eq!(led.iter().filter(|l| **l).count(), 1);
        assert_eq!(flights.len(), 0, "the flight is cleared when done");
        // Later, a new flight.
        assert!(one().await);
        assert_eq!(makes.load(Ordering::Relaxed), 2);
    }
}
