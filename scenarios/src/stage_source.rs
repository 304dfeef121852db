//! `[collect.stages]`: per-stage time from the target's own Prometheus
//! histogram, for services that time their stages but send no
//! `Server-Timing` and no spans.
//!
//! ```toml
//! [collect.stages]
//! prometheus = { histogram = "article_stage_seconds", label = "stage" }  # url = "/metrics"
//! ```

use serde::{Deserialize, Serialize};

use crate::error::Invalid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageHistogram {
    /// A path on the target (`/metrics`) or an http:// URL.
    pub url: String,
    /// The histogram's (or summary's) name, without `_bucket`.
    pub histogram: String,
    /// The label whose values name the stages.
    pub label: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStages {
    prometheus: Option<RawHistogram>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHistogram {
    histogram: String,
    label: Option<String>,
    url: Option<String>,
}

const KEY: &str = "collect.stages.prometheus";

fn metric_name(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !v.starts_with(|c: char| c.is_ascii_digit())
}

impl RawStages {
    pub(crate) fn validate(self) -> Result<Option<StageHistogram>, Invalid> {
        let Some(p) = self.prometheus else {
            return Ok(None);
        };
        let bad = |m: String| Err(Invalid::new(KEY.to_string(), m));
        let histogram = p.histogram.trim_end_matches("_bucket").to_string();
        if !metric_name(&histogram) {
            return bad(format!(
                "histogram = {:?}: a Prometheus metric name, e.g. \"article_stage_seconds\"",
                p.histogram
            ));
        }
        let label = p.label.unwrap_or_else(|| "stage".into());
        if !metric_name(&label) || label == "le" || label == "quantile" {
            return bad(format!(
                "label = {label:?}: the label whose values name the stages, e.g. \"stage\""
            ));
        }
        let url = p.url.unwrap_or_else(|| "/metrics".into());
        if !(url.starts_with('/') || url.starts_with("http://")) {
            return bad(format!(
                "url = {url:?}: a path on the target (\"/metrics\") or an http:// URL"
            ));
        }
        Ok(Some(StageHistogram {
            url,
            histogram,
            label,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Option<StageHistogram>, Invalid> {
        toml::from_str::<RawStages>(t).unwrap().validate()
    }

    #[test]
    fn defaults_and_mistakes() {
        let h = parse("prometheus = { histogram = \"article_stage_seconds_bucket\" }")
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.url.as_str(), h.histogram.as_str(), h.label.as_str()),
            ("/metrics", "article_stage_seconds", "stage")
        );
        assert_eq!(parse("").unwrap(), None);
        let crate::error::Invalid {
            key: k, message: m, ..
        } = parse("prometheus = { histogram = \"a b\" }").unwrap_err();
        assert_eq!(k, KEY);
        assert!(m.contains("article_stage_seconds"), "{m}");
        assert!(parse("prometheus = { histogram = \"h\", label = \"le\" }").is_err());
        assert!(parse("prometheus = { histogram = \"h\", url = \"metrics\" }").is_err());
    }
}
