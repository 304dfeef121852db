//! Replays of traces genbench did not write: an access log that nginx
//! itself wrote in this test, and an LLM trace in the mooncake style
//! against `genbench mock`, whose ledger must count the trace's input
//! tokens and, as cached, its shared prefixes' tokens.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::logging::logging_server;
use crate::support::write_file as write;
use crate::support::{out_dir, results, run_ok, stderr_expecting};

/// nginx on a free loopback port, answering 200 to everything and logging
/// in the combined format to `dir/access.log`; it and its port.
fn nginx(dir: &Path) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.display();
    let conf = write(
        dir,
        "nginx.conf",
        &format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log {d}/access.log combined;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{ return 200 \"ok\"; }}\n  }}\n}}\n"
        ),
    );
    // Debian puts it in /usr/sbin, which a user's PATH may not have.
    let bin = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|b| !b.starts_with('/') || Path::new(b).exists())
        .unwrap_or("nginx");
    let mut child = Command::new(bin)
        .args([
            "-p",
            &d.to_string(),
            "-e",
            &format!("{d}/error.log"),
            "-c",
            &conf,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (Debian's nginx-light; .ci/test installs it)");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, port);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "nginx did not listen on {port}: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

/// One HTTP/1.0 request to nginx, read to its end.
fn request(port: u16, method: &str, path: &str, body: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: x\r\nUser-Agent: replay-test\r\nAuthorization: Bearer secret\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

#[test]
fn an_nginx_access_log_replays_its_methods_paths_and_gaps() {
    let dir = out_dir("replay-nginx");
    let (mut nginx, port) = nginx(&dir);
    let first = [
        ("GET", "/articles?topic=rust&n=3"),
        ("POST", "/articles"),
        ("DELETE", "/articles/7"),
    ];
    for (m, p) in first {
        request(
            port,
            m,
            p,
            if m == "POST" {
                "{\"topic\":\"from the client\"}"
            } else {
                ""
            },
        );
    }
    // A log's times are whole seconds: the second group is a second on.
    std::thread::sleep(Duration::from_millis(1100));
    let second = [("GET", "/health"), ("PUT", "/articles/7")];
    for (m, p) in second {
        request(port, m, p, "");
    }
    let _ = nginx.kill();
    let _ = nginx.wait();
    let log = std::fs::read_to_string(dir.join("access.log")).unwrap();
    assert_eq!(log.lines().count(), 5, "{log}");
    let toml = write(
        &dir,
        "replay.toml",
        &format!(
            r#"name = "nginx-log"
[load]
model = "replay"
[load.replay]
file = "{}/access.log"
format = "access-log"
[request]
method = "POST"
path = "/"
json = {{ replayed = true }}
"#,
            dir.display()
        ),
    );
    let (url, seen) = logging_server();
    run_ok(&["run", &toml, "--target", &url], &dir.join("out"));
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|s| s.at);
    let got: Vec<(&str, &str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str(), s.body.as_str()))
        .collect();
    // Requests in the same second may arrive in any order.
    let (mut a, mut b) = (got[..3].to_vec(), got[3..].to_vec());
    a.sort();
    b.sort();
    let template = "{\"replayed\":true}";
    assert_eq!(
        a,
        [
            ("DELETE", "/articles/7", ""),
            ("GET", "/articles?topic=rust&n=3", ""),
            ("POST", "/articles", template)
        ]
    );
    assert_eq!(
        b,
        [("GET", "/health", ""), ("PUT", "/articles/7", template)]
    );
    let gap = seen[3].at.duration_since(seen[2].at);
    assert!(
        gap > Duration::from_millis(900),
        "{gap:?} between the log's seconds"
    );
    assert!(
        seen.iter().all(|s| s.authorization.is_empty()),
        "a log holds no credentials, and none are added"
    );

    // A line that is not a request (a TLS client on the plain port).
    let junk = format!(
        "{log}10.0.0.9 - - [05/Dec/2026:06:00:00 +0000] \"\\x16\\x03\\x01\" 400 157 \"-\" \"-\"\n"
    );
    write(&dir, "access.log", &junk);
    let err = stderr_expecting(2, &["run", &toml, "--target", &url]);
    assert!(
        err.contains("access.log:6: the request is `\\x16\\x03\\x01`")
            && err.contains("remove the line"),
        "{err}"
    );
}

/// Tokens a provider reports cached for a prompt whose first `shared`
/// tokens it has seen: from 1,024, in steps of 128 (OpenAI's rule, which
/// the mock keeps).
fn cached(shared: u64) -> u64 {
    if shared < 1024 {
        0
    } else {
        1024 + (shared - 1024) / 128 * 128
    }
}

#[test]
fn an_llm_trace_reaches_the_mock_with_its_lengths_and_shared_prefixes() {
    let dir = out_dir("replay-llm");
    let (mut text, mut want_prompt, mut want_cached) = (String::new(), 0u64, 0u64);
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for i in 0..40u64 {
        // Four families of prompts sharing 2 to 4 blocks, and a block of
        // each row's own.
        let family = i % 4;
        let mut blocks: Vec<u64> = (0..2 + family).map(|b| family * 100 + b).collect();
        blocks.push(1000 + i);
        let input = 512 * (blocks.len() as u64 - 1) + 100 + i * 7;
        let shared_blocks = seen
            .iter()
            .map(|s| s.iter().zip(&blocks).take_while(|(a, b)| a == b).count())
            .max()
            .unwrap_or(0) as u64;
        want_cached += cached((512 * shared_blocks).min(input));
        want_prompt += input;
        seen.push(blocks.clone());
        writeln!(
            text,
            r#"{{"timestamp": {}, "input_length": {input}, "output_length": {}, "hash_ids": {blocks:?}}}"#,
            i * 30,
            5 + i % 7
        )
        .unwrap();
    }
    let trace = write(&dir, "mooncake.jsonl", &text);
    let toml = write(
        &dir,
        "llm.toml",
        &format!(
            r#"name = "llm-trace"
embedded = "mock"
mock_time_scale = 0.0
[load]
model = "replay"
[load.replay]
file = "{trace}"
format = "llm-trace"
model = "gpt-4o-mini"
[request]
path = "/v1/chat/completions"
headers = {{ content-type = "application/json" }}
body = '{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{{{{prompt}}}}"}}],"max_tokens":{{{{max_tokens}}}}}}'
"#
        ),
    );
    let out = dir.join("out");
    run_ok(&["run", &toml], &out);
    let r = results(&out);
    let tokens = &r["cost"]["tokens"];
    assert_eq!(tokens["prompt"].as_u64(), Some(want_prompt), "{tokens}");
    assert_eq!(
        tokens["cached_prompt"].as_u64(),
        Some(want_cached),
        "{tokens}"
    );
    assert!(want_cached > 0);
    assert_eq!(r["replay"]["sent"], 40);
}
