//! A run's live outputs end to end: `genbench run --metrics-listen` serves
//! Prometheus text that promtool accepts and a real Prometheus server
//! scrapes, with counters that rise while the run goes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

use crate::support::{genbench, out_dir, results};

/// A plain HTTP/1.0 GET on loopback: the body.
fn get(host_port: &str, path: &str) -> String {
    let mut s = TcpStream::connect(host_port).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host_port}\r\n\r\n").unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap_or((&all, ""));
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}

/// Reads the child's stderr until a line containing `marker`; the rest of
/// that line after it. The remaining stderr is drained on a thread.
fn line_after(child: &mut Child, marker: &str) -> String {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let found = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once(marker)
                .map(|(_, rest)| rest.trim().to_string())
        })
        .unwrap_or_else(|| panic!("genbench never printed {marker:?}"));
    std::thread::spawn(move || lines.for_each(drop));
    found
}

/// The value of the series whose line starts with `name{` and contains
/// every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

fn promtool_check(text: &str) {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; .ci/test installs it)");
    p.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = p.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refused:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Prometheus server scraping `target` every second, on a free port.
struct Prometheus {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Prometheus {
    fn start(target: &str, dir: std::path::PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: genbench\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (Debian's prometheus package; .ci/test installs it)");
        Prometheus { child, addr, dir }
    }

    /// `sum(query)` as the server has it now, if it has a sample.
    fn sum(&self, query: &str) -> Option<f64> {
        let body = get(&self.addr, &format!("/api/v1/query?query=sum({query})"));
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn live_metrics_rise_during_the_run_and_a_prometheus_server_scrapes_them() {
    let dir = out_dir("live-metrics");
    let mut child = genbench()
        .args([
            "run",
            "baseline",
            "--duration",
            "14s",
            "--rate",
            "20",
            "--mock-time-scale",
            "0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--out",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = line_after(&mut child, "live metrics at http://");
    let host = url.trim_end_matches("/metrics").to_string();
    let prometheus = Prometheus::start(&host, dir.with_extension("prometheus"));
    let ok = [
        r#"outcome="ok""#,
        r#"scenario="baseline""#,
        r#"segment="0/1""#,
    ];
    // Read twice, seconds apart, mid-run.
    let read = |at: Duration, start: Instant| {
        std::thread::sleep(at.saturating_sub(start.elapsed()));
        get(&host, "/metrics")
    };
    let start = Instant::now();
    let first = read(Duration::from_secs(3), start);
    let second = read(Duration::from_secs(6), start);
    promtool_check(&second);
    let (a, b) = (
        value(&first, "genbench_requests_total", &ok).expect(&first),
        value(&second, "genbench_requests_total", &ok).expect(&second),
    );
    assert!(a > 0.0 && b > a, "ok requests did not rise: {a} then {b}");
    let count = value(&second, "genbench_request_duration_seconds_count", &[]).unwrap();
    assert!(
        count >= b,
        "latency histogram count {count} < ok requests {b}"
    );
    assert!(second.contains("genbench_in_flight{"), "{second}");
    // The embedded mock's ledger is read every 5 s while the run goes, from
    // the load's start, which may come a second or two after the metrics
    // line on a busy machine: wait for the first reading, up to 10 s in.
    let mut usd = value(&second, "genbench_cost_usd_total", &[]).expect(&second);
    while usd <= 0.0 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(250));
        let now = get(&host, "/metrics");
        usd = value(&now, "genbench_cost_usd_total", &[]).expect(&now);
    }
    assert!(usd > 0.0, "no cost by 10 s into a 14 s run: {usd}");
    assert!(second.contains("genbench_target{"), "{second}");
    // The server has scraped at least twice, and what it stored rose too.
    let scraped = |q: &str| prometheus.sum(q);
    // The run goes on for 8 s more: time for several scrapes however
    // slowly the server starts.
    let deadline = Instant::now() + Duration::from_secs(7);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(v) = scraped(r#"genbench_requests_total{outcome="ok"}"#)
            && seen.last() != Some(&v)
        {
            seen.push(v);
        }
        if seen.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        seen.len() >= 2 && seen[1] > seen[0],
        "Prometheus did not see the counter rise: {seen:?}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let v = results(&dir);
    // What was served never exceeds what the run counted in the end.
    assert!(b <= v["requests"]["ok"].as_f64().unwrap());
    drop(prometheus);
    let _ = std::fs::remove_dir_all(dir);
}

/// The sum of `genbench.requests` points whose outcome is (`ok`) or is not
/// (`false`) ok, and the latency histogram's count, in one export.
fn otlp_totals(
    req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
) -> (i64, i64, u64) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point::Value};
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    let find = |name: &str| metrics.iter().find(|m| m.name == name).unwrap();
    let Some(Data::Sum(sum)) = &find("genbench.requests").data else {
        panic!("genbench.requests is not a sum");
    };
    let (mut ok, mut failed) = (0, 0);
    for p in &sum.data_points {
        let Some(Value::AsInt(n)) = p.value else {
            panic!("request counts are integers");
        };
        match &p.attributes[0].value.as_ref().unwrap().value {
            Some(Av::StringValue(o)) if o == "ok" => ok += n,
            _ => failed += n,
        }
    }
    let Some(Data::Histogram(h)) = &find("http.client.request.duration").data else {
        panic!("http.client.request.duration is not a histogram");
    };
    let p = &h.data_points[0];
    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
    (ok, failed, p.count)
}

#[test]
fn the_last_otlp_push_holds_the_runs_totals() {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use prost::Message;
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<ExportMetricsServiceRequest>>> = Arc::default();
    let app = {
        let got = got.clone();
        axum::Router::new().route(
            "/v1/metrics",
            axum::routing::post(move |body: axum::body::Bytes| {
                let got = got.clone();
                async move {
                    let req = ExportMetricsServiceRequest::decode(body).unwrap();
                    got.lock().unwrap().push(req);
                    ""
                }
            }),
        )
    };
    let url = format!("{}/v1/metrics", support::serve(app));
    let dir = out_dir("live-otlp");
    let out = genbench()
        .args(["run", "baseline", "--duration", "7s", "--rate", "20"])
        .args(["--mock-time-scale", "0", "--otlp-metrics", &url, "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = got.lock().unwrap();
    // One push after 5 s, and the last with the run's totals.
    assert!(got.len() >= 2, "{} pushes", got.len());
    let v = results(&dir);
    let (ok, failed, count) = otlp_totals(got.last().unwrap());
    assert_eq!(ok, v["requests"]["ok"].as_i64().unwrap());
    assert_eq!(failed, v["requests"]["failed"].as_i64().unwrap());
    assert_eq!(
        count as i64, ok,
        "every ok request's latency is in the histogram"
    );
    assert!(otlp_totals(&got[0]).0 < ok, "the first push is mid-run");
    let attrs = &got[0].resource_metrics[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    assert!(
        attrs.iter().any(|a| a.key == "genbench.scenario"),
        "{attrs:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
