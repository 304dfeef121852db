//! `genbench ab` end to end: two targets in alternating rounds, then the
//! gate. The embedded target with a slower handler on one side regresses
//! (request latency paired by request); a command target is started on the
//! port genbench gives it, once per run, and stopped after; a target that
//! is none of the three forms is refused before anything runs. How small a
//! change `ab` catches and how rarely it cries wolf are bench/gate.sh's.

use std::net::TcpStream;

use crate::support::{genbench, out_dir, results, run_expecting};
use serde_json::Value;

fn gate_json(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("gate.json")).unwrap()).unwrap()
}

fn metric<'a>(gate: &'a Value, name: &str) -> &'a Value {
    gate["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {gate}"))
}

#[test]
fn a_slower_handler_on_b_fails_the_gate_in_alternating_rounds() {
    let dir = out_dir("ab-handler");
    let stdout = run_expecting(
        1,
        &[
            "ab",
            "ci",
            "--a",
            "embedded",
            "--b",
            "embedded",
            "--b-set",
            "pipeline.extra_delay_ms.handler=200",
            "--rounds",
            "2",
            "--mock-time-scale",
            "0",
            "--profile",
            "off",
        ],
        &dir,
    );
    assert!(stdout.contains("gate FAILED"), "{stdout}");
    let gate = gate_json(&dir);
    let p95 = metric(&gate, "latency_p95");
    assert_eq!(p95["verdict"], "regressed", "{p95}");
    assert_eq!(p95["method"], "paired", "{p95}");
    // Rounds A B, then B A: each side's runs, in the order they started.
    let started = |side: &str, n: u32| {
        results(&dir.join(side).join(format!("run-{n}")))["started_at"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a1, b1, b2, a2) = (
        started("a", 1),
        started("b", 1),
        started("b", 2),
        started("a", 2),
    );
    assert!(a1 < b1 && b1 < b2 && b2 < a2, "{a1} {b1} {b2} {a2}");
    assert_eq!(gate["baseline"].as_array().unwrap().len(), 2);
}

#[test]
fn a_command_target_is_started_on_its_port_for_each_run_and_stopped() {
    let dir = out_dir("ab-command");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("chat.toml");
    std::fs::write(
        &scenario,
        r#"name = "ab-chat"
[load]
model = "closed"
stages = [{ duration = "1ms", target = 1 }, { duration = "20s", target = 1 }]
max_requests = 40
[request]
method = "POST"
path = "/v1/chat/completions"
headers = { "content-type" = "application/json" }
body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}'
"#,
    )
    .unwrap();
    // The service: genbench's own mock LLM on {port}, fresh each run, so
    // both sides meet the same seeded delays: A/A passes.
    let mock = format!(
        "exec {} mock --llm 127.0.0.1:{{port}} --search 127.0.0.1:0 --web 127.0.0.1:0 --time-scale 0.02",
        env!("CARGO_BIN_EXE_genbench")
    );
    let out = dir.join("out");
    let scenario = scenario.to_str().unwrap();
    let o = genbench()
        .args([
            "ab",
            scenario,
            "--a",
            &mock,
            "--b",
            &mock,
            "--rounds",
            "2",
            "--profile",
            "off",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    // Whether 80 requests a side differ beyond noise is the gate's to
    // say (bench/gate.sh counts its false alarms); here, that it said it.
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("gate passed") || stdout.contains("gate FAILED"),
        "{stdout}"
    );
    let mut pids = std::collections::BTreeSet::new();
    for run in ["a/run-1", "b/run-1", "b/run-2", "a/run-2"] {
        let r = results(&out.join(run));
        assert_eq!(r["requests"]["ok"], 40, "{run}");
        // The command's process is the run's target (its CPU and RSS are
        // read by pid), a fresh one each run.
        pids.insert(r["target"]["pid"].as_u64().expect("the command's pid"));
        // Stopped after its run: nothing listens on its port any more.
        let addr = r["target"]["url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://");
        assert!(
            TcpStream::connect(addr).is_err(),
            "{run}: {addr} still served"
        );
    }
    assert_eq!(pids.len(), 4, "{pids:?}");
    assert_eq!(metric(&gate_json(&out), "latency_p95")["method"], "paired");
}

#[test]
fn a_target_that_is_not_embedded_a_url_or_a_command_with_a_port_is_refused() {
    let o = genbench()
        .args([
            "ab",
            "ci",
            "--a",
            "embedded",
            "--b",
            "./my-service --port 8000",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--b") && err.contains("{port}"), "{err}");
}
