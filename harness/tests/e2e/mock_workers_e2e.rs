//! `genbench mock --workers N`: N threads serve, every one of them used,
//! over one ledger that counts every request exactly once.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{genbench, out_dir, results};

/// CPU ticks of each thread of `pid` whose name starts with `prefix`.
fn thread_ticks(pid: u32, prefix: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // utime and stime: fields 14 and 15 of stat, 12 and 13 after comm.
        out.push(f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap());
    }
    out
}

#[test]
fn every_worker_serves_and_one_ledger_counts_it_all() {
    let mut mock = genbench()
        .args(["mock", "--workers", "3", "--time-scale", "0"])
        .args([
            "--llm",
            "127.0.0.1:0",
            "--search",
            "127.0.0.1:0",
            "--web",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(mock.stdout.take().unwrap()).lines();
    let ready: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let llm = ready["llm"].as_str().unwrap().to_string();
    let dir = out_dir("mock-workers");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("chat.toml");
    std::fs::write(
        &file,
        r#"
name = "chat"
[load]
model = "closed"
stages = "12,1ms;12,3s"
connections = 12
[request]
method = "POST"
path = "/v1/chat/completions"
headers = { "content-type" = "application/json" }
body = '{"model": "gpt-4o-mini", "max_tokens": 30, "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
"#,
    )
    .unwrap();
    let o = genbench()
        .args([
            "run",
            file.to_str().unwrap(),
            "--target",
            &llm,
            "--profile",
            "off",
        ])
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ticks = thread_ticks(mock.id(), "mock-worker-");
    let r = results(&dir.join("out"));
    assert!(
        Command::new("kill")
            .arg(mock.id().to_string())
            .status()
            .unwrap()
            .success()
    );
    let ledger: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(mock.wait().unwrap().code(), Some(0));
    assert_eq!(ticks.len(), 3, "worker threads: {ticks:?}");
    assert!(
        ticks.iter().all(|t| *t > 0),
        "every worker served: {ticks:?}"
    );
    let sent = r["requests"]["ok"].as_u64().unwrap();
    assert!(sent > 100, "{sent} requests");
    assert_eq!(
        ledger["ledger"]["models"]["gpt-4o-mini"]["requests"].as_u64(),
        Some(sent)
    );
}
