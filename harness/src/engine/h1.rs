//! A lean HTTP/1.1 client codec for the load engine: requests are written
//! from a pre-encoded header block into a reused buffer, responses are parsed
//! in place with httparse, and bodies are framed by Content-Length, chunked
//! encoding or the connection's close. Pure functions over bytes, so every
//! framing rule is tested without a socket. The engine uses this rather than
//! a general client because a load generator's own cost per request caps the
//! rate it can offer (bench/engine.sh measures it against wrk).

use genbench_collectors::CacheStatus;

/// Longest response head accepted; a larger one is an invalid response.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest chunk-size or trailer line accepted.
pub(super) const MAX_LINE_BYTES: usize = 4096;
const MAX_HEADERS: usize = 96;

/// The parts of a request that never change during a run.
#[derive(Debug, Clone)]
pub struct RequestHead {
    method: String,
    /// `Host` and the scenario's headers, each line ending in CRLF.
    fixed_headers: Vec<u8>,
    /// Whether the response to this method has no body (HEAD).
    pub no_body: bool,
}

/// Why a request could not be encoded: the rendered path is not a valid
/// request target.
#[derive(Debug, PartialEq, Eq)]
pub struct BadTarget;

impl RequestHead {
    pub fn new<'a>(
        method: &str,
        host: &str,
        headers: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut fixed = format!("host: {host}\r\n").into_bytes();
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("content-length") {
                continue;
            }
            fixed.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        RequestHead {
            method: method.to_string(),
            fixed_headers: fixed,
            no_body: method.eq_ignore_ascii_case("HEAD"),
        }
    }

    /// Writes the whole request into `out` (cleared first).
    pub fn encode(
        &self,
        out: &mut Vec<u8>,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(), BadTarget> {
        self.encode_under(out, "", path, body)
    }

    /// As [`RequestHead::encode`], with `base` (the target URL's path, e.g.
    /// `/api`) before the path.
    pub fn encode_under(
        &self,
        out: &mut Vec<u8>,
        base: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(), BadTarget> {
        self.encode_row(out, base, path, body, None, None, &[])
    }

    /// As [`RequestHead::encode_under`], with a `traceparent` header, and a
    /// replayed row's method (in place of the head's) and headers (after
    /// the head's).
    #[allow(clippy::too_many_arguments)]
    pub fn encode_row(
        &self,
        out: &mut Vec<u8>,
        base: &str,
        path: &str,
        body: Option<&[u8]>,
        traceparent: Option<&[u8]>,
        method: Option<&str>,
        headers: &[(String, String)],
    ) -> Result<(), BadTarget> {
        if !valid_path(path) {
            return Err(BadTarget);
        }
        out.clear();
        out.extend_from_slice(method.unwrap_or(&self.method).as_bytes());
        out.push(b' ');
        out.extend_from_slice(base.as_bytes());
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        out.extend_from_slice(&self.fixed_headers);
        for (k, v) in headers {
            for part in [k.as_bytes(), b": ", v.as_bytes(), b"\r\n"] {
                out.extend_from_slice(part);
            }
        }
        if let Some(tp) = traceparent {
            out.extend_from_slice(b"traceparent: ");
            out.extend_from_slice(tp);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(b) = body {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa(b.len()).as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(b"\r\n");
        }
        Ok(())
    }
}

/// A request target a server can read: starts with `/`, no spaces or
/// control characters.
pub fn valid_path(path: &str) -> bool {
    path.starts_with('/') && !path.bytes().any(|b| b <= b' ' || b == 0x7f)
}

fn itoa(n: usize) -> String {
    n.to_string()
}

/// How a response's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes the head took in the buffer.
    pub len: usize,
    pub framing: Framing,
    /// The connection cannot carry another request after this response.
    pub close: bool,
    pub event_stream: bool,
    pub cache: Option<CacheStatus>,
    /// Where the `Server-Timing` value lies in the buffer, if sent.
    pub server_timing: Option<(usize, usize)>,
    /// Where the `Location` value lies in the buffer, if sent.
    pub location: Option<(usize, usize)>,
    /// Where the request id header's value lies (`request_id_header`).
    pub request_id: Option<(usize, usize)>,
    /// Where each of the `captured` headers' values lies, in their order.
    pub captured: [Option<(usize, usize)>; MAX_CAPTURED],
}

/// Most headers a sender captures by name: a flow step's `Retry-After`
/// and the headers it extracts, and named caches' headers (the scenario
/// allows 8 of each).
pub const MAX_CAPTURED: usize = 20;

/// The response is not HTTP/1.x as a client can read it.
#[derive(Debug, PartialEq, Eq)]
pub struct BadResponse;

/// Parses a response head from the start of `buf`: `Ok(None)` if more bytes
/// are needed. Informational (1xx) heads are skipped.
pub fn parse_head(
    buf: &[u8],
    cache_header: &str,
    request_id_header: &str,
    captured: &[String],
    no_body: bool,
) -> Result<Option<Head>, BadResponse> {
    let mut offset = 0;
    loop {
        // Uninitialised: zeroing 96 headers (3 KB) was most of a short
        // head's parsing; httparse writes those it fills.
        let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut resp,
            &buf[offset..],
            &mut headers,
        );
        let len = match parsed {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if buf.len() - offset > MAX_HEAD_BYTES => {
                return Err(BadResponse);
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(BadResponse),
        };
        let status = resp.code.ok_or(BadResponse)?;
        if (100..200).contains(&status) && status != 101 {
            offset += len;
            continue;
        }
        let mut head = Head {
            status,
            len: offset + len,
            framing: Framing::UntilClose,
            close: resp.version == Some(0),
            event_stream: false,
            cache: None,
            server_timing: None,
            location: None,
            request_id: None,
            captured: [None; MAX_CAPTURED],
        };
        let names = Names {
            cache_header,
            request_id_header,
            captured,
        };
        let (length, chunked) = read_headers(&mut head, resp.headers, buf, &names)?;
        head.framing = framing(no_body || status == 204 || status == 304, chunked, length);
        if head.framing == Framing::UntilClose {
            head.close = true;
        }
        return Ok(Some(head));
    }
}

/// The headers a head's reading looks for by a name the scenario gives.
struct Names<'a> {
    cache_header: &'a str,
    request_id_header: &'a str,
    captured: &'a [String],
}

/// Reads each header into `head` (places in `buf`, not copies); the
/// `Content-Length` and whether the body is chunked.
fn read_headers(
    head: &mut Head,
    headers: &[httparse::Header<'_>],
    buf: &[u8],
    names: &Names<'_>,
) -> Result<(Option<u64>, bool), BadResponse> {
    let mut length = None;
    let mut chunked = false;
    for h in headers {
        let v = h.value;
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok());
            length = Some(n.ok_or(BadResponse)?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = last_token(v).eq_ignore_ascii_case(b"chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            if has_token(v, b"close") {
                head.close = true;
            } else if has_token(v, b"keep-alive") {
                head.close = false;
            }
        } else if h.name.eq_ignore_ascii_case("content-type") {
            head.event_stream = v.len() >= 17 && v[..17].eq_ignore_ascii_case(b"text/event-stream");
        } else if h.name.eq_ignore_ascii_case(names.cache_header) {
            head.cache = cache_status(v);
        } else if h.name.eq_ignore_ascii_case("server-timing") {
            head.server_timing = Some(span(buf, v));
        } else if h.name.eq_ignore_ascii_case("location") {
            head.location = Some(span(buf, v));
        } else if !names.request_id_header.is_empty()
            && h.name.eq_ignore_ascii_case(names.request_id_header)
        {
            head.request_id = Some(span(buf, v));
        }
        if let Some(i) = names
            .captured
            .iter()
            .position(|c| h.name.eq_ignore_ascii_case(c))
            && i < MAX_CAPTURED
        {
            head.captured[i] = Some(span(buf, v));
        }
    }
    Ok((length, chunked))
}

/// How the body is delimited (RFC 9112, section 6.3).
fn framing(no_body: bool, chunked: bool, length: Option<u64>) -> Framing {
    if no_body {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else {
        match length {
            Some(0) => Framing::Empty,
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    }
}

/// Where `value` (borrowed from `buf` by httparse) lies in `buf`: exact.
fn span(buf: &[u8], value: &[u8]) -> (usize, usize) {
    let start = value.as_ptr() as usize - buf.as_ptr() as usize;
    (start, start + value.len())
}

pub fn cache_status(v: &[u8]) -> Option<CacheStatus> {
    let v = trim(v);
    if v.eq_ignore_ascii_case(b"hit") {
        Some(CacheStatus::Hit)
    } else if v.eq_ignore_ascii_case(b"miss") {
        Some(CacheStatus::Miss)
    } else {
        None
    }
}

pub(super) fn trim(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &v[s..e]
}

fn last_token(v: &[u8]) -> &[u8] {
    trim(v.rsplit(|b| *b == b',').next().unwrap_or(v))
}

fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|b| *b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Head {
        parse_head(raw.as_bytes(), "x-cache", "", &[], false)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn requests_carry_host_headers_and_body_length() {
        let h = RequestHead::new(
            "POST",
            "127.0.0.1:8080",
            [("content-type", "application/json")].into_iter(),
        );
        let mut out = Vec::new();
        h.encode(&mut out, "/a?q=1", Some(b"{}")).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "POST /a?q=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        );
        h.encode(&mut out, "/", None).unwrap();
        assert!(out.ends_with(b"json\r\n\r\n"));
        assert_eq!(h.encode(&mut out, "/a b", None), Err(BadTarget));
        assert_eq!(h.encode(&mut out, "/a\r\nx: y", None), Err(BadTarget));
        assert_eq!(h.encode(&mut out, "a", None), Err(BadTarget));
    }

    #[test]
    fn server_timing_is_located_in_the_buffer() {
        let raw = "HTTP/1.1 200 OK\r\nServer-Timing: llm;dur=12.5, total;dur=13\r\ncontent-length: 0\r\n\r\n";
        let (a, b) = head(raw).server_timing.unwrap();
        assert_eq!(&raw[a..b], "llm;dur=12.5, total;dur=13");
        assert_eq!(head("HTTP/1.1 204 No Content\r\n\r\n").server_timing, None);
    }

    #[test]
    fn heads_give_framing_keep_alive_and_cache_status() {
        let h = head("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX-Cache: HIT\r\n\r\nhello");
        assert_eq!(
            (h.status, h.framing, h.close, h.cache),
            (200, Framing::Length(5), false, Some(CacheStatus::Hit))
        );
        assert_eq!(
            h.len,
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX-Cache: HIT\r\n\r\n".len()
        );
        let h = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n",
        );
        assert_eq!((h.framing, h.event_stream), (Framing::Chunked, true));
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!((h.framing, h.close), (Framing::UntilClose, true));
        let h = head("HTTP/1.1 503 Busy\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        assert_eq!((h.status, h.framing, h.close), (503, Framing::Empty, true));
        let h = head("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n");
        assert!(h.close, "HTTP/1.0 closes unless it says keep-alive");
        let h =
            head("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nx-cache: miss\r\n\r\n");
        assert_eq!(
            (h.status, h.framing, h.cache),
            (204, Framing::Empty, Some(CacheStatus::Miss))
        );
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n",
            "x-cache",
            "",
            &[],
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.framing, Framing::Empty, "HEAD responses have no body");
    }

    #[test]
    fn the_request_id_header_is_found_by_its_configured_name() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Trace-Id: abc-1\r\ncontent-length: 0\r\n\r\n";
        let h = parse_head(raw, "x-cache", "x-trace-id", &[], false)
            .unwrap()
            .unwrap();
        let (a, b) = h.request_id.unwrap();
        assert_eq!(&raw[a..b], b"abc-1");
        let h = parse_head(raw, "x-cache", "", &[], false).unwrap().unwrap();
        assert_eq!(h.request_id, None);
    }

    #[test]
    fn captured_headers_are_found_in_their_order() {
        let raw = b"HTTP/1.1 202 Accepted\r\nLocation: /jobs/7\r\nretry-after: 2\r\n\r\n";
        let names = [
            "Retry-After".to_string(),
            "x-none".into(),
            "location".into(),
        ];
        let h = parse_head(raw, "x-cache", "", &names, false)
            .unwrap()
            .unwrap();
        let got = |i: usize| h.captured[i].map(|(a, b)| &raw[a..b]);
        assert_eq!(got(0), Some(&b"2"[..]));
        assert_eq!(got(1), None);
        assert_eq!(got(2), Some(&b"/jobs/7"[..]));
    }

    #[test]
    fn partial_and_broken_heads() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-le", "x-cache", "", &[], false),
            Ok(None)
        );
        assert_eq!(
            parse_head(b"SSH-2.0-OpenSSH\r\n\r\n", "x-cache", "", &[], false),
            Err(BadResponse)
        );
        assert_eq!(
            parse_head(
                b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
                "x-cache",
                "",
                &[],
                false
            ),
            Err(BadResponse)
        );
        let mut huge = b"HTTP/1.1 200 OK\r\nx: ".to_vec();
        huge.resize(MAX_HEAD_BYTES + 10, b'a');
        assert_eq!(
            parse_head(&huge, "x-cache", "", &[], false),
            Err(BadResponse)
        );
    }
}
