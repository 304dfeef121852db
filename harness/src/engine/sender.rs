//! Sends one request over a keep-alive pool and measures it: send time,
//! first body byte (first token, for streams), the gaps between a streamed
//! body's chunks, end, status, bytes, cache status. Never panics and never
//! returns an error: failures are samples.

use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use genbench_collectors::{CacheStatus, Outcome, Sample};
use genbench_model::ErrorKind;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use super::requests::Rendered;

/// Configured once per run; cheap to share.
pub struct Sender {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    method: Method,
    headers: HeaderMap,
    timeout: Duration,
    cache_header: HeaderName,
    /// Time chunk gaps on every response, not only `text/event-stream` ones.
    stream: bool,
    t0: Instant,
}

/// Most chunk gaps kept per response; a longer stream's later gaps are not
/// timed, so one runaway stream cannot grow a worker's buffers without bound.
pub const MAX_GAPS_PER_RESPONSE: usize = 1 << 16;

/// Why a sender could not be built: bad input, reported before any load.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("target URL `{0}` must be http://host:port with no path, e.g. http://127.0.0.1:8080")]
    BadTarget(String),
    #[error("request.method `{0}` is not an HTTP method")]
    BadMethod(String),
    #[error("request header `{0}` is not valid")]
    BadHeader(String),
}

impl Sender {
    pub fn new(
        target: &str,
        method: &str,
        headers: &std::collections::BTreeMap<String, String>,
        timeout: Duration,
        t0: Instant,
    ) -> Result<Self, SenderError> {
        let base = target.trim_end_matches('/').to_string();
        let uri = hyper::Uri::from_str(&base).map_err(|_| SenderError::BadTarget(target.into()))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() || uri.path().len() > 1 {
            return Err(SenderError::BadTarget(target.into()));
        }
        let method = Method::from_str(method).map_err(|_| SenderError::BadMethod(method.into()))?;
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_str(k).map_err(|_| SenderError::BadHeader(k.clone()))?;
            let value = HeaderValue::from_str(v).map_err(|_| SenderError::BadHeader(k.clone()))?;
            map.insert(name, value);
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        Ok(Sender {
            client,
            base,
            method,
            headers: map,
            timeout,
            cache_header: HeaderName::from_static("x-cache"),
            stream: false,
            t0,
        })
    }

    /// Times the gaps between body chunks on every response (the scenario's
    /// `request.stream`); `text/event-stream` responses are timed regardless.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    fn request(&self, r: Rendered) -> Option<Request<Full<Bytes>>> {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(format!("{}{}", self.base, r.path));
        if let Some(h) = b.headers_mut() {
            h.extend(self.headers.clone());
        }
        b.body(Full::new(r.body.map(Bytes::from).unwrap_or_default()))
            .ok()
    }

    /// Sends `r`, which the schedule wanted out at `scheduled` (offset from
    /// the run's start), and measures it. The gaps between a streamed
    /// response's chunks, in µs, go into `gaps_us` (cleared first), a buffer
    /// the caller reuses so that timing them allocates nothing once warm.
    pub async fn send(
        &self,
        scheduled: Duration,
        r: Rendered,
        mut gaps_us: Vec<u32>,
    ) -> (Sample, Vec<u32>) {
        gaps_us.clear();
        let sent = self.t0.elapsed();
        let mut sample = Sample {
            scheduled,
            sent,
            first_byte: None,
            end: sent,
            outcome: Outcome::Error(ErrorKind::Invalid),
            bytes: 0,
            cache: None,
        };
        let Some(req) = self.request(r) else {
            return (sample, gaps_us);
        };
        let gaps = &mut gaps_us;
        let work = async {
            let resp = match self.client.request(req).await {
                Ok(r) => r,
                Err(_) => return Outcome::Error(ErrorKind::Connect),
            };
            let status = resp.status().as_u16();
            sample.cache =
                resp.headers()
                    .get(&self.cache_header)
                    .and_then(|v| match v.as_bytes() {
                        b"HIT" | b"hit" => Some(CacheStatus::Hit),
                        b"MISS" | b"miss" => Some(CacheStatus::Miss),
                        _ => None,
                    });
            let timed = self.stream || is_event_stream(resp.headers());
            let mut body = resp.into_body();
            let mut last_chunk: Option<Duration> = None;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => {
                        let Some(d) = f.data_ref().filter(|d| !d.is_empty()) else {
                            continue;
                        };
                        let now = self.t0.elapsed();
                        if sample.first_byte.is_none() {
                            sample.first_byte = Some(now);
                        }
                        if let (true, Some(prev)) = (timed, last_chunk)
                            && gaps.len() < MAX_GAPS_PER_RESPONSE
                        {
                            let us = now.saturating_sub(prev).as_micros();
                            gaps.push(us.clamp(1, u32::MAX as u128) as u32);
                        }
                        last_chunk = Some(now);
                        sample.bytes += d.len() as u64;
                    }
                    Err(_) => return Outcome::Error(ErrorKind::BodyCut),
                }
            }
            match ErrorKind::from_status(status) {
                Some(k) => Outcome::Error(k),
                None => Outcome::Ok(status),
            }
        };
        let outcome = match tokio::time::timeout(self.timeout, work).await {
            Ok(o) => o,
            Err(_) => Outcome::Error(ErrorKind::Timeout),
        };
        sample.outcome = outcome;
        sample.end = self.t0.elapsed();
        (sample, gaps_us)
    }
}

fn is_event_stream(h: &HeaderMap) -> bool {
    h.get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
}
