//! `Transfer-Encoding: chunked`, decoded incrementally as reads arrive:
//! what the HTTP/1.1 sender and the collectors' scrapes read bodies with.

use super::h1::{BadResponse, MAX_LINE_BYTES, trim};

/// What feeding bytes to a [`Chunked`] decoder yielded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fed {
    /// Input bytes used; the rest must be fed again with more after it.
    pub consumed: usize,
    /// Body (payload) bytes among them.
    pub data: u64,
    /// Chunks whose first payload byte was among them.
    pub chunks_started: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    /// Payload bytes left in the current chunk, and whether any was seen.
    Data(u64, bool),
    DataEnd,
    Trailer,
    Done,
}

/// Incremental decoder for `Transfer-Encoding: chunked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunked(State);

impl Default for Chunked {
    fn default() -> Self {
        Chunked(State::Size)
    }
}

impl Chunked {
    pub fn done(&self) -> bool {
        self.0 == State::Done
    }

    /// Decodes what `input` holds; each run of payload bytes is handed to
    /// `payload` as it is found.
    pub fn feed(
        &mut self,
        input: &[u8],
        mut payload: impl FnMut(&[u8]),
    ) -> Result<Fed, BadResponse> {
        let mut fed = Fed::default();
        loop {
            let rest = &input[fed.consumed..];
            match self.0 {
                State::Done => return Ok(fed),
                State::Size | State::Trailer | State::DataEnd => {
                    let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
                        if rest.len() > MAX_LINE_BYTES {
                            return Err(BadResponse);
                        }
                        return Ok(fed);
                    };
                    let line = trim(&rest[..nl]);
                    fed.consumed += nl + 1;
                    self.0 = match self.0 {
                        State::Size => match chunk_size(line)? {
                            0 => State::Trailer,
                            n => State::Data(n, false),
                        },
                        State::DataEnd if line.is_empty() => State::Size,
                        State::DataEnd => return Err(BadResponse),
                        _ if line.is_empty() => State::Done,
                        _ => State::Trailer,
                    };
                }
                State::Data(left, seen) => {
                    if rest.is_empty() {
                        return Ok(fed);
                    }
                    let n = left.min(rest.len() as u64);
                    payload(&rest[..n as usize]);
                    if !seen {
                        fed.chunks_started += 1;
                    }
                    fed.consumed += n as usize;
                    fed.data += n;
                    self.0 = if n == left {
                        State::DataEnd
                    } else {
                        State::Data(left - n, true)
                    };
                }
            }
        }
    }
}

fn chunk_size(line: &[u8]) -> Result<u64, BadResponse> {
    let hex = trim(line.split(|b| *b == b';').next().unwrap_or(line));
    if hex.is_empty() || hex.len() > 15 {
        return Err(BadResponse);
    }
    let s = std::str::from_utf8(hex).map_err(|_| BadResponse)?;
    u64::from_str_radix(s, 16).map_err(|_| BadResponse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_whole_or_byte_by_byte() {
        let body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\ntrailer: x\r\n\r\n";
        let mut d = Chunked::default();
        let mut payload = Vec::new();
        let fed = d.feed(body, |p| payload.extend_from_slice(p)).unwrap();
        assert_eq!(payload, b"hello world");
        assert_eq!(
            (fed.consumed, fed.data, fed.chunks_started, d.done()),
            (body.len(), 11, 2, true)
        );
        // Byte by byte, keeping what was not consumed, as reads may split it.
        let (mut d, mut pending, mut data, mut chunks) = (Chunked::default(), Vec::new(), 0, 0);
        for b in body {
            pending.push(*b);
            let fed = d.feed(&pending, |_| {}).unwrap();
            pending.drain(..fed.consumed);
            data += fed.data;
            chunks += fed.chunks_started;
        }
        assert_eq!((data, chunks, d.done(), pending.len()), (11, 2, true, 0));
    }

    #[test]
    fn broken_chunked_bodies_are_errors() {
        assert_eq!(Chunked::default().feed(b"zz\r\n", |_| {}), Err(BadResponse));
        assert_eq!(
            Chunked::default().feed(b"2\r\nabX\r\n", |_| {}),
            Err(BadResponse)
        );
        assert_eq!(
            Chunked::default().feed(&[b'1'; MAX_LINE_BYTES + 1], |_| {}),
            Err(BadResponse)
        );
    }
}
