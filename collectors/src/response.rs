//! One finished request as the engine hands it to the collectors: the one
//! way a request's measurements reach a [`Recorder`](crate::Recorder).
//! Whatever produced a figure (the response's headers, its body, its
//! stream's events, the connection it went over, the flow it belongs to),
//! it arrives here, and the recorder files each part where it belongs.

use genbench_model::Objectives;

use crate::body::Usage;
use crate::connections::ConnEvent;
use crate::flows::Attempt;
use crate::llm::LlmSample;
use crate::sample::{CacheStatus, Sample};

/// Most `[collect.caches.NAME]` a response reports on.
pub const MAX_NAMED: usize = 8;

/// What the body said, beside the timing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BodyFacts<'a> {
    /// Each named cache's status, by the cache's index.
    pub caches: [Option<CacheStatus>; MAX_NAMED],
    /// The usage the body reported, with its model.
    pub usage: Option<(&'a str, Usage)>,
    pub search_calls: u64,
}

/// Everything one request produced.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub sample: Sample,
    /// The `Server-Timing` value (empty: none).
    pub server_timing: &'a [u8],
    /// A connection the request opened, or failed to.
    pub conn: Option<ConnEvent>,
    /// The response check it failed, by index.
    pub failed_check: Option<usize>,
    /// Gaps between the body's chunks, µs.
    pub gaps_us: &'a [u32],
    /// An LLM stream's figures, with the gaps between its content events.
    pub llm: Option<(&'a LlmSample, &'a [u32])>,
    /// The `[slo]` objectives the request is judged against.
    pub objectives: Option<&'a Objectives>,
    pub body: BodyFacts<'a>,
    /// A flow's step and which attempt at it this was.
    pub step: Option<(usize, Attempt)>,
}

impl<'a> Response<'a> {
    /// A response with nothing but its timing.
    pub fn of(sample: Sample) -> Response<'a> {
        Response {
            sample,
            server_timing: &[],
            conn: None,
            failed_check: None,
            gaps_us: &[],
            llm: None,
            objectives: None,
            body: BodyFacts::default(),
            step: None,
        }
    }
}
