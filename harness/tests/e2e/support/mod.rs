//! Helpers for tests that run the `genbench` binary: the command, a fresh
//! output directory, the results it wrote, and schema validation.
#![allow(dead_code)]

pub mod logging;
pub mod otlp;

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn genbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genbench"))
}

/// A fresh, empty output directory for one test.
pub fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("genbench-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn results(dir: &Path) -> serde_json::Value {
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// What the checked-in schema finds wrong with `v`.
pub fn schema_errors(v: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(genbench_model::SCHEMA_JSON).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Runs `genbench` with `args`, expecting exit `code`; returns stdout.
pub fn run_expecting(code: i32, args: &[&str], out: &Path) -> String {
    let o = genbench()
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(
        o.status.code(),
        Some(code),
        "genbench {args:?}\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

/// Runs `genbench` with `args` (no `--out`), expecting exit `code`;
/// returns stderr, where a refusal says why.
pub fn stderr_expecting(code: i32, args: &[&str]) -> String {
    let o = genbench().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "genbench {args:?}\n{err}");
    err
}

/// Writes `text` to `dir/name` (creating `dir`); the file's path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Runs `genbench` with `args`, expecting exit 0; returns stdout.
pub fn run_ok(args: &[&str], out: &Path) -> String {
    run_expecting(0, args, out)
}

/// Sends `child` SIGINT after `after`, as Ctrl-C would, and waits for it
/// to exit; returns its exit code.
#[cfg(unix)]
pub fn interrupt_after(child: &mut std::process::Child, after: std::time::Duration) -> Option<i32> {
    std::thread::sleep(after);
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success(), "kill -INT {}", child.id());
    child.wait().unwrap().code()
}

/// Serves `app` on a loopback port from a runtime of its own (the tests
/// that use it run the genbench binary, so they have none); its URL.
pub fn serve(app: axum::Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", l.local_addr().unwrap()))
                .unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}
