//! How a run ends when it is told to, or killed: the embedded target's
//! processes never outlive genbench (`kill -9` included), SIGTERM, SIGHUP
//! and SIGINT each stop the load and write what was measured within 2 s,
//! and a second signal exits at once.

use crate::support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::{genbench, out_dir, results};
use axum::routing::get;

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// Running: it exists and is not a zombie waiting to be reaped.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let after = &s[s.rfind(')').map_or(0, |i| i + 1)..];
        after.split_whitespace().next() != Some("Z")
    })
}

fn signal(c: &Child, sig: i32) {
    // SAFETY: kill(2) on a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(c.id() as i32, sig) }, 0);
}

/// Waits up to `limit` for `c` to exit: its exit code and how long it took.
fn exit_within(c: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = c.try_wait().unwrap() {
            return (status.code(), start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = c.kill();
    let _ = c.wait();
    panic!("still running {limit:?} after the signal");
}

#[test]
fn kill_9_leaves_no_embedded_target_behind() {
    let dir = out_dir("signals-kill9");
    let mut c = genbench()
        .args([
            "run",
            "baseline",
            "--duration",
            "60s",
            "--mock-time-scale",
            "0",
        ])
        .args(["--profile", "off", "--out"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let kids = loop {
        let k = children(c.id());
        // The mock, then the pipeline.
        if k.len() >= 2 {
            break k;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no target started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Running load, not only started.
    std::thread::sleep(Duration::from_millis(500));
    c.kill().unwrap();
    c.wait().unwrap();
    let killed = Instant::now();
    while kids.iter().any(|&k| alive(k)) && killed.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let left: Vec<u32> = kids.iter().copied().filter(|&k| alive(k)).collect();
    for &k in &left {
        // SAFETY: kill(2) on a leftover of this test, so it does not linger.
        unsafe { libc::kill(k as i32, libc::SIGKILL) };
    }
    assert!(
        left.is_empty(),
        "{left:?} still running 1 s after genbench was killed"
    );
}

/// A target whose requests take 200 ms (so some are in flight at a stop)
/// and whose ledger answers at once until its `hang_from`-th reading, then
/// hangs, as a target does that stops answering mid-run.
fn server(hang_from: u64) -> String {
    let reads = Arc::new(AtomicU64::new(0));
    let ledger = move || {
        let n = reads.fetch_add(1, Ordering::Relaxed);
        async move {
            if n >= hang_from {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            r#"{"models": {}, "search": {"calls": 0, "failed_calls": 0, "cost_usd": 0.0},
                "web": {"pages": 0}, "total_cost_usd": 0.0, "in_flight": 0}"#
        }
    };
    support::serve(
        axum::Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    "late"
                }),
            )
            .route("/mock/ledger", get(ledger)),
    )
}

fn scenario(dir: &Path, url: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("signals.toml");
    let text = format!(
        r#"
name = "signals"
[load]
model = "open"
arrivals = "constant"
stages = "20,1s;20,60s"
[request]
path = "/slow"
[collect.cost]
ledger = "{url}"
"#
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn start(file: &Path, url: &str, out: &Path) -> Child {
    let c = genbench()
        .args(["run", file.to_str().unwrap(), "--target", url])
        .args(["--profile", "off", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Past the start, with requests in flight.
    std::thread::sleep(Duration::from_millis(1500));
    c
}

#[test]
fn each_stop_signal_writes_what_was_measured_within_2_s() {
    let root = out_dir("signals-stop");
    for (name, sig) in [
        ("term", libc::SIGTERM),
        ("hup", libc::SIGHUP),
        ("int", libc::SIGINT),
    ] {
        // A server of its own: its ledger answers the first reading.
        let url = server(1);
        let file = scenario(&root.join(name), &url);
        let out = root.join(name).join("out");
        let mut c = start(&file, &url, &out);
        signal(&c, sig);
        let (code, took) = exit_within(&mut c, Duration::from_secs(5));
        assert!(took < Duration::from_secs(2), "{name}: took {took:?}");
        // Interrupted: exit 3, like a run that could not finish.
        assert_eq!(code, Some(3), "{name}");
        let r = results(&out);
        assert_eq!(r["status"], "interrupted", "{name}");
        // The ledger hung: its reading was cut short, the rest is there.
        assert!(r["requests"]["total"].as_u64().unwrap() > 0, "{name}");
        assert!(r["cost"].is_null(), "{name}: {}", r["cost"]);
    }
}

/// A stop while the run is still getting ready (its first reading of the
/// ledger hangs) ends it as promptly, before any load.
#[test]
fn a_stop_before_the_load_ends_the_run_at_once() {
    let url = server(0);
    let root = out_dir("signals-early");
    let file = scenario(&root, &url);
    let out = root.join("out");
    let mut c = start(&file, &url, &out);
    signal(&c, libc::SIGTERM);
    let (code, took) = exit_within(&mut c, Duration::from_secs(5));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(code, Some(3));
    assert!(!out.join("results.json").exists(), "no load, no results");
}

#[test]
fn a_second_signal_exits_at_once() {
    let url = server(1);
    let root = out_dir("signals-twice");
    let file = scenario(&root, &url);
    let out = root.join("out");
    let mut c = start(&file, &url, &out);
    signal(&c, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    signal(&c, libc::SIGINT);
    let (code, took) = exit_within(&mut c, Duration::from_secs(5));
    // The first stop would have waited 1 s for the hanging ledger.
    assert!(took < Duration::from_millis(600), "took {took:?}");
    assert_eq!(code, Some(130));
    assert!(!out.join("results.json").exists());
}
