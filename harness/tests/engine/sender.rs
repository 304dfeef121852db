//! The sender's HTTP/1.1 client against scripted raw-TCP servers: keep-alive,
//! servers that close, cut, garble or never answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use genbench::engine::requests::Rendered;
use genbench::engine::sender::{Sender, Slot};
use genbench_collectors::Outcome;
use genbench_model::ErrorKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// What the scripted server does with each request on a connection.
#[derive(Clone, Copy)]
enum Script {
    KeepAlive,
    /// Answers, then closes the connection without saying so.
    CloseSilently,
    SayClose,
    CutBody,
    Garbage,
    Silent,
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

async fn read_request(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    true
}

/// Returns the URL and a count of accepted connections.
async fn server(script: Script) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while read_request(&mut s).await {
                    let reply: &[u8] = match script {
                        Script::KeepAlive | Script::CloseSilently => OK,
                        Script::SayClose => {
                            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"
                        }
                        Script::CutBody => {
                            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this"
                        }
                        Script::Garbage => b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
                        Script::Silent => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                    };
                    if s.write_all(reply).await.is_err() {
                        return;
                    }
                    if !matches!(script, Script::KeepAlive) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        return;
                    }
                }
            });
        }
    });
    (url, accepted)
}

fn get() -> Rendered {
    Rendered {
        path: "/".into(),
        ..Rendered::default()
    }
}

/// Sends `n` requests one after another through one slot.
async fn send_n(url: &str, n: usize, timeout: Duration) -> Vec<Outcome> {
    let sender = Sender::new(url, "GET", &Default::default(), timeout, Instant::now()).unwrap();
    let mut slot = Slot::default();
    let mut out = Vec::new();
    for _ in 0..n {
        *slot.request_mut() = get();
        let (sample, back) = sender.send(Some(Duration::ZERO), slot).await;
        slot = back;
        out.push(sample.outcome);
        // Lets a closing server's FIN arrive before the next send.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let (url, accepted) = server(Script::KeepAlive).await;
    let out = send_n(&url, 5, Duration::from_secs(5)).await;
    assert_eq!(out, vec![Outcome::Ok(200); 5]);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connections_the_server_closes_are_replaced_without_errors() {
    for script in [Script::CloseSilently, Script::SayClose] {
        let (url, accepted) = server(script).await;
        let out = send_n(&url, 4, Duration::from_secs(5)).await;
        assert_eq!(out, vec![Outcome::Ok(200); 4]);
        assert_eq!(accepted.load(Ordering::SeqCst), 4);
    }
}

#[tokio::test]
async fn cut_garbled_and_silent_answers_are_named() {
    let (url, _) = server(Script::CutBody).await;
    let out = send_n(&url, 1, Duration::from_secs(5)).await;
    assert_eq!(out, [Outcome::Error(ErrorKind::BodyCut)]);

    let (url, _) = server(Script::Garbage).await;
    let out = send_n(&url, 1, Duration::from_secs(5)).await;
    assert_eq!(out, [Outcome::Error(ErrorKind::Invalid)]);

    let (url, accepted) = server(Script::Silent).await;
    let t = std::time::Instant::now();
    let out = send_n(&url, 2, Duration::from_millis(200)).await;
    assert_eq!(out, [Outcome::Error(ErrorKind::Timeout); 2]);
    assert!(t.elapsed() < Duration::from_secs(5));
    // A timed-out connection may still deliver the late answer: never reused.
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn targets_are_http_or_https_urls_with_an_optional_base_path() {
    let t0 = Instant::now();
    let new = |url: &str| Sender::new(url, "GET", &Default::default(), Duration::from_secs(1), t0);
    assert!(new("http://127.0.0.1:1").is_ok());
    assert!(new("http://[::1]:8080/").is_ok());
    assert!(new("http://127.0.0.1:1/api").is_ok());
    assert!(new("http://localhost:1/api/v1/").is_ok());
    for bad in [
        "ftp://127.0.0.1:1",
        "127.0.0.1:1",
        "http://",
        "http://h:99999",
        "http://h/a?b",
    ] {
        assert!(new(bad).is_err(), "{bad} accepted");
    }
    let bad_method = Sender::new(
        "http://127.0.0.1:1",
        "GE T",
        &Default::default(),
        Duration::from_secs(1),
        t0,
    );
    assert!(bad_method.is_err());
}
