//! Sends one request and measures it: send time, first body byte (first
//! token, for streams), the gaps between a streamed body's chunks, end,
//! status, bytes, cache status; then follows redirects if the scenario says
//! so and judges the response against its checks. Never panics and never
//! returns an error: failures are samples.
//!
//! The transport is one enum: the engine's own HTTP/1.1 client (plain or
//! over TLS: the fast path, see `h1_send`) or HTTP/2 streams over a few
//! shared connections (`h2_send`, hyper's client). Both time bodies with
//! the same [`Chunks`] clock and fill the same [`Slot`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use genbench_collectors::traces::TraceIds;
use genbench_collectors::{Outcome, Sample};
use genbench_model::{ErrorKind, Objectives};
use genbench_scenarios::{Abandon, CheckRule, Checks, HttpSettings, HttpVersion};
use tokio::time::Instant;

pub use super::chunks::MAX_GAPS_PER_RESPONSE;
use super::h1::RequestHead;
use super::h2_send::H2Pool;
use super::inspect::{BodyKeys, Inspect};
use super::paths;
pub use super::sender_error::SenderError;
pub use super::slot::{Slot, SlotState};
pub use super::wire::MAX_BODY_BYTES;
use super::wire::Wire;
use crate::net::conn::Connector;
use crate::net::tls::{self, Verify};
use crate::net::url::{Scheme, TargetUrl};

/// How the engine reaches the target: HTTP version and TLS verification.
#[derive(Debug, Clone, Default)]
pub struct Net {
    pub http: HttpSettings,
    pub verify: Verify,
}

pub(super) enum Transport {
    H1(Connector),
    H2(H2Pool),
}

/// Configured once per run; cheap to share.
pub struct Sender {
    /// What the exchanges read: where requests go and what to keep.
    pub(super) wire: Wire,
    method: String,
    headers: BTreeMap<String, String>,
    pub(super) transport: Transport,
    /// Auto over TLS: the protocol is settled by [`Sender::negotiate`].
    negotiable: bool,
    net: Net,
    timeout: Duration,
    /// Where finished requests' records go (`--records`).
    records: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    /// What to read from bodies; when anything, each response's body (up to
    /// [`MAX_BODY_BYTES`]) is kept for it.
    inspect: Inspect,
    /// Which bodies can hold what `inspect` reads.
    body_keys: BodyKeys,
    checks: Checks,
    follow_redirects: u32,
    /// Bodies are kept whatever inspection and checks need (a flow step
    /// extracts from them).
    keep_all_bodies: bool,
    /// The scenario's `[slo]`: each request is judged against it.
    objectives: Option<Objectives>,
    /// `[collect.traces]`: the run's trace nonce; each request carries a
    /// `traceparent` in it.
    trace_run: Option<u64>,
    /// `[load] abandon_after` and `[load.cancel]`: when the client gives
    /// up on a request.
    abandon: Option<Abandon>,
    /// Requests sent so far, which `[load.cancel]` picks from; counted only
    /// when there is a cancel.
    sent: AtomicU64,
}

fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

const ALPN_H1: &[&[u8]] = &[b"http/1.1"];
const ALPN_H2: &[&[u8]] = &[b"h2"];
const ALPN_AUTO: &[&[u8]] = &[b"h2", b"http/1.1"];

impl Sender {
    /// A sender for `target` (`http://` or `https://`, with an optional base
    /// path) speaking HTTP/1.1, verifying TLS against the system's roots;
    /// [`Sender::with_net`] changes either.
    pub fn new(
        target: &str,
        method: &str,
        headers: &BTreeMap<String, String>,
        timeout: Duration,
        t0: Instant,
    ) -> Result<Self, SenderError> {
        let target = TargetUrl::parse(target)?;
        if !valid_token(method) {
            return Err(SenderError::BadMethod(method.into()));
        }
        for (k, v) in headers {
            if !valid_token(k) || v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(SenderError::BadHeader(k.clone()));
            }
        }
        let head_for = |m: &str| {
            RequestHead::new(
                m,
                &target.authority,
                headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
        };
        let (head, get_head) = (head_for(method), head_for("GET"));
        let placeholder =
            Transport::H1(Connector::new(&target, None).map_err(SenderError::BadHost)?);
        let mut s = Sender {
            wire: Wire {
                target,
                head,
                get_head,
                cache_header: "x-cache".into(),
                request_id_header: "x-request-id".into(),
                captured: Vec::new(),
                stream: false,
                capture_body: false,
                t0,
            },
            method: method.to_string(),
            headers: headers.clone(),
            transport: placeholder,
            negotiable: false,
            net: Net::default(),
            timeout,
            records: None,
            inspect: Inspect::default(),
            body_keys: BodyKeys::default(),
            checks: Checks::default(),
            follow_redirects: 0,
            keep_all_bodies: false,
            objectives: None,
            trace_run: None,
            abandon: None,
            sent: AtomicU64::new(0),
        };
        s.transport = s.build_transport(Net::default().http.version)?;
        Ok(s)
    }

    fn tls_config(
        &self,
        alpn: &[&[u8]],
    ) -> Result<Option<std::sync::Arc<rustls::ClientConfig>>, SenderError> {
        match self.wire.target.scheme {
            Scheme::Http => Ok(None),
            Scheme::Https => Ok(Some(tls::client_config(&self.net.verify, alpn)?)),
        }
    }

    fn build_transport(&mut self, version: HttpVersion) -> Result<Transport, SenderError> {
        let tls_on = self.wire.target.scheme == Scheme::Https;
        self.negotiable = tls_on && version == HttpVersion::Auto;
        let connector = |s: &Self, alpn| {
            Connector::new(&s.wire.target, s.tls_config(alpn)?).map_err(SenderError::BadHost)
        };
        Ok(match version {
            HttpVersion::Http2 => Transport::H2(H2Pool::new(
                connector(self, ALPN_H2)?,
                &self.wire.target,
                &self.method,
                &self.headers,
                self.net.http,
            )?),
            _ => Transport::H1(connector(self, ALPN_H1)?),
        })
    }

    /// Sets the HTTP version and TLS verification.
    pub fn with_net(mut self, net: &Net) -> Result<Self, SenderError> {
        self.net = net.clone();
        self.transport = self.build_transport(net.http.version)?;
        Ok(self)
    }

    /// With `http = "auto"` over TLS, opens one connection offering `h2` and
    /// `http/1.1` and keeps to what the server picks. If that connection
    /// fails, the run speaks HTTP/1.1 (its failures are counted as usual).
    pub async fn negotiate(mut self) -> Self {
        if !self.negotiable {
            return self;
        }
        let Ok(probe) = self.tls_config(ALPN_AUTO).and_then(|c| {
            Connector::new(&self.wire.target, c)
                .map(Connector::quiet)
                .map_err(SenderError::BadHost)
        }) else {
            return self;
        };
        let h2 = matches!(probe.connect().await, Ok((s, _)) if s.is_h2());
        if h2 && let Ok(t) = self.build_transport(HttpVersion::Http2) {
            self.transport = t;
        }
        self.negotiable = false;
        self
    }

    /// `http/1.1` or `h2`.
    pub fn protocol(&self) -> &'static str {
        match self.transport {
            Transport::H1(_) => "http/1.1",
            Transport::H2(_) => "h2",
        }
    }

    pub fn is_tls(&self) -> bool {
        self.wire.target.scheme == Scheme::Https
    }

    /// Times the gaps between body chunks on every response (the scenario's
    /// `request.stream`); `text/event-stream` responses are timed regardless.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.wire.stream = stream;
        self
    }

    /// Times from `t0` (the run's start) instead of the one given to `new`.
    pub fn with_t0(mut self, t0: Instant) -> Self {
        self.wire.t0 = t0;
        self
    }

    /// Reads the cache status from this header instead of `X-Cache`.
    /// Keeps each response's `name` header for its record.
    pub fn with_request_id_header(mut self, name: &str) -> Self {
        self.wire.request_id_header = name.to_string();
        self
    }

    /// Sends each finished request's record (a JSON line) to `tx`.
    pub fn with_records(mut self, tx: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
        self.records = Some(tx);
        self
    }

    /// Keeps these response headers' values on each slot, beside those
    /// already kept (at most [`MAX_CAPTURED`](super::h1::MAX_CAPTURED) in
    /// all); find them with [`Sender::captured_index`].
    pub fn with_captured(mut self, names: Vec<String>) -> Self {
        for n in names {
            let n = n.to_ascii_lowercase();
            if !self.wire.captured.contains(&n) {
                self.wire.captured.push(n);
            }
        }
        self
    }

    /// Where header `name` (lowercase) is kept on each slot, if it is.
    pub fn captured_index(&self, name: &str) -> Option<usize> {
        self.wire.captured.iter().position(|c| c == name)
    }

    /// Keeps every response's body (up to [`MAX_BODY_BYTES`]) on its slot.
    pub fn with_bodies(mut self) -> Self {
        self.wire.capture_body = true;
        self.keep_all_bodies = true;
        self
    }

    /// The method its requests use unless a replayed row says another.
    pub fn method(&self) -> &str {
        &self.method
    }

    pub fn records(&self) -> Option<&tokio::sync::mpsc::UnboundedSender<String>> {
        self.records.as_ref()
    }

    pub fn with_cache_header(mut self, name: &str) -> Self {
        self.wire.cache_header = name.to_ascii_lowercase();
        self
    }

    /// Reads cache status or usage from JSON bodies, which are then kept
    /// for the worker to inspect; otherwise bodies are counted and dropped.
    pub fn with_inspect(mut self, inspect: Inspect) -> Self {
        let headers = inspect.headers();
        self = self.with_captured(headers);
        self.body_keys = BodyKeys::of(&inspect);
        self.inspect = inspect;
        self.wire.capture_body =
            self.keep_all_bodies || self.inspect.needs_body() || self.checks.need_body();
        self
    }

    /// Judges responses by `checks` and follows up to `follow_redirects`
    /// redirects on the target's origin.
    pub fn with_checks(mut self, checks: Checks, follow_redirects: u32) -> Self {
        self.checks = checks;
        self.follow_redirects = follow_redirects;
        self.wire.capture_body =
            self.keep_all_bodies || self.inspect.needs_body() || self.checks.need_body();
        self
    }

    /// Judges each request against these per-request objectives (goodput).
    pub fn with_objectives(mut self, objectives: Option<Objectives>) -> Self {
        self.objectives = objectives.filter(|o| !o.is_empty());
        self
    }

    /// Gives up on requests as `[load] abandon_after` and `[load.cancel]`
    /// say: such a request ends `abandoned`, and its connection is closed.
    pub fn with_abandon(mut self, abandon: Option<Abandon>) -> Self {
        self.abandon = abandon;
        self
    }

    /// How long the request about to be sent may take, and what it ends as
    /// if it takes longer: abandoned at the client's give-up time when it
    /// has one before the timeout, else a timeout.
    fn limit(&self) -> (Duration, Outcome) {
        let timeout = (self.timeout, Outcome::Error(ErrorKind::Timeout));
        let Some(a) = &self.abandon else {
            return timeout;
        };
        let nth = match a.cancel {
            Some(_) => self.sent.fetch_add(1, Ordering::Relaxed),
            None => 0,
        };
        match a.deadline(nth) {
            Some((d, why)) if d < self.timeout => (d, Outcome::Abandoned(why)),
            _ => timeout,
        }
    }

    /// Requests carry a W3C `traceparent` of run `run` ([`TraceIds`]).
    pub fn with_trace_run(mut self, run: Option<u64>) -> Self {
        self.trace_run = run;
        self
    }

    /// The trace context of request `n` of iteration `iteration`, when
    /// requests carry one.
    pub fn trace_ids(&self, iteration: u64, n: u32) -> Option<TraceIds> {
        self.trace_run.map(|run| TraceIds::new(run, iteration, n))
    }

    pub fn objectives(&self) -> Option<&Objectives> {
        self.objectives.as_ref()
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A URL the target gave (a `Location`) as the path a later request
    /// asks for ([`paths::on_target`]).
    pub fn path_on_target(&self, url: &str) -> String {
        paths::on_target(&self.wire.target, url)
    }

    pub fn inspect(&self) -> &Inspect {
        &self.inspect
    }

    pub fn body_keys(&self) -> &BodyKeys {
        &self.body_keys
    }

    /// Sends the slot's request, which the schedule wanted out at
    /// `scheduled` (offset from the run's start; `None`: now, as in the
    /// closed model), and measures it, on the slot's connection (a new one
    /// if it has none). The slot comes back with the connection, if it can
    /// carry another request, and the response's chunk gaps.
    pub async fn send(&self, scheduled: Option<Duration>, mut slot: Slot) -> (Sample, Slot) {
        slot.reset();
        let sent = self.wire.t0.elapsed();
        let mut sample = Sample {
            scheduled: scheduled.unwrap_or(sent),
            sent,
            first_byte: None,
            end: sent,
            outcome: Outcome::Error(ErrorKind::Invalid),
            bytes: 0,
            cache: None,
            trace: slot.request.trace,
        };
        let (limit, late) = self.limit();
        let exchange = self.follow(&mut slot, &mut sample);
        sample.outcome = match tokio::time::timeout(limit, exchange).await {
            Ok(o) => o,
            // The connection went down with the dropped exchange: a late
            // answer can never be read as the next request's, and the
            // target sees the client hang up.
            Err(_) => late,
        };
        sample.end = self.wire.t0.elapsed();
        (sample, slot)
    }

    /// One exchange, then each redirect the scenario allows.
    async fn follow(&self, slot: &mut Slot, sample: &mut Sample) -> Outcome {
        let (mut hops, mut as_get) = (0, false);
        loop {
            let status = match &self.transport {
                Transport::H1(c) => {
                    super::h1_send::exchange(&self.wire, c, slot, sample, as_get).await
                }
                // Boxed: hyper's request future is large, and inline it
                // would size every HTTP/1.1 request's future too.
                Transport::H2(p) => Box::pin(p.exchange(&self.wire, slot, sample, as_get)).await,
            };
            let status = match status {
                Ok(s) => s,
                Err(k) => return Outcome::Error(k),
            };
            if !(300..400).contains(&status) || status == 304 {
                return self.judge(status, slot);
            }
            let next = std::str::from_utf8(&slot.location)
                .ok()
                .and_then(|l| paths::same_origin(&self.wire.target, l.trim()));
            match next {
                Some(path) if hops < self.follow_redirects => {
                    hops += 1;
                    as_get |= matches!(status, 301..=303) && self.method != "HEAD";
                    slot.redirect = Some(path);
                    slot.body.clear();
                    slot.gaps_us.clear();
                    slot.marks.clear();
                    sample.first_byte = None;
                }
                _ => return Outcome::Error(ErrorKind::Redirect),
            }
        }
    }

    /// Success, or the error kind (and failed check) a response earns.
    fn judge(&self, status: u16, slot: &mut Slot) -> Outcome {
        if !self.checks.status_ok(status) {
            if let Some(k) = ErrorKind::from_status(status) {
                return Outcome::Error(k);
            }
            slot.failed_check = Some(Checks::STATUS);
            return Outcome::Error(ErrorKind::Check);
        }
        if self.checks.rules.is_empty() {
            return Outcome::Ok(status);
        }
        let docs = genbench_collectors::body::documents(&slot.body);
        let found = |p: &str| genbench_collectors::body::find(&docs, p);
        for (i, c) in self.checks.rules.iter().enumerate() {
            let ok = match &c.rule {
                CheckRule::JsonExists(p) => found(p).is_some(),
                CheckRule::JsonEquals(p, v) => docs.iter().any(|d| d.pointer(p) == Some(v)),
                CheckRule::BodyContains(s) => contains(&slot.body, s.as_bytes()),
            };
            if !ok {
                slot.failed_check = Some(i + 1);
                return Outcome::Error(ErrorKind::Check);
            }
        }
        Outcome::Ok(status)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
