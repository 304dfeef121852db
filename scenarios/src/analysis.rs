//! The scenario's `[analysis]` table: how the leak and spike analyses
//! judge, and which memory series a leak is judged on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::parse_duration;
use crate::error::Invalid;
use crate::serde_secs::opt_secs;

/// How the leak and spike analyses judge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// RSS readings before this are warm-up and left out of the leak
    /// slope; `None`: the first 20% of the run.
    #[serde(serialize_with = "opt_secs")]
    pub warmup: Option<Duration>,
    /// Growth the verdict tolerates, MiB/h.
    pub leak_tolerance_mib_per_h: f64,
    /// Recovered once p95 is within this factor of the pre-burst p95.
    pub recovery_factor: f64,
    /// What memory the leak analysis fits.
    pub memory: MemorySignal,
    /// Whether a memory threshold the measurement cannot decide fails the
    /// run (the default) or passes it.
    pub inconclusive: Inconclusive,
}

/// What an inconclusive `rss_growth` threshold does to the run: its slope's
/// interval straddles the limit, or the Theil–Sen cross-check is on the
/// other side of it, so the run cannot say the budget was kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inconclusive {
    /// It fails the run: a memory budget passes only when it was shown kept.
    #[default]
    Fail,
    /// It passes, shown as `inconclusive` beside the passes.
    Pass,
}

/// The memory series a leak is judged on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySignal {
    /// The embedded pipeline's heap gauge; RSS for any other target.
    Auto,
    /// The target's resident set (its process tree), from /proc.
    Rss,
    /// A gauge in bytes from the target's Prometheus text (Go's
    /// `go_memstats_heap_inuse_bytes`, say): a heap count moves with what
    /// is kept, where RSS moves in steps as the allocator maps memory.
    Metrics {
        /// A path on the target (`/metrics`) or an http:// URL.
        url: String,
        gauge: String,
    },
}

/// The embedded pipeline's heap gauge (glibc's count of bytes in use).
pub const PIPELINE_HEAP_GAUGE: &str = "genbench_pipeline_heap_bytes";

pub const DEFAULT_LEAK_TOLERANCE_MIB_PER_H: f64 = 10.0;
pub const DEFAULT_RECOVERY_FACTOR: f64 = 1.25;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnalysis {
    warmup: Option<String>,
    leak_tolerance: Option<String>,
    recovery_factor: Option<f64>,
    memory: Option<String>,
    memory_url: Option<String>,
    inconclusive: Option<Inconclusive>,
}

fn memory_signal(memory: Option<String>, url: Option<String>) -> Result<MemorySignal, Invalid> {
    let bad = |m: String| Err(Invalid::new("analysis.memory".to_string(), m));
    let signal = match memory.as_deref().map(str::trim) {
        None | Some("auto") => MemorySignal::Auto,
        Some("rss") => MemorySignal::Rss,
        Some(m) => match m.strip_prefix("metrics:").map(str::trim) {
            Some(g) if !g.is_empty() && !g.contains(char::is_whitespace) => MemorySignal::Metrics {
                url: String::new(),
                gauge: g.to_string(),
            },
            _ => {
                return bad(format!(
                    "`{m}`: use \"auto\", \"rss\" or \"metrics:<gauge>\", e.g. \"metrics:go_memstats_heap_inuse_bytes\""
                ));
            }
        },
    };
    match (signal, url) {
        (MemorySignal::Metrics { gauge, .. }, u) => {
            let url = u.unwrap_or_else(|| "/metrics".into());
            if !(url.starts_with('/') || url.starts_with("http://")) {
                return Err(Invalid::new(
                    "analysis.memory_url".into(),
                    format!("`{url}`: a path on the target (\"/metrics\") or an http:// URL"),
                ));
            }
            Ok(MemorySignal::Metrics { url, gauge })
        }
        (_, Some(_)) => Err(Invalid::new(
            "analysis.memory_url".into(),
            "memory_url goes with memory = \"metrics:<gauge>\"; set that too or drop it".into(),
        )),
        (s, None) => Ok(s),
    }
}

/// Parses `"10MiB/h"` (also used by the `rss_growth` threshold).
pub(crate) fn mib_per_h(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .strip_suffix("MiB/h")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("`{s}`: write memory growth as MiB/h, e.g. \"10MiB/h\""))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("`{s}`: the tolerance must be more than 0 MiB/h"))
    }
}

impl RawAnalysis {
    /// `rss_growth` is the scenario's own `rss_growth` threshold, if any:
    /// the leak verdict then tolerates what the gate tolerates.
    pub(crate) fn validate(self, rss_growth: Option<f64>) -> Result<Analysis, Invalid> {
        let warmup = self
            .warmup
            .map(|w| parse_duration(&w).map_err(|m| Invalid::new("analysis.warmup".to_string(), m)))
            .transpose()?;
        let leak_tolerance_mib_per_h = match self.leak_tolerance {
            Some(t) => {
                mib_per_h(&t).map_err(|m| Invalid::new("analysis.leak_tolerance".to_string(), m))?
            }
            None => rss_growth.unwrap_or(DEFAULT_LEAK_TOLERANCE_MIB_PER_H),
        };
        let recovery_factor = self.recovery_factor.unwrap_or(DEFAULT_RECOVERY_FACTOR);
        if !(recovery_factor.is_finite() && recovery_factor >= 1.0) {
            return Err(Invalid::new(
                "analysis.recovery_factor".into(),
                "a factor of the pre-burst p95, 1 or more, e.g. 1.25".into(),
            ));
        }
        Ok(Analysis {
            warmup,
            leak_tolerance_mib_per_h,
            recovery_factor,
            memory: memory_signal(self.memory, self.memory_url)?,
            inconclusive: self.inconclusive.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_tolerance_defaults_to_the_rss_growth_threshold() {
        let a = RawAnalysis::default().validate(Some(25.0)).unwrap();
        assert_eq!(a.leak_tolerance_mib_per_h, 25.0);
        let a = RawAnalysis::default().validate(None).unwrap();
        assert_eq!(a.leak_tolerance_mib_per_h, DEFAULT_LEAK_TOLERANCE_MIB_PER_H);
        let raw: RawAnalysis =
            toml::from_str("leak_tolerance = \"200MiB/h\"\nwarmup = \"5s\"").unwrap();
        let a = raw.validate(Some(25.0)).unwrap();
        assert_eq!(a.leak_tolerance_mib_per_h, 200.0);
        assert_eq!(a.warmup, Some(Duration::from_secs(5)));
        let raw: RawAnalysis = toml::from_str("leak_tolerance = \"10MB\"").unwrap();
        assert!(raw.validate(None).unwrap_err().message.contains("MiB/h"));
    }

    #[test]
    fn the_memory_signal_is_auto_rss_or_a_gauge() {
        let memory = |t: &str| toml::from_str::<RawAnalysis>(t).unwrap().validate(None);
        assert_eq!(memory("").unwrap().memory, MemorySignal::Auto);
        assert_eq!(
            memory("memory = \"rss\"").unwrap().memory,
            MemorySignal::Rss
        );
        assert_eq!(
            memory("memory = \"metrics:go_memstats_heap_inuse_bytes\"")
                .unwrap()
                .memory,
            MemorySignal::Metrics {
                url: "/metrics".into(),
                gauge: "go_memstats_heap_inuse_bytes".into()
            }
        );
        let Invalid {
            key: k, message: m, ..
        } = memory("memory = \"heap\"").unwrap_err();
        assert_eq!(k, "analysis.memory");
        assert!(m.contains("metrics:<gauge>"), "{m}");
        let Invalid {
            key: k, message: _, ..
        } = memory("memory_url = \"/m\"").unwrap_err();
        assert_eq!(k, "analysis.memory_url");
        let Invalid {
            key: k, message: _, ..
        } = memory("memory = \"metrics:g\"\nmemory_url = \"m\"").unwrap_err();
        assert_eq!(k, "analysis.memory_url");
    }
}
