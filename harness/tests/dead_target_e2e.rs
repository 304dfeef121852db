//! A target that dies mid-run and comes back: closed-model users with no
//! think time back off instead of hammering the closed port, and the result
//! says when the target stopped answering and when it came back.

mod support;

use std::time::Duration;

use axum::routing::get;
use support::{genbench, out_dir, results};

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
    assert!((4..100).contains(&refused), "{refused} refused connections");
    let outages = r["outages"].as_array().expect("an outage");
    assert_eq!(outages.len(), 1, "{outages:?}");
    let (start, end) = (
        outages[0]["start_s"].as_f64().unwrap(),
        outages[0]["end_s"].as_f64().expect("it came back"),
    );
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
