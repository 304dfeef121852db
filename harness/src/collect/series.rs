//! `[collect.metrics]`: the target's own series (queue depth, busy workers,
//! a cache's hit rate, and the leak analysis's heap gauge) read once a
//! second beside the load. One GET per
//! distinct URL per second, however many series it serves: Prometheus
//! gauges as they are, counters as their rate per second, numbers at JSON
//! pointers in a JSON document.

use std::collections::BTreeMap;
use std::time::Duration;

use genbench_collectors::prometheus::counter;
use genbench_model::{SeriesResult, SeriesSample};
use genbench_scenarios::{Series, SeriesKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::caches::metrics_url;
use super::sampler::{Scrape, scrape_every_second};
use super::{AbortOnDrop, http};

/// One second's reading of one URL: each of its series' raw values (`None`
/// where a series was missing or the GET failed).
type Reading = (f64, Vec<Option<f64>>);

/// The series one URL serves.
#[derive(Debug, Clone)]
struct Source {
    url: String,
    series: Vec<Series>,
}

/// The value of one series in a body.
fn value(kind: &SeriesKind, body: &str) -> Option<f64> {
    match kind {
        SeriesKind::Gauge(n) | SeriesKind::Counter(n) => counter(body, n),
        SeriesKind::Json(p) => {
            let v: serde_json::Value = serde_json::from_str(body).ok()?;
            match v.pointer(p)? {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        }
    }
}

impl Scrape for Source {
    type Reading = Reading;
    /// Never an error: a failed GET or a missing series is a `None` value,
    /// counted in `failed_reads`.
    async fn read(&self, t_s: f64) -> anyhow::Result<Reading> {
        let body = http::get(&self.url, Duration::from_secs(5)).await.ok();
        let text = body.as_deref().map(String::from_utf8_lossy);
        let values = self
            .series
            .iter()
            .map(|s| text.as_deref().and_then(|t| value(&s.kind, t)))
            .collect();
        Ok((t_s, values))
    }
}

/// Series being read.
pub struct Sampling {
    sources: Vec<Source>,
    readings: Vec<mpsc::UnboundedReceiver<Reading>>,
    _tasks: Vec<AbortOnDrop<()>>,
}

/// Starts reading `series` from `target_url` each second from `t0`.
pub fn start(series: &[Series], target_url: &str, t0: Instant) -> Option<Sampling> {
    if series.is_empty() {
        return None;
    }
    let mut by_url: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    for s in series {
        by_url
            .entry(metrics_url(target_url, &s.url))
            .or_default()
            .push(s.clone());
    }
    let sources: Vec<Source> = by_url
        .into_iter()
        .map(|(url, series)| Source { url, series })
        .collect();
    let mut readings = Vec::new();
    let mut tasks = Vec::new();
    for src in &sources {
        let (tx, rx) = mpsc::unbounded_channel();
        tasks.push(AbortOnDrop(scrape_every_second(src.clone(), t0, tx)));
        readings.push(rx);
    }
    Some(Sampling {
        sources,
        readings,
        _tasks: tasks,
    })
}

/// One reading of `series` now: its value, or why there is none.
pub async fn probe(series: &Series, target_url: &str) -> anyhow::Result<f64> {
    let src = Source {
        url: metrics_url(target_url, &series.url),
        series: vec![series.clone()],
    };
    let (_, v) = src.read(0.0).await?;
    v[0].ok_or_else(|| anyhow::anyhow!("{} has no `{}`", src.url, series.name))
}

/// A series' readings as results.json holds them: counters become the
/// rate between consecutive readings (a reset reads as no rate).
pub fn result(s: &Series, url: &str, raw: &[(f64, Option<f64>)]) -> SeriesResult {
    let failed_reads = raw.iter().filter(|(_, v)| v.is_none()).count() as u64;
    let ok: Vec<(f64, f64)> = raw.iter().filter_map(|(t, v)| Some((*t, (*v)?))).collect();
    let (kind, what, samples): (&str, &str, Vec<SeriesSample>) = match &s.kind {
        SeriesKind::Gauge(n) => ("gauge", n, points(&ok)),
        SeriesKind::Json(p) => ("json", p, points(&ok)),
        SeriesKind::Counter(n) => {
            let rates = ok
                .windows(2)
                .filter(|w| w[1].0 > w[0].0 && w[1].1 >= w[0].1)
                .map(|w| SeriesSample {
                    t_s: w[1].0,
                    value: (w[1].1 - w[0].1) / (w[1].0 - w[0].0),
                })
                .collect();
            ("rate", n, rates)
        }
    };
    let vals: Vec<f64> = samples.iter().map(|p| p.value).collect();
    let n = vals.len() as f64;
    SeriesResult {
        kind: kind.into(),
        source: format!("{what} at {url}"),
        min: vals.iter().copied().reduce(f64::min),
        max: vals.iter().copied().reduce(f64::max),
        mean: (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / n),
        last: vals.last().copied(),
        samples,
        failed_reads,
    }
}

fn points(ok: &[(f64, f64)]) -> Vec<SeriesSample> {
    ok.iter()
        .map(|&(t_s, value)| SeriesSample { t_s, value })
        .collect()
}

impl Sampling {
    /// Stops reading: every series by name.
    pub fn finish(mut self) -> BTreeMap<String, SeriesResult> {
        let mut out = BTreeMap::new();
        for (src, rx) in self.sources.iter().zip(self.readings.iter_mut()) {
            let mut got: Vec<Reading> = Vec::new();
            while let Ok(r) = rx.try_recv() {
                got.push(r);
            }
            for (i, s) in src.series.iter().enumerate() {
                let raw: Vec<(f64, Option<f64>)> = got.iter().map(|(t, v)| (*t, v[i])).collect();
                out.insert(s.name.clone(), result(s, &src.url, &raw));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kind: SeriesKind) -> Series {
        Series {
            name: "x".into(),
            kind,
            url: "/metrics".into(),
        }
    }

    #[test]
    fn values_come_from_prometheus_text_or_json() {
        let text = "# TYPE q gauge\nq 3\nreq_total{code=\"200\"} 10\nreq_total{code=\"500\"} 2\n";
        assert_eq!(value(&SeriesKind::Gauge("q".into()), text), Some(3.0));
        assert_eq!(
            value(&SeriesKind::Counter("req_total".into()), text),
            Some(12.0)
        );
        let doc = r#"{"cache_performance": {"script": {"hit_rate": 0.42, "on": true}}}"#;
        let j = |p: &str| value(&SeriesKind::Json(p.into()), doc);
        assert_eq!(j("/cache_performance/script/hit_rate"), Some(0.42));
        assert_eq!(j("/cache_performance/script/on"), Some(1.0));
        assert_eq!(j("/missing"), None);
    }

    #[test]
    fn counters_become_rates_and_failures_are_counted() {
        let raw = [
            (1.0, Some(10.0)),
            (2.0, Some(14.0)),
            (3.0, None),
            (4.0, Some(20.0)),
            (5.0, Some(2.0)),
        ];
        let r = result(
            &series(SeriesKind::Counter("c".into())),
            "http://t/metrics",
            &raw,
        );
        let rates: Vec<(f64, f64)> = r.samples.iter().map(|s| (s.t_s, s.value)).collect();
        // 14 -> 20 over 2 s is 3/s; the drop to 2 is a restart, not a rate.
        assert_eq!(rates, [(2.0, 4.0), (4.0, 3.0)]);
        assert_eq!((r.kind.as_str(), r.failed_reads), ("rate", 1));
        assert_eq!((r.max, r.last), (Some(4.0), Some(3.0)));
        let g = result(&series(SeriesKind::Gauge("g".into())), "u", &raw);
        assert_eq!((g.min, g.max, g.samples.len()), (Some(2.0), Some(20.0), 4));
        assert_eq!(g.mean, Some(11.5));
    }
}
