//! `[collect.metrics]` end to end: the embedded pipeline's own gauges and
//! counters read each second into results.json, and thresholds on them.

use crate::support::{out_dir, results, run_expecting, schema_errors};
use serde_json::Value;

const SCENARIO: &str = r#"
name = "series"
thresholds = ["max(requests) > 1", "max(in_flight) > 1000"]

[load]
model = "open"
arrivals = "constant"
stages = "10,1ms;10,5s"

[request]
method = "POST"
path = "/api/v1/generate-article"
body = '{"topic": "{{topic}}", "target_length": 100}'

[datasets.topic]
values = ["tides", "kelp", "reefs", "dunes", "fjords", "deltas"]

[collect.metrics]
in_flight = "genbench_pipeline_in_flight"
requests = { counter = "genbench_pipeline_requests_total" }
heap = { gauge = "genbench_pipeline_heap_bytes", url = "/metrics" }
"#;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_targets_series_are_read_each_second_and_judged() {
    let dir = out_dir("series");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("series.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let stdout = run_expecting(
        1,
        &[
            "run",
            file.to_str().unwrap(),
            "--mock-time-scale",
            "0.05",
            "--profile",
            "off",
        ],
        &dir,
    );
    let v = results(&dir);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let s = &v["series"];
    let requests = &s["requests"];
    assert_eq!(requests["kind"], "rate");
    assert!(requests["source"].as_str().unwrap().contains("/metrics"));
    // The pipeline's request counter, as a rate, is the load's: 10/s.
    let mean = f(&requests["mean"]);
    assert!((6.0..=14.0).contains(&mean), "{requests}");
    assert!(
        requests["samples"].as_array().unwrap().len() >= 3,
        "{requests}"
    );
    assert_eq!(s["in_flight"]["kind"], "gauge");
    // A labelled counter is absent until its first request: the reading at
    // the start may find nothing.
    assert!(f(&requests["failed_reads"]) <= 1.0, "{requests}");
    assert_eq!(s["in_flight"]["failed_reads"], 0);
    assert!(f(&s["heap"]["min"]) > 1.0, "{}", s["heap"]);
    let t = v["thresholds"].as_array().unwrap();
    assert_eq!(t[0]["passed"], true, "{t:?}");
    assert_eq!(t[1]["passed"], false, "{t:?}");
    assert!(stdout.contains("max(in_flight) > 1000"), "{stdout}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for name in ["requests", "in_flight", "heap"] {
        let chart = format!("data-chart=\"series-{name}\"");
        assert!(html.contains(&chart), "no {chart} in the report");
    }
}
