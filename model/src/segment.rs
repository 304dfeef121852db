//! What a segment of a run (`genbench run --segment I/N`) says about
//! itself, so `genbench merge` can check that its parts belong together
//! and compute the analyses again over all of them: a verdict or a
//! percentile of one part does not combine with another's, the recordings
//! they came from do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which share of a scenario's load this run sent, and what its analyses
/// were computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// From 0, as `JOB_COMPLETION_INDEX` counts.
    pub index: u32,
    pub count: u32,
    /// A hash of the resolved scenario: parts of one run have the same.
    pub scenario_hash: String,
    pub seed: u64,
    /// `--start-at`, RFC 3339; null when the segment started at once.
    pub start_at: Option<String>,
    /// How late the load started after `start_at`, ms.
    pub start_lag_ms: Option<f64>,
    /// The analyses' inputs; absent from results written before merges
    /// re-ran the analyses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<SegmentAnalysis>,
}

/// What the capacity, spike and leak analyses read, beside the timeline
/// and memory series every result has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentAnalysis {
    /// The windows the analyses merge recordings over (a stress run's
    /// steps; a spike's base-rate seconds, then its burst), each with what
    /// this segment recorded in it.
    pub windows: Vec<WindowRecording>,
    /// The SLO a stress step is held to, as threshold expressions.
    pub slo: Vec<String>,
    /// A spike has recovered once p95 is within this factor of the
    /// pre-burst p95.
    pub recovery_factor: f64,
    /// How the leak analysis fits; null when the run judges no memory.
    pub leak: Option<LeakSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeakSettings {
    pub warmup_s: f64,
    pub tolerance_mib_per_h: f64,
}

/// One window's recording: the whole seconds of the run inside
/// `[start_s, end_s)` (from the segment's own start), merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowRecording {
    pub start_s: f64,
    pub end_s: f64,
    /// Seconds of recording inside the window (rates divide by this).
    pub covered_s: f64,
    /// A stress step's target rate; null for a spike's windows.
    pub target_rps: Option<f64>,
    pub ok: u64,
    /// Failed requests by [`crate::ErrorKind`] name.
    pub errors: BTreeMap<String, u64>,
    /// Requests that met every `[slo]` objective.
    pub goodput_met: u64,
    /// Encoded like `histograms.*`; null when nothing was recorded.
    pub latency_us: Option<String>,
    pub ttfb_us: Option<String>,
    pub ttft_us: Option<String>,
    pub tpot_us: Option<String>,
    pub itl_us: Option<String>,
}
