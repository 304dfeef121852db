//! Capacity by search (`[load.search]`): the answer, how narrow it is, what
//! broke first above it, and every probe that found it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the search found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchOutcome {
    /// Capacity lies between the highest passing and the lowest failing
    /// probe, narrowed to the resolution.
    Within,
    /// Even the lowest load (`min`) failed.
    BelowMin,
    /// The highest load (`max`) passed: capacity is at least that.
    AtLeastMax,
    /// The run stopped (Ctrl-C, `[abort]`) before the search was done.
    Unfinished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// A window at a load, passed or failed.
    Probe,
    /// The longer hold at the answer that confirms it.
    Confirm,
}

/// `[load.search]`'s result, under `capacity.search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacitySearch {
    /// `rate` (requests per second, open model) or `users` (closed).
    pub variable: String,
    pub unit: String,
    pub outcome: SearchOutcome,
    /// The highest load that met the objectives (confirmed by its hold
    /// when `confirmed`); null when even `min` failed.
    pub max_sustainable: Option<f64>,
    /// The lowest load that failed: capacity lies in [max_sustainable,
    /// this). Null when nothing failed.
    pub lowest_failing: Option<f64>,
    pub confirmed: bool,
    /// The ratio the interval was to be narrowed to (0.05: 5%).
    pub resolution: f64,
    /// The objectives the lowest failing probe broke.
    #[serde(default)]
    pub failed_first: Vec<String>,
    /// The stage whose p95 grew most from the last passing to the first
    /// failing probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grew_most: Option<StageGrowth>,
    pub probes: Vec<Probe>,
}

/// A stage's p95 at the highest passing and the lowest failing load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageGrowth {
    pub stage: String,
    pub passing_p95_ms: f64,
    pub failing_p95_ms: f64,
}

/// Why a probe was ended before its window was out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Oversaturation {
    /// Seconds into the probe when the test fired.
    pub after_s: f64,
    /// Requests in flight added per second.
    pub queue_growth_per_s: f64,
    /// Median latency's growth, ms per second.
    pub latency_growth_ms_per_s: f64,
}

/// One probe (or the confirming hold) at one load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub load: f64,
    pub kind: Option<ProbeKind>,
    /// Seconds from the run's start: the load held over [start_s, end_s).
    pub start_s: f64,
    pub end_s: f64,
    pub passed: bool,
    /// The objectives it broke.
    #[serde(default)]
    pub failed: Vec<String>,
    /// Set when the over-saturation test ended it early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversaturated: Option<Oversaturation>,
    /// Requests that ended in the window.
    pub requests: u64,
    /// Successful responses per second.
    pub achieved_rps: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stages_p95_ms: BTreeMap<String, f64>,
    /// Over the window's seconds, where the run read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_hit_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cpu_mean_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rss_max_mib: Option<f64>,
    /// What the probe's requests cost (the ledger's difference over the
    /// probe, or its responses' usage priced), and per successful article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_article_usd: Option<f64>,
}
