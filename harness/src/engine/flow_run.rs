//! One flow in progress, as it travels from step to step with its
//! requests: plain data, read and moved on by [`super::flow::FlowPlan`].

use std::time::Duration;

use genbench_collectors::flows::Attempt;

/// One flow in progress: it travels with its request and comes back with
/// the answer.
pub struct FlowRun {
    pub id: u64,
    pub(super) rows: Vec<usize>,
    pub(super) vars: Vec<(String, String)>,
    pub(super) step: usize,
    /// The flow's start: its first request's scheduled instant.
    pub(super) start: Option<Duration>,
    /// When the current step's first request was sent (its poll's clock).
    pub(super) step_sent: Duration,
    pub(super) polls: u64,
    pub(super) retries: u32,
    pub(super) initial_state: Option<serde_json::Value>,
    pub(super) queued: Option<Duration>,
    pub(super) attempt: Attempt,
    /// Requests rendered so far: the next one's span in the flow's trace.
    pub(super) sent: u32,
}
