//! One request as measured: every time is an offset from the run's start,
//! taken by the engine; collectors never read clocks.

use std::time::Duration;

use genbench_model::{ErrorKind, GiveUp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response with this status (2xx or 3xx).
    Ok(u16),
    Error(ErrorKind),
    /// The client gave up before the response was complete
    /// (`[load] abandon_after`, `[load.cancel]`): not the target's error.
    Abandoned(GiveUp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

/// A finished request. `Copy` and fixed-size, so recording one allocates
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When the schedule wanted it sent (open model), or when it was sent
    /// (closed model). Latency counts from here: no coordinated omission.
    pub scheduled: Duration,
    pub sent: Duration,
    /// First byte of the body (first token, for streams).
    pub first_byte: Option<Duration>,
    pub end: Duration,
    pub outcome: Outcome,
    pub bytes: u64,
    pub cache: Option<CacheStatus>,
    /// The trace context the request carried (`[collect.traces]`).
    pub trace: Option<crate::traces::TraceIds>,
}

impl Sample {
    /// Scheduled to end: what a user waiting for it experiences.
    pub fn latency(&self) -> Duration {
        self.end.saturating_sub(self.scheduled)
    }

    /// Send to end: the target's service time alone.
    pub fn service(&self) -> Duration {
        self.end.saturating_sub(self.sent)
    }

    /// Scheduled to first byte.
    pub fn ttfb(&self) -> Option<Duration> {
        self.first_byte.map(|f| f.saturating_sub(self.scheduled))
    }

    pub fn ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok(_))
    }
}
