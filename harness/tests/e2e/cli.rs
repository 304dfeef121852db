//! The `genbench` binary's contract: exit codes, errors that say what to do,
//! and `genbench mock` printing its URLs and, when stopped, its ledger.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn genbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genbench"))
}

#[test]
fn merge_without_parts_or_of_a_non_result_exits_2_saying_so() {
    let out = genbench().arg("merge").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<PART>") && err.contains("--out"), "{err}");
    let dir = std::env::temp_dir().join(format!("genbench-cli-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("results.json");
    std::fs::write(&bogus, "{}").unwrap();
    let out = genbench()
        .arg("merge")
        .arg(&bogus)
        .arg("--out")
        .arg(dir.join("merged"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(bogus.to_str().unwrap()), "{err}");
}

#[test]
fn gate_without_both_sides_or_with_a_missing_file_exits_2_saying_so() {
    let out = genbench()
        .args(["gate", "--baseline", "a.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--current"), "{err}");
    let out = genbench()
        .args([
            "gate",
            "--baseline",
            "/nonexistent/a.json",
            "--current",
            "/nonexistent/b.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/a.json"), "{err}");
}

#[test]
fn usage_errors_exit_2_with_the_fix() {
    let cases: [(&[&str], &str); 12] = [
        (
            &["run", "--target", "ftp://127.0.0.1:1"],
            "http:// or https://",
        ),
        (
            &["run", "--target", "https://${env:GENBENCH_NO_SUCH_VAR}/api"],
            "GENBENCH_NO_SUCH_VAR is not set",
        ),
        (
            &[
                "run",
                "--target",
                "https://h",
                "--ca-cert",
                "ca.pem",
                "--insecure",
            ],
            "cannot be used with",
        ),
        (&["run", "--set", "pipeline.top_k=30"], "1 to 10"),
        (
            &["run", "--set", "load.timeout=soon"],
            "--set load.timeout=soon",
        ),
        (&["run", "--set", "timeout"], "give key=value"),
        (
            &[
                "run",
                "--target",
                "http://127.0.0.1:1",
                "--set",
                "pipeline.model=x",
            ],
            "embedded",
        ),
        (&["run", "--users", "5"], "use --rate"),
        (&["mock", "--faults", "error_rate=3"], "between 0 and 1"),
        (&["mock", "--search-preset", "bing"], "known: google-cse"),
        (
            &["mock", "--presets", "/no/such/file.toml"],
            "cannot read presets file",
        ),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let out = genbench().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn help_exits_0() {
    let out = genbench().args(["mock", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--faults"));
}

#[test]
fn busy_port_exits_3() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = genbench()
        .args([
            "mock",
            "--llm",
            &addr,
            "--search",
            "127.0.0.1:0",
            "--web",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

#[cfg(unix)]
#[test]
fn mock_prints_urls_then_its_ledger_on_sigterm() {
    let mut child = genbench()
        .args([
            "mock",
            "--llm",
            "127.0.0.1:0",
            "--search",
            "127.0.0.1:0",
            "--web",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    for key in ["llm", "search", "web"] {
        assert!(
            first[key]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:"),
            "{first}"
        );
    }
    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let last: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(last["ledger"]["in_flight"], 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[cfg(unix)]
#[test]
fn pipeline_prints_its_url_and_stops_on_sigterm() {
    let mut child = genbench()
        .args([
            "pipeline",
            "--addr",
            "127.0.0.1:0",
            "--cache",
            "off",
            "--top-k",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert!(
        first["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{first}"
    );
    assert!(
        Command::new("kill")
            .arg(child.id().to_string())
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn pipeline_config_errors_exit_2() {
    let out = genbench()
        .args(["pipeline", "--top-k", "50"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("top_k"));
    let dir = std::env::temp_dir().join(format!("genbench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.toml");
    std::fs::write(&file, "modle = \"x\"\n").unwrap();
    let out = genbench()
        .args(["pipeline", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("p.toml") && err.contains("modle"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// stderr of a server started with `args`, once it was ready and stopped.
#[cfg(unix)]
fn server_stderr(args: &[&str]) -> String {
    let mut child = genbench()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    assert!(ready.starts_with('{'), "{ready}");
    assert!(
        Command::new("kill")
            .arg(child.id().to_string())
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Bound beyond loopback (nothing is sent to them here), the servers say
/// which control endpoints anyone on the network can call; on loopback,
/// their default, they do not.
#[cfg(unix)]
#[test]
fn servers_beyond_loopback_say_what_is_open() {
    let mock = |llm: &str| {
        server_stderr(&[
            "mock",
            "--llm",
            llm,
            "--search",
            "127.0.0.1:0",
            "--web",
            "127.0.0.1:0",
        ])
    };
    let open = mock("0.0.0.0:0");
    assert!(open.contains("/mock/ledger/reset"), "{open}");
    assert!(open.contains("Bind 127.0.0.1"), "{open}");
    assert!(!mock("127.0.0.1:0").contains("warning"));
    let pipeline = |addr: &str| server_stderr(&["pipeline", "--addr", addr, "--cache", "off"]);
    let open = pipeline("0.0.0.0:0");
    assert!(
        open.contains("/config") && open.contains("0.0.0.0:"),
        "{open}"
    );
    assert!(!pipeline("127.0.0.1:0").contains("warning"));
}
