//! A request's slot: the kept-alive connection and buffers a request in
//! flight borrows from its worker and gives back with its sample.

use genbench_collectors::connections::ConnEvent;

use super::chunks::Mark;
use super::requests::Rendered;
use crate::net::conn::Stream;

/// What a request in flight borrows from its worker and gives back with its
/// sample: a kept-alive connection, if one is idle, and buffers. A worker's
/// slots are its connection pool, with no lock: each is owned by one
/// request at a time, and once warm a request allocates nothing here.
///
/// Boxed: a request's future is moved each time the worker queues it and
/// its result each time it is taken out, and a pointer moves where the
/// state's 400-odd bytes would be copied.
#[derive(Default)]
pub struct Slot(Box<SlotState>);

impl std::ops::Deref for Slot {
    type Target = SlotState;
    fn deref(&self) -> &SlotState {
        &self.0
    }
}

impl std::ops::DerefMut for Slot {
    fn deref_mut(&mut self) -> &mut SlotState {
        &mut self.0
    }
}

/// A [`Slot`]'s connection and buffers.
#[derive(Default)]
pub struct SlotState {
    pub(super) request: Rendered,
    pub(super) conn: Option<Stream>,
    pub(super) write: Vec<u8>,
    pub(super) read: Vec<u8>,
    pub(super) gaps_us: Vec<u32>,
    /// An event stream's arrivals: body bytes so far at the end of each read.
    pub(super) marks: Vec<Mark>,
    pub(super) server_timing: Vec<u8>,
    pub(super) location: Vec<u8>,
    pub(super) request_id: Vec<u8>,
    /// The sender's captured headers' values, in its order (empty: absent).
    pub(super) captured: Vec<Vec<u8>>,
    pub(super) body: Vec<u8>,
    /// Set while following a redirect: the path to ask for instead.
    pub(super) redirect: Option<String>,
    /// A connection this request opened, or failed to.
    pub(super) conn_event: Option<ConnEvent>,
    /// The check (by index in [`Checks::names`]) the response failed.
    pub(super) failed_check: Option<usize>,
}

impl SlotState {
    /// The request to send next, to render into.
    /// The request last sent from this slot.
    pub fn request(&self) -> &Rendered {
        &self.request
    }

    pub fn request_mut(&mut self) -> &mut Rendered {
        &mut self.request
    }

    /// Gaps between the last response's body chunks, µs.
    pub fn gaps_us(&self) -> &[u32] {
        &self.gaps_us
    }

    /// When each read of the last event-stream response ended, with the
    /// body bytes it completed (empty for other responses).
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// The last response's `Server-Timing` value (empty if none).
    pub fn server_timing(&self) -> &[u8] {
        &self.server_timing
    }

    /// The last response's request id header value (empty if none).
    pub fn request_id(&self) -> &[u8] {
        &self.request_id
    }

    /// The last response's value of the sender's `i`-th captured header
    /// ([`Sender::with_captured`]), if it sent one.
    pub fn captured(&self, i: usize) -> Option<&[u8]> {
        self.captured
            .get(i)
            .map(Vec::as_slice)
            .filter(|v| !v.is_empty())
    }

    /// The last response's body, if the sender keeps bodies.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A connection the last request opened (or failed to open).
    pub fn conn_event(&self) -> Option<ConnEvent> {
        self.conn_event
    }

    /// The check the last response failed, by index in [`Checks::names`].
    pub fn failed_check(&self) -> Option<usize> {
        self.failed_check
    }

    pub(super) fn reset(&mut self) {
        self.gaps_us.clear();
        self.marks.clear();
        self.server_timing.clear();
        self.location.clear();
        self.captured.iter_mut().for_each(Vec::clear);
        self.body.clear();
        self.redirect = None;
        self.conn_event = None;
        self.failed_check = None;
    }
}
