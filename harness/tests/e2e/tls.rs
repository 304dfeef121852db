//! The sender against real HTTPS servers on 127.0.0.1:0 with certificates
//! the test makes: HTTP/1.1 and HTTP/2 by ALPN, HTTP/2 by prior knowledge,
//! base paths, session resumption, and each certificate problem (unknown
//! CA, wrong name, expired) as an error of kind `tls`, which `--insecure`
//! skips.

use crate::tls_server;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::tls_server::{Pki, serve};
use genbench::engine::requests::Rendered;
use genbench::engine::sender::{Net, Sender, Slot};
use genbench::net::tls::Verify;
use genbench_collectors::Outcome;
use genbench_collectors::connections::ConnEvent;
use genbench_model::ErrorKind;
use genbench_scenarios::{HttpSettings, HttpVersion};
use hyper::Version;
use tokio::time::Instant;

const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];
const H1_ONLY: &[&[u8]] = &[b"http/1.1"];

fn ca_file(pki: &Pki, name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("genbench-{name}-{}.pem", std::process::id()));
    std::fs::write(&p, pki.ca_pem()).unwrap();
    p
}

fn net(version: HttpVersion, verify: Verify) -> Net {
    Net {
        http: HttpSettings {
            version,
            connections: 2,
            max_streams: 8,
        },
        verify,
    }
}

async fn sender(url: &str, net: &Net) -> Sender {
    Sender::new(
        url,
        "GET",
        &BTreeMap::new(),
        Duration::from_secs(5),
        Instant::now(),
    )
    .unwrap()
    .with_net(net)
    .unwrap()
    .negotiate()
    .await
}

/// Sends `path` `n` times in a row through one slot: outcomes and the
/// connection events the requests produced.
async fn send_n(s: &Sender, path: &str, n: usize) -> (Vec<Outcome>, Vec<ConnEvent>) {
    let mut slot = Slot::default();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    for _ in 0..n {
        *slot.request_mut() = Rendered {
            path: path.into(),
            ..Rendered::default()
        };
        let (sample, back) = s.send(Some(Duration::ZERO), slot).await;
        events.extend(back.conn_event());
        slot = back;
        out.push(sample.outcome);
    }
    (out, events)
}

#[tokio::test]
async fn https_http1_with_the_test_ca_keeps_one_connection() {
    let pki = Pki::new("genbench test CA");
    let srv = serve(Some((
        pki.leaf(&["localhost", "127.0.0.1"], false),
        H1_ONLY,
    )))
    .await;
    let ca = ca_file(&pki, "ca-h1");
    let url = format!("https://localhost:{}/api", srv.addr.port());
    let s = sender(&url, &net(HttpVersion::Auto, Verify::CaCert(ca))).await;
    assert_eq!(s.protocol(), "http/1.1");
    let (out, events) = send_n(&s, "/x", 5).await;
    assert_eq!(out, vec![Outcome::Ok(200); 5]);
    // One connection for five requests, its TLS handshake timed apart.
    assert!(
        matches!(events[..], [ConnEvent::Opened { tls: Some(_), .. }]),
        "{events:?}"
    );
    let seen = srv.seen();
    assert!(
        seen.iter()
            .all(|r| r.path == "/api/x" && r.version == Version::HTTP_11)
    );
}

#[tokio::test]
async fn auto_speaks_http2_where_alpn_offers_it() {
    let pki = Pki::new("genbench test CA");
    let srv = serve(Some((pki.leaf(&["127.0.0.1"], false), BOTH))).await;
    let url = format!("https://127.0.0.1:{}", srv.addr.port());
    let s = sender(
        &url,
        &net(HttpVersion::Auto, Verify::CaCert(ca_file(&pki, "ca-h2"))),
    )
    .await;
    assert_eq!(s.protocol(), "h2");
    let (out, events) = send_n(&s, "/json", 4).await;
    assert_eq!(out, vec![Outcome::Ok(200); 4]);
    assert!(srv.seen().iter().all(|r| r.version == Version::HTTP_2));
    // Two connections in the pool, each opened once (the probe is the third).
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(srv.accepted(), 3);
}

#[tokio::test]
async fn many_streams_share_few_http2_connections() {
    let pki = Pki::new("genbench test CA");
    let srv = serve(Some((pki.leaf(&["127.0.0.1"], false), BOTH))).await;
    let url = format!("https://127.0.0.1:{}", srv.addr.port());
    let n = net(
        HttpVersion::Http2,
        Verify::CaCert(ca_file(&pki, "ca-streams")),
    );
    let s = std::sync::Arc::new(sender(&url, &n).await);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { send_n(&s, "/", 3).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), vec![Outcome::Ok(200); 3]);
    }
    assert_eq!(srv.seen().len(), 120);
    assert_eq!(srv.accepted(), 2, "connections = 2");
}

#[tokio::test]
async fn http2_prior_knowledge_on_plain_http() {
    let srv = serve(None).await;
    let url = format!("http://127.0.0.1:{}", srv.addr.port());
    let s = sender(&url, &net(HttpVersion::Http2, Verify::SystemRoots)).await;
    assert_eq!(s.protocol(), "h2");
    let (out, _) = send_n(&s, "/", 3).await;
    assert_eq!(out, vec![Outcome::Ok(200); 3]);
    assert!(srv.seen().iter().all(|r| r.version == Version::HTTP_2));
}

#[tokio::test]
async fn reconnects_resume_the_tls_session() {
    let pki = Pki::new("genbench test CA");
    let srv = serve(Some((pki.leaf(&["127.0.0.1"], false), H1_ONLY))).await;
    let url = format!("https://127.0.0.1:{}", srv.addr.port());
    let s = sender(
        &url,
        &net(HttpVersion::Http1, Verify::CaCert(ca_file(&pki, "ca-res"))),
    )
    .await;
    // Each answer closes its connection, so every request opens a new one.
    let (out, events) = send_n(&s, "/close", 4).await;
    assert_eq!(out, vec![Outcome::Ok(200); 4]);
    let resumed: Vec<bool> = events
        .iter()
        .map(|e| matches!(e, ConnEvent::Opened { resumed: true, .. }))
        .collect();
    assert_eq!(resumed, [false, true, true, true], "{events:?}");
}

async fn tls_failure(pki_for_server: &Pki, names: &[&str], expired: bool, client_ca: &Pki) {
    let srv = serve(Some((pki_for_server.leaf(names, expired), BOTH))).await;
    let url = format!("https://127.0.0.1:{}", srv.addr.port());
    let ca = ca_file(client_ca, &format!("ca-fail-{}", srv.addr.port()));
    for version in [HttpVersion::Http1, HttpVersion::Http2, HttpVersion::Auto] {
        let s = sender(&url, &net(version, Verify::CaCert(ca.clone()))).await;
        let (out, events) = send_n(&s, "/", 2).await;
        assert_eq!(out, vec![Outcome::Error(ErrorKind::Tls); 2], "{version:?}");
        assert!(events.iter().all(|e| *e == ConnEvent::Failed));
        // --insecure gets through the same server.
        let s = sender(&url, &net(version, Verify::Insecure)).await;
        assert_eq!(
            send_n(&s, "/", 1).await.0,
            [Outcome::Ok(200)],
            "{version:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_ca_is_a_tls_error() {
    let (server_ca, other_ca) = (Pki::new("server CA"), Pki::new("another CA"));
    tls_failure(&server_ca, &["127.0.0.1"], false, &other_ca).await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_tls_error() {
    let ca = Pki::new("genbench test CA");
    tls_failure(&ca, &["other.example"], false, &ca).await;
}

#[tokio::test]
async fn an_expired_certificate_is_a_tls_error() {
    let ca = Pki::new("genbench test CA");
    tls_failure(&ca, &["127.0.0.1"], true, &ca).await;
}

#[tokio::test]
async fn ipv6_literals_connect_over_tls() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback on this machine; skipped");
        return;
    }
    let pki = Pki::new("genbench test CA");
    let srv = tls_server::serve_at("[::1]:0", Some((pki.leaf(&["::1"], false), BOTH))).await;
    let url = format!("https://[::1]:{}/v1", srv.addr.port());
    let s = sender(
        &url,
        &net(HttpVersion::Auto, Verify::CaCert(ca_file(&pki, "ca-v6"))),
    )
    .await;
    assert_eq!(send_n(&s, "/", 2).await.0, vec![Outcome::Ok(200); 2]);
    assert!(srv.seen().iter().all(|r| r.path == "/v1/"));
}
