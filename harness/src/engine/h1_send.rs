//! One HTTP/1.1 exchange on the slot's kept-alive connection (plain or
//! TLS): the engine's own client, written into reused buffers and parsed in
//! place, which is what keeps genbench level with wrk (BENCHMARKS.md).

use genbench_collectors::Sample;
use genbench_collectors::connections::ConnEvent;
use genbench_model::ErrorKind;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::chunked::Chunked;
use super::chunks::Chunks;
use super::h1::{Framing, Head, parse_head};
use super::slot::SlotState;
use super::wire::Wire;
use crate::net::conn::{ConnectFailed, Connector, Stream};

/// How one attempt on one connection ended badly.
enum Fail {
    /// A kept-alive connection closed before any byte of the answer: the
    /// server dropped it while idle, so the request is sent again on a new one.
    Stale,
    Kind(ErrorKind),
}

async fn open(c: &Connector, slot: &mut SlotState) -> Result<Stream, ErrorKind> {
    // Boxed: connecting (with a TLS handshake's state) is a 1.2 KB future,
    // and inline it would size every request's future, kept-alive or not.
    match Box::pin(c.connect()).await {
        Ok((s, e)) => {
            slot.conn_event = Some(e);
            Ok(s)
        }
        Err(ConnectFailed(k)) => {
            slot.conn_event = Some(ConnEvent::Failed);
            Err(k)
        }
    }
}

/// Sends the slot's request (as a GET without body when `as_get`) and reads
/// the whole response: its status.
pub(super) async fn exchange(
    s: &Wire,
    c: &Connector,
    slot: &mut SlotState,
    sample: &mut Sample,
    as_get: bool,
) -> Result<u16, ErrorKind> {
    let head = if as_get { &s.get_head } else { &s.head };
    let (base, path) = match &slot.redirect {
        Some(p) => ("", p.as_str()),
        None => (s.target.base_path.as_str(), slot.request.path.as_str()),
    };
    let body = match as_get {
        true => None,
        false => slot.request.body.as_deref().map(str::as_bytes),
    };
    let traceparent = slot.request.trace.map(|t| t.traceparent());
    let method = slot.request.method.as_deref().filter(|_| !as_get);
    head.encode_row(
        &mut slot.write,
        base,
        path,
        body,
        traceparent.as_ref().map(|t| &t[..]),
        method,
        &slot.request.headers,
    )
    .map_err(|_| ErrorKind::Invalid)?;
    let (reused, mut conn) = match slot.conn.take() {
        Some(conn) => (true, conn),
        None => (false, open(c, slot).await?),
    };
    let mut result = once(s, &mut conn, slot, sample).await;
    if reused && matches!(result, Err(Fail::Stale)) {
        conn = open(c, slot).await?;
        result = once(s, &mut conn, slot, sample).await;
    }
    match result {
        Ok((status, keep)) => {
            if keep {
                slot.conn = Some(conn);
            }
            Ok(status)
        }
        Err(Fail::Stale) => Err(ErrorKind::Connect),
        Err(Fail::Kind(k)) => Err(k),
    }
}

/// One request and its whole response on `conn`: the status, and whether
/// the connection can carry another request.
async fn once(
    s: &Wire,
    conn: &mut Stream,
    slot: &mut SlotState,
    sample: &mut Sample,
) -> Result<(u16, bool), Fail> {
    let SlotState {
        write,
        read,
        gaps_us,
        marks,
        server_timing,
        location,
        request_id,
        captured,
        body,
        ..
    } = slot;
    conn.write_all(write).await.map_err(|_| Fail::Stale)?;
    read.clear();
    let no_body = s.head.no_body || slot.request.method.as_deref() == Some("HEAD");
    let head = loop {
        let parsed = parse_head(
            read,
            &s.cache_header,
            &s.request_id_header,
            &s.captured,
            no_body,
        );
        match parsed {
            Ok(Some(h)) => break h,
            Ok(None) => {}
            Err(_) => return Err(Fail::Kind(ErrorKind::Invalid)),
        }
        match fill(conn, read).await {
            Ok(0) | Err(_) if read.is_empty() => return Err(Fail::Stale),
            Ok(0) | Err(_) => return Err(Fail::Kind(ErrorKind::BodyCut)),
            Ok(_) => {}
        }
    };
    // The head (its 20 captured headers' places) is not kept past here:
    // what the body's reading needs is, and the future stays small.
    let head = keep_head(
        head,
        read,
        sample,
        [server_timing, location, request_id],
        captured,
        s.captured.len(),
    );
    body.clear();
    let es = head.event_stream;
    let clock = s.chunks(es, sample, gaps_us, marks);
    let mut reading = BodyRead {
        s,
        conn,
        read,
        body,
        es,
        clock,
    };
    // A flat dispatch on the framing. Each reader borrows `reading`, so the
    // future holds it once: a request in flight is 1,024 bytes (944 when
    // this was one function; `a_request_in_flight_stays_small` bounds it).
    let keep = match head.framing {
        Framing::Empty => reading.read.len() == head.len,
        Framing::Length(n) => reading.by_length(head.len, n).await?,
        Framing::Chunked => reading.chunked(head.len).await?,
        Framing::UntilClose => reading.until_close(head.len).await?,
    };
    Ok((head.status, keep && !head.close))
}

/// A response's body being read: first the bytes after the head in
/// `read`, then from `conn`, each kept (`Wire::keep_body`) and timed.
struct BodyRead<'a> {
    s: &'a Wire,
    conn: &'a mut Stream,
    read: &'a mut Vec<u8>,
    body: &'a mut Vec<u8>,
    es: bool,
    clock: Chunks<'a>,
}

impl BodyRead<'_> {
    async fn by_length(&mut self, head_len: usize, n: u64) -> Result<bool, Fail> {
        let mut have = (self.read.len() - head_len) as u64;
        self.s.keep_body(self.es, self.body, &self.read[head_len..]);
        self.clock.arrived(have, u32::from(have > 0));
        while have < n {
            self.read.clear();
            let k = fill(self.conn, self.read).await.unwrap_or(0) as u64;
            if k == 0 {
                return Err(Fail::Kind(ErrorKind::BodyCut));
            }
            self.s.keep_body(self.es, self.body, self.read);
            self.clock.arrived(k, 1);
            have += k;
        }
        Ok(have == n)
    }

    async fn chunked(&mut self, head_len: usize) -> Result<bool, Fail> {
        self.read.drain(..head_len);
        let mut dec = Chunked::default();
        loop {
            let (s, es, body) = (self.s, self.es, &mut *self.body);
            let fed = dec
                .feed(self.read, |d| s.keep_body(es, body, d))
                .map_err(|_| Fail::Kind(ErrorKind::Invalid))?;
            self.read.drain(..fed.consumed);
            self.clock.arrived(fed.data, fed.chunks_started);
            if dec.done() {
                return Ok(self.read.is_empty());
            }
            if fill(self.conn, self.read).await.unwrap_or(0) == 0 {
                return Err(Fail::Kind(ErrorKind::BodyCut));
            }
        }
    }

    async fn until_close(&mut self, head_len: usize) -> Result<bool, Fail> {
        let have = (self.read.len() - head_len) as u64;
        self.s.keep_body(self.es, self.body, &self.read[head_len..]);
        self.clock.arrived(have, u32::from(have > 0));
        loop {
            self.read.clear();
            match fill(self.conn, self.read).await {
                Ok(0) => return Ok(false),
                Ok(k) => {
                    self.s.keep_body(self.es, self.body, self.read);
                    self.clock.arrived(k as u64, 1)
                }
                Err(_) => return Err(Fail::Kind(ErrorKind::BodyCut)),
            }
        }
    }
}

/// What reading a response's body needs of its head.
struct Kept {
    status: u16,
    len: usize,
    framing: Framing,
    close: bool,
    event_stream: bool,
}

/// Copies the head's values the caller reads (cache status, then
/// `Server-Timing`, `Location`, the request id and the captured headers)
/// out of the read buffer, and keeps what the body needs.
fn keep_head(
    head: Head,
    read: &[u8],
    sample: &mut Sample,
    [server_timing, location, request_id]: [&mut Vec<u8>; 3],
    captured: &mut Vec<Vec<u8>>,
    n_captured: usize,
) -> Kept {
    sample.cache = head.cache;
    for (out, at) in [
        (server_timing, head.server_timing),
        (location, head.location),
        (request_id, head.request_id),
    ] {
        out.clear();
        if let Some((a, b)) = at {
            out.extend_from_slice(&read[a..b]);
        }
    }
    keep_captured(captured, n_captured, |i| {
        head.captured
            .get(i)
            .copied()
            .flatten()
            .map(|(a, b)| &read[a..b])
    });
    Kept {
        status: head.status,
        len: head.len,
        framing: head.framing,
        close: head.close,
        event_stream: head.event_stream,
    }
}

/// Reads what the connection has into the spare room of `buf`.
async fn fill<R: AsyncRead + Unpin>(conn: &mut R, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16 * 1024);
    }
    conn.read_buf(buf).await
}

/// Fills `out` with `n` captured header values, as `value(i)` finds them.
pub(super) fn keep_captured<'a>(
    out: &mut Vec<Vec<u8>>,
    n: usize,
    value: impl Fn(usize) -> Option<&'a [u8]>,
) {
    out.resize_with(n, Vec::new);
    for (i, v) in out.iter_mut().enumerate() {
        v.clear();
        if let Some(x) = value(i) {
            v.extend_from_slice(x);
        }
    }
}
