//! One HTTP/1.1 exchange on the slot's kept-alive connection (plain or
//! TLS): the engine's own client, written into reused buffers and parsed in
//! place, which is what keeps genbench level with wrk (BENCHMARKS.md).

use genbench_collectors::Sample;
use genbench_collectors::connections::ConnEvent;
use genbench_model::ErrorKind;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::h1::{Chunked, Framing, Head, parse_head};
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
    let head = loop {
        match parse_head(
            read,
            &s.cache_header,
            &s.request_id_header,
            &s.captured,
            s.head.no_body || slot.request.method.as_deref() == Some("HEAD"),
        ) {
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
    let mut clock = s.chunks(es, sample, gaps_us, marks);
    let keep = match head.framing {
        Framing::Empty => read.len() == head.len,
        Framing::Length(n) => {
            let mut have = (read.len() - head.len) as u64;
            s.keep_body(es, body, &read[head.len..]);
            clock.arrived(have, u32::from(have > 0));
            while have < n {
                read.clear();
                let k = fill(conn, read).await.unwrap_or(0) as u64;
                if k == 0 {
                    return Err(Fail::Kind(ErrorKind::BodyCut));
                }
                s.keep_body(es, body, read);
                clock.arrived(k, 1);
                have += k;
            }
            have == n
        }
        Framing::Chunked => {
            read.drain(..head.len);
            let mut dec = Chunked::default();
            loop {
                let fed = dec
                    .feed(read, |d| s.keep_body(es, body, d))
                    .map_err(|_| Fail::Kind(ErrorKind::Invalid))?;
                read.drain(..fed.consumed);
                clock.arrived(fed.data, fed.chunks_started);
                if dec.done() {
                    break read.is_empty();
                }
                if fill(conn, read).await.unwrap_or(0) == 0 {
                    return Err(Fail::Kind(ErrorKind::BodyCut));
                }
            }
        }
        Framing::UntilClose => {
            let have = (read.len() - head.len) as u64;
            s.keep_body(es, body, &read[head.len..]);
            clock.arrived(have, u32::from(have > 0));
            loop {
                read.clear();
                match fill(conn, read).await {
                    Ok(0) => break false,
                    Ok(k) => {
                        s.keep_body(es, body, read);
                        clock.arrived(k as u64, 1)
                    }
                    Err(_) => return Err(Fail::Kind(ErrorKind::BodyCut)),
                }
            }
        }
    };
    Ok((head.status, keep && !head.close))
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
