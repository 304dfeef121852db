//! The stress and spike analyses through the `genbench` binary, against a
//! service of known capacity: one request at a time, 50 ms each, so 20
//! requests/s and no more.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{out_dir, results, run_ok, schema_errors};
use serde_json::Value;

/// Serves `/work` one request at a time, each taking `SERVICE`.
const SERVICE: Duration = Duration::from_millis(50);

fn serve_one_at_a_time(rt: &tokio::runtime::Runtime) -> String {
    rt.block_on(async {
        let slot = Arc::new(tokio::sync::Semaphore::new(1));
        let app = axum::Router::new()
            .route(
                "/work",
                axum::routing::get(
                    |axum::extract::State(slot): axum::extract::State<
                        Arc<tokio::sync::Semaphore>,
                    >| async move {
                        let _held = slot.acquire().await;
                        tokio::time::sleep(SERVICE).await;
                        "done"
                    },
                ),
            )
            .with_state(slot);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        url
    })
}

fn run_scenario(name: &str, head: &str) -> Value {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = serve_one_at_a_time(&rt);
    let dir = out_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scenario.toml");
    let text = format!("{head}\n[request]\nmethod = \"GET\"\npath = \"/work\"\n",);
    std::fs::write(&file, text).unwrap();
    run_ok(
        &[
            "run",
            file.to_str().unwrap(),
            "--target",
            &url,
            "--profile",
            "off",
        ],
        &dir.join("out"),
    );
    let v = results(&dir.join("out"));
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    v
}

#[test]
fn stress_finds_the_capacity_of_a_20_rps_service() {
    let v = run_scenario(
        "analysis-stress",
        r#"name = "stress-known"
kind = "stress"
slo = ["p95 < 500ms", "error_rate < 1%"]
[load]
model = "open"
arrivals = "constant"
stages = "5,1s;5,3s;10,1s;10,3s;40,1s;40,3s"
timeout = "20s""#,
    );
    let c = &v["capacity"];
    let steps = c["steps"].as_array().unwrap();
    let rates: Vec<f64> = steps
        .iter()
        .map(|s| s["target_rps"].as_f64().unwrap())
        .collect();
    assert_eq!(rates, [5.0, 10.0, 40.0], "{c}");
    let meets: Vec<bool> = steps
        .iter()
        .map(|s| s["meets_slo"].as_bool().unwrap())
        .collect();
    assert_eq!(meets, [true, true, false], "{c}");
    assert_eq!(c["max_sustainable_rps"], 10.0, "{c}");
    assert_eq!(c["knee_rps"], 10.0, "{c}");
    assert_eq!(c["slo"][0], "p95 < 500ms");
    // 40 requests/s arrive; the service completes at most 20.
    let served = steps[2]["achieved_rps"].as_f64().unwrap();
    assert!(served <= 21.0, "{c}");
}

#[test]
fn spike_reports_the_burst_and_the_recovery() {
    let v = run_scenario(
        "analysis-spike",
        r#"name = "spike-known"
kind = "spike"
[load]
model = "open"
arrivals = "constant"
stages = "5,1s;5,4s;40,1s;40,2s;5,1s;5,10s"
timeout = "20s""#,
    );
    let s = &v["spike"];
    assert_eq!(
        (s["burst_start_s"].as_f64(), s["burst_end_s"].as_f64()),
        (Some(5.0), Some(8.0)),
        "{s}"
    );
    let base = s["baseline_p95_ms"].as_f64().unwrap();
    let burst = s["p95_during_burst_ms"].as_f64().unwrap();
    assert!(base < 200.0 && burst > 3.0 * base, "{s}");
    assert_eq!(s["errors_during_burst"], 0);
    // The backlog (about 40 requests) drains at 15 requests/s: some seconds
    // after the burst, never instantly, well before the run ends.
    let rec = s["recovery_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("never recovered: {s}"));
    assert!((1.0..=7.0).contains(&rec), "{s}");
}
