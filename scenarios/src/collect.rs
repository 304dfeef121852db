//! The scenario's `[collect]` and `[analysis]` tables: where the cache status
//! and cost come from, and how the leak and spike analyses judge. Every key
//! has a default that fits the reference pipeline, so most scenarios name
//! none of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use toml::Spanned;

use crate::error::Invalid;
use crate::names::valid_name;

/// Where each response's cache status comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CacheSource {
    /// A response header whose value is `HIT` or `MISS` (any case).
    Header { header: String },
    /// A JSON pointer into the body (the last `data:` event of a stream)
    /// whose value is `"hit"`/`"miss"` or `true`/`false`.
    Json { pointer: String },
    /// A pair of Prometheus counters on the target, scraped each second:
    /// `metrics` is a path on the target or an absolute http:// URL.
    Metrics {
        metrics: String,
        hits: String,
        misses: String,
    },
}

/// Prices per million tokens for one model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_usd_per_1m: f64,
    #[serde(default)]
    pub cached_input_usd_per_1m: Option<f64>,
    pub output_usd_per_1m: f64,
}

/// How an article's cost is found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostConfig {
    /// The `genbench mock` an external target calls (its LLM URL): the
    /// ledger there is exact. The embedded target's mock is found by itself.
    pub ledger: Option<String>,
    /// Otherwise, per response: the OpenAI-shaped usage object,
    pub usage_pointer: String,
    /// the model's name (falling back to `model`),
    pub model_pointer: String,
    pub model: Option<String>,
    /// and the number of search calls it made, if the body says.
    pub search_calls_pointer: Option<String>,
    /// Added to (or replacing) the mock presets' prices.
    pub prices: BTreeMap<String, Price>,
    pub search_usd_per_call: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collect {
    pub cache: CacheSource,
    /// `[collect.caches.NAME]`: further caches (a script cache, an audio
    /// cache), each with its own source and hit rate.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub caches: BTreeMap<String, CacheSource>,
    pub cost: CostConfig,
    /// The response header with the target's request id, for `--records`.
    pub request_id_header: String,
    /// `[collect.metrics]`: series read from the target each second.
    pub series: Vec<Series>,
    /// `[collect.traces]`: the target's OpenTelemetry spans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<crate::traces::Traces>,
    /// `[collect.stages] prometheus`: stages from the target's histogram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_histogram: Option<crate::stage_source::StageHistogram>,
}

/// One `[collect.metrics]` series: what the target publishes, read once a
/// second beside the load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub name: String,
    pub kind: SeriesKind,
    /// A path on the target (`/metrics`) or an http:// URL.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// A Prometheus gauge, as it is (summed over its label sets).
    Gauge(String),
    /// A Prometheus counter, as its rate per second.
    Counter(String),
    /// A number at a JSON pointer in a JSON document.
    Json(String),
}

/// A series as written: `queue_depth = "metric_name"` (a gauge), or a
/// table with one of gauge, counter, json and an optional url.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawSeries {
    Gauge(String),
    Table(RawSeriesTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeriesTable {
    #[serde(default)]
    gauge: Option<String>,
    #[serde(default)]
    counter: Option<String>,
    #[serde(default)]
    json: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

fn series(name: &str, raw: RawSeries) -> Result<Series, Invalid> {
    let key = format!("collect.metrics.{name}");
    let bad = |m: String| Err(Invalid::new(key.clone(), m));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return bad(format!(
            "`{name}`: a series name is letters, digits and `_` (thresholds read it as max({name}))"
        ));
    }
    let (kind, url) = match raw {
        RawSeries::Gauge(g) => (SeriesKind::Gauge(g), None),
        RawSeries::Table(t) => {
            let kind = match (t.gauge, t.counter, t.json) {
                (Some(g), None, None) => SeriesKind::Gauge(g),
                (None, Some(c), None) => SeriesKind::Counter(c),
                (None, None, Some(p)) if p.starts_with('/') => SeriesKind::Json(p),
                (None, None, Some(p)) => {
                    return bad(format!(
                        "json = {p:?}: a JSON pointer starts with `/`, e.g. \"/cache_performance/script/hit_rate\""
                    ));
                }
                _ => {
                    return bad("give one of gauge = \"name\", counter = \"name\" (read as a rate per second) or json = \"/pointer\" (with url = the JSON endpoint)".into());
                }
            };
            (kind, t.url)
        }
    };
    if let SeriesKind::Gauge(n) | SeriesKind::Counter(n) = &kind
        && (n.is_empty() || n.contains(char::is_whitespace))
    {
        return bad(format!("`{n}`: a Prometheus metric name"));
    }
    let url = match (url, &kind) {
        (Some(u), _) if u.starts_with('/') || u.starts_with("http://") => u,
        (Some(u), _) => {
            return bad(format!(
                "url = {u:?}: a path on the target (\"/stats\") or an http:// URL"
            ));
        }
        (None, SeriesKind::Json(_)) => {
            return bad(
                "a json series needs url = the endpoint that serves the document, e.g. \"/stats\""
                    .into(),
            );
        }
        (None, _) => "/metrics".into(),
    };
    Ok(Series {
        name: name.to_string(),
        kind,
        url,
    })
}

pub const DEFAULT_CACHE_HEADER: &str = "X-Cache";
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCollect {
    #[serde(default)]
    cache: Option<Spanned<RawCache>>,
    #[serde(default)]
    cost: Option<Spanned<RawCost>>,
    #[serde(default)]
    request_id_header: Option<String>,
    #[serde(default)]
    metrics: Option<Spanned<BTreeMap<String, RawSeries>>>,
    #[serde(default)]
    caches: Option<Spanned<BTreeMap<String, Spanned<RawCache>>>>,
    #[serde(default)]
    traces: Option<Spanned<crate::traces::RawTraces>>,
    #[serde(default)]
    stages: Option<Spanned<crate::stage_source::RawStages>>,
}

/// Most `[collect.caches.NAME]` tables: each header-read cache is a
/// header the engine keeps from every response.
pub const MAX_NAMED_CACHES: usize = 8;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    source: Option<String>,
    header: Option<String>,
    pointer: Option<String>,
    metrics: Option<String>,
    hits: Option<String>,
    misses: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    ledger: Option<String>,
    usage_pointer: Option<String>,
    model_pointer: Option<String>,
    model: Option<String>,
    search_calls_pointer: Option<String>,
    #[serde(default)]
    prices: BTreeMap<String, Price>,
    search_usd_per_call: Option<f64>,
}

fn pointer(p: String, key: &str) -> Result<String, Invalid> {
    if p.is_empty() || p.starts_with('/') {
        Ok(p)
    } else {
        Err(Invalid::new(
            key.into(),
            format!("`{p}` is not a JSON pointer: start it with `/`, e.g. \"/cache\""),
        ))
    }
}

fn http_url(u: String, key: &str) -> Result<String, Invalid> {
    if u.starts_with("http://") {
        Ok(u.trim_end_matches('/').to_string())
    } else {
        Err(Invalid::new(
            key.into(),
            format!("`{u}` must be an http:// URL, e.g. \"http://127.0.0.1:9100\""),
        ))
    }
}

impl RawCache {
    /// `key`: where the table is (`collect.cache`, `collect.caches.NAME`).
    fn validate(self, key: &str) -> Result<CacheSource, Invalid> {
        let metrics_keys = self.metrics.is_some() || self.hits.is_some() || self.misses.is_some();
        let source = match self.source.as_deref() {
            Some(s) => s.to_string(),
            None if self.pointer.is_some() => "json".into(),
            None if metrics_keys => "metrics".into(),
            None => "header".into(),
        };
        let stray = |k: &str, want: &str| {
            Err(Invalid::new(
                format!("{key}.{k}"),
                format!("`{k}` belongs to source = \"{want}\", but source is \"{source}\""),
            ))
        };
        match source.as_str() {
            "header" => {
                if self.pointer.is_some() {
                    return stray("pointer", "json");
                }
                if metrics_keys {
                    return stray("hits", "metrics");
                }
                let header = self.header.unwrap_or_else(|| DEFAULT_CACHE_HEADER.into());
                if header.is_empty() || header.contains([' ', ':', '\r', '\n']) {
                    return Err(Invalid::new(
                        format!("{key}.header"),
                        format!("`{header}` is not a header name, e.g. \"X-Cache\""),
                    ));
                }
                Ok(CacheSource::Header { header })
            }
            "json" => {
                if self.header.is_some() {
                    return stray("header", "header");
                }
                let p = self.pointer.unwrap_or_else(|| "/cache".into());
                Ok(CacheSource::Json {
                    pointer: pointer(p, &format!("{key}.pointer"))?,
                })
            }
            "metrics" => {
                if self.header.is_some() {
                    return stray("header", "header");
                }
                self.metrics_source(key)
            }
            other => Err(Invalid::new(
                format!("{key}.source"),
                format!("unknown cache source `{other}`: use \"header\", \"json\" or \"metrics\""),
            )),
        }
    }
}

impl RawCache {
    /// `source = "metrics"`: the endpoint and the two counters' names.
    fn metrics_source(self, key: &str) -> Result<CacheSource, Invalid> {
        let metrics = self.metrics.unwrap_or_else(|| "/metrics".into());
        if !metrics.starts_with('/') && !metrics.starts_with("http://") {
            return Err(Invalid::new(
                format!("{key}.metrics"),
                format!("`{metrics}`: give a path on the target (\"/metrics\") or an http:// URL"),
            ));
        }
        let hits = self
            .hits
            .unwrap_or_else(|| "genbench_pipeline_cache_hits_total".into());
        let misses = self
            .misses
            .unwrap_or_else(|| "genbench_pipeline_cache_misses_total".into());
        Ok(CacheSource::Metrics {
            metrics,
            hits: metric_name(hits, &format!("{key}.hits"))?,
            misses: metric_name(misses, &format!("{key}.misses"))?,
        })
    }
}

/// A Prometheus metric name, or the error naming `key`.
fn metric_name(v: String, key: &str) -> Result<String, Invalid> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    if v.is_empty() || !v.chars().all(ok) {
        return Err(Invalid::new(
            key.to_string(),
            format!("`{v}` is not a Prometheus metric name"),
        ));
    }
    Ok(v)
}

impl RawCost {
    fn validate(self) -> Result<CostConfig, Invalid> {
        for (model, p) in &self.prices {
            let all = [
                p.input_usd_per_1m,
                p.cached_input_usd_per_1m.unwrap_or(0.0),
                p.output_usd_per_1m,
            ];
            if all.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(Invalid::new(
                    format!("collect.cost.prices.{model}"),
                    "prices are US dollars per million tokens, 0 or more".into(),
                ));
            }
        }
        if let Some(v) = self.search_usd_per_call
            && (!v.is_finite() || v < 0.0)
        {
            return Err(Invalid::new(
                "collect.cost.search_usd_per_call".into(),
                "a search call's price is US dollars, 0 or more".into(),
            ));
        }
        Ok(CostConfig {
            ledger: self
                .ledger
                .map(|u| http_url(u, "collect.cost.ledger"))
                .transpose()?,
            usage_pointer: pointer(
                self.usage_pointer.unwrap_or_else(|| "/usage".into()),
                "collect.cost.usage_pointer",
            )?,
            model_pointer: pointer(
                self.model_pointer.unwrap_or_else(|| "/model".into()),
                "collect.cost.model_pointer",
            )?,
            model: self.model,
            search_calls_pointer: self
                .search_calls_pointer
                .map(|p| pointer(p, "collect.cost.search_calls_pointer"))
                .transpose()?,
            prices: self.prices,
            search_usd_per_call: self.search_usd_per_call,
        })
    }
}

/// A table's offset in the file (0 if absent) and its raw content.
fn located<T: Default>(t: Option<Spanned<T>>) -> (usize, T) {
    t.map_or((0, T::default()), |t| (t.span().start, t.into_inner()))
}

impl RawCollect {
    /// Errors come with the offset of the table they are in.
    pub(crate) fn validate(self) -> Result<Collect, Invalid> {
        let (at, cache) = located(self.cache);
        let cache = cache.validate("collect.cache").map_err(|e| e.or_at(at))?;
        let mut caches = BTreeMap::new();
        let (at, raw) = located(self.caches);
        if raw.len() > MAX_NAMED_CACHES {
            return Err(Invalid::new(
                "collect.caches".into(),
                format!(
                    "at most {MAX_NAMED_CACHES} named caches; {} are given",
                    raw.len()
                ),
            )
            .or_at(at));
        }
        for (name, c) in raw {
            if !valid_name(&name) {
                return Err(Invalid::new(
                    format!("collect.caches.{name}"),
                    format!("`{name}`: a cache's name is letters, digits, `_` and `-`"),
                )
                .or_at(at));
            }
            let key = format!("collect.caches.{name}");
            let at = c.span().start;
            caches.insert(
                name,
                c.into_inner().validate(&key).map_err(|e| e.or_at(at))?,
            );
        }
        let (at, cost) = located(self.cost);
        let cost = cost.validate().map_err(|e| e.or_at(at))?;
        let request_id_header = match self.request_id_header {
            None => "x-request-id".to_string(),
            Some(h) if h.contains(|c: char| c.is_whitespace() || c == ':') => {
                return Err(Invalid::new(
                    "collect.request_id_header".into(),
                    format!("`{h}`: a header name, e.g. \"x-request-id\" (\"\" for none)"),
                )
                .or_at(0));
            }
            Some(h) => h.to_ascii_lowercase(),
        };
        let (at, raw) = located(self.metrics);
        let series = raw
            .into_iter()
            .map(|(name, r)| series(&name, r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.or_at(at))?;
        let traces = self
            .traces
            .map(|t| {
                let at = t.span().start;
                t.into_inner().validate().map_err(|e| e.or_at(at))
            })
            .transpose()?;
        let (at, stages) = located(self.stages);
        let stage_histogram = stages.validate().map_err(|e| e.or_at(at))?;
        Ok(Collect {
            cache,
            caches,
            cost,
            request_id_header,
            series,
            traces,
            stage_histogram,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(t: &str) -> Result<CacheSource, Invalid> {
        named_cache("collect.cache", t)
    }

    fn named_cache(key: &str, t: &str) -> Result<CacheSource, Invalid> {
        toml::from_str::<RawCache>(t).unwrap().validate(key)
    }

    #[test]
    fn cache_source_follows_the_keys_given() {
        assert_eq!(
            cache("").unwrap(),
            CacheSource::Header {
                header: "X-Cache".into()
            }
        );
        assert_eq!(
            cache("pointer = \"/meta/cache\"").unwrap(),
            CacheSource::Json {
                pointer: "/meta/cache".into()
            }
        );
        match cache("hits = \"app_hits_total\"").unwrap() {
            CacheSource::Metrics {
                metrics,
                hits,
                misses,
            } => {
                assert_eq!(metrics, "/metrics");
                assert_eq!(hits, "app_hits_total");
                assert_eq!(misses, "genbench_pipeline_cache_misses_total");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cache_mistakes_name_the_key_and_the_fix() {
        let Invalid {
            key: k, message: m, ..
        } = cache("source = \"header\"\npointer = \"/c\"").unwrap_err();
        assert_eq!(k, "collect.cache.pointer");
        assert!(m.contains("source = \"json\""), "{m}");
        let Invalid {
            key: k, message: m, ..
        } = cache("pointer = \"cache\"").unwrap_err();
        assert_eq!(k, "collect.cache.pointer");
        assert!(m.contains("start it with `/`"), "{m}");
        let Invalid {
            key: k, message: _, ..
        } = cache("source = \"redis\"").unwrap_err();
        assert_eq!(k, "collect.cache.source");
        let Invalid {
            key: k, message: _, ..
        } = cache("hits = \"has space\"").unwrap_err();
        assert_eq!(k, "collect.cache.hits");
        let Invalid {
            key: k, message: _, ..
        } = named_cache("collect.caches.audio", "source = \"nope\"").unwrap_err();
        assert_eq!(k, "collect.caches.audio.source");
    }
}
