//! `[abort]`: when a run stops early rather than spend its whole length
//! measuring a target that has already failed it (k6's `abortOnFail`).
//!
//! ```toml
//! [abort]
//! on_fail = ["error_rate < 50%", "p95 < 10s"]  # judged each second
//! when_failing = "10s"   # every request that ended failed, this long
//! grace = "10s"          # neither is judged before this far in
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::error::Invalid;
use crate::serde_secs::{opt_secs, secs};
use crate::threshold::{Metric, Threshold, parse_threshold};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Abort {
    /// Thresholds judged on the run so far each second after the grace;
    /// the first that fails stops the run (they are judged at its end too).
    pub on_fail: Vec<Threshold>,
    /// Stop once every request that ended has failed for this long.
    #[serde(serialize_with = "opt_secs")]
    pub when_failing: Option<Duration>,
    #[serde(serialize_with = "secs")]
    pub grace: Duration,
}

impl Default for Abort {
    fn default() -> Self {
        Abort {
            on_fail: Vec::new(),
            when_failing: None,
            grace: DEFAULT_GRACE,
        }
    }
}

impl Abort {
    pub fn is_empty(&self) -> bool {
        self.on_fail.is_empty() && self.when_failing.is_none()
    }
}

const DEFAULT_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAbort {
    #[serde(default)]
    on_fail: Vec<String>,
    #[serde(default)]
    when_failing: Option<String>,
    #[serde(default)]
    grace: Option<String>,
}

/// Whether a metric can be judged on a run still going: what the requests
/// so far say, not what is only known at the end (cost, memory growth,
/// series and cache counters read from the target, flows summarised).
fn live(m: Metric) -> bool {
    !matches!(
        m,
        Metric::CacheHitRate
            | Metric::CostPerArticle
            | Metric::RssGrowth
            | Metric::Series(_)
            | Metric::Flow(_)
            | Metric::FlowErrorRate
            | Metric::FlowsPerHour
    )
}

impl RawAbort {
    /// The validated table, or (key, message).
    pub(crate) fn validate(self) -> Result<Abort, Invalid> {
        let on_fail = self
            .on_fail
            .iter()
            .map(|e| {
                let t = parse_threshold(e).map_err(|m| Invalid::new("abort.on_fail".to_string(), m))?;
                if !live(t.metric) {
                    return Err(Invalid::new(
                        "abort.on_fail".into(),
                        format!(
                            "`{e}` is only known when the run ends; abort.on_fail takes what the requests so far say (latency, TTFB, TTFT, errors, throughput, goodput); keep it in thresholds"
                        ),
                    ));
                }
                Ok(t)
            })
            .collect::<Result<_, _>>()?;
        let duration = |key: &str, v: Option<String>| {
            v.map(|v| parse_duration(&v).map_err(|m| Invalid::new(format!("abort.{key}"), m)))
                .transpose()
        };
        let when_failing = duration("when_failing", self.when_failing)?;
        if when_failing.is_some_and(|d| d < Duration::from_secs(1)) {
            return Err(Invalid::new(
                "abort.when_failing".into(),
                "judged a second at a time: give 1s or more, e.g. \"10s\"".into(),
            ));
        }
        Ok(Abort {
            on_fail,
            when_failing,
            grace: duration("grace", self.grace)?.unwrap_or(DEFAULT_GRACE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawAbort {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn rules_validate_and_say_what_is_wrong() {
        let a = raw("on_fail = [\"error_rate < 50%\"]\nwhen_failing = \"10s\"")
            .validate()
            .unwrap();
        assert_eq!(a.on_fail.len(), 1);
        assert_eq!(a.when_failing, Some(Duration::from_secs(10)));
        assert_eq!(a.grace, DEFAULT_GRACE);
        let e = raw("on_fail = [\"cost_per_article < $0.01\"]")
            .validate()
            .unwrap_err();
        assert!(e.message.contains("only known when the run ends"), "{e:?}");
        let e = raw("when_failing = \"500ms\"").validate().unwrap_err();
        assert_eq!(e.key, "abort.when_failing");
        assert!(raw("").validate().unwrap().is_empty());
    }
}
