//! Capacity by search against a target whose capacity is known: the
//! embedded pipeline with 4 requests served at a time, each held 100 ms by
//! its handler (`extra_delay_ms.handler`), over instant mocks and no cache.
//! At most 4 / 0.1 s = 40 requests a second; 4 users each, and a queue
//! behind them for more. The capacity is the handlers' sleep, not the
//! machine's cores (a search uses about 5% of one core), so the searches run
//! beside each other and beside the other tests.

use crate::support;

use crate::support::{out_dir, results, run_expecting, schema_errors};
use serde_json::Value;

const KNOWN_TARGET: [&str; 8] = [
    "--set",
    "pipeline.max_concurrent_requests=4",
    "--set",
    "pipeline.extra_delay_ms.handler=100",
    "--set",
    "pipeline.cache.kind=off",
    "--mock-time-scale",
    "0",
];

fn search(name: &str, scenario: &str, keys: &[&str]) -> (Value, String) {
    let dir = out_dir(name);
    let mut args = vec!["run", scenario];
    args.extend(KNOWN_TARGET);
    for k in keys {
        args.extend(["--set", k]);
    }
    let stdout = run_expecting(0, &args, &dir);
    (results(&dir), stdout)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn a_rate_search_lands_below_the_known_capacity_within_its_resolution() {
    let (r, stdout) = search(
        "search-rate",
        "stress",
        &[
            "load.search.min=10",
            "load.search.max=160",
            "load.search.resolution=10%",
            "load.search.probe=10s",
            "load.search.hold=10s",
            "load.search.drain=1s",
            r#"slo=["p95 < 500ms", "error_rate < 1%"]"#,
        ],
    );
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let s = &r["capacity"]["search"];
    assert_eq!(s["outcome"], "within", "{s}");
    let (passed, failed) = (f(&s["max_sustainable"]), f(&s["lowest_failing"]));
    // Never above what 4 handlers of 100 ms can serve; narrowed to 10%.
    assert!(passed < 40.0 && passed > 25.0, "{s}");
    assert!(failed <= passed * 1.1 + 1e-9, "{s}");
    assert_eq!(r["capacity"]["max_sustainable_rps"], s["max_sustainable"]);
    assert_eq!(s["confirmed"], true, "{s}");
    // Just above capacity the queue grows slowly: the probe may be ended
    // by over-saturation before its p95 passes 500 ms. Either is what
    // broke first; nothing else may be.
    let first = s["failed_first"].as_array().unwrap();
    assert!(!first.is_empty(), "{s}");
    assert!(
        first
            .iter()
            .all(|x| x == "p95 < 500ms"
                || x.as_str().is_some_and(|x| x.starts_with("over-saturated"))),
        "{s}"
    );
    let probes = s["probes"].as_array().unwrap();
    // Doubling from 10 brackets it (10, 20, 40), then the middle in ratio.
    let loads: Vec<f64> = probes.iter().map(|p| f(&p["load"])).collect();
    assert_eq!(loads[..3], [10.0, 20.0, 40.0], "{loads:?}");
    assert!(
        (loads[3] - (20.0f64 * 40.0).sqrt()).abs() < 1e-6,
        "{loads:?}"
    );
    // 40 req/s is at the limit plus genbench's own overhead: the queue grows,
    // and the probe ends well before its 10 s.
    let at_40 = &probes[2];
    assert_eq!(at_40["passed"], false);
    assert!(f(&at_40["oversaturated"]["after_s"]) <= 8.0, "{at_40}");
    assert!(f(&at_40["end_s"]) - f(&at_40["start_s"]) < 9.0, "{at_40}");
    // Each probe has its own seconds, its percentiles and the target's CPU.
    for w in probes.windows(2) {
        assert!(f(&w[1]["start_s"]) >= f(&w[0]["end_s"]), "{w:?}");
    }
    for p in probes {
        assert!(
            p["p95_ms"].is_number() && p["target_cpu_mean_pct"].is_number(),
            "{p}"
        );
        assert!(f(&p["cost_per_article_usd"]) > 0.0, "{p}");
    }
    // The ledger read around each probe: together, the run's whole cost.
    let probes_usd: f64 = probes.iter().map(|p| f(&p["cost_usd"])).sum();
    let run_usd = f(&r["cost"]["total_usd"]);
    assert!(
        (probes_usd / run_usd - 1.0).abs() < 0.02,
        "{probes_usd} of {run_usd}"
    );
    let last = probes.last().unwrap();
    assert_eq!(
        (&last["kind"], &last["passed"]),
        (&"confirm".into(), &true.into())
    );
    // The time grew in the queue for the 4 handlers, which no stage reports.
    assert_eq!(s["grew_most"]["stage"], "(outside the stages)", "{s}");
    assert!(stdout.contains("max sustainable, confirmed"), "{stdout}");
    let said = first
        .iter()
        .filter_map(|x| x.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    assert!(stdout.contains(&format!("broke first {said}")), "{stdout}");
}

/// A closed-model search: no stages, users found by probing.
const USERS: &str = r#"
name = "users-search"
slo = ["p95 < 500ms"]

[load]
model = "closed"

[load.search]
min = 8
max = 64
resolution = "10%"
probe = "10s"
hold = "10s"
drain = "1s"

[request]
method = "POST"
path = "/api/v1/generate-article"
headers = { "content-type" = "application/json" }
body = '{"topic": "{{topic}}", "target_length": 300}'

[datasets.topic]
values = ["tides", "glaciers", "comets", "lichens"]
"#;

#[test]
fn a_users_search_finds_how_many_fit_the_latency_objective() {
    // N users share 4 handlers of 100 ms: each waits about N/4 × 100 ms, so
    // p95 < 500ms holds up to about 16 users and breaks by 20.
    let file = support::write_file(&out_dir("search-users-file"), "users.toml", USERS);
    let (r, stdout) = search("search-users", &file, &[]);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let s = &r["capacity"]["search"];
    assert_eq!(
        (&s["variable"], &s["unit"]),
        (&"users".into(), &"users".into())
    );
    assert_eq!(s["outcome"], "within", "{s}");
    let (passed, failed) = (f(&s["max_sustainable"]), f(&s["lowest_failing"]));
    assert!((12.0..=19.0).contains(&passed), "{s}");
    assert!(failed - passed <= 1.0 || failed <= passed * 1.1, "{s}");
    // Whole users only, and no rate called capacity.
    for p in s["probes"].as_array().unwrap() {
        assert_eq!(f(&p["load"]).fract(), 0.0, "{p}");
        assert!(p.get("oversaturated").is_none(), "{p}");
    }
    assert!(r["capacity"]["max_sustainable_rps"].is_null());
    assert!(stdout.contains(" users max sustainable"), "{stdout}");
}

#[test]
fn a_search_refuses_flags_that_would_stage_it() {
    let out = support::stderr_expecting(
        2,
        &[
            "run",
            "stress",
            "--set",
            "load.search.max=50",
            "--duration",
            "30s",
        ],
    );
    assert!(
        out.contains("--duration does not apply to a capacity search"),
        "{out}"
    );
    let out = support::stderr_expecting(
        2,
        &[
            "run",
            "stress",
            "--set",
            "load.search.max=50",
            "--segment",
            "1/2",
        ],
    );
    assert!(out.contains("runs from one machine"), "{out}");
    let out = support::stderr_expecting(
        2,
        &[
            "run",
            "stress",
            "--set",
            "load.search.min=50",
            "--set",
            "load.search.max=10",
        ],
    );
    assert!(
        out.contains("load.search.min") && out.contains("must be below max"),
        "{out}"
    );
}
