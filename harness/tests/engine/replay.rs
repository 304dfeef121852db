//! `[load] model = "replay"` end to end against loopback servers that log
//! what reaches them and when: each row sent at its scaled instant with its
//! own method, path, body and headers (never its credentials), a run's own
//! `--records` replayed to the same arrivals and requests, an access log
//! that nginx itself wrote, CSV rows filling a template, and bad rows
//! refused with their line.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;

use crate::support;

use crate::support::logging::{Seen, logging_server};
use crate::support::write_file as write;
use crate::support::{out_dir, results, run_ok, stderr_expecting};

/// One replay at a time: timing is what these tests measure, and two
/// replays side by side on a 2-core machine would measure each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// A replay scenario of `file` in `format`, with `extra` keys in
/// `[load.replay]`, whose template posts `{"topic": ...}` to `/t/{{topic}}`.
fn scenario(dir: &Path, file: &str, format: &str, extra: &str) -> String {
    write(
        dir,
        "replay.toml",
        &format!(
            r#"name = "replay"
[load]
model = "replay"
timeout = "5s"
[load.replay]
file = "{file}"
format = "{format}"
{extra}
[request]
method = "POST"
path = "/t/{{{{topic}}}}"
headers = {{ authorization = "Bearer from-scenario", content-type = "application/json" }}
body = '{{"topic":"{{{{topic}}}}"}}'
"#
        ),
    )
}

/// 400 rows over 8 s of trace time in bursts: a GET with its own path, a
/// PUT with its own body, and rows with only a topic for the template.
/// Every row carries a credential. The rows' times in seconds, and the
/// request each should arrive as (method, path, body).
fn generated_trace() -> (String, Vec<f64>, Vec<(String, String, String)>) {
    let (mut text, mut times, mut want) = (String::new(), Vec::new(), Vec::new());
    let mut t = 1_796_306_400.0;
    for i in 0..400u64 {
        // Bursts of five 4 ms apart, then a 96 ms pause.
        t += if i % 5 == 0 { 0.096 } else { 0.004 };
        let head = format!(
            r#""timestamp":{t:.6},"headers":{{"Authorization":"Bearer row-secret-{i}","X-Row":"{i}"}}"#
        );
        let (row, req) = match i % 3 {
            0 => (
                format!(r#"{{{head},"method":"GET","path":"/a/{i}?q=1"}}"#),
                ("GET".into(), format!("/a/{i}?q=1"), String::new()),
            ),
            1 => (
                format!(r#"{{{head},"method":"PUT","path":"/b","body":"raw {i}"}}"#),
                ("PUT".into(), "/b".into(), format!("raw {i}")),
            ),
            _ => (
                format!(r#"{{{head},"topic":"t{i}"}}"#),
                (
                    "POST".into(),
                    format!("/t/t{i}"),
                    format!(r#"{{"topic":"t{i}"}}"#),
                ),
            ),
        };
        writeln!(text, "{row}").unwrap();
        times.push(t);
        want.push(req);
    }
    (text, times, want)
}

fn quantile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
}

/// How far each arrival fell from its instant, once the constant offset
/// between the two clocks (their median difference) is taken off: the
/// `q` quantile, s.
fn arrival_quantile_s(seen: &[Seen], instants_s: &[f64], q: f64) -> f64 {
    let a0 = seen[0].at;
    let diffs: Vec<f64> = seen
        .iter()
        .zip(instants_s)
        .map(|(s, i)| s.at.duration_since(a0).as_secs_f64() - i)
        .collect();
    let mut sorted = diffs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let dev: Vec<f64> = diffs.iter().map(|d| (d - median).abs()).collect();
    let late: Vec<(usize, String)> = dev
        .iter()
        .enumerate()
        .filter(|(_, d)| **d > 0.001)
        .map(|(i, d)| (i, format!("{:.2}", d * 1e3)))
        .collect();
    eprintln!("rows over 1 ms from their instant: {late:?}");
    quantile(dev, q)
}

/// Replays the generated trace at 2x against a fresh logging server: the
/// p99 of its arrivals' distance from their instants, s. Checks each
/// request and what results.json says on the way.
fn replay_generated(attempt: u32) -> f64 {
    let dir = out_dir(&format!("replay-generated-{attempt}"));
    let (text, times, want) = generated_trace();
    let trace = write(&dir, "trace.jsonl", &text);
    let toml = scenario(&dir, &trace, "jsonl", "time_scale = 2.0");
    let (url, log) = logging_server();
    let out = dir.join("out");
    let stdout = run_ok(&["run", &toml, "--target", &url], &out);
    assert!(stdout.contains("replay      "), "{stdout}");
    // Rows a few ms apart may overtake each other on the way (a new
    // connection's handshake); each carries its row number.
    let mut seen = log.lock().unwrap().clone();
    seen.sort_by_key(|s| s.row.parse::<usize>().unwrap_or(usize::MAX));
    assert_eq!(seen.len(), 400);
    for (i, (s, w)) in seen.iter().zip(&want).enumerate() {
        assert_eq!(s.row, i.to_string(), "the row's own headers go with it");
        let got = (s.method.clone(), s.path.clone(), s.body.clone());
        assert_eq!(&got, w, "row {i}");
        assert_eq!(
            s.authorization, "Bearer from-scenario",
            "never the trace's credential"
        );
    }
    let r = results(&out);
    let rp = &r["replay"];
    assert_eq!(
        (rp["rows"].as_u64(), rp["sent"].as_u64()),
        (Some(400), Some(400))
    );
    assert_eq!(rp["credentials_dropped"], 400);
    assert!(rp["fidelity_ms"]["p99"].as_f64().is_some(), "{rp}");
    assert!(
        support::schema_errors(&r).is_empty(),
        "{:?}",
        support::schema_errors(&r)
    );
    assert!(
        !std::fs::read_to_string(out.join("results.json"))
            .unwrap()
            .contains("row-secret")
    );
    let instants: Vec<f64> = times.iter().map(|t| (t - times[0]) / 2.0).collect();
    arrival_quantile_s(&seen, &instants, 0.99)
}

#[test]
fn each_row_goes_at_its_scaled_instant_as_its_own_request() {
    let _alone = alone();
    // A 2-core machine running a debug build, the server and the test
    // shares its cores at each second's bookkeeping, which makes the few
    // rows due then a few ms late in about one try in five (10 runs here):
    // a miss is run again, up to three tries, all of which must miss to
    // fail. An engine that kept time badly misses every time.
    let mut tries = Vec::new();
    for attempt in 0..3 {
        let p99 = replay_generated(attempt);
        tries.push(format!("{:.3} ms", p99 * 1e3));
        if p99 <= 0.001 {
            return;
        }
    }
    panic!("p99 of arrivals from their scaled instants over 1 ms in every try: {tries:?}");
}

/// `(scheduled_s, method, path, body)` of every record, in scheduled order.
fn records(path: &Path) -> Vec<(f64, String, String, String)> {
    let mut v: Vec<(f64, String, String, String)> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            (
                r["scheduled_s"].as_f64().unwrap(),
                s("method"),
                s("path"),
                s("body"),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

#[test]
fn a_runs_own_records_replay_to_its_arrivals_and_requests() {
    let _alone = alone();
    let dir = out_dir("replay-records");
    let first = write(
        &dir,
        "first.toml",
        r#"name = "first"
[load]
model = "open"
arrivals = "poisson"
stages = "80,1s;80,2s"
[datasets.topic]
values = ["rust", "go", "zig", "c", "ocaml", "lisp"]
repeat = "zipf"
[request]
path = "/t/{{topic}}"
json = { topic = "{{topic}}", words = 300 }
"#,
    );
    let (url, log) = logging_server();
    let rec1 = dir.join("first.jsonl");
    run_ok(
        &[
            "run",
            &first,
            "--target",
            &url,
            "--records",
            rec1.to_str().unwrap(),
        ],
        &dir.join("out1"),
    );
    let sent = log.lock().unwrap().len();
    assert!(sent > 150, "{sent}");
    let toml = scenario(&dir, rec1.to_str().unwrap(), "records", "");
    let rec2 = dir.join("replayed.jsonl");
    run_ok(
        &[
            "run",
            &toml,
            "--target",
            &url,
            "--records",
            rec2.to_str().unwrap(),
        ],
        &dir.join("out2"),
    );
    let (a, b) = (records(&rec1), records(&rec2));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        // A replay's clock starts at its trace's first row.
        let (dx, dy) = (x.0 - a[0].0, y.0 - b[0].0);
        assert!((dx - dy).abs() < 2e-6, "scheduled {dx} then {dy}");
        assert_eq!((&x.1, &x.2, &x.3), (&y.1, &y.2, &y.3));
    }
    let seen = log.lock().unwrap().clone();
    let replayed: Vec<Seen> = seen[sent..].to_vec();
    let instants: Vec<f64> = a.iter().map(|r| r.0 - a[0].0).collect();
    let mut by_time = replayed.clone();
    by_time.sort_by_key(|s| s.at);
    // The schedule is checked exactly above; arrivals, which share the
    // 2-core machine with the test, at p95 (the p99 test is the one above).
    let p95 = arrival_quantile_s(&by_time, &instants, 0.95);
    assert!(p95 <= 0.002, "p95 {:.3} ms", p95 * 1e3);
}

#[test]
fn csv_rows_fill_the_template_and_bad_rows_name_their_line() {
    let _alone = alone();
    let dir = out_dir("replay-csv");
    let trace = write(
        &dir,
        "trace.csv",
        "timestamp,topic,method\n2026-12-03T14:00:00Z,\"rust, the book\",POST\n2026-12-03T14:00:00.25Z,go,POST\n2026-12-03T14:00:00.5Z,zig,GET\n",
    );
    let toml = scenario(&dir, &trace, "csv", "loop = 2");
    let (url, log) = logging_server();
    run_ok(&["run", &toml, "--target", &url], &dir.join("out"));
    let seen: Vec<(String, String, String)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| (s.method.clone(), s.path.clone(), s.body.clone()))
        .collect();
    let one = [
        (
            "POST",
            "/t/rust%2C%20the%20book",
            r#"{"topic":"rust, the book"}"#,
        ),
        ("POST", "/t/go", r#"{"topic":"go"}"#),
        ("GET", "/t/zig", ""),
    ];
    let want: Vec<(String, String, String)> = one
        .iter()
        .chain(&one)
        .map(|(m, p, b)| (m.to_string(), p.to_string(), b.to_string()))
        .collect();
    assert_eq!(seen, want);

    let bad = write(&dir, "bad.csv", "timestamp,topic\n1,a\n2\n");
    let toml = scenario(&dir, &bad, "csv", "");
    let err = stderr_expecting(2, &["run", &toml, "--target", &url]);
    assert!(err.contains("bad.csv:3: not a CSV row"), "{err}");
    let lacking = write(
        &dir,
        "lacking.jsonl",
        "{\"timestamp\":1,\"topic\":\"a\"}\n{\"timestamp\":2,\"subject\":\"b\"}\n",
    );
    let toml = scenario(&dir, &lacking, "jsonl", "");
    let err = stderr_expecting(2, &["run", &toml, "--target", &url]);
    assert!(err.contains("lacking.jsonl:2: the [request] template uses `{{topic}}`, which this row does not have (its columns: subject)"), "{err}");
    let unsorted = write(
        &dir,
        "unsorted.jsonl",
        "{\"timestamp\":2,\"topic\":\"a\"}\n{\"timestamp\":1,\"topic\":\"b\"}\n",
    );
    let toml = scenario(&dir, &unsorted, "jsonl", "");
    let err = stderr_expecting(2, &["run", &toml, "--target", &url]);
    assert!(
        err.contains("unsorted.jsonl:2:") && err.contains("sort = true"),
        "{err}"
    );
}

#[test]
fn segments_split_the_rows_between_them() {
    let _alone = alone();
    let dir = out_dir("replay-segments");
    let mut text = String::new();
    for i in 0..30 {
        writeln!(
            text,
            r#"{{"timestamp":{},"topic":"r{i}"}}"#,
            f64::from(i) * 0.01
        )
        .unwrap();
    }
    let trace = write(&dir, "trace.jsonl", &text);
    let toml = scenario(&dir, &trace, "jsonl", "");
    let mut parts = Vec::new();
    for seg in ["0/3", "1/3", "2/3"] {
        let (url, log) = logging_server();
        let out = dir.join(seg.replace('/', "-"));
        run_ok(&["run", &toml, "--target", &url, "--segment", seg], &out);
        let mut paths: Vec<String> = log.lock().unwrap().iter().map(|s| s.path.clone()).collect();
        paths.sort();
        let i: usize = seg[..1].parse().unwrap();
        let mut want: Vec<String> = (0..30)
            .filter(|r| r % 3 == i)
            .map(|r| format!("/t/r{r}"))
            .collect();
        want.sort();
        assert_eq!(
            paths, want,
            "segment {seg} sends every third row from row {i}"
        );
        assert_eq!(results(&out)["replay"]["sent"], 10);
        parts.extend(paths);
    }
    assert_eq!(parts.len(), 30);
}
