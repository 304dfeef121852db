//! `genbench run` end to end against the embedded target (instant mocks):
//! real results.json validated against the checked-in schema, Ctrl-C, and
//! threshold exit codes.

use std::process::Stdio;
use std::time::Duration;

#[cfg(unix)]
use crate::support::interrupt_after;
use crate::support::{genbench, out_dir, results, schema_errors};

#[test]
fn baseline_writes_results_that_follow_the_schema() {
    let dir = out_dir("baseline");
    let out = genbench()
        .args([
            "run",
            "baseline",
            "--duration",
            "4s",
            "--mock-time-scale",
            "0",
            "--junit",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("genbench run: baseline") && stdout.contains("threshold"),
        "{stdout}"
    );
    let v = results(&dir);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    assert_eq!(v["status"], "completed");
    assert_eq!(v["target"]["kind"], "embedded");
    assert!(v["requests"]["total"].as_u64().unwrap() >= 2);
    assert_eq!(v["requests"]["failed"], 0);
    assert!(v["timeline"].as_array().unwrap().len() >= 3);
    assert_eq!(v["thresholds"].as_array().unwrap().len(), 2);
    // The interval log: one latency histogram per second, readable by
    // HdrHistogram tools.
    assert_eq!(v["artifacts"]["interval_log"], "intervals.hlog");
    let log = std::fs::read(dir.join("intervals.hlog")).unwrap();
    let entries: Vec<_> = hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&log)
        .filter_map(|e| match e.unwrap() {
            hdrhistogram::serialization::interval_log::LogEntry::Interval(h) => {
                Some(h.start_timestamp())
            }
            _ => None,
        })
        .collect();
    assert!(entries.len() >= 3, "{} intervals", entries.len());
    assert!(entries.windows(2).all(|w| w[0] < w[1]), "{entries:?}");
    // The reports, named in results.json and written beside it.
    assert_eq!(v["artifacts"]["report_html"], "report.html");
    assert_eq!(v["artifacts"]["summary_md"], "summary.md");
    assert_eq!(v["artifacts"]["junit_xml"], "junit.xml");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("data-chart=\"latency-over-time\""),
        "no latency chart"
    );
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.starts_with("### genbench: baseline (completed)"), "{md}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 2, "{junit}");
    assert!(stdout.contains("report.html"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_partial_results_marked_interrupted() {
    let dir = out_dir("interrupt");
    let mut child = genbench()
        .args([
            "run",
            "baseline",
            "--duration",
            "60s",
            "--rate",
            "10",
            "--mock-time-scale",
            "0",
            "--out",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(interrupt_after(&mut child, Duration::from_secs(4)), Some(3));
    let v = results(&dir);
    assert_eq!(v["status"], "interrupted");
    assert!(v["duration_s"].as_f64().unwrap() < 30.0);
    assert!(v["requests"]["total"].as_u64().unwrap() > 0);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains(">interrupted</span>"),
        "the report says interrupted"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failed_threshold_exits_1_and_bad_scenarios_exit_2() {
    let dir = out_dir("threshold");
    let scenario = dir.with_extension("toml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &scenario,
        r#"
name = "strict"
thresholds = ["p50 < 1000s", "error_rate < 0%"]
[load]
model = "open"
stages = "5,1s;5,1s"
[request]
path = "/api/v1/generate-article"
body = '{"topic": "{{t}}"}'
[datasets.t]
values = ["a", "b"]
"#,
    )
    .unwrap();
    let out = genbench()
        .args(["run"])
        .arg(&scenario)
        .args(["--mock-time-scale", "0", "--junit", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure ").count(), 1, "{junit}");
    assert!(junit.contains("error_rate &lt; 0% failed"), "{junit}");
    let out = genbench()
        .args(["run", "no-such-scenario"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(
        &scenario,
        "name = \"x\"\n[load]\nmodel = \"open\"\nstages = \"1\"\n",
    )
    .unwrap();
    let out = genbench().args(["run"]).arg(&scenario).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".toml:") && err.contains("request"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(scenario);
}

#[test]
fn set_configures_the_embedded_pipeline_and_the_scenario() {
    let run = |name: &str, extra: &[&str]| {
        let dir = out_dir(name);
        let out = genbench()
            .args([
                "run",
                "baseline",
                "--duration",
                "3s",
                "--rate",
                "10",
                "--mock-time-scale",
                "0",
            ])
            .args(extra)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (results(&dir), dir)
    };
    // The baseline's topics repeat (a hot set), so the default cache hits.
    let (cached, dir) = run("set-default", &[]);
    assert!(
        cached["cache"]["hits"].as_u64().unwrap() > 0,
        "{}",
        cached["cache"]
    );
    // With no [pipeline] settings the pipeline ran with its defaults, plus
    // the profile endpoint genbench turned on to take its flamegraph.
    let written = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    assert_eq!(written.trim(), "profiling = true");
    let _ = std::fs::remove_dir_all(dir);

    let (v, dir) = run(
        "set",
        &[
            "--set",
            "pipeline.cache=off",
            "--set",
            "pipeline.model=gpt-4o",
            "--set",
            "load.timeout=9s",
        ],
    );
    assert_eq!(v["cache"]["hits"], 0, "{}", v["cache"]);
    assert!(v["cache"]["misses"].as_u64().unwrap() > 0);
    assert_eq!(v["scenario"]["resolved"]["timeout"], 9.0);
    assert_eq!(v["scenario"]["resolved"]["pipeline"]["model"], "gpt-4o");
    let written = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    assert!(
        written.contains("model = \"gpt-4o\"") && written.contains("cache = \"off\""),
        "{written}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
