//! What an exchange needs of its sender: where requests go, their heads,
//! the response headers to keep, and how to time and keep a body. The
//! sender owns one; the HTTP/1.1 and HTTP/2 exchanges read it and nothing
//! else of the sender, so neither imports the sender that calls them.

use genbench_collectors::Sample;
use tokio::time::Instant;

use super::chunks::{Chunks, Mark};
use super::h1::RequestHead;
use crate::net::url::TargetUrl;

/// Most body bytes kept for inspection; an article or its stream is far
/// smaller, and a runaway body is inspected by its start only.
pub const MAX_BODY_BYTES: usize = 4 << 20;

pub(super) struct Wire {
    pub(super) target: TargetUrl,
    pub(super) head: RequestHead,
    /// For a redirect that turns the request into a GET (301, 302, 303).
    pub(super) get_head: RequestHead,
    pub(super) cache_header: String,
    /// The response header that carries the target's request id, kept for
    /// `--records` ("" for none).
    pub(super) request_id_header: String,
    /// Response headers kept by name for the caller (`Slot::captured`).
    pub(super) captured: Vec<String>,
    /// Time chunk gaps on every response, not only `text/event-stream` ones.
    pub(super) stream: bool,
    /// Keep every response's body (up to `MAX_BODY_BYTES`): something
    /// reads bodies.
    pub(super) capture_body: bool,
    pub(super) t0: Instant,
}

impl Wire {
    /// The clock that times a response's body: every chunk's gap when the
    /// scenario streams or the response is an event stream.
    pub(super) fn chunks<'a>(
        &self,
        event_stream: bool,
        sample: &'a mut Sample,
        gaps_us: &'a mut Vec<u32>,
        marks: &'a mut Vec<Mark>,
    ) -> Chunks<'a> {
        Chunks {
            t0: self.t0,
            timed: self.stream || event_stream,
            last: None,
            sample,
            gaps_us,
            marks: event_stream.then_some(marks),
            seen: 0,
        }
    }

    /// Keeps `data` of a body when anything reads bodies, and always for an
    /// event stream, which may be an LLM stream to measure (`engine::llm`).
    pub(super) fn keep_body(&self, event_stream: bool, body: &mut Vec<u8>, data: &[u8]) {
        if self.capture_body || event_stream {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
}
