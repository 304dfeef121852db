//! The analyses a scenario's kind asks for: a stress run's capacity (or a
//! search's), a spike's recovery, and what profiling the target gave.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One constant-rate step of a stress run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    pub target_rps: f64,
    /// Successful responses per second over the step.
    pub achieved_rps: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate: f64,
    pub meets_slo: bool,
    /// Each `Server-Timing` stage's p95 over the step: which stage grows
    /// first as the rate rises.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stages_p95_ms: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub max_sustainable_rps: Option<f64>,
    pub knee_rps: Option<f64>,
    /// The SLO each step was held to.
    #[serde(default)]
    pub slo: Vec<String>,
    #[serde(default)]
    pub steps: Vec<CapacityStep>,
    /// `[load.search]`: the answer and its probes (no steps then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::CapacitySearch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    /// Seconds from the burst's end until p95 is back to the baseline's;
    /// null if it never was before the run ended.
    pub recovery_s: Option<f64>,
    pub errors_during_burst: u64,
    pub p95_during_burst_ms: f64,
    /// p95 over the base-rate seconds before the burst.
    #[serde(default)]
    pub baseline_p95_ms: Option<f64>,
    #[serde(default)]
    pub burst_start_s: f64,
    #[serde(default)]
    pub burst_end_s: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfilerKind {
    #[serde(rename = "pprof")]
    Pprof,
    #[serde(rename = "py-spy")]
    PySpy,
    #[serde(rename = "perf")]
    Perf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileStatus {
    /// The flamegraph is in `artifacts.flamegraph_svg`.
    Captured,
    /// A profiler ran and failed; the run itself is unaffected.
    Failed,
    /// No profiler ran (turned off, a soak, nothing to attach to).
    Skipped,
}

/// What happened to profiling in this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub tool: Option<ProfilerKind>,
    pub status: ProfileStatus,
    /// Why it was skipped or failed, or what was captured.
    pub detail: String,
    /// The window profiled, seconds from the run's start.
    pub window_s: Option<[f64; 2]>,
}
