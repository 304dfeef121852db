//! Load client for `bench/mock.sh`: drives `genbench mock` over raw HTTP/1.1
//! on loopback and prints one JSON line of figures. Kept minimal (no HTTP
//! library) so that the client's own cost stays out of the pacing figures.
//!
//! stream:    N concurrent streamed completions, reopened as each ends, for D
//!            seconds; records each token's arrival gap minus the intended gap
//!            (1 / the speed the mock reports in x-genbench-tokens-per-second,
//!            or `--intended-gap-ms` for a server that sends no such header,
//!            such as GuideLLM's mock-server run with a fixed --itl-ms).
//! nonstream: C keep-alive connections issuing completions back to back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Opts {
    addr: SocketAddr,
    mode: String,
    concurrency: usize,
    duration: Duration,
    model: String,
    max_tokens: Option<u32>,
    ramp: Duration,
    intended_gap_us: f64,
}

fn opts() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:8701".parse().unwrap(),
        mode: "stream".into(),
        concurrency: 2000,
        duration: Duration::from_secs(30),
        model: "gpt-4o-mini".into(),
        max_tokens: Some(200),
        ramp: Duration::from_secs(3),
        intended_gap_us: 0.0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair
            .get(1)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{} needs a value", pair[0]));
        match pair[0].as_str() {
            "--addr" => o.addr = v.parse().expect("--addr HOST:PORT"),
            "--mode" => o.mode = v.into(),
            "--concurrency" => o.concurrency = v.parse().expect("--concurrency N"),
            "--duration-s" => {
                o.duration = Duration::from_secs_f64(v.parse().expect("--duration-s S"))
            }
            "--ramp-s" => o.ramp = Duration::from_secs_f64(v.parse().expect("--ramp-s S")),
            "--intended-gap-ms" => {
                o.intended_gap_us = v.parse::<f64>().expect("--intended-gap-ms MS") * 1e3
            }
            "--model" => o.model = v.into(),
            "--max-tokens" => {
                o.max_tokens = if v == "none" {
                    None
                } else {
                    Some(v.parse().expect("--max-tokens N|none"))
                }
            }
            other => panic!("unknown option {other}"),
        }
    }
    o
}

fn request(o: &Opts, stream: bool, i: usize, keep_alive: bool) -> Vec<u8> {
    let max = o
        .max_tokens
        .map(|m| format!(",\"max_tokens\":{m}"))
        .unwrap_or_default();
    let body = format!(
        "{{\"model\":\"{}\",\"stream\":{stream},\"messages\":[{{\"role\":\"user\",\"content\":\"Write an article about topic {i}\"}}]{max}}}",
        o.model
    );
    let conn = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nConnection: {conn}\r\nContent-Length: {}\r\n\r\n{body}",
        o.addr,
        body.len()
    )
    .into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[derive(Default)]
struct Shared {
    in_flight: AtomicI64,
    completed: AtomicU64,
    failed: AtomicU64,
    tokens: AtomicU64,
}

/// A content event's start, as serde_json writes it and as Python's json
/// module does (with spaces).
const TOKENS: [&[u8]; 2] = [b"\"delta\":{\"content\":\"", b"\"delta\": {\"content\": \""];
const LONGEST_TOKEN: usize = TOKENS[1].len();

/// The first content event in `d`: where it starts and its marker's length.
fn find_token(d: &[u8]) -> Option<(usize, usize)> {
    TOKENS
        .iter()
        .filter_map(|t| find(d, t).map(|p| (p, t.len())))
        .min_by_key(|x| x.0)
}

/// One streamed completion on a fresh connection; pushes gap errors in µs.
async fn one_stream(o: &Opts, i: usize, errs: &mut Vec<i32>, sh: &Shared) -> std::io::Result<bool> {
    let mut s = TcpStream::connect(o.addr).await?;
    s.set_nodelay(true)?;
    s.write_all(&request(o, true, i, false)).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    let body_start = loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(false);
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(p) = find(&head, b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head_text = String::from_utf8_lossy(&head[..body_start]).to_string();
    if !head_text.starts_with("HTTP/1.1 200") {
        return Ok(false);
    }
    let speed: f64 = header(&head_text, "x-genbench-tokens-per-second")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let intended_us = if speed > 0.0 {
        1e6 / speed
    } else {
        o.intended_gap_us
    };
    let mut last: Option<Instant> = None;
    let mut carry: Vec<u8> = head[body_start..].to_vec();
    let mut done = false;
    let mut first = true;
    let mut now = Instant::now();
    loop {
        let data = if first {
            first = false;
            std::mem::take(&mut carry)
        } else {
            let n = s.read(&mut buf).await?;
            // Arrival time: when the read returns, not when it was started.
            now = Instant::now();
            if n == 0 {
                break;
            }
            let mut d = std::mem::take(&mut carry);
            d.extend_from_slice(&buf[..n]);
            d
        };
        let mut pos = 0;
        while let Some((p, len)) = find_token(&data[pos..]) {
            if let Some(prev) = last {
                let gap_us = now.duration_since(prev).as_secs_f64() * 1e6;
                errs.push((gap_us - intended_us).round() as i32);
            }
            last = Some(now);
            sh.tokens.fetch_add(1, Ordering::Relaxed);
            pos += p + len;
        }
        if find(&data, b"[DONE]").is_some() {
            done = true;
        }
        // Keep a tail so a marker split across reads is still found.
        let keep = data.len().saturating_sub(LONGEST_TOKEN - 1).max(pos);
        carry = data[keep..].to_vec();
    }
    Ok(done)
}

async fn stream_worker(o: Arc<Opts>, id: usize, sh: Arc<Shared>, end: Instant) -> Vec<i32> {
    let mut errs = Vec::new();
    tokio::time::sleep(o.ramp.mul_f64(id as f64 / o.concurrency as f64)).await;
    let mut i = id * 1_000_000;
    while Instant::now() < end {
        sh.in_flight.fetch_add(1, Ordering::Relaxed);
        let ok = one_stream(&o, i, &mut errs, &sh).await.unwrap_or(false);
        sh.in_flight.fetch_sub(1, Ordering::Relaxed);
        let counter = if ok { &sh.completed } else { &sh.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    errs
}

async fn nonstream_worker(
    o: Arc<Opts>,
    id: usize,
    sh: Arc<Shared>,
    end: Instant,
) -> std::io::Result<()> {
    let mut s = TcpStream::connect(o.addr).await?;
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut i = id * 1_000_000;
    while Instant::now() < end {
        s.write_all(&request(&o, false, i, true)).await?;
        let mut have = Vec::new();
        let (body_start, len) = loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            have.extend_from_slice(&buf[..n]);
            if let Some(p) = find(&have, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&have[..p]).to_string();
                let len: usize = header(&head, "content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if !head.starts_with("HTTP/1.1 200") {
                    sh.failed.fetch_add(1, Ordering::Relaxed);
                }
                break (p + 4, len);
            }
        };
        while have.len() < body_start + len {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            have.extend_from_slice(&buf[..n]);
        }
        let body = &have[body_start..body_start + len];
        if let Some(p) = find(body, b"\"completion_tokens\":") {
            let digits: String = body[p + 20..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|b| *b as char)
                .collect();
            sh.tokens
                .fetch_add(digits.parse().unwrap_or(0), Ordering::Relaxed);
        }
        sh.completed.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    Ok(())
}

fn pct(sorted: &[i32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = Arc::new(opts());
    let sh = Arc::new(Shared::default());
    let start = Instant::now();
    let end = start + o.duration;
    // In-flight samples once a second, after the ramp and first TTFTs.
    let sampler = {
        let sh = sh.clone();
        let settle = o.ramp + Duration::from_secs(2);
        tokio::spawn(async move {
            let mut samples = Vec::new();
            tokio::time::sleep(settle).await;
            while Instant::now() + Duration::from_secs(1) < end {
                tokio::time::sleep(Duration::from_secs(1)).await;
                samples.push(sh.in_flight.load(Ordering::Relaxed));
            }
            samples
        })
    };
    let mut out = serde_json::json!({"mode": o.mode, "concurrency": o.concurrency, "model": o.model,
                                     "duration_s": o.duration.as_secs_f64(), "max_tokens": o.max_tokens});
    if o.mode == "stream" {
        let handles: Vec<_> = (0..o.concurrency)
            .map(|id| tokio::spawn(stream_worker(o.clone(), id, sh.clone(), end)))
            .collect();
        let mut errs = Vec::new();
        for h in handles {
            errs.extend(h.await.unwrap());
        }
        errs.sort_unstable();
        let abs: Vec<i32> = {
            let mut a: Vec<i32> = errs.iter().map(|e| e.abs()).collect();
            a.sort_unstable();
            a
        };
        let samples = sampler.await.unwrap();
        out["gap_samples"] = errs.len().into();
        out["gap_error_ms"] = serde_json::json!({"p50": pct(&errs, 50.0), "p99": pct(&errs, 99.0),
            "p1": pct(&errs, 1.0), "abs_p99": pct(&abs, 99.0), "abs_max": pct(&abs, 100.0)});
        out["concurrent_streams"] = serde_json::json!({"min": samples.iter().min(), "max": samples.iter().max(),
            "mean": samples.iter().sum::<i64>() as f64 / samples.len().max(1) as f64});
    } else {
        let handles: Vec<_> = (0..o.concurrency)
            .map(|id| tokio::spawn(nonstream_worker(o.clone(), id, sh.clone(), end)))
            .collect();
        for h in handles {
            let _ = h.await;
        }
        sampler.abort();
    }
    let secs = start.elapsed().as_secs_f64();
    let completed = sh.completed.load(Ordering::Relaxed);
    out["completed"] = completed.into();
    out["failed"] = sh.failed.load(Ordering::Relaxed).into();
    out["completions_per_s"] = (completed as f64 / secs).into();
    out["tokens"] = sh.tokens.load(Ordering::Relaxed).into();
    out["tokens_per_s"] = (sh.tokens.load(Ordering::Relaxed) as f64 / secs).into();
    out["elapsed_s"] = secs.into();
    println!("{out}");
}
