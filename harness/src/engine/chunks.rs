//! The clock a response's body is timed by, shared by the HTTP/1.1 and
//! HTTP/2 exchanges.

use std::time::Duration;

use genbench_collectors::Sample;
use tokio::time::Instant;

/// Body bytes received so far, and when the read that brought them ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub end: u64,
    pub at: Duration,
}

/// Most chunk gaps kept per response; a longer stream's later gaps are not
/// timed, so one runaway stream cannot grow a worker's buffers without bound.
pub const MAX_GAPS_PER_RESPONSE: usize = 1 << 16;

/// Times a body's arrival: the first byte, the gap before each chunk, and
/// for an event stream the end of each read ([`Mark`]). Made by
/// `Sender::chunks`.
pub struct Chunks<'a> {
    pub t0: Instant,
    pub timed: bool,
    pub last: Option<Duration>,
    pub sample: &'a mut Sample,
    pub gaps_us: &'a mut Vec<u32>,
    /// `Some` for an event stream.
    pub marks: Option<&'a mut Vec<Mark>>,
    /// Body bytes of this response so far.
    pub seen: u64,
}

impl Chunks<'_> {
    /// `bytes` of body arrived now, starting `chunks` chunks (reads, for
    /// bodies not chunk-encoded).
    pub fn arrived(&mut self, bytes: u64, chunks: u32) {
        if bytes == 0 {
            return;
        }
        let now = self.t0.elapsed();
        self.sample.bytes += bytes;
        self.seen += bytes;
        if let Some(m) = self.marks.as_deref_mut()
            && m.len() < MAX_GAPS_PER_RESPONSE
        {
            m.push(Mark {
                end: self.seen,
                at: now,
            });
        }
        if self.sample.first_byte.is_none() {
            self.sample.first_byte = Some(now);
        }
        if !self.timed {
            return;
        }
        for _ in 0..chunks {
            if let Some(prev) = self.last
                && self.gaps_us.len() < MAX_GAPS_PER_RESPONSE
            {
                let us = now.saturating_sub(prev).as_micros();
                self.gaps_us.push(us.clamp(1, u32::MAX as u128) as u32);
            }
            self.last = Some(now);
        }
    }
}
