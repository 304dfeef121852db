//! The gate's rules: which metrics it judges, which way is worse, and how
//! large a change must be before it counts. Defaults here; `gate.toml`
//! overrides any of them (the caller parses the file into [`Rules`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which way a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Latency, cost, errors: an increase is a regression.
    #[serde(alias = "lower")]
    LowerIsBetter,
    /// Throughput, cache hits: a decrease is a regression.
    #[serde(alias = "higher")]
    HigherIsBetter,
}

/// A noise floor as written: `"5%"` or a number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum FloorSpec {
    Number(f64),
    Text(String),
}

impl FloorSpec {
    /// `"5%"` is 0.05; a number is itself. Relative metrics read the value
    /// as a fraction of the baseline, absolute ones in their own unit
    /// (a proportion such as the error rate as a fraction, so `"0.5%"` is
    /// half a percentage point).
    pub fn value(&self) -> Result<f64, String> {
        let v = match self {
            FloorSpec::Number(v) => *v,
            FloorSpec::Text(t) => {
                let t = t.trim();
                let parsed = match t.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
                    None => t.parse::<f64>(),
                };
                parsed.map_err(|_| {
                    format!("noise_floor = {t:?}: write a percentage such as \"5%\" or a number")
                })?
            }
        };
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(format!("noise_floor = {v}: must be 0 or more"))
        }
    }
}

/// One metric's overrides; anything left out keeps its default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRule {
    pub enabled: Option<bool>,
    pub direction: Option<Direction>,
    /// The smallest change that counts; for exactly compared metrics, the
    /// tolerance.
    pub noise_floor: Option<FloorSpec>,
}

/// Everything `gate.toml` can say.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Two-sided confidence of each metric's interval.
    pub confidence: f64,
    /// The default floor of metrics compared as relative changes.
    pub noise_floor: FloorSpec,
    /// By metric name (`latency_p99`), or `stage_p95.<stage>`, or
    /// `stage_p95.*` for every stage.
    pub metrics: BTreeMap<String, MetricRule>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            confidence: 0.95,
            noise_floor: FloorSpec::Number(0.05),
            metrics: BTreeMap::new(),
        }
    }
}

/// The metrics the gate knows, apart from `stage_p95.<stage>`.
pub const NAMES: &[&str] = &[
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "ttft_p50",
    "ttft_p95",
    "tpot_p50",
    "tpot_p95",
    "throughput",
    "error_rate",
    "cache_hit_rate",
    "cost_per_article",
    "tokens_per_article",
    "rss_slope",
    "cpu_per_request",
];

pub const STAGE_PREFIX: &str = "stage_p95.";

/// A rule as it applies to one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Applied {
    pub enabled: bool,
    pub direction: Direction,
    pub floor: f64,
}

impl Rules {
    /// Checks names and values, so a typo fails before anything is read.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.confidence > 0.5 && self.confidence < 1.0) {
            return Err(format!(
                "confidence = {}: give a two-sided confidence between 0.5 and 1, e.g. 0.95",
                self.confidence
            ));
        }
        self.noise_floor.value()?;
        for (name, rule) in &self.metrics {
            let known = NAMES.contains(&name.as_str())
                || name
                    .strip_prefix(STAGE_PREFIX)
                    .is_some_and(|s| !s.is_empty());
            if !known {
                return Err(format!(
                    "[metrics.{name}]: not a metric the gate knows; use one of {}, or stage_p95.<stage> / \"stage_p95.*\"",
                    NAMES.join(", ")
                ));
            }
            if let Some(f) = &rule.noise_floor {
                f.value().map_err(|e| format!("[metrics.{name}] {e}"))?;
            }
        }
        Ok(())
    }

    /// The rule for `name` over its defaults: the metric's own entry,
    /// else `stage_p95.*` for a stage, else the defaults. A relative
    /// metric's default floor is the file's `noise_floor`.
    pub fn applied(&self, name: &str, direction: Direction, default_floor: Option<f64>) -> Applied {
        let wildcard = name
            .starts_with(STAGE_PREFIX)
            .then(|| self.metrics.get("stage_p95.*"))
            .flatten();
        let rule = self.metrics.get(name).or(wildcard);
        let default_floor =
            default_floor.unwrap_or_else(|| self.noise_floor.value().unwrap_or(0.05));
        Applied {
            enabled: rule.and_then(|r| r.enabled).unwrap_or(true),
            direction: rule.and_then(|r| r.direction).unwrap_or(direction),
            floor: rule
                .and_then(|r| r.noise_floor.as_ref())
                .and_then(|f| f.value().ok())
                .unwrap_or(default_floor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_read_as_percentages_or_numbers() {
        assert_eq!(FloorSpec::Text("5%".into()).value(), Ok(0.05));
        assert_eq!(FloorSpec::Text(" 0.5 % ".into()).value(), Ok(0.005));
        assert_eq!(FloorSpec::Number(10.0).value(), Ok(10.0));
        assert!(
            FloorSpec::Text("five".into())
                .value()
                .unwrap_err()
                .contains("\"5%\"")
        );
        assert!(FloorSpec::Number(-1.0).value().is_err());
    }

    #[test]
    fn overrides_apply_by_name_then_wildcard_then_default() {
        let mut r = Rules::default();
        r.metrics.insert(
            "stage_p95.*".into(),
            MetricRule {
                noise_floor: Some(FloorSpec::Text("20%".into())),
                ..Default::default()
            },
        );
        r.metrics.insert(
            "stage_p95.llm".into(),
            MetricRule {
                enabled: Some(false),
                ..Default::default()
            },
        );
        r.validate().unwrap();
        let lower = Direction::LowerIsBetter;
        assert_eq!(r.applied("stage_p95.fetch", lower, None).floor, 0.2);
        assert!(!r.applied("stage_p95.llm", lower, None).enabled);
        assert_eq!(r.applied("stage_p95.llm", lower, None).floor, 0.05);
        assert_eq!(r.applied("latency_p99", lower, None).floor, 0.05);
        assert_eq!(r.applied("error_rate", lower, Some(0.005)).floor, 0.005);
    }

    #[test]
    fn unknown_names_and_bad_confidence_are_refused_with_the_fix() {
        let mut r = Rules::default();
        r.metrics.insert("latency_p9".into(), MetricRule::default());
        let e = r.validate().unwrap_err();
        assert!(e.contains("latency_p9") && e.contains("latency_p99"), "{e}");
        let r = Rules {
            confidence: 95.0,
            ..Rules::default()
        };
        assert!(r.validate().unwrap_err().contains("0.95"));
    }
}
