//! The article cache: off, in-process with TTL and capacity, or Redis.
//! Values are serialized articles, so every backend stores the same bytes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::PipelineError;
use crate::config::{CacheConfig, CacheKind};

/// In-process cache; the oldest entry goes when full.
#[derive(Debug)]
pub struct MemoryCache {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<MemoryInner>,
}

/// Each stored value carries the sequence number of its `put`; `order`
/// holds keys with the number they were queued under, so a key that
/// expired and was stored again is evicted by its new place in the queue,
/// never by the stale one.
#[derive(Debug, Default)]
struct MemoryInner {
    map: HashMap<String, Entry>,
    order: VecDeque<(String, u64)>,
    next: u64,
}

#[derive(Debug)]
struct Entry {
    expires: Instant,
    value: String,
    seq: u64,
}

impl MemoryCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        MemoryCache {
            ttl,
            capacity,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let mut g = self.lock();
        match g.map.get(key) {
            Some(e) if e.expires > Instant::now() => Some(e.value.clone()),
            Some(_) => {
                g.map.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: &str, value: String) {
        let mut g = self.lock();
        let expires = Instant::now() + self.ttl;
        let MemoryInner { map, order, next } = &mut *g;
        match map.get_mut(key) {
            // A refresh keeps its place in the queue: oldest-stored goes first.
            Some(e) => (e.expires, e.value) = (expires, value),
            None => {
                *next += 1;
                let seq = *next;
                map.insert(
                    key.to_string(),
                    Entry {
                        expires,
                        value,
                        seq,
                    },
                );
                order.push_back((key.to_string(), seq));
            }
        }
        while map.len() > self.capacity {
            let Some((oldest, seq)) = order.pop_front() else {
                break;
            };
            if map.get(&oldest).is_some_and(|e| e.seq == seq) {
                map.remove(&oldest);
            }
        }
        // Keys removed on expiry linger in `order`; compact when it doubles.
        if order.len() > 2 * self.capacity.max(16) {
            order.retain(|(k, seq)| map.get(k).is_some_and(|e| e.seq == *seq));
        }
    }
}

#[derive(Debug)]
pub enum Cache {
    Off,
    Memory(MemoryCache),
    Redis(crate::redis_cache::RedisCache),
}

impl Cache {
    pub async fn from_config(c: &CacheConfig) -> Result<Self, PipelineError> {
        Ok(match c.kind {
            CacheKind::Off => Cache::Off,
            CacheKind::Memory => {
                Cache::Memory(MemoryCache::new(Duration::from_secs(c.ttl_s), c.capacity))
            }
            CacheKind::Redis => {
                Cache::Redis(crate::redis_cache::RedisCache::connect(&c.redis_url, c.ttl_s).await?)
            }
        })
    }

    /// A cache failure is a miss, not an error: the article can still be made.
    pub async fn get(&self, key: &str) -> Option<String> {
        match self {
            Cache::Off => None,
            Cache::Memory(m) => m.get(key),
            Cache::Redis(r) => r.get(key).await,
        }
    }

    pub async fn put(&self, key: &str, value: String) {
        match self {
            Cache::Off => {}
            Cache::Memory(m) => m.put(key, value),
            Cache::Redis(r) => r.put(key, value).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_evicts_the_oldest() {
        let c = MemoryCache::new(Duration::from_secs(60), 2);
        c.put("a", "1".into());
        c.put("b", "2".into());
        c.put("c", "3".into());
        assert_eq!(c.get("a"), None);
        assert_eq!(c.get("c").as_deref(), Some("3"));
        assert_eq!(c.lock().map.len(), 2);
    }

    #[test]
    fn ttl_expires() {
        let c = MemoryCache::new(Duration::ZERO, 10);
        c.put("a", "1".into());
        assert_eq!(c.get("a"), None);
    }

    #[test]
    fn a_key_stored_again_after_expiry_is_evicted_by_its_new_place() {
        let c = MemoryCache::new(Duration::from_secs(60), 2);
        c.put("a", "old".into());
        // "a" expires and is dropped on read, then stored afresh after "b".
        c.lock().map.get_mut("a").unwrap().expires = Instant::now();
        assert_eq!(c.get("a"), None);
        c.put("b", "2".into());
        c.put("a", "new".into());
        // Full at two; "c" evicts the oldest stored, "b", not the fresh "a".
        c.put("c", "3".into());
        assert_eq!(c.get("a").as_deref(), Some("new"));
        assert_eq!(c.get("b"), None);
        assert_eq!(c.get("c").as_deref(), Some("3"));
    }

    #[test]
    fn order_stays_bounded_under_churn() {
        let c = MemoryCache::new(Duration::ZERO, 4);
        for i in 0..1000 {
            c.put(&i.to_string(), "x".into());
            let _ = c.get(&i.to_string());
        }
        assert!(c.lock().order.len() <= 32);
    }
}
