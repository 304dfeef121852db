//! `genbench merge` computes the analyses and flows again from what the
//! segments recorded: a stress run's capacity steps, a spike's windows and
//! a flow scenario's steps are the parts' recordings added, so the merged
//! verdict is the whole load's where each part saw only its share.

use crate::support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{genbench, out_dir, results, schema_errors};
use axum::extract::{Path as UrlPath, State};
use axum::routing::{get, post};
use genbench_collectors::pool::decode_histogram;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Runs `n` segments of `scenario` side by side from one start instant and
/// merges them; the parts' and the merged results.
fn segments_merged(name: &str, scenario: &str, url: &str, n: u32) -> (Vec<Value>, Value) {
    let root = out_dir(name);
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let dirs: Vec<PathBuf> = (0..n).map(|i| root.join(format!("part-{i}"))).collect();
    let children: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            genbench()
                .args(["run", file.to_str().unwrap(), "--target", url])
                .args(["--profile", "off", "--seed", "5", "--start-at", "+2s"])
                .args(["--segment", &format!("{i}/{n}"), "--out"])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        // Exit 1 is a failed threshold: the merge is what is judged here.
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let merged = root.join("merged");
    let o = genbench()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m = results(&merged);
    assert_eq!(schema_errors(&m), Vec::<String>::new());
    let parts: Vec<Value> = dirs.iter().map(|d| results(d)).collect();
    for p in &parts {
        assert_eq!(schema_errors(p), Vec::<String>::new());
    }
    (parts, m)
}

fn hist(b64: &Value) -> Histogram<u64> {
    decode_histogram(b64.as_str().expect("an encoded histogram")).unwrap()
}

/// The histograms `encoded` added, into the first one's bounds.
fn added<'a>(mut encoded: impl Iterator<Item = &'a Value>) -> Histogram<u64> {
    let mut sum = hist(encoded.next().unwrap());
    for e in encoded {
        sum.add(hist(e)).unwrap();
    }
    sum
}

/// Window `i` of every part, its latency histograms added.
fn window_latency(parts: &[Value], i: usize) -> Histogram<u64> {
    added(
        parts
            .iter()
            .map(|p| &p["segment"]["analysis"]["windows"][i]["latency_us"]),
    )
}

fn window_ok(parts: &[Value], i: usize) -> u64 {
    parts
        .iter()
        .map(|p| {
            p["segment"]["analysis"]["windows"][i]["ok"]
                .as_u64()
                .unwrap()
        })
        .sum()
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Answers `/work` after 2 ms.
fn quick_server() -> String {
    support::serve(axum::Router::new().route(
        "/work",
        post(|| async {
            tokio::time::sleep(Duration::from_millis(2)).await;
            "ok"
        }),
    ))
}

const STRESS: &str = r#"
name = "merged-stress"
kind = "stress"
slo = ["throughput_rps > 5", "error_rate < 1%"]
[load]
model = "open"
arrivals = "constant"
stages = "8,1s;8,2s;24,1s;24,2s"
[request]
method = "POST"
path = "/work"
"#;

#[test]
fn a_stress_runs_steps_are_the_whole_loads() {
    let url = quick_server();
    let (parts, m) = segments_merged("merged-stress", STRESS, &url, 4);
    let cap = &m["capacity"];
    let steps = cap["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{cap}");
    for (i, (step, target)) in steps.iter().zip([8.0, 24.0]).enumerate() {
        assert_eq!(step["target_rps"].as_f64(), Some(target));
        // The window's requests are every part's, at the whole step's rate.
        let covered = parts[0]["segment"]["analysis"]["windows"][i]["covered_s"]
            .as_f64()
            .unwrap();
        let ok = window_ok(&parts, i);
        assert_eq!(step["achieved_rps"].as_f64(), Some(ok as f64 / covered));
        assert!(
            (step["achieved_rps"].as_f64().unwrap() - target).abs() <= target * 0.35,
            "{step}"
        );
        // Percentiles of the parts' recordings added, never averaged.
        let h = window_latency(&parts, i);
        assert_eq!(h.len(), ok);
        assert_eq!(step["p95_ms"].as_f64(), Some(ms(&h, 0.95)), "{step}");
        assert_eq!(step["p99_ms"].as_f64(), Some(ms(&h, 0.99)), "{step}");
    }
    // Both steps meet the SLO's 5 rps: the whole load sustains 24 rps,
    // where each part alone sent 2 rps at the first step and fails it.
    assert_eq!(steps[0]["meets_slo"], true);
    assert_eq!(steps[1]["meets_slo"], true);
    assert_eq!(cap["max_sustainable_rps"].as_f64(), Some(24.0));
    for p in &parts {
        assert_eq!(p["capacity"]["max_sustainable_rps"], Value::Null, "{p}");
    }
    assert!(m.get("segment").is_none());
}

const SPIKE: &str = r#"
name = "merged-spike"
kind = "spike"
[load]
model = "open"
arrivals = "constant"
stages = "6,1s;6,2s;30,1s;30,1s;6,1s;6,2s"
[request]
method = "POST"
path = "/work"
"#;

#[test]
fn a_spikes_windows_are_the_whole_loads() {
    let url = quick_server();
    let (parts, m) = segments_merged("merged-spike", SPIKE, &url, 3);
    let s = &m["spike"];
    assert_eq!(
        (s["burst_start_s"].as_f64(), s["burst_end_s"].as_f64()),
        (Some(3.0), Some(5.0))
    );
    let before = window_latency(&parts, 0);
    let during = window_latency(&parts, 1);
    assert!(!before.is_empty() && during.len() > before.len() / 2, "{s}");
    assert_eq!(s["baseline_p95_ms"].as_f64(), Some(ms(&before, 0.95)));
    assert_eq!(s["p95_during_burst_ms"].as_f64(), Some(ms(&during, 0.95)));
    assert_eq!(s["errors_during_burst"], 0);
}

/// Jobs that are done 300 ms after they are submitted.
fn job_server() -> String {
    type Jobs = Arc<Mutex<HashMap<u64, Instant>>>;
    async fn submit(State(j): State<Jobs>) -> axum::Json<Value> {
        let mut jobs = j.lock().unwrap();
        let id = jobs.len() as u64;
        jobs.insert(id, Instant::now());
        axum::Json(json!({"id": id}))
    }
    async fn poll(State(j): State<Jobs>, UrlPath(id): UrlPath<u64>) -> axum::Json<Value> {
        let at = j.lock().unwrap().get(&id).copied();
        let done = at.is_some_and(|t| t.elapsed() >= Duration::from_millis(300));
        axum::Json(json!({"state": if done { "done" } else { "running" }}))
    }
    let jobs: Jobs = Arc::default();
    support::serve(
        axum::Router::new()
            .route("/jobs", post(submit))
            .route("/jobs/{id}", get(poll))
            .with_state(jobs),
    )
}

const FLOW: &str = r#"
name = "merged-flow"
[load]
model = "open"
arrivals = "constant"
stages = "6,2s"

[[flow.steps]]
name = "submit"
method = "POST"
path = "/jobs"
extract = { id = "/id" }

[[flow.steps]]
name = "wait"
path = "/jobs/{{id}}"
poll = { until = "/state", equals = ["done"], every = "50ms", timeout = "5s" }
"#;

#[test]
fn a_flow_scenarios_steps_are_every_parts() {
    let url = job_server();
    let (parts, m) = segments_merged("merged-flow", FLOW, &url, 2);
    let f = &m["flows"];
    let sum = |get: &dyn Fn(&Value) -> u64| parts.iter().map(get).sum::<u64>();
    // A ramp from 0 to 6 flows/s over 2 s: 6 flows between the parts.
    assert_eq!(f["completed"].as_u64(), Some(6), "{f}");
    assert_eq!(
        f["completed"].as_u64(),
        Some(sum(&|p| p["flows"]["completed"].as_u64().unwrap()))
    );
    for (i, name) in ["submit", "wait"].into_iter().enumerate() {
        let step = &f["steps"][i];
        assert_eq!(step["name"], name);
        let requests = sum(&|p| p["flows"]["steps"][i]["requests"].as_u64().unwrap());
        assert_eq!(step["requests"].as_u64(), Some(requests));
        let h = added(
            parts
                .iter()
                .map(|p| &p["histograms"]["flow_steps_us"][name]),
        );
        let merged = hist(&m["histograms"]["flow_steps_us"][name]);
        assert!(
            merged == h,
            "{name}: the merged histogram is not the parts' added"
        );
        assert_eq!(step["latency_ms"]["p99"].as_f64(), Some(ms(&h, 0.99)));
    }
    let h = added(parts.iter().map(|p| &p["histograms"]["flow_latency_us"]));
    assert_eq!(h.len(), 6);
    assert_eq!(f["latency_ms"]["p50"].as_f64(), Some(ms(&h, 0.5)));
    // Every job takes 300 ms, seen within a 50 ms poll.
    assert!((300.0..500.0).contains(&ms(&h, 0.5)), "{f}");
    assert_eq!(f["points"].as_array().map(Vec::len), Some(6));
    let polls = sum(&|p| p["flows"]["steps"][1]["polls"].as_u64().unwrap());
    assert_eq!(f["steps"][1]["polls"].as_u64(), Some(polls));
    assert!(
        polls >= 6 * 4,
        "{polls} polls for 6 jobs of 300 ms at 50 ms"
    );
}
