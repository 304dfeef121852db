//! `slo`: either a list of thresholds each stress step must meet (`slo =
//! ["p95 < 15s"]`), or a table of per-request objectives for goodput, which
//! may hold that list as `steps`:
//!
//! ```toml
//! [slo]
//! ttft = "600ms"     # each request: time to first content event under 600 ms
//! tpot = "50ms"      # and time per output token under 50 ms
//! latency = "20s"
//! steps = ["p95 < 15s"]
//! ```

use genbench_model::Objectives;

use crate::duration::parse_duration;
use crate::error::Invalid;
use crate::threshold::{Threshold, parse_threshold};

/// For stress: the service level a step must meet to count as sustained.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Slo {
    pub thresholds: Vec<Threshold>,
}

const KEYS_HELP: &str = "[slo] takes latency, ttfb, ttft and tpot (per-request limits such as \
ttft = \"600ms\") and steps (stress-step thresholds such as steps = [\"p95 < 15s\"])";

/// The step thresholds and the objectives `value` gives; errors name the
/// key (under `slo`) and the fix.
pub fn parse(value: &toml::Value) -> Result<(Option<Slo>, Objectives), Invalid> {
    let steps = |v: &toml::Value, key: &str| -> Result<Option<Slo>, Invalid> {
        let list = v.as_array().ok_or_else(|| {
            Invalid::new(
                key.to_string(),
                "give a list of thresholds, e.g. [\"p95 < 15s\", \"error_rate < 1%\"]".into(),
            )
        })?;
        let thresholds = list
            .iter()
            .map(|e| {
                e.as_str()
                    .ok_or_else(|| "each threshold is a string, e.g. \"p95 < 15s\"".to_string())
                    .and_then(parse_threshold)
                    .map_err(|m| Invalid::new(key.to_string(), m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!thresholds.is_empty()).then_some(Slo { thresholds }))
    };
    let table = match value {
        toml::Value::Array(_) => return Ok((steps(value, "slo")?, Objectives::default())),
        toml::Value::Table(t) => t,
        _ => return Err(Invalid::new("slo".into(), KEYS_HELP.into())),
    };
    let mut o = Objectives::default();
    let mut slo = None;
    for (k, v) in table {
        let key = format!("slo.{k}");
        let field = match k.as_str() {
            "steps" => {
                slo = steps(v, &key)?;
                continue;
            }
            "latency" => &mut o.latency_ms,
            "ttfb" => &mut o.ttfb_ms,
            "ttft" => &mut o.ttft_ms,
            "tpot" => &mut o.tpot_ms,
            _ => return Err(Invalid::new(key, format!("unknown key; {KEYS_HELP}"))),
        };
        *field = Some(limit(v).map_err(|m| Invalid::new(key, m))?);
    }
    Ok((slo, o))
}

/// `"600ms"` (or `"< 600ms"`) in milliseconds.
fn limit(v: &toml::Value) -> Result<f64, String> {
    let s = v
        .as_str()
        .ok_or("give a duration in quotes, e.g. \"600ms\"")?;
    let d = parse_duration(s.trim().trim_start_matches('<').trim())?;
    if d.is_zero() {
        return Err("a zero limit can never be met; give e.g. \"600ms\"".into());
    }
    Ok(d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(src: &str) -> Result<(Option<Slo>, Objectives), Invalid> {
        let t: toml::Table = toml::from_str(src).unwrap();
        parse(&t["slo"])
    }

    #[test]
    fn a_list_is_step_thresholds_and_a_table_is_objectives() {
        let (slo, o) = parsed(r#"slo = ["p95 < 15s", "error_rate < 1%"]"#).unwrap();
        assert_eq!(slo.unwrap().thresholds.len(), 2);
        assert!(o.is_empty());
        let (slo, o) = parsed(
            "[slo]\nttft = \"600ms\"\ntpot = \"< 50ms\"\nlatency = \"20s\"\nsteps = [\"p95 < 15s\"]",
        )
        .unwrap();
        assert_eq!(slo.unwrap().thresholds[0].value, 15_000.0);
        assert_eq!(
            o,
            Objectives {
                latency_ms: Some(20_000.0),
                ttfb_ms: None,
                ttft_ms: Some(600.0),
                tpot_ms: Some(50.0),
            }
        );
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        let e = parsed("[slo]\nttft_p95 = \"600ms\"").unwrap_err();
        assert_eq!(e.key, "slo.ttft_p95");
        assert!(e.message.contains("ttft"), "{}", e.message);
        let e = parsed("[slo]\nttft = 600").unwrap_err();
        assert!(e.message.contains("\"600ms\""), "{}", e.message);
        let e = parsed("[slo]\ntpot = \"0ms\"").unwrap_err();
        assert!(e.message.contains("never be met"), "{}", e.message);
        assert_eq!(parsed("slo = 3").unwrap_err().key, "slo");
    }
}
