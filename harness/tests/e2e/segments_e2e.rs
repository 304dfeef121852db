//! `--segment I/N` end to end: four segment processes started together
//! (`--start-at`) against one loopback server send, between them, exactly
//! the arrivals of one unsegmented run with the same seed; each says which
//! segment it is; `genbench merge` makes them one result whose histogram
//! holds every part's values; a segment that reaches its start too late
//! sends nothing; parts that do not make one run are refused.

use crate::support;

use std::path::Path;
use std::process::{Child, Stdio};

use crate::support::{genbench, out_dir, results, run_expecting, schema_errors};
use serde_json::Value;

/// A server answering every request at once; its URL.
fn server() -> String {
    support::serve(axum::Router::new().route("/work", axum::routing::post(|| async { "ok" })))
}

const SCENARIO: &str = r#"
name = "segments"
[load]
model = "open"
arrivals = "poisson"
stages = "40,1s;40,2s"

[request]
method = "POST"
path = "/work"
body = '{"n": "{{n}}"}'

[datasets.n]
values = ["1", "2", "3", "4", "5", "6", "7", "8"]
"#;

fn spawn(file: &Path, url: &str, dir: &Path, extra: &[&str]) -> Child {
    std::fs::create_dir_all(dir).unwrap();
    genbench()
        .args([
            "run",
            file.to_str().unwrap(),
            "--target",
            url,
            "--profile",
            "off",
        ])
        .args(["--seed", "11", "--records"])
        .arg(dir.join("records.jsonl"))
        .arg("--out")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_ok(c: Child) {
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Each record's scheduled instant, as written (µs precision).
fn scheduled(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("records.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["scheduled_s"].to_string())
        .collect()
}

#[test]
fn four_segments_send_exactly_the_whole_runs_arrivals() {
    let url = server();
    let root = out_dir("segments");
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("segments.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let whole = root.join("whole");
    wait_ok(spawn(&file, &url, &whole, &[]));
    let parts: Vec<_> = (0..4)
        .map(|i| {
            let dir = root.join(format!("part-{i}"));
            let seg = format!("{i}/4");
            let c = spawn(&file, &url, &dir, &["--segment", &seg, "--start-at", "+3s"]);
            (dir, c)
        })
        .collect();
    let mut union = Vec::new();
    let mut hashes = Vec::new();
    let mut total = 0;
    for (i, (dir, c)) in parts.into_iter().enumerate() {
        wait_ok(c);
        let v = results(&dir);
        assert_eq!(schema_errors(&v), Vec::<String>::new());
        let s = &v["segment"];
        assert_eq!(
            (&s["index"], &s["count"], &s["seed"]),
            (&i.into(), &4.into(), &11.into())
        );
        let lag = s["start_lag_ms"].as_f64().unwrap();
        assert!((0.0..1000.0).contains(&lag), "started {lag} ms late");
        assert!(s["start_at"].as_str().unwrap().ends_with('Z'));
        hashes.push(s["scenario_hash"].clone());
        total += v["requests"]["total"].as_u64().unwrap();
        union.extend(scheduled(&dir));
    }
    hashes.dedup();
    assert_eq!(hashes.len(), 1, "one scenario, one hash");
    let w = results(&whole);
    assert!(w.get("segment").is_none(), "a whole run is no segment");
    assert_eq!(total, w["requests"]["total"].as_u64().unwrap());
    let mut all = scheduled(&whole);
    let key = |s: &String| s.parse::<f64>().unwrap();
    all.sort_by(|a, b| key(a).total_cmp(&key(b)));
    union.sort_by(|a, b| key(a).total_cmp(&key(b)));
    assert!(all.len() > 50, "{} arrivals", all.len());
    assert_eq!(union, all, "the segments' arrivals are the whole run's");
    merged_is_the_union_of_the_parts(&root, w["requests"]["total"].as_u64().unwrap());
}

fn histogram(v: &Value, key: &str) -> hdrhistogram::Histogram<u64> {
    genbench_collectors::pool::decode_histogram(v["histograms"][key].as_str().unwrap()).unwrap()
}

fn merge(root: &Path, parts: &[&str]) -> std::process::Output {
    genbench()
        .arg("merge")
        .args(parts.iter().map(|p| root.join(p)))
        .arg("--out")
        .arg(root.join("merged"))
        .output()
        .unwrap()
}

fn merged_is_the_union_of_the_parts(root: &Path, whole_total: u64) {
    let o = merge(root, &["part-0", "part-1", "part-2", "part-3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = results(&root.join("merged"));
    assert_eq!(schema_errors(&m), Vec::<String>::new());
    assert_eq!(m["requests"]["total"].as_u64().unwrap(), whole_total);
    // The merged histogram is the parts' added, value for value.
    let mut sum = histogram(&results(&root.join("part-0")), "latency_us");
    for i in 1..4 {
        sum.add(histogram(
            &results(&root.join(format!("part-{i}"))),
            "latency_us",
        ))
        .unwrap();
    }
    let merged = histogram(&m, "latency_us");
    assert_eq!(merged, sum);
    // It is the histogram of every request the parts' records hold (each
    // written in the whole µs the histogram recorded): bit for bit.
    let mut all = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for i in 0..4 {
        let text = std::fs::read_to_string(root.join(format!("part-{i}/records.jsonl"))).unwrap();
        for l in text.lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            let us = (v["latency_ms"].as_f64().unwrap() * 1000.0).round() as u64;
            all.record(us).unwrap();
        }
    }
    assert_eq!(merged.len(), all.len());
    let (a, b) = (merged.value_at_quantile(0.99), all.value_at_quantile(0.99));
    assert!(
        merged.equivalent(a, b),
        "merged p99 {a} µs, records' {b} µs"
    );
    assert_eq!(m["latency_ms"]["p99"].as_f64().unwrap(), a as f64 / 1000.0);
    assert!(m.get("segment").is_none());
    // Each second's percentiles come from the parts' interval logs added.
    let tl = m["timeline"].as_array().unwrap();
    let busy: Vec<&Value> = tl
        .iter()
        .filter(|p| p["rps"].as_f64().unwrap() > 0.0)
        .collect();
    assert!(busy.len() >= 3, "{tl:?}");
    let max = m["latency_ms"]["max"].as_f64().unwrap();
    for p in busy {
        let p99 = p["p99_ms"]
            .as_f64()
            .unwrap_or_else(|| panic!("no p99 in {p}"));
        assert!(p["p50_ms"].as_f64().unwrap() <= p99 && p99 <= max, "{p}");
    }
    assert!(root.join("merged/report.html").is_file());
    // Parts that are not one whole run are refused, naming what is wrong.
    for (parts, words) in [
        (
            &["part-0", "part-1", "part-2"][..],
            "segment is 3 of 4 missing",
        ),
        (&["part-0", "part-1", "part-2", "part-2"][..], "given twice"),
        (&["whole", "part-1"][..], "is not a segment"),
    ] {
        let o = merge(root, parts);
        assert_eq!(o.status.code(), Some(2), "{parts:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(words), "{parts:?}: {words:?} not in {err}");
    }
}

#[test]
fn segments_come_from_the_pods_index_and_a_late_start_sends_nothing() {
    let url = server();
    let dir = out_dir("segments-late");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("segments.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let o = genbench()
        .args([
            "run",
            file.to_str().unwrap(),
            "--target",
            &url,
            "--profile",
            "off",
        ])
        .args(["--segments", "3", "--duration", "1s", "--out"])
        .arg(dir.join("indexed"))
        .env("JOB_COMPLETION_INDEX", "2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = results(&dir.join("indexed"));
    assert_eq!(
        (&v["segment"]["index"], &v["segment"]["count"]),
        (&2.into(), &3.into())
    );
    // Without the pod's index, the fix is named.
    let o = genbench()
        .args(["run", file.to_str().unwrap(), "--segments", "3"])
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--segment I/3"));
    // Ten seconds past its start: more than max_start_lag (5 s) late.
    let late = dir.join("late");
    let out = run_expecting(
        3,
        &[
            "run",
            file.to_str().unwrap(),
            "--target",
            &url,
            "--segment",
            "0/2",
            "--start-at",
            "2000-01-01T00:00:00Z",
        ],
        &late,
    );
    assert!(out.is_empty(), "{out}");
    assert!(!late.join("results.json").exists(), "nothing was run");
}
