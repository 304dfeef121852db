//! `genbench record`: a reverse proxy that forwards every request to the
//! upstream, streams the answer back, and writes each request as one row of
//! a trace that `[load] model = "replay"` sends again. Credentials are
//! forwarded (the service needs them) and never written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, anyhow};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use genbench_traffic::credentials::is_hop_by_hop;
use genbench_traffic::write::{Recorded, line};
use tokio::sync::{mpsc, watch};

use crate::cli::RecordArgs;
use crate::exit::Exit;
use crate::run::records;

/// What every request's handler shares.
struct Proxy {
    client: reqwest::Client,
    /// The upstream's URL without a trailing `/`.
    upstream: String,
    max_body_bytes: usize,
    rows: mpsc::UnboundedSender<String>,
    recorded: AtomicU64,
    credentials: AtomicU64,
    not_utf8: AtomicU64,
}

/// A request on its way: written as a row when its answer has been sent
/// (or the client went away), so its latency is the whole exchange's.
struct Pending {
    proxy: Arc<Proxy>,
    at: SystemTime,
    start: Instant,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    status: Option<u16>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut out = String::new();
        let dropped = line(
            &mut out,
            &Recorded {
                at_s: self
                    .at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
                method: &self.method,
                path: &self.path,
                headers: &self.headers,
                body: self.body.as_deref(),
                status: self.status,
                latency_ms: self.start.elapsed().as_secs_f64() * 1e3,
            },
        );
        let p = &self.proxy;
        p.credentials
            .fetch_add(u64::from(dropped), Ordering::Relaxed);
        p.recorded.fetch_add(1, Ordering::Relaxed);
        // The writer outlives every request; if it failed, the end says so.
        let _ = p.rows.send(out);
    }
}

/// Forwards one request and streams its answer back.
async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    let (at, start) = (SystemTime::now(), Instant::now());
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, p.max_body_bytes).await else {
        let why = format!(
            "genbench record: request body over --max-body-bytes ({})",
            p.max_body_bytes
        );
        return (StatusCode::PAYLOAD_TOO_LARGE, why).into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |x| x.as_str())
        .to_string();
    let mut up = p
        .client
        .request(parts.method.clone(), format!("{}{path}", p.upstream));
    for (k, v) in &parts.headers {
        if !is_hop_by_hop(k.as_str()) {
            up = up.header(k, v);
        }
    }
    let text = match std::str::from_utf8(&body) {
        Ok(t) => (!t.is_empty()).then(|| t.to_string()),
        Err(_) => {
            p.not_utf8.fetch_add(1, Ordering::Relaxed);
            None
        }
    };
    let mut row = Pending {
        proxy: p.clone(),
        at,
        start,
        method: parts.method.to_string(),
        path,
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: text,
        status: None,
    };
    let resp = match up.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = format!("genbench record: the upstream {} failed: {e}", p.upstream);
            return (StatusCode::BAD_GATEWAY, why).into_response();
        }
    };
    row.status = Some(resp.status().as_u16());
    let mut out = Response::builder().status(resp.status().as_u16());
    for (k, v) in resp.headers() {
        if !is_hop_by_hop(k.as_str()) {
            out = out.header(k, v);
        }
    }
    // The row goes with the body: written once the answer is through.
    let stream = resp.bytes_stream().map(move |chunk| {
        let _ = &row;
        chunk
    });
    out.body(Body::from_stream(stream))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

/// The upstream as a base URL to put paths after.
fn upstream(url: &str) -> Result<String, Exit> {
    let u = url.trim_end_matches('/');
    match u.split_once("://") {
        Some(("http", rest)) if !rest.is_empty() => Ok(u.to_string()),
        Some(("https", _)) => Err(Exit::usage(anyhow!(
            "--upstream {url}: record forwards over plain HTTP; put it in front of the service's HTTP port (TLS ends before it)"
        ))),
        _ => Err(Exit::usage(anyhow!(
            "--upstream {url}: give the service's URL, e.g. http://127.0.0.1:8000"
        ))),
    }
}

pub fn run(args: RecordArgs) -> Result<u8, Exit> {
    let upstream = upstream(&args.upstream)?;
    let listen: std::net::SocketAddr = args.listen.parse().map_err(|_| {
        Exit::usage(anyhow!(
            "--listen {}: give an address and port, e.g. 127.0.0.1:8089",
            args.listen
        ))
    })?;
    let (rt, stop) = super::run::runtime_with_stop()?;
    rt.block_on(serve(args, upstream, listen, stop))
        .map_err(Exit::could_not_run)
}

async fn serve(
    args: RecordArgs,
    upstream: String,
    listen: std::net::SocketAddr,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<u8> {
    let l = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("--listen {listen}: cannot listen"))?;
    let (writer, rows) = records::start_for(&args.out, "--out")?;
    let client = genbench_pipeline::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot make the upstream client")?;
    let proxy = Arc::new(Proxy {
        client,
        upstream,
        max_body_bytes: args.max_body_bytes,
        rows,
        recorded: AtomicU64::new(0),
        credentials: AtomicU64::new(0),
        not_utf8: AtomicU64::new(0),
    });
    eprintln!(
        "genbench record: http://{} -> {}, writing {} (Ctrl-C to stop)",
        l.local_addr()?,
        proxy.upstream,
        args.out.display()
    );
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let progress = tokio::spawn(progress(proxy.clone()));
    let mut shutdown = stop;
    axum::serve(l, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
        .context("the proxy failed")?;
    progress.abort();
    let _ = progress.await;
    let p = Arc::into_inner(proxy).context("a request outlived the proxy")?;
    let (recorded, credentials, not_utf8) = (
        p.recorded.into_inner(),
        p.credentials.into_inner(),
        p.not_utf8.into_inner(),
    );
    drop(p.rows);
    writer.finish().await?;
    println!(
        "recorded {recorded} requests to {} ({credentials} credential headers left out; {not_utf8} bodies not UTF-8 kept as null)",
        args.out.display()
    );
    Ok(Exit::OK)
}

/// A line on stderr every 10 s while requests come.
async fn progress(p: Arc<Proxy>) {
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let n = p.recorded.load(Ordering::Relaxed);
        if n != last {
            eprintln!("  {n} requests recorded");
            last = n;
        }
    }
}
