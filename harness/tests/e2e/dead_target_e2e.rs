//! A target that dies mid-run and comes back: closed-model users with no
//! think time back off instead of hammering the closed port, and the result
//! says when the target stopped answering and when it came back.

use crate::support;

use std::time::Duration;

use crate::support::{genbench, out_dir, results};
use axum::routing::get;

/// A server on a loopback port that answers for `up`, is gone for `down`
/// (connections refused), then answers again on the same port.
fn flapping_server(up: Duration, down: Duration) -> String {
    let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap();
    first.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let app = || axum::Router::new().route("/work", get(|| async { "ok" }));
            let l = tokio::net::TcpListener::from_std(first).unwrap();
            // Stops accepting and closes each connection after its request.
            let gone = tokio::time::sleep(up);
            axum::serve(l, app())
                .with_graceful_shutdown(gone)
                .await
                .unwrap();
            tokio::time::sleep(down).await;
            let again = tokio::net::TcpListener::bind(addr).await.unwrap();
            axum::serve(again, app()).await.unwrap();
        });
    });
    format!("http://{addr}")
}

#[test]
fn a_dead_target_is_backed_off_and_its_outage_reported() {
    let url = flapping_server(Duration::from_secs(2), Duration::from_secs(3));
    let dir = out_dir("dead-target");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users.toml");
    std::fs::write(
        &file,
        r#"
name = "users"
[load]
model = "closed"
stages = "4,1ms;4,8s"
timeout = "2s"
[request]
path = "/work"
"#,
    )
    .unwrap();
    let o = genbench()
        .args(["run", file.to_str().unwrap(), "--target", &url])
        .args(["--profile", "off", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = results(&dir.join("out"));
    // 4 users over 3 s of refused connections: backing off to 1 s, a few
    // attempts a user a second, where resending at once made thousands.
    let refused = r["errors"]["by_kind"]["connect"].as_u64().unwrap_or(0);
    eprintln!("{refused} refused connections in the outage");
    assert!((4..100).contains(&refused), "{refused} refused connections");
    let outages = r["outages"].as_array().expect("an outage");
    assert_eq!(outages.len(), 1, "{outages:?}");
    let (start, end) = (
        outages[0]["start_s"].as_f64().unwrap(),
        outages[0]["end_s"].as_f64().expect("it came back"),
    );
    eprintln!("outage from {start} s to {end} s");
    assert!((1.0..=3.0).contains(&start), "stopped at {start} s");
    assert!((4.0..=7.0).contains(&end), "back at {end} s");
    assert!(stdout.contains("stopped answering"), "{stdout}");
    // Back: the last seconds answered without errors.
    let tl = r["timeline"].as_array().unwrap();
    let last = &tl[tl.len() - 2];
    assert!(
        last["rps"].as_f64().unwrap() > 0.0 && last["errors"] == 0,
        "{last}"
    );
}

/// A loopback port nothing listens on: connections are refused.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn run_file(name: &str, text: &str, url: &str) -> (Option<i32>, serde_json::Value, String) {
    let dir = out_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.toml");
    std::fs::write(&file, text).unwrap();
    let o = genbench()
        .args(["run", file.to_str().unwrap(), "--target", url])
        .args(["--profile", "off", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code(), results(&dir.join("out")), stderr)
}

/// `[abort] on_fail`: a threshold broken mid-run stops it (after the
/// grace), status `aborted`, exit 1, everything so far written, and the
/// threshold judged at the end as well.
#[test]
fn a_broken_abort_threshold_stops_the_run_early() {
    let url = support::serve(axum::Router::new().route(
        "/work",
        get(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy") }),
    ));
    let (code, r, err) = run_file(
        "abort-on-fail",
        r#"
name = "abort"
[abort]
on_fail = ["error_rate < 50%"]
grace = "2s"
[load]
model = "open"
stages = "20,1s;20,30s"
[request]
path = "/work"
"#,
        &url,
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(r["status"], "aborted");
    assert_eq!(r["abort"]["rule"], "error_rate < 50%");
    let at = r["abort"]["at_s"].as_f64().unwrap();
    assert!((2.0..=4.0).contains(&at), "aborted at {at} s");
    assert!(
        r["duration_s"].as_f64().unwrap() < 6.0,
        "{}",
        r["duration_s"]
    );
    assert!(r["requests"]["total"].as_u64().unwrap() > 10);
    let t = &r["thresholds"][0];
    assert_eq!(
        (&t["expr"], &t["passed"]),
        (&"error_rate < 50%".into(), &false.into())
    );
    assert!(err.contains("aborting at"), "{err}");
}

/// The built-ins stop once every request has failed for 10 s: a dead
/// target does not hold a CI job for the scenario's whole length.
#[test]
fn a_builtin_against_a_dead_target_aborts_after_10_s() {
    let dir = out_dir("abort-builtin");
    let o = genbench()
        .args([
            "run",
            "baseline",
            "--target",
            &closed_port(),
            "--duration",
            "40s",
        ])
        .args(["--profile", "off", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = results(&dir);
    assert_eq!(r["status"], "aborted");
    assert_eq!(r["abort"]["rule"], "every request failed for 10s");
    let at = r["abort"]["at_s"].as_f64().unwrap();
    assert!((10.0..=13.0).contains(&at), "aborted at {at} s");
    assert!(r["errors"]["by_kind"]["connect"].as_u64().unwrap() > 0);
}
