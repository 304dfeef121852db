//! `[load.search]`: find the highest load that meets the objectives in one
//! run. The load (a rate in the open model, users in the closed) is probed
//! a window at a time between two bounds, narrowed to a resolution, and
//! confirmed by a longer hold; `[load] stages` do not apply.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::error::Invalid;
use crate::serde_secs::secs;

/// What the search varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchVariable {
    /// Requests per second (open model).
    Rate,
    /// Concurrent users (closed model).
    Users,
}

impl SearchVariable {
    /// The unit a load of this variable is written in.
    pub fn unit(self) -> &'static str {
        match self {
            SearchVariable::Rate => "req/s",
            SearchVariable::Users => "users",
        }
    }
}

/// A validated `[load.search]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Search {
    pub variable: SearchVariable,
    /// The first load probed.
    pub min: f64,
    /// The most load probed.
    pub max: f64,
    /// Done when the lowest failing load is within this ratio above the
    /// highest passing one (0.05: 5%).
    pub resolution: f64,
    /// How long each probe holds its load.
    #[serde(serialize_with = "secs")]
    pub probe: Duration,
    /// How long the answer is held to confirm it.
    #[serde(serialize_with = "secs")]
    pub hold: Duration,
    /// The pause after a failed probe, for the target to work off its
    /// queue before the next one.
    #[serde(serialize_with = "secs")]
    pub drain: Duration,
}

pub const DEFAULT_RESOLUTION: f64 = 0.05;
pub const DEFAULT_PROBE: Duration = Duration::from_secs(30);
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSearch {
    #[serde(default)]
    variable: Option<SearchVariable>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    resolution: Option<toml::Value>,
    #[serde(default)]
    probe: Option<String>,
    #[serde(default)]
    hold: Option<String>,
    #[serde(default)]
    drain: Option<String>,
}

fn bad(key: &str, message: impl Into<String>) -> Invalid {
    Invalid::new(format!("load.search.{key}"), message.into())
}

fn duration_key(key: &str, v: &Option<String>, default: Duration) -> Result<Duration, Invalid> {
    match v {
        None => Ok(default),
        Some(d) => parse_duration(d).map_err(|m| bad(key, m)),
    }
}

/// `resolution`: `"5%"` or `0.05`, above 0 and below 100%.
fn resolution(v: Option<&toml::Value>) -> Result<f64, Invalid> {
    const FORM: &str = "a share above 0 and below 100%, e.g. resolution = \"5%\" (or 0.05)";
    let r = match v {
        None => return Ok(DEFAULT_RESOLUTION),
        Some(toml::Value::Float(f)) => *f,
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(toml::Value::String(s)) => match s.trim().strip_suffix('%') {
            Some(p) => {
                p.trim()
                    .parse::<f64>()
                    .map_err(|_| bad("resolution", FORM))?
                    / 100.0
            }
            None => s
                .trim()
                .parse::<f64>()
                .map_err(|_| bad("resolution", FORM))?,
        },
        Some(_) => return Err(bad("resolution", FORM)),
    };
    if !(r.is_finite() && r > 0.0 && r < 1.0) {
        return Err(bad("resolution", FORM));
    }
    Ok(r)
}

impl RawSearch {
    /// `closed`: the scenario's model is the closed one (users).
    pub(crate) fn validate(self, closed: bool) -> Result<Search, Invalid> {
        let model_variable = if closed {
            SearchVariable::Users
        } else {
            SearchVariable::Rate
        };
        let variable = self.variable.unwrap_or(model_variable);
        if variable != model_variable {
            let want = match variable {
                SearchVariable::Rate => "the open model (model = \"open\") sends at a rate",
                SearchVariable::Users => "the closed model (model = \"closed\") has users",
            };
            return Err(bad(
                "variable",
                format!("{want}: switch [load] model, or drop variable (it follows the model)"),
            ));
        }
        let unit = variable.unit();
        let Some(max) = self.max else {
            return Err(bad(
                "max",
                format!(
                    "give the most load to probe, e.g. max = 200 ({unit}); the search stops there"
                ),
            ));
        };
        let min = self.min.unwrap_or(1.0);
        let whole = variable == SearchVariable::Users;
        for (key, v) in [("min", min), ("max", max)] {
            if !(v.is_finite() && v > 0.0) || (whole && v.fract() != 0.0) {
                let what = if whole {
                    "a whole number of users, 1 or more"
                } else {
                    "a rate above 0, requests per second"
                };
                return Err(bad(key, what));
            }
        }
        if min >= max {
            return Err(bad(
                "min",
                format!("min ({min}) must be below max ({max}): the search probes between them"),
            ));
        }
        let probe = duration_key("probe", &self.probe, DEFAULT_PROBE)?;
        if probe < Duration::from_secs(10) {
            return Err(bad(
                "probe",
                "at least 10s: the over-saturation test needs its seconds, and percentiles their requests",
            ));
        }
        let hold = duration_key("hold", &self.hold, probe * 2)?;
        if hold < probe {
            return Err(bad(
                "hold",
                format!(
                    "at least the probe window ({} s): the hold confirms what a probe found",
                    probe.as_secs_f64()
                ),
            ));
        }
        Ok(Search {
            variable,
            min,
            max,
            resolution: resolution(self.resolution.as_ref())?,
            probe,
            hold,
            drain: duration_key("drain", &self.drain, DEFAULT_DRAIN)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str, closed: bool) -> Result<Search, String> {
        let raw: RawSearch = toml::from_str(toml).map_err(|e| e.to_string())?;
        raw.validate(closed)
            .map_err(|e| format!("{}: {}", e.key, e.message))
    }

    #[test]
    fn defaults_follow_the_model_and_the_probe() {
        let s = parse("max = 200", false).unwrap();
        assert_eq!(s.variable, SearchVariable::Rate);
        assert_eq!((s.min, s.max, s.resolution), (1.0, 200.0, 0.05));
        assert_eq!((s.probe, s.hold), (DEFAULT_PROBE, DEFAULT_PROBE * 2));
        let s = parse(
            "max = 64\nmin = 4\nresolution = \"10%\"\nprobe = \"20s\"",
            true,
        )
        .unwrap();
        assert_eq!(s.variable, SearchVariable::Users);
        assert_eq!((s.min, s.resolution), (4.0, 0.1));
        assert_eq!(s.hold, Duration::from_secs(40));
        assert_eq!(
            parse("max = 9\nresolution = 0.02", false)
                .unwrap()
                .resolution,
            0.02
        );
    }

    #[test]
    fn bad_keys_say_what_to_write() {
        let cases = [
            ("min = 5", false, "load.search.max: give the most load"),
            (
                "max = 10\nmin = 10",
                false,
                "load.search.min: min (10) must be below max",
            ),
            (
                "max = 10.5",
                true,
                "load.search.max: a whole number of users",
            ),
            (
                "max = 10\nvariable = \"users\"",
                false,
                "load.search.variable: the closed model",
            ),
            (
                "max = 10\nresolution = \"0%\"",
                false,
                "load.search.resolution: a share above 0",
            ),
            (
                "max = 10\nresolution = \"five\"",
                false,
                "load.search.resolution",
            ),
            (
                "max = 10\nprobe = \"2s\"",
                false,
                "load.search.probe: at least 10s",
            ),
            (
                "max = 10\nprobe = \"20s\"\nhold = \"10s\"",
                false,
                "load.search.hold: at least the probe",
            ),
            ("max = 10\ndrain = \"soon\"", false, "load.search.drain"),
        ];
        for (toml, closed, want) in cases {
            let got = parse(toml, closed).unwrap_err();
            assert!(got.starts_with(want), "{toml}: {got}");
        }
        assert!(
            parse("max = 10\nbounds = 3", false)
                .unwrap_err()
                .contains("bounds")
        );
    }
}
