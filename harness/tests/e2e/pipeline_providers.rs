//! `genbench pipeline` reaching its LLM the way the OpenAI SDK does: the
//! `--llm-url` base URL (with `/v1`) plus `/chat/completions`, the key from
//! `OPENAI_API_KEY`, and HTTPS for an `https://` base URL (the client
//! speaks TLS: the recorder sees a ClientHello).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use crate::support::genbench;
use genbench_mock::{MockAddrs, MockConfig, MockServers};

/// A stand-in LLM on 127.0.0.1:0 that keeps the first bytes of every
/// connection and answers 500 to anything.
fn recorder() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let keep = seen.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            keep.lock().unwrap().push(buf[..n].to_vec());
            let _ = s.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (port, seen)
}

/// Starts the pipeline against `llm_url` and the mock's search and web;
/// asks for one article; returns the answer's status.
fn one_article(llm_url: &str, search_url: &str) -> u16 {
    let mut child = genbench()
        .args([
            "pipeline",
            "--addr",
            "127.0.0.1:0",
            "--cache",
            "off",
            "--top-k",
            "1",
        ])
        .args(["--llm-url", llm_url, "--search-url", search_url])
        .env("OPENAI_API_KEY", "sk-test-from-env")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let url = first["url"].as_str().unwrap().to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let body = r#"{"topic": "tidal energy", "target_length": 50}"#;
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/v1/generate-article HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// One article with the LLM at the recorder (`scheme://127.0.0.1:PORT/v1`)
/// and search and web at the mock: the status and what the recorder saw.
async fn against_recorder(scheme: &'static str) -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let m = MockServers::start(MockConfig::instant(), MockAddrs::default())
        .await
        .unwrap();
    let (port, seen) = recorder();
    let search = m.search_url();
    let status = tokio::task::spawn_blocking(move || {
        one_article(&format!("{scheme}://127.0.0.1:{port}/v1"), &search)
    })
    .await
    .unwrap();
    (status, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_llm_url_is_an_openai_base_url_and_the_key_comes_from_the_environment() {
    let (status, seen) = against_recorder("http").await;
    assert!(
        status >= 500,
        "the LLM failed, so the article does: {status}"
    );
    let seen = seen.lock().unwrap();
    let head = String::from_utf8_lossy(&seen[0]).to_ascii_lowercase();
    assert!(head.starts_with("post /v1/chat/completions "), "{head}");
    assert!(
        head.contains("authorization: bearer sk-test-from-env"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_llm_url_is_reached_over_tls() {
    let (status, seen) = against_recorder("https").await;
    assert!(status >= 500, "{status}");
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty(), "the pipeline never connected");
    // A TLS record of type handshake (22), version 3.x: a ClientHello.
    assert!(
        seen.iter()
            .all(|b| b.len() > 5 && b[0] == 0x16 && b[1] == 0x03),
        "{:?}",
        seen.iter()
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(40)]).to_string())
            .collect::<Vec<_>>()
    );
}
