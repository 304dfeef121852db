//! Load stages: a target (requests/s in the open model, users in the closed
//! one) reached by a linear ramp from the previous stage's target (the first
//! ramps from 0) over the stage's duration. goose's `"10,60s;100,30s;0,10s"`
//! shorthand means the same list.

use std::time::Duration;

use serde::Serialize;

use crate::duration::parse_duration;
use crate::serde_secs::secs;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stage {
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    pub target: f64,
}

/// Parses `"target,duration;target,duration;…"`.
pub fn parse_shorthand(s: &str) -> Result<Vec<Stage>, String> {
    let stages = s
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (t, d) = part
                .split_once(',')
                .ok_or_else(|| format!("stage `{part}` is not `target,duration`, e.g. `10,60s`"))?;
            let target = t
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("stage `{part}`: `{t}` is not a number"))?;
            Ok(Stage {
                duration: parse_duration(d)?,
                target,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if stages.is_empty() {
        return Err("no stages; write e.g. \"10,60s;100,30s;0,10s\"".into());
    }
    Ok(stages)
}

/// Checks targets and durations; `Err` says which stage and why.
pub fn validate(stages: &[Stage]) -> Result<(), String> {
    if stages.is_empty() {
        return Err("at least one stage is needed".into());
    }
    for (i, s) in stages.iter().enumerate() {
        if !(s.target.is_finite() && s.target >= 0.0) {
            return Err(format!(
                "stage {}: target {} must be a number >= 0",
                i + 1,
                s.target
            ));
        }
        if s.duration.is_zero() {
            return Err(format!("stage {}: duration must be more than 0", i + 1));
        }
    }
    if stages.iter().all(|s| s.target == 0.0) {
        return Err("every stage targets 0: nothing would be sent".into());
    }
    Ok(())
}

/// Total length of the staged run.
pub fn total(stages: &[Stage]) -> Duration {
    stages.iter().map(|s| s.duration).sum()
}

/// The target at `t` into the run: linear within each stage's ramp, 0 after.
pub fn target_at(stages: &[Stage], t: Duration) -> f64 {
    let mut start = Duration::ZERO;
    let mut from = 0.0;
    for s in stages {
        if t < start + s.duration {
            let f = (t - start).as_secs_f64() / s.duration.as_secs_f64();
            return from + (s.target - from) * f;
        }
        start += s.duration;
        from = s.target;
    }
    0.0
}

const STAGE_FORM: &str = "a stage is { duration = \"30s\", target = 10 } (target: requests/s in the open model, users in the closed)";

/// `load.stages`: the shorthand (`"10,30s;20,30s"`) or a list of tables.
pub fn from_toml(v: &toml::Value) -> Result<Vec<Stage>, String> {
    let list = match v {
        toml::Value::String(s) => return parse_shorthand(s),
        toml::Value::Array(list) => list,
        other => {
            return Err(format!(
                "expected a string such as \"10,30s;20,30s\" or a list of stages, found {}; {STAGE_FORM}",
                other.type_str()
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, st)| {
            let n = i + 1;
            let t = st
                .as_table()
                .ok_or_else(|| format!("stage {n} is {st}, not a table; {STAGE_FORM}"))?;
            if let Some(k) = t.keys().find(|k| *k != "duration" && *k != "target") {
                return Err(format!("stage {n} has an unknown key `{k}`; {STAGE_FORM}"));
            }
            let duration = match t.get("duration") {
                Some(toml::Value::String(d)) => {
                    parse_duration(d).map_err(|e| format!("stage {n}: {e}"))?
                }
                Some(other) => {
                    return Err(format!(
                        "stage {n}: duration = {other} must be a string such as \"30s\""
                    ));
                }
                None => return Err(format!("stage {n} has no duration; {STAGE_FORM}")),
            };
            let target = match t.get("target") {
                Some(toml::Value::Integer(x)) => *x as f64,
                Some(toml::Value::Float(x)) => *x,
                Some(other) => {
                    return Err(format!(
                        "stage {n}: target = {other} must be a number; {STAGE_FORM}"
                    ));
                }
                None => return Err(format!("stage {n} has no target; {STAGE_FORM}")),
            };
            Ok(Stage { duration, target })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_shorthand() {
        let s = parse_shorthand("10,60s;100,30s;0,10s").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[1],
            Stage {
                duration: Duration::from_secs(30),
                target: 100.0
            }
        );
        assert_eq!(total(&s), Duration::from_secs(100));
        assert!(
            parse_shorthand("10")
                .unwrap_err()
                .contains("target,duration")
        );
        assert!(
            parse_shorthand("x,1s")
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn ramps_are_linear_from_the_previous_target() {
        let s = parse_shorthand("10,10s;10,10s;30,10s").unwrap();
        assert_eq!(target_at(&s, Duration::from_secs(5)), 5.0);
        assert_eq!(target_at(&s, Duration::from_secs(15)), 10.0);
        assert_eq!(target_at(&s, Duration::from_secs(25)), 20.0);
        assert_eq!(target_at(&s, Duration::from_secs(31)), 0.0);
    }

    #[test]
    fn validation() {
        assert!(
            validate(&parse_shorthand("0,10s").unwrap())
                .unwrap_err()
                .contains("nothing")
        );
        assert!(validate(&parse_shorthand("-1,10s").unwrap()).is_err());
        assert!(
            validate(&parse_shorthand("1,0s").unwrap())
                .unwrap_err()
                .contains("more than 0")
        );
        assert!(validate(&parse_shorthand("1,1s").unwrap()).is_ok());
    }
}
