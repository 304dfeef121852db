//! A one-shot HTTP/1.1 GET for what the harness reads beside the load: the
//! target's `/metrics`, the mock's ledger, the pipeline's flamegraph. Uses
//! the engine's response parser; never pooled, never on the hot path.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::engine::chunked::Chunked;
use crate::engine::h1::{Framing, parse_head};

/// Largest body read (a flamegraph of a busy process is a few MB).
const MAX_BODY: usize = 64 << 20;

/// `GET url` → the body of a 2xx answer, within `timeout`.
pub async fn get(url: &str, timeout: Duration) -> anyhow::Result<Vec<u8>> {
    tokio::time::timeout(timeout, fetch(url))
        .await
        .map_err(|_| anyhow!("GET {url}: no answer within {} s", timeout.as_secs()))?
        .with_context(|| format!("GET {url}"))
}

async fn fetch(url: &str) -> anyhow::Result<Vec<u8>> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut conn = TcpStream::connect(authority)
        .await
        .with_context(|| format!("cannot connect to {authority}"))?;
    let req = format!("GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await?;
    let mut buf = Vec::with_capacity(16 * 1024);
    let head = loop {
        if let Some(h) =
            parse_head(&buf, "", "", &[], false).map_err(|_| anyhow!("not an HTTP response"))?
        {
            break h;
        }
        if conn.read_buf(&mut buf).await? == 0 {
            bail!("the connection closed before a response");
        }
    };
    if !(200..300).contains(&head.status) {
        bail!("status {}", head.status);
    }
    let mut raw = buf.split_off(head.len);
    loop {
        let complete = match head.framing {
            Framing::Empty => true,
            Framing::Length(n) => raw.len() as u64 >= n,
            _ => false,
        };
        if complete || raw.len() > MAX_BODY {
            break;
        }
        if conn.read_buf(&mut raw).await? == 0 {
            break;
        }
    }
    match head.framing {
        Framing::Empty => Ok(Vec::new()),
        Framing::Length(n) if (raw.len() as u64) < n => bail!("the body was cut short"),
        Framing::Length(n) => {
            raw.truncate(n as usize);
            Ok(raw)
        }
        Framing::UntilClose => Ok(raw),
        Framing::Chunked => {
            let mut body = Vec::with_capacity(raw.len());
            let mut dec = Chunked::default();
            dec.feed(&raw, |p| body.extend_from_slice(p))
                .map_err(|_| anyhow!("bad chunked body"))?;
            if !dec.done() {
                bail!("the chunked body was cut short");
            }
            Ok(body)
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;

    async fn serve_once(answer: &'static [u8]) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b).await;
            s.write_all(answer).await.unwrap();
        });
        format!("http://{addr}/metrics")
    }

    #[tokio::test]
    async fn reads_length_chunked_and_close_delimited_bodies() {
        let t = Duration::from_secs(5);
        let u = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello").await;
        assert_eq!(get(&u, t).await.unwrap(), b"hello");
        let u = serve_once(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").await;
        assert_eq!(get(&u, t).await.unwrap(), b"abcde");
        let u = serve_once(b"HTTP/1.0 200 OK\r\n\r\nuntil close").await;
        assert_eq!(get(&u, t).await.unwrap(), b"until close");
    }

    #[tokio::test]
    async fn errors_say_what_went_wrong() {
        let t = Duration::from_secs(5);
        let u = serve_once(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await;
        assert!(format!("{:#}", get(&u, t).await.unwrap_err()).contains("status 404"));
        let u = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort").await;
        assert!(format!("{:#}", get(&u, t).await.unwrap_err()).contains("cut short"));
        let e = get("https://example.com/", t).await.unwrap_err();
        assert!(format!("{e:#}").contains("http://"));
    }
}
