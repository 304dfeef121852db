//! `genbench report`, `compare` and `matrix` through the binary: reports
//! re-rendered from results.json alone, comparisons of real runs, the
//! matrix against the embedded pipeline, and the errors each gives for bad
//! input.

use crate::support;

use std::path::Path;

use crate::support::{genbench, out_dir, results, schema_errors};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/tests/fixtures")
        .join(format!("{name}.json"))
}

fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = genbench().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn report_re_renders_from_results_alone() {
    let dir = out_dir("report");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("stress"), dir.join("results.json")).unwrap();
    let (html, md, xml) = (dir.join("r.html"), dir.join("s.md"), dir.join("j.xml"));
    let out = genbench()
        .arg("report")
        .arg(dir.join("results.json"))
        .arg("--out")
        .arg(&html)
        .arg("--markdown")
        .arg(&md)
        .arg("--junit")
        .arg(&xml)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("data-chart=\"capacity\""),
        "the stress run's capacity chart"
    );
    // The fixture names a flamegraph that is not beside it here: the report
    // says none was embedded rather than failing.
    assert!(!page.contains("data-chart=\"flamegraph\""));
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .contains("max sustainable 4 req/s")
    );
    assert!(std::fs::read_to_string(&xml).unwrap().starts_with("<?xml"));
    // Without --out, report.html goes beside results.json.
    let out = genbench()
        .arg("report")
        .arg(dir.join("results.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.join("report.html").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn report_and_compare_refuse_what_is_not_a_result() {
    let dir = out_dir("bad-results");
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.json");
    std::fs::write(&text, "not json").unwrap();
    let future = dir.join("future.json");
    std::fs::write(&future, r#"{"schema_version": 9}"#).unwrap();
    let partial = dir.join("partial.json");
    std::fs::write(&partial, r#"{"schema_version": 1, "status": "completed"}"#).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_string();
    for (args, needle) in [
        (
            vec!["report".into(), "/no/such/results.json".into()],
            "cannot read",
        ),
        (vec!["report".into(), path(&text)], "is not JSON"),
        (vec!["report".into(), path(&future)], "schema_version 9"),
        (
            vec!["report".into(), path(&partial)],
            "does not match the results contract",
        ),
        (
            vec!["compare".into(), path(&fixture("baseline"))],
            "at least two",
        ),
        (
            vec!["compare".into(), path(&fixture("baseline")), path(&text)],
            "is not JSON",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = stderr_of(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn compare_writes_html_and_markdown_and_prints_the_table() {
    let dir = out_dir("compare");
    let html = dir.join("cmp.html");
    let out = genbench()
        .arg("compare")
        .args([fixture("baseline"), fixture("spike"), fixture("stress")])
        .arg("--out")
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| metric | baseline | spike | stress |"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(dir.join("cmp.md")).unwrap();
    assert!(md.contains("Pareto front"), "{md}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("data-chart=\"cost-vs-p95\""));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn matrix_runs_every_combination_then_compares() {
    let dir = out_dir("matrix");
    let out = genbench()
        .args([
            "matrix",
            "--vary",
            "pipeline.cache=on,off",
            "--vary",
            "pipeline.top_k=2,4",
            "--duration",
            "3s",
            "--rate",
            "10",
            "--mock-time-scale",
            "0",
            "--profile",
            "off",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("run 4/4: cache=off top_k=4"), "{stderr}");
    let runs = [
        "01-cache-on_top_k-2",
        "02-cache-on_top_k-4",
        "03-cache-off_top_k-2",
        "04-cache-off_top_k-4",
    ];
    for run in runs {
        let v = results(&dir.join(run));
        assert_eq!(schema_errors(&v), Vec::<String>::new(), "{run}");
        assert!(dir.join(run).join("report.html").exists(), "{run}");
        let hits = v["cache"]["hits"].as_u64().unwrap();
        // Every run draws the same topics (one seed); only the cache
        // setting decides whether any is served from the cache.
        assert_eq!(hits > 0, run.contains("cache-on"), "{run}: {hits} hits");
        let top_k = if run.ends_with("top_k-2") { 2 } else { 4 };
        assert_eq!(
            v["scenario"]["resolved"]["pipeline"]["top_k"], top_k,
            "{run}"
        );
    }
    let md = std::fs::read_to_string(dir.join("comparison.md")).unwrap();
    assert!(
        md.contains("| pipeline.cache | on | on | off | off |"),
        "{md}"
    );
    assert!(md.contains("| pipeline.top\\_k | 2 | 4 | 2 | 4 |"), "{md}");
    assert!(dir.join("comparison.html").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn matrix_validates_every_combination_before_running_any() {
    let dir = out_dir("matrix-bad");
    let d = dir.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["matrix", "--vary", "pipeline.top_k=3,30", "--out", d],
            "in the combination top_k=30",
        ),
        (
            vec!["matrix", "--vary", "pipeline.model", "--out", d],
            "key=v1,v2",
        ),
        (
            vec![
                "matrix",
                "--vary",
                "pipeline.top_k=3,5",
                "--set",
                "pipeline.top_k=4",
                "--out",
                d,
            ],
            "given twice",
        ),
        (vec!["matrix", "--out", d], "--vary"),
    ] {
        let (code, err) = stderr_of(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!dir.exists(), "{args:?}: a run started");
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_in_a_matrix_keeps_the_run_skips_the_rest_and_still_compares() {
    let dir = out_dir("matrix-interrupt");
    let mut child = genbench()
        .args([
            "matrix",
            "--vary",
            "pipeline.top_k=2,3",
            "--duration",
            "60s",
            "--rate",
            "10",
            "--mock-time-scale",
            "0",
            "--profile",
            "off",
            "--out",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let four_s = std::time::Duration::from_secs(4);
    assert_eq!(support::interrupt_after(&mut child, four_s), Some(3));
    let first = results(&dir.join("01-top_k-2"));
    assert_eq!(first["status"], "interrupted");
    assert!(first["duration_s"].as_f64().unwrap() < 30.0);
    assert!(!dir.join("02-top_k-3").exists(), "the second run started");
    let md = std::fs::read_to_string(dir.join("comparison.md")).unwrap();
    assert!(md.contains("| metric | top\\_k=2 |"), "{md}");
    let _ = std::fs::remove_dir_all(dir);
}
