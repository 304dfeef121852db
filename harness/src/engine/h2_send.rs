//! HTTP/2: requests as streams over a few shared connections (the
//! scenario's `connections`, each carrying at most `max_streams` at once),
//! with hyper's HTTP/2 client over the same connector as HTTP/1.1. A
//! connection that dies is replaced by the next request that picks it.
//!
//! Unlike HTTP/1.1's connections, which each worker owns, these are shared
//! by every worker, so they are driven on the runtime that made the pool
//! (the run's), not on whichever worker's runtime connected first: a worker
//! that ends takes its runtime's tasks with it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use genbench_collectors::Sample;
use genbench_collectors::connections::ConnEvent;
use genbench_model::ErrorKind;
use genbench_scenarios::HttpSettings;
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use hyper::client::conn::http2::{Builder, SendRequest};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::runtime::Handle;
use tokio::sync::{Mutex, Semaphore};

use super::h1::cache_status;
use super::sender_error::SenderError;
use super::slot::SlotState;
use super::wire::Wire;
use crate::net::conn::{ConnectFailed, Connector};
use crate::net::url::TargetUrl;

type Body = BoxBody<Bytes, std::convert::Infallible>;

struct H2Conn {
    send: Mutex<Option<SendRequest<Body>>>,
    streams: Semaphore,
}

pub struct H2Pool {
    connector: Arc<Connector>,
    conns: Vec<H2Conn>,
    next: AtomicUsize,
    /// `scheme://authority`, which every request URI starts with.
    origin: String,
    method: Method,
    headers: HeaderMap,
    driver: Driver,
}

/// Where the connections' tasks run: the runtime the pool was made on, or
/// (made outside any) the one that connects.
#[derive(Clone)]
struct Driver(Option<Handle>);

impl<F> hyper::rt::Executor<F> for Driver
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        match &self.0 {
            Some(h) => drop(h.spawn(fut)),
            None => drop(tokio::spawn(fut)),
        }
    }
}

/// Headers HTTP/2 forbids or sets itself.
const CONNECTION_HEADERS: [&str; 7] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
];

impl H2Pool {
    pub(super) fn new(
        connector: Connector,
        target: &TargetUrl,
        method: &str,
        headers: &BTreeMap<String, String>,
        http: HttpSettings,
    ) -> Result<Self, SenderError> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| SenderError::BadMethod(method.into()))?;
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            if CONNECTION_HEADERS.iter().any(|h| k.eq_ignore_ascii_case(h)) {
                continue;
            }
            let name = HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes())
                .map_err(|_| SenderError::BadHeader(k.clone()))?;
            let value = HeaderValue::from_str(v).map_err(|_| SenderError::BadHeader(k.clone()))?;
            map.append(name, value);
        }
        let conns = (0..http.connections)
            .map(|_| H2Conn {
                send: Mutex::new(None),
                streams: Semaphore::new(http.max_streams as usize),
            })
            .collect();
        Ok(H2Pool {
            connector: Arc::new(connector),
            conns,
            next: AtomicUsize::new(0),
            origin: format!("{}://{}", target.scheme.name(), target.authority),
            method,
            headers: map,
            driver: Driver(Handle::try_current().ok()),
        })
    }

    /// The connection's request handle, connecting (once, whoever asks
    /// first) when it has none or it has closed.
    async fn handle(
        &self,
        c: &H2Conn,
        slot: &mut SlotState,
    ) -> Result<SendRequest<Body>, ErrorKind> {
        let mut g = c.send.lock().await;
        if let Some(sr) = g.as_ref()
            && !sr.is_closed()
        {
            return Ok(sr.clone());
        }
        *g = None;
        let dial = dial(self.connector.clone(), self.driver.clone());
        // The socket belongs to the poller of the runtime that opens it, so
        // it is opened on the driver's.
        let dialed = match &self.driver.0 {
            Some(h) => h
                .spawn(dial)
                .await
                .unwrap_or(Err((None, ErrorKind::Connect))),
            None => dial.await,
        };
        let (sr, event) = dialed.map_err(|(event, kind)| {
            slot.conn_event = event;
            kind
        })?;
        slot.conn_event = Some(event);
        *g = Some(sr.clone());
        Ok(sr)
    }

    pub(super) async fn exchange(
        &self,
        s: &Wire,
        slot: &mut SlotState,
        sample: &mut Sample,
        as_get: bool,
    ) -> Result<u16, ErrorKind> {
        let c = &self.conns[self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len()];
        let _stream = c.streams.acquire().await.map_err(|_| ErrorKind::Connect)?;
        let mut sr = self.handle(c, slot).await?;
        let req = self.request(s, slot, as_get)?;
        sr.ready().await.map_err(|_| ErrorKind::Connect)?;
        let resp = sr.send_request(req).await.map_err(|_| ErrorKind::Connect)?;
        let status = resp.status().as_u16();
        let (parts, mut body) = resp.into_parts();
        let event_stream = answer_headers(s, slot, sample, &parts.headers);
        slot.body.clear();
        let mut clock = s.chunks(event_stream, sample, &mut slot.gaps_us, &mut slot.marks);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| ErrorKind::BodyCut)?;
            if let Ok(data) = frame.into_data() {
                s.keep_body(event_stream, &mut slot.body, &data);
                clock.arrived(data.len() as u64, 1);
            }
        }
        Ok(status)
    }

    /// The slot's request (or its redirect, or the GET a poll sends) as
    /// an HTTP/2 request on this pool's origin.
    fn request(
        &self,
        s: &Wire,
        slot: &SlotState,
        as_get: bool,
    ) -> Result<Request<Body>, ErrorKind> {
        let (base, path) = match &slot.redirect {
            Some(p) => ("", p.as_str()),
            None => (s.target.base_path.as_str(), slot.request.path.as_str()),
        };
        if !super::h1::valid_path(path) {
            return Err(ErrorKind::Invalid);
        }
        let uri: Uri = format!("{}{base}{path}", self.origin)
            .parse()
            .map_err(|_| ErrorKind::Invalid)?;
        let body: Body = match (&slot.request.body, as_get) {
            (Some(b), false) => Full::new(Bytes::copy_from_slice(b.as_bytes())).boxed(),
            _ => Empty::new().boxed(),
        };
        let mut req = Request::new(body);
        *req.method_mut() = match (as_get, &slot.request.method) {
            (true, _) => Method::GET,
            (false, Some(m)) => Method::from_bytes(m.as_bytes()).map_err(|_| ErrorKind::Invalid)?,
            (false, None) => self.method.clone(),
        };
        *req.uri_mut() = uri;
        *req.headers_mut() = self.headers.clone();
        for (k, v) in &slot.request.headers {
            let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) else {
                return Err(ErrorKind::Invalid);
            };
            req.headers_mut().append(k, v);
        }
        if let Some(t) = slot.request.trace
            && let Ok(v) = HeaderValue::from_bytes(&t.traceparent())
        {
            req.headers_mut().insert("traceparent", v);
        }
        Ok(req)
    }
}

/// What the answer's headers say, into the slot and the sample (cache
/// status, Server-Timing, Location, request id, captured headers); whether
/// the body is an event stream.
fn answer_headers(
    s: &Wire,
    slot: &mut SlotState,
    sample: &mut Sample,
    headers: &HeaderMap,
) -> bool {
    let header = |name: &str| headers.get(name).map(HeaderValue::as_bytes);
    sample.cache = header(&s.cache_header).and_then(cache_status);
    if let Some(v) = header("server-timing") {
        slot.server_timing.extend_from_slice(v);
    }
    slot.location.clear();
    if let Some(v) = header("location") {
        slot.location.extend_from_slice(v);
    }
    slot.request_id.clear();
    if let Some(v) = Some(s.request_id_header.as_str())
        .filter(|h| !h.is_empty())
        .and_then(header)
    {
        slot.request_id.extend_from_slice(v);
    }
    super::h1_send::keep_captured(&mut slot.captured, s.captured.len(), |i| {
        header(&s.captured[i])
    });
    header("content-type")
        .is_some_and(|v| v.len() >= 17 && v[..17].eq_ignore_ascii_case(b"text/event-stream"))
}

/// A connection that failed, as the slot records it, and the error kind.
type DialFailed = (Option<ConnEvent>, ErrorKind);

/// Opens a connection and starts driving it on `driver`.
async fn dial(
    connector: Arc<Connector>,
    driver: Driver,
) -> Result<(SendRequest<Body>, ConnEvent), DialFailed> {
    let (stream, event) = match connector.connect().await {
        Ok(x) => x,
        Err(ConnectFailed(k)) => return Err((Some(ConnEvent::Failed), k)),
    };
    let (sr, conn) = Builder::new(driver.clone())
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|_| (Some(event), ErrorKind::Connect))?;
    hyper::rt::Executor::execute(&driver, async move {
        // Ends when the server closes or every handle is dropped.
        let _ = conn.await;
    });
    Ok((sr, event))
}
