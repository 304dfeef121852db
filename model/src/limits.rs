//! When genbench itself limited what it measured (`generator_limited`).

use serde::{Deserialize, Serialize};

/// genbench's own CPU reached the cores it had, or its schedule fell
/// behind: measurements from `from_s` on include its own delay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneratorLimited {
    /// Seconds into the run from which it was the limit.
    pub from_s: f64,
    /// Cores' worth of CPU genbench used at its busiest second.
    pub cores_used: f64,
    /// Cores it could run on.
    pub cores: f64,
    /// The open model's send lag p99, when it fell behind its schedule.
    pub send_lag_p99_ms: Option<f64>,
    /// The measurements it limits, in words ("latency", "TTFT", …).
    pub affects: Vec<String>,
    /// The sentence every output shows.
    pub message: String,
}
