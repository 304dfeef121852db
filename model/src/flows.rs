//! The `flows` section of results.json: what a multi-step scenario
//! (`[[flow.steps]]`) measured per step and per flow.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ErrorKind, LatencySummaryMs};

/// Why a flow failed: one of its requests did, or something only a flow
/// can get wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowErrorKind {
    /// A step's request failed (after any retries a 429 earned).
    Request(ErrorKind),
    /// A poll's `timeout` passed before its `until` value was one of `equals`.
    PollTimeout,
    /// A poll read one of its `fail_on` values: the job itself failed.
    JobFailed,
    /// A value a step extracts was not in its answer.
    Extract,
    /// The client gave up on a step's request (`[load] abandon_after`,
    /// `[load.cancel]`).
    Abandoned,
}

impl FlowErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            FlowErrorKind::Request(k) => k.name(),
            FlowErrorKind::PollTimeout => "poll_timeout",
            FlowErrorKind::JobFailed => "job_failed",
            FlowErrorKind::Extract => "extract",
            FlowErrorKind::Abandoned => "abandoned",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "poll_timeout" => FlowErrorKind::PollTimeout,
            "job_failed" => FlowErrorKind::JobFailed,
            "extract" => FlowErrorKind::Extract,
            "abandoned" => FlowErrorKind::Abandoned,
            _ => FlowErrorKind::Request(ErrorKind::ALL.into_iter().find(|k| k.name() == s)?),
        })
    }
}

impl Serialize for FlowErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for FlowErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FlowErrorKind::from_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown flow error kind `{s}`")))
    }
}

/// One flow as a point of the report's chart: when it ended, how long it
/// took from its scheduled start, and how it went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlowPoint {
    /// Seconds from the run's start to the flow's end.
    pub t_s: f64,
    pub latency_ms: f64,
    /// `None`: completed; else the kind that failed it.
    pub error: Option<FlowErrorKind>,
}

/// Flows that failed at one step with one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowFailure {
    pub step: String,
    pub kind: FlowErrorKind,
    pub count: u64,
    /// What the first of them saw (the value read, the pointer missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// One step of the flow: every request it sent, polls and retries included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub name: String,
    /// Requests this step sent (each poll and each retry counted).
    pub requests: u64,
    pub ok: u64,
    /// Failed requests by [`ErrorKind`] name.
    pub errors: BTreeMap<String, u64>,
    /// Successful requests' latency, from each send (the first step's, in
    /// the open model, from the flow's scheduled start).
    pub latency_ms: Option<LatencySummaryMs>,
    /// Requests that were polls after this step's first.
    pub polls: u64,
    /// Requests that repeated a 429 answer's after its `Retry-After`.
    pub retried_429: u64,
}

/// Polls per flow that got to a poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PollsPerFlow {
    pub mean: f64,
    pub max: u64,
}

/// What a flow scenario measured, beside the request-level figures (which
/// count every step's requests).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowsResult {
    /// Flows that ended: completed plus failed.
    pub ended: u64,
    pub completed: u64,
    pub failed: u64,
    /// Flows still running when the run ended (cut by its end or Ctrl-C).
    pub unfinished: u64,
    /// Failed flows / ended flows, 0 to 1.
    pub error_rate: f64,
    /// Completed flows per hour over the run (`duration_s`).
    pub per_hour: f64,
    /// Completed flows, from each flow's scheduled start (the open model) or
    /// its first send (the closed model) to its last step's answer.
    pub latency_ms: Option<LatencySummaryMs>,
    /// From the flow's start until the polled state first left the value
    /// it first had (e.g. `queued`), in flows where it did.
    pub queued_ms: Option<LatencySummaryMs>,
    pub polls_per_flow: Option<PollsPerFlow>,
    /// The shortest poll interval of the flow's polls: a flow is seen done
    /// up to this late, so its latency and queued time are biased upward by
    /// up to one interval. Null without polls.
    pub poll_interval_s: Option<f64>,
    pub steps: Vec<StepResult>,
    /// Failed flows by the step and kind that failed them, most first.
    pub failures: Vec<FlowFailure>,
    /// Each flow, when there were few enough to see one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<FlowPoint>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        let mut all: Vec<FlowErrorKind> = ErrorKind::ALL
            .into_iter()
            .map(FlowErrorKind::Request)
            .collect();
        all.extend([
            FlowErrorKind::PollTimeout,
            FlowErrorKind::JobFailed,
            FlowErrorKind::Extract,
            FlowErrorKind::Abandoned,
        ]);
        for k in all {
            let v = serde_json::to_value(k).unwrap();
            assert_eq!(v, k.name());
            assert_eq!(serde_json::from_value::<FlowErrorKind>(v).unwrap(), k);
        }
        assert!(serde_json::from_value::<FlowErrorKind>("nope".into()).is_err());
    }
}
