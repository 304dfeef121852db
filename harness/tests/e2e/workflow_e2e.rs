//! The `workflow` built-in end to end against the embedded job API: ten
//! article jobs, three at a time, submitted, polled and fetched; the flows
//! and their steps in results.json (valid against the schema), the queue
//! depth series read beside them, and the report's flow section.

use crate::support::{out_dir, results, run_ok, schema_errors};
use serde_json::Value;

fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_workflow_builtin_runs_ten_jobs_three_at_a_time() {
    let dir = out_dir("workflow");
    std::fs::create_dir_all(&dir).unwrap();
    let records = dir.join("records.jsonl");
    let stdout = run_ok(
        &[
            "run",
            "workflow",
            "--records",
            records.to_str().unwrap(),
            "--mock-time-scale",
            "0.2",
            "--profile",
            "off",
        ],
        &dir,
    );
    let v = results(&dir);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let f = &v["flows"];
    assert_eq!(
        (&f["completed"], &f["failed"]),
        (&10.into(), &0.into()),
        "{f}"
    );
    assert!(
        n(&f["per_hour"]) > 0.0 && n(&f["latency_ms"]["p95"]) > 0.0,
        "{f}"
    );
    assert_eq!(f["poll_interval_s"], 0.25);
    let steps: Vec<&str> = f["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["submit", "poll", "result"]);
    assert_eq!(f["steps"][0]["requests"], 10);
    assert_eq!(f["steps"][2]["requests"], 10);
    let polls = n(&f["steps"][1]["requests"]);
    assert!(polls >= 10.0, "{polls}");
    // Every step's request is a request of the run.
    assert_eq!(n(&v["requests"]["total"]), 20.0 + polls);
    // One article per flow, not per request.
    assert_eq!(v["cost"]["articles"], 10);
    // Three flows for two job workers: the queue fills and empties.
    let q = &v["series"]["queue_depth"];
    assert!(n(&q["max"]) >= 1.0, "{q}");
    assert!(
        n(&q["min"]) < n(&q["max"]),
        "the queue depth never moved: {q}"
    );
    assert!(n(&v["series"]["workers_busy"]["max"]) >= 1.0);
    // Flows in flight never exceed the users.
    let tl = v["timeline"].as_array().unwrap();
    assert!(tl.iter().all(|p| n(&p["in_flight"]) <= 3.0), "{tl:?}");
    let done: f64 = tl.iter().map(|p| n(&p["flows_completed"])).sum();
    assert_eq!(done, 10.0);
    let t = v["thresholds"].as_array().unwrap();
    assert!(t.iter().all(|t| t["passed"] == true), "{t:?}");
    assert!(
        stdout.contains("flows       10 completed, 0 failed"),
        "{stdout}"
    );
    // Each request's record names its flow and step.
    let lines: Vec<Value> = std::fs::read_to_string(&records)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as f64, 20.0 + polls);
    let mut flows: Vec<u64> = lines.iter().map(|l| l["flow"].as_u64().unwrap()).collect();
    flows.sort();
    flows.dedup();
    assert_eq!(flows.len(), 10, "ten flows' ids");
    let submits = lines.iter().filter(|l| l["step"] == "submit").count();
    assert_eq!(submits, 10);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("data-chart=\"flow-latency\""));
    assert!(html.contains("href=\"#flows\"") && html.contains("flows completed"));
    assert!(html.contains("biased upward by up to one interval"));
}
