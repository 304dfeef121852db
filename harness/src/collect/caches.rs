//! Cache hit rates from the target's own counters (a hits and a misses
//! counter scraped once a second), for `[collect.cache]` and each
//! `[collect.caches.NAME]` that reads them; and the named caches' section
//! of the result, from those counters or from what responses said.

use std::collections::BTreeMap;

use genbench_collectors::Recorder;
use genbench_collectors::summary::hit_rate;
use genbench_model::CacheStats;
use genbench_scenarios::CacheSource;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::AbortOnDrop;
use super::sampler::{self, CounterReading, CounterSource, Scrape as _};

/// The metrics URL: a path on the target, or absolute.
pub fn metrics_url(target_url: &str, metrics: &str) -> String {
    if metrics.starts_with("http://") {
        metrics.to_string()
    } else {
        format!("{}{metrics}", target_url.trim_end_matches('/'))
    }
}

/// Where a cache's numbers come from, as results.json says it.
pub fn source_name(c: &CacheSource) -> String {
    match c {
        CacheSource::Header { header } => format!("header:{header}"),
        CacheSource::Json { pointer } => format!("json:{pointer}"),
        CacheSource::Metrics { hits, misses, .. } => format!("metrics:{hits}/{misses}"),
    }
}

/// A counter pair with its "before" reading, ready to scrape; `None` for
/// a cache read from responses, or (with a warning naming `what`) when the
/// counters cannot be read.
pub async fn first_reading(
    c: &CacheSource,
    target_url: &str,
    what: &str,
) -> Option<(CounterSource, CounterReading)> {
    let CacheSource::Metrics {
        metrics,
        hits,
        misses,
    } = c
    else {
        return None;
    };
    let source = CounterSource {
        url: metrics_url(target_url, metrics),
        hits: hits.clone(),
        misses: misses.clone(),
    };
    match source.read(0.0).await {
        Ok(first) => Some((source, first)),
        Err(e) => {
            eprintln!("warning: no hit rate for {what}: cannot read its counters: {e:#}");
            None
        }
    }
}

/// A counter pair being scraped once a second.
pub struct Counters {
    source: CounterSource,
    first: CounterReading,
    readings: mpsc::UnboundedReceiver<CounterReading>,
    _task: AbortOnDrop<()>,
}

impl Counters {
    pub fn start((source, first): (CounterSource, CounterReading), t0: Instant) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = sampler::scrape_every_second(source.clone(), t0, tx);
        Counters {
            source,
            first,
            readings: rx,
            _task: AbortOnDrop(task),
        }
    }

    /// Every reading, the "before" one first and one more at `end_s`.
    pub async fn finish(self, end_s: f64) -> Vec<CounterReading> {
        let mut readings = vec![self.first];
        let mut rx = self.readings;
        while let Ok(x) = rx.try_recv() {
            readings.push(x);
        }
        drop(self._task);
        match self.source.read(end_s).await {
            Ok(last) => readings.push(last),
            Err(e) => eprintln!("warning: the last cache counter reading failed: {e:#}"),
        }
        readings
    }
}

/// Hits and misses over the run from counter readings (first to last).
pub fn counted(readings: &[CounterReading], source: String) -> Option<CacheStats> {
    let (first, last) = (readings.first()?, readings.last()?);
    let hits = (last.hits - first.hits).max(0.0) as u64;
    let misses = (last.misses - first.misses).max(0.0) as u64;
    Some(CacheStats {
        hits,
        misses,
        hit_rate: hit_rate(hits, misses),
        source,
        latency_hit_ms: None,
        latency_miss_ms: None,
    })
}

/// The named caches' counters, by the cache's name.
#[derive(Default)]
pub struct Named {
    counters: BTreeMap<String, Counters>,
}

impl Named {
    /// Takes the "before" readings of the caches that count on the target.
    pub async fn prepare(
        caches: &BTreeMap<String, CacheSource>,
        target_url: &str,
    ) -> Vec<(String, (CounterSource, CounterReading))> {
        let mut out = Vec::new();
        for (name, c) in caches {
            if let Some(first) = first_reading(c, target_url, &format!("cache `{name}`")).await {
                out.push((name.clone(), first));
            }
        }
        out
    }

    pub fn start(prepared: Vec<(String, (CounterSource, CounterReading))>, t0: Instant) -> Self {
        Named {
            counters: prepared
                .into_iter()
                .map(|(name, p)| (name, Counters::start(p, t0)))
                .collect(),
        }
    }

    /// Each named cache's figures: from its counters, or from the
    /// responses (`total.named_caches`, by the cache's index in name
    /// order). A cache nothing was learnt about is left out.
    pub async fn finish(
        mut self,
        caches: &BTreeMap<String, CacheSource>,
        total: &Recorder,
        end_s: f64,
    ) -> BTreeMap<String, CacheStats> {
        let mut out = BTreeMap::new();
        for (i, (name, c)) in caches.iter().enumerate() {
            let stats =
                match self.counters.remove(name) {
                    Some(counters) => counted(&counters.finish(end_s).await, source_name(c)),
                    None => total.named_caches.get(i).filter(|[h, m]| h + m > 0).map(
                        |&[hits, misses]| CacheStats {
                            hits,
                            misses,
                            hit_rate: hit_rate(hits, misses),
                            source: source_name(c),
                            latency_hit_ms: None,
                            latency_miss_ms: None,
                        },
                    ),
                };
            if let Some(s) = stats {
                out.insert(name.clone(), s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_urls_are_on_the_target_unless_absolute() {
        assert_eq!(
            metrics_url("http://127.0.0.1:8/", "/metrics"),
            "http://127.0.0.1:8/metrics"
        );
        assert_eq!(metrics_url("http://a:1", "http://b:2/m"), "http://b:2/m");
    }

    #[test]
    fn counted_hits_are_the_counters_change() {
        let r = |t_s, hits, misses| CounterReading { t_s, hits, misses };
        let c = counted(
            &[r(0.0, 5.0, 5.0), r(1.0, 8.0, 6.0), r(2.0, 13.0, 10.0)],
            "m".into(),
        )
        .unwrap();
        assert_eq!((c.hits, c.misses, c.hit_rate), (8, 5, Some(8.0 / 13.0)));
        assert!(counted(&[], "m".into()).is_none());
    }
}
