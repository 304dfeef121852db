//! The regression gate end to end, through the `genbench` binary: the ci
//! built-in run with `--repeat`, then `genbench gate` on what it wrote:
//! the same runs pass, an injected stage delay and a larger context budget
//! fail (the cost exactly), a different scenario or a file that is not a
//! result cannot be compared. Instant mocks and large injections keep
//! these exact: how small a change the gate catches, and how rarely it
//! cries wolf, are bench/gate.sh's figures.

use std::path::{Path, PathBuf};

use crate::support::{genbench, out_dir, results, run_ok, schema_errors};
use serde_json::Value;

/// `genbench run ci --repeat n` at instant mocks, with `--set` knobs.
fn ci(name: &str, repeat: &str, set: &[&str]) -> PathBuf {
    let dir = out_dir(name);
    let mut args = vec![
        "run",
        "ci",
        "--repeat",
        repeat,
        "--mock-time-scale",
        "0",
        "--profile",
        "off",
    ];
    for s in set {
        args.extend(["--set", s]);
    }
    run_ok(&args, &dir);
    dir
}

fn runs(dir: &Path, n: u32) -> Vec<String> {
    (1..=n)
        .map(|i| {
            dir.join(format!("run-{i}/results.json"))
                .display()
                .to_string()
        })
        .collect()
}

/// `genbench gate`, expecting exit `code`; (stdout, stderr, gate.json).
fn gate(
    code: i32,
    base: &[String],
    cur: &[String],
    extra: &[&str],
    out: &Path,
) -> (String, String, Value) {
    let _ = std::fs::create_dir_all(out);
    let json = out.join("gate.json");
    let o = genbench()
        .arg("gate")
        .arg("--baseline")
        .args(base)
        .arg("--current")
        .args(cur)
        .args(extra)
        .arg("--out")
        .arg(&json)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    );
    assert_eq!(o.status.code(), Some(code), "{stdout}\n{stderr}");
    let v = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (stdout, stderr, v)
}

fn verdict<'a>(g: &'a Value, name: &str) -> &'a Value {
    let m = g["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name);
    &m.unwrap_or_else(|| panic!("no metric {name} in {g}"))["verdict"]
}

#[test]
fn the_gate_passes_the_same_runs_and_fails_injected_regressions() {
    let spawn = |name: &'static str, repeat: &'static str, set: &'static [&'static str]| {
        std::thread::spawn(move || ci(name, repeat, set))
    };
    let base = spawn("gate-base", "2", &[]);
    let slow = spawn("gate-slow", "2", &["pipeline.extra_delay_ms.llm=200"]);
    let costly = spawn("gate-costly", "1", &["pipeline.context_token_budget=7200"]);
    let (base, slow, costly) = (
        base.join().unwrap(),
        slow.join().unwrap(),
        costly.join().unwrap(),
    );

    // --repeat: each run whole in its directory, and the pool of them.
    let pooled = results(&base);
    let parts: Vec<Value> = (1..=2)
        .map(|i| results(&base.join(format!("run-{i}"))))
        .collect();
    assert_eq!(pooled["requests"]["total"].as_u64(), Some(120));
    assert_eq!(schema_errors(&pooled), Vec::<String>::new());
    for p in &parts {
        assert_eq!(
            p["requests"]["total"].as_u64(),
            Some(60),
            "{}",
            p["requests"]
        );
        assert_eq!(p["scenario"]["seed"], 1);
        // One user, one order of topics: the same hits and cost every run.
        assert_eq!(p["cache"]["hits"], parts[0]["cache"]["hits"]);
        assert_eq!(p["cost"]["total_usd"], parts[0]["cost"]["total_usd"]);
    }
    assert_eq!(
        pooled["cache"]["hits"].as_u64().unwrap(),
        2 * parts[0]["cache"]["hits"].as_u64().unwrap()
    );

    let out = out_dir("gate-verdicts");
    let b = runs(&base, 2);
    let (stdout, _, g) = gate(0, &b, &b, &[], &out);
    assert!(stdout.contains("gate passed"), "{stdout}");
    assert_eq!(g["verdict"], "passed");

    let junit = out.join("junit.xml");
    let md = out.join("summary.md");
    let extra = [
        "--junit",
        junit.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ];
    let (stdout, _, g) = gate(1, &b, &runs(&slow, 2), &extra, &out);
    assert!(stdout.contains("gate FAILED"), "{stdout}");
    assert_eq!(verdict(&g, "stage_p95.llm"), "regressed", "{g}");
    assert_eq!(verdict(&g, "latency_p95"), "regressed", "{g}");
    // Time, not money: the delay costs nothing.
    assert_eq!(verdict(&g, "cost_per_article"), "unchanged", "{g}");
    assert_eq!(g["metrics"][0]["verdict"], "regressed");

    // JUnit as a standard parser reads it: one testcase per metric, the
    // regressions as failures.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), g["metrics"].as_array().unwrap().len());
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .filter_map(|c| c.attribute("name"))
        .collect();
    assert!(failed.contains(&"stage_p95.llm"), "{failed:?}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.len() < 1 << 20 && md.contains("stage\\_p95.llm"), "{md}");

    let costly = vec![costly.join("results.json").display().to_string()];
    let (_, _, g) = gate(1, &b, &costly, &[], &out);
    for m in ["cost_per_article", "tokens_per_article"] {
        assert_eq!(verdict(&g, m), "regressed", "{g}");
        let row = g["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == m)
            .unwrap();
        assert_eq!(row["method"], "exact", "{row}");
    }
}

#[test]
fn inputs_that_cannot_be_compared_exit_2_with_the_reason() {
    let ci_dir = ci("gate-ci-one", "1", &[]);
    let other = out_dir("gate-other");
    run_ok(
        &[
            "run",
            "baseline",
            "--duration",
            "2s",
            "--mock-time-scale",
            "0",
            "--profile",
            "off",
        ],
        &other,
    );
    let out = out_dir("gate-incomparable");
    let ci = vec![ci_dir.join("results.json").display().to_string()];
    let base = vec![other.join("results.json").display().to_string()];
    let (_, stderr, _) = gate(2, &base, &ci, &[], &out);
    assert!(stderr.contains("different scenarios"), "{stderr}");

    let junk = out.join("not-a-result.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let (_, stderr, _) = gate(2, &ci, &[junk.display().to_string()], &[], &out);
    assert!(
        stderr.contains("not-a-result.json") && stderr.contains("not a genbench"),
        "{stderr}"
    );

    let rules = out.join("gate.toml");
    std::fs::write(&rules, "[metrics.latency_p42]\nenabled = false\n").unwrap();
    let (_, stderr, _) = gate(2, &ci, &ci, &["--rules", rules.to_str().unwrap()], &out);
    assert!(
        stderr.contains("gate.toml") && stderr.contains("latency_p42"),
        "{stderr}"
    );
}
