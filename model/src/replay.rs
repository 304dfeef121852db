//! What a replay sent of its trace, and how closely it kept the trace's
//! times.

use serde::{Deserialize, Serialize};

use crate::LatencySummaryMs;

/// `[load] model = "replay"`: the trace, how much of it this run sent, and
/// schedule fidelity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplayResult {
    /// The trace file as the scenario names it, and its format.
    pub file: String,
    pub format: String,
    /// Rows in the file, and in the window replayed (one pass).
    pub rows: u64,
    pub window_rows: u64,
    /// Rows this run sent (its segment's, over every pass).
    pub sent: u64,
    pub passes: u32,
    pub time_scale: f64,
    /// The window's span on the trace's clock, unscaled.
    pub trace_span_s: f64,
    /// Rows the rate cap sent later than the trace says.
    pub held_by_rate_cap: u64,
    /// Credential headers in the trace, never sent.
    pub credentials_dropped: u64,
    /// How far each row's send fell from the trace's scaled instant: the
    /// worker's wake-up lag plus any rate-cap hold. Send lag (to the
    /// request's first byte) is the result's `send_lag_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fidelity_ms: Option<LatencySummaryMs>,
    /// Why the replay stopped before the trace's end, if it did (a file
    /// changed or unreadable after the scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
