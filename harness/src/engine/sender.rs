//! Sends one request over a keep-alive pool and measures it: send time,
//! first body byte (first token, for streams), the gaps between a streamed
//! body's chunks, end, status, bytes, cache status. Never panics and never
//! returns an error: failures are samples.

use std::net::SocketAddr;
use std::time::Duration;

use genbench_collectors::{Outcome, Sample};
use genbench_model::ErrorKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::h1::{Chunked, Framing, RequestHead, parse_head};
use super::inspect::Inspect;
use super::requests::Rendered;

/// Configured once per run; cheap to share.
pub struct Sender {
    addr: SocketAddr,
    head: RequestHead,
    timeout: Duration,
    cache_header: String,
    /// Time chunk gaps on every response, not only `text/event-stream` ones.
    stream: bool,
    /// What to read from bodies; when anything, each response's body (up to
    /// [`MAX_BODY_BYTES`]) is kept for it.
    inspect: Inspect,
    capture_body: bool,
    t0: Instant,
}

/// Most body bytes kept for inspection; an article or its stream is far
/// smaller, and a runaway body is inspected by its start only.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// Most chunk gaps kept per response; a longer stream's later gaps are not
/// timed, so one runaway stream cannot grow a worker's buffers without bound.
pub const MAX_GAPS_PER_RESPONSE: usize = 1 << 16;

/// What a request in flight borrows from its worker and gives back with its
/// sample: a kept-alive connection, if one is idle, and buffers. A worker's
/// slots are its connection pool, with no lock: each is owned by one
/// request at a time, and once warm a request allocates nothing here.
#[derive(Default)]
pub struct Slot {
    request: Rendered,
    conn: Option<TcpStream>,
    write: Vec<u8>,
    read: Vec<u8>,
    gaps_us: Vec<u32>,
    server_timing: Vec<u8>,
    body: Vec<u8>,
}

impl Slot {
    /// The request to send next, to render into.
    pub fn request_mut(&mut self) -> &mut Rendered {
        &mut self.request
    }

    /// Gaps between the last response's body chunks, µs.
    pub fn gaps_us(&self) -> &[u32] {
        &self.gaps_us
    }

    /// The last response's `Server-Timing` value (empty if none).
    pub fn server_timing(&self) -> &[u8] {
        &self.server_timing
    }

    /// The last response's body, if the sender keeps bodies.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Why a sender could not be built: bad input, reported before any load.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("target URL `{0}` must be http://host:port with no path, e.g. http://127.0.0.1:8080")]
    BadTarget(String),
    #[error("cannot resolve the target `{0}`: {1}")]
    Resolve(String, String),
    #[error("request.method `{0}` is not an HTTP method")]
    BadMethod(String),
    #[error("request header `{0}` is not valid")]
    BadHeader(String),
}

/// How one attempt on one connection ended badly.
enum Fail {
    /// A kept-alive connection closed before any byte of the answer: the
    /// server dropped it while idle, so the request is sent again on a new one.
    Stale,
    Kind(ErrorKind),
}

fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

impl Sender {
    pub fn new(
        target: &str,
        method: &str,
        headers: &std::collections::BTreeMap<String, String>,
        timeout: Duration,
        t0: Instant,
    ) -> Result<Self, SenderError> {
        let base = target.trim_end_matches('/');
        let bad = || SenderError::BadTarget(target.into());
        let rest = base.strip_prefix("http://").ok_or_else(bad)?;
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(bad());
        }
        let authority = http_authority(rest).ok_or_else(bad)?;
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&authority)
            .map_err(|e| SenderError::Resolve(target.into(), e.to_string()))?
            .next()
            .ok_or_else(|| SenderError::Resolve(target.into(), "no address".into()))?;
        if !valid_token(method) {
            return Err(SenderError::BadMethod(method.into()));
        }
        for (k, v) in headers {
            if !valid_token(k) || v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(SenderError::BadHeader(k.clone()));
            }
        }
        let head = RequestHead::new(
            method,
            rest,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        Ok(Sender {
            addr,
            head,
            timeout,
            cache_header: "x-cache".into(),
            stream: false,
            inspect: Inspect::default(),
            capture_body: false,
            t0,
        })
    }

    /// Times the gaps between body chunks on every response (the scenario's
    /// `request.stream`); `text/event-stream` responses are timed regardless.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// Times from `t0` (the run's start) instead of the one given to `new`.
    pub fn with_t0(mut self, t0: Instant) -> Self {
        self.t0 = t0;
        self
    }

    /// Reads the cache status from this header instead of `X-Cache`.
    pub fn with_cache_header(mut self, name: &str) -> Self {
        self.cache_header = name.to_ascii_lowercase();
        self
    }

    /// Reads cache status or usage from JSON bodies, which are then kept
    /// for the worker to inspect; otherwise bodies are counted and dropped.
    pub fn with_inspect(mut self, inspect: Inspect) -> Self {
        self.capture_body = inspect.needs_body();
        self.inspect = inspect;
        self
    }

    pub fn inspect(&self) -> &Inspect {
        &self.inspect
    }

    async fn connect(&self) -> Result<TcpStream, Fail> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|_| Fail::Kind(ErrorKind::Connect))?;
        // Requests go out whole in one write; no need to wait for more.
        tcp.set_nodelay(true)
            .map_err(|_| Fail::Kind(ErrorKind::Connect))?;
        Ok(tcp)
    }

    /// Sends the slot's request, which the schedule wanted out at
    /// `scheduled` (offset from the run's start; `None`: now, as in the
    /// closed model), and measures it, on the slot's connection (a new one
    /// if it has none). The slot comes back with the connection, if it can
    /// carry another request, and the response's chunk gaps.
    pub async fn send(&self, scheduled: Option<Duration>, mut slot: Slot) -> (Sample, Slot) {
        slot.gaps_us.clear();
        slot.server_timing.clear();
        slot.body.clear();
        let sent = self.t0.elapsed();
        let mut sample = Sample {
            scheduled: scheduled.unwrap_or(sent),
            sent,
            first_byte: None,
            end: sent,
            outcome: Outcome::Error(ErrorKind::Invalid),
            bytes: 0,
            cache: None,
        };
        let r = &slot.request;
        let body = r.body.as_deref().map(str::as_bytes);
        if self.head.encode(&mut slot.write, &r.path, body).is_err() {
            return (sample, slot);
        }
        let exchange = self.exchange(&mut slot, &mut sample);
        sample.outcome = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(o) => o,
            // The connection went down with the dropped exchange: a late
            // answer can never be read as the next request's.
            Err(_) => Outcome::Error(ErrorKind::Timeout),
        };
        sample.end = self.t0.elapsed();
        (sample, slot)
    }

    async fn exchange(&self, slot: &mut Slot, sample: &mut Sample) -> Outcome {
        let (reused, mut conn) = match slot.conn.take() {
            Some(c) => (true, c),
            None => match self.connect().await {
                Ok(c) => (false, c),
                Err(_) => return Outcome::Error(ErrorKind::Connect),
            },
        };
        let mut result = self.once(&mut conn, slot, sample).await;
        if reused && matches!(result, Err(Fail::Stale)) {
            conn = match self.connect().await {
                Ok(c) => c,
                Err(_) => return Outcome::Error(ErrorKind::Connect),
            };
            result = self.once(&mut conn, slot, sample).await;
        }
        match result {
            Ok((status, keep)) => {
                if keep {
                    slot.conn = Some(conn);
                }
                match ErrorKind::from_status(status) {
                    Some(k) => Outcome::Error(k),
                    None => Outcome::Ok(status),
                }
            }
            Err(Fail::Stale) => Outcome::Error(ErrorKind::Connect),
            Err(Fail::Kind(k)) => Outcome::Error(k),
        }
    }

    /// One request and its whole response on `conn`: the status, and whether
    /// the connection can carry another request.
    async fn once(
        &self,
        conn: &mut TcpStream,
        slot: &mut Slot,
        sample: &mut Sample,
    ) -> Result<(u16, bool), Fail> {
        let Slot {
            write,
            read,
            gaps_us,
            server_timing,
            body,
            ..
        } = slot;
        conn.write_all(write).await.map_err(|_| Fail::Stale)?;
        read.clear();
        let head = loop {
            match parse_head(read, &self.cache_header, self.head.no_body) {
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
        sample.cache = head.cache;
        server_timing.clear();
        if let Some((a, b)) = head.server_timing {
            server_timing.extend_from_slice(&read[a..b]);
        }
        body.clear();
        let mut keep_body = |data: &[u8]| {
            if self.capture_body {
                let room = MAX_BODY_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&data[..data.len().min(room)]);
            }
        };
        let mut clock = Chunks {
            t0: self.t0,
            timed: self.stream || head.event_stream,
            last: None,
            sample,
            gaps_us,
        };
        let keep = match head.framing {
            Framing::Empty => read.len() == head.len,
            Framing::Length(n) => {
                let mut have = (read.len() - head.len) as u64;
                keep_body(&read[head.len..]);
                clock.arrived(have, u32::from(have > 0));
                while have < n {
                    read.clear();
                    let k = fill(conn, read).await.unwrap_or(0) as u64;
                    if k == 0 {
                        return Err(Fail::Kind(ErrorKind::BodyCut));
                    }
                    keep_body(read);
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
                        .feed(read, &mut keep_body)
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
                keep_body(&read[head.len..]);
                clock.arrived(have, u32::from(have > 0));
                loop {
                    read.clear();
                    match fill(conn, read).await {
                        Ok(0) => break false,
                        Ok(k) => {
                            keep_body(read);
                            clock.arrived(k as u64, 1)
                        }
                        Err(_) => return Err(Fail::Kind(ErrorKind::BodyCut)),
                    }
                }
            }
        };
        Ok((head.status, keep && !head.close))
    }
}

/// Reads what the socket has into the spare room of `buf`.
async fn fill(conn: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(16 * 1024);
    }
    conn.read_buf(buf).await
}

/// Times a body's arrival: the first byte, and the gap before each chunk.
struct Chunks<'a> {
    t0: Instant,
    timed: bool,
    last: Option<Duration>,
    sample: &'a mut Sample,
    gaps_us: &'a mut Vec<u32>,
}

impl Chunks<'_> {
    /// `bytes` of body arrived now, starting `chunks` chunks (reads, for
    /// bodies not chunk-encoded).
    fn arrived(&mut self, bytes: u64, chunks: u32) {
        if bytes == 0 {
            return;
        }
        let now = self.t0.elapsed();
        self.sample.bytes += bytes;
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

/// `host:port` to connect to (port 80 if none) from a URL's authority.
fn http_authority(rest: &str) -> Option<String> {
    // Bracketed IPv6 literals keep their colons inside the brackets.
    let (host, port) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains(']') => (&rest[..i], rest[i + 1..].parse::<u16>().ok()?),
        _ => (rest, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}
