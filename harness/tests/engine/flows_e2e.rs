//! Flows against a scripted job server whose jobs take a known time: the
//! flow's latency is the job's within one poll interval, each step's count
//! is what the server saw, and a poll timeout, a failed job, a missing
//! value and a full queue each end up where they belong.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::aggregate;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use genbench::engine::aggregate::Aggregator;
use genbench::engine::closed::{self, ClosedPlan};
use genbench::engine::flow::FlowPlan;
use genbench::engine::open::{self, OpenPlan};
use genbench::engine::schedule::Schedule;
use genbench::engine::sender::Sender;
use genbench::engine::workers::Work;
use genbench_collectors::flows::FlowStats;
use genbench_model::{ErrorKind, FlowErrorKind};
use genbench_scenarios::{Arrivals, Scenario, parse_shorthand};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;

/// How the scripted server's jobs behave.
#[derive(Clone, Copy)]
struct Script {
    queued: Duration,
    running: Duration,
    /// Every `n`-th submit is refused once with 429 and `Retry-After: 0.2`.
    refuse_every: Option<u64>,
    /// A `Retry-After` on every poll answer.
    poll_retry_after: Option<&'static str>,
}

#[derive(Default)]
struct Counts {
    submits: AtomicU64,
    refused: AtomicU64,
    polls: AtomicU64,
    results: AtomicU64,
}

struct Server {
    script: Script,
    jobs: Mutex<HashMap<u64, (Instant, String)>>,
    next: AtomicU64,
    counts: Counts,
}

type Shared = Arc<Server>;

async fn submit(State(s): State<Shared>, body: String) -> impl IntoResponse {
    let n = s.counts.submits.fetch_add(1, Ordering::Relaxed) + 1;
    if s.script.refuse_every.is_some_and(|k| n % k == 0) {
        s.counts.refused.fetch_add(1, Ordering::Relaxed);
        let mut h = HeaderMap::new();
        h.insert("retry-after", "0.2".parse().unwrap());
        return (StatusCode::TOO_MANY_REQUESTS, h, "{}".to_string());
    }
    let topic = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["topic"].as_str().map(String::from))
        .unwrap_or_default();
    let id = s.next.fetch_add(1, Ordering::Relaxed);
    s.jobs.lock().unwrap().insert(id, (Instant::now(), topic));
    let mut h = HeaderMap::new();
    h.insert("location", format!("/jobs/{id}").parse().unwrap());
    let body = json!({"job": {"id": id.to_string(), "state": "queued"}}).to_string();
    (StatusCode::ACCEPTED, h, body)
}

fn state(s: &Server, id: u64) -> Option<&'static str> {
    let jobs = s.jobs.lock().unwrap();
    let (at, topic) = jobs.get(&id)?;
    let age = at.elapsed();
    Some(if age < s.script.queued {
        "queued"
    } else if age < s.script.queued + s.script.running {
        "running"
    } else if topic == "broken" {
        "failed"
    } else {
        "done"
    })
}

async fn poll(State(s): State<Shared>, UrlPath(id): UrlPath<u64>) -> impl IntoResponse {
    s.counts.polls.fetch_add(1, Ordering::Relaxed);
    let mut h = HeaderMap::new();
    if let Some(v) = s.script.poll_retry_after {
        h.insert("retry-after", v.parse().unwrap());
    }
    match state(&s, id) {
        Some(st) => (StatusCode::OK, h, json!({"job": {"state": st}}).to_string()),
        None => (StatusCode::NOT_FOUND, h, "{}".into()),
    }
}

async fn result(State(s): State<Shared>, UrlPath(id): UrlPath<u64>) -> impl IntoResponse {
    s.counts.results.fetch_add(1, Ordering::Relaxed);
    match state(&s, id) {
        Some("done") => (StatusCode::OK, json!({"article": "text"}).to_string()),
        _ => (StatusCode::CONFLICT, "{}".into()),
    }
}

async fn job_server(script: Script) -> (String, Shared) {
    let shared = Arc::new(Server {
        script,
        jobs: Mutex::new(HashMap::new()),
        next: AtomicU64::new(1),
        counts: Counts::default(),
    });
    let app = axum::Router::new()
        .route("/jobs", axum::routing::post(submit))
        .route("/jobs/{id}", axum::routing::get(poll))
        .route("/jobs/{id}/result", axum::routing::get(result))
        .with_state(shared.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, shared)
}

/// A flow scenario: submit, poll (every `every`, for at most `timeout`),
/// fetch; `extract` is the submit's extract table; `topics` the dataset.
fn scenario(every: &str, timeout: &str, extract: &str, topics: &str) -> Scenario {
    let text = format!(
        r#"
name = "jobs"
[load]
model = "closed"
stages = "1,1s"

[datasets.topic]
values = {topics}

[[flow.steps]]
name = "submit"
method = "POST"
path = "/jobs"
body = '{{"topic": "{{{{topic}}}}"}}'
checks = {{ status = [202] }}
extract = {extract}

[[flow.steps]]
name = "poll"
path = "{{{{job}}}}"
poll = {{ until = "/job/state", equals = "done", fail_on = ["failed"], every = "{every}", timeout = "{timeout}" }}

[[flow.steps]]
name = "result"
path = "{{{{job}}}}/result"
"#
    );
    Scenario::parse(&text, "jobs.toml", Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

fn flow_work(s: &Scenario, url: &str, t0: Instant) -> Work {
    let flow = s.flow.as_ref().unwrap();
    let templates: Vec<_> = flow.steps.iter().map(|st| st.request.clone()).collect();
    let senders = flow
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let t = &st.request;
            let sender = Sender::new(url, &t.method, &t.headers, Duration::from_secs(5), t0)
                .unwrap()
                .with_checks(t.checks.clone(), t.follow_redirects);
            FlowPlan::step_sender(flow, i, sender)
        })
        .collect();
    Work::Flow(FlowPlan::new(flow, &templates, &s.datasets, senders))
}

/// `users` users run `flows` flows in all.
async fn run_closed(s: &Scenario, url: &str, users: u32, flows: u64) -> Aggregator {
    let t0 = Instant::now();
    let stages = parse_shorthand(&format!("{users},1ms;{users},30s")).unwrap();
    let plan = ClosedPlan {
        stages: stages.clone(),
        think_time: Duration::ZERO,
        seed: 1,
        max_requests: flows,
        workers: 2,
        drain: Duration::from_secs(30),
        segment: Default::default(),
    };
    let (_stop_tx, stop) = watch::channel(false);
    aggregate(closed::start(plan, flow_work(s, url, t0), t0, stop), stages).await
}

fn flows(agg: &Aggregator) -> &FlowStats {
    agg.total.flows.as_deref().expect("flows were recorded")
}

fn ms(h: &hdrhistogram::Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

const BY_LOCATION: &str = r#"{ job = "header:Location" }"#;
const TOPICS: &str = r#"["tides", "kelp"]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_latency_is_the_jobs_within_one_poll_interval() {
    let script = Script {
        queued: Duration::from_millis(200),
        running: Duration::from_millis(400),
        refuse_every: None,
        poll_retry_after: None,
    };
    let (url, server) = job_server(script).await;
    let s = scenario("100ms", "10s", BY_LOCATION, TOPICS);
    // The open model: 8 flows a second for a second, from their schedule.
    let t0 = Instant::now();
    let stages = parse_shorthand("8,1ms;8,1s").unwrap();
    let plan = OpenPlan {
        stages: stages.clone(),
        arrivals: Arrivals::Constant,
        seed: 1,
        max_requests: u64::MAX,
        workers: 2,
        drain: Duration::from_secs(20),
        segment: Default::default(),
    };
    let arrivals = Schedule::new(&stages, Arrivals::Constant, 1, u64::MAX).count() as u64;
    let (_stop_tx, stop) = watch::channel(false);
    let agg = aggregate(open::start(plan, flow_work(&s, &url, t0), t0, stop), stages).await;
    let f = flows(&agg);
    assert_eq!(
        f.completed, arrivals,
        "one flow per arrival: {:?}",
        f.failed
    );
    assert_eq!(f.failed_total(), 0);
    // Done at 600 ms; seen done by the first poll after it, at most one
    // interval (plus the loopback's time) later.
    let (lo, hi) = (ms(&f.latency_us, 0.0), ms(&f.latency_us, 1.0));
    assert!(lo >= 600.0 && hi <= 600.0 + 100.0 + 30.0, "{lo}..{hi} ms");
    // Queued until the first poll that saw `running`: 200 ms, one interval late at most.
    let (qlo, qhi) = (ms(&f.queued_us, 0.0), ms(&f.queued_us, 1.0));
    assert!(qlo >= 190.0 && qhi <= 330.0, "queued {qlo}..{qhi} ms");
    assert_eq!(f.queued_us.len(), arrivals);
    // Each step's requests are the server's, polls included.
    let c = &server.counts;
    let steps: Vec<u64> = f.steps.iter().map(|s| s.ok).collect();
    assert_eq!(
        steps,
        [
            c.submits.load(Ordering::Relaxed),
            c.polls.load(Ordering::Relaxed),
            c.results.load(Ordering::Relaxed)
        ]
    );
    assert_eq!(steps[0], arrivals);
    assert_eq!(
        f.steps[1].polls,
        steps[1] - arrivals,
        "polls after each flow's first"
    );
    // About 600 ms of polls every 100 ms: 6 or 7 per flow.
    let per_flow = steps[1] as f64 / arrivals as f64;
    assert!((5.0..=8.0).contains(&per_flow), "{per_flow}");
    assert_eq!(agg.total.total(), steps.iter().sum::<u64>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_that_outlasts_its_timeout_is_poll_timeout() {
    let script = Script {
        queued: Duration::from_millis(100),
        running: Duration::from_secs(30),
        refuse_every: None,
        poll_retry_after: None,
    };
    let (url, server) = job_server(script).await;
    let s = scenario("100ms", "500ms", BY_LOCATION, TOPICS);
    let agg = run_closed(&s, &url, 2, 4).await;
    let f = flows(&agg);
    assert_eq!(f.completed, 0);
    let t = &f.failed[&(1, FlowErrorKind::PollTimeout)];
    assert_eq!(t.count, 4);
    let example = t.example.as_deref().unwrap();
    assert!(example.contains("\"running\""), "{example}");
    assert_eq!(server.counts.results.load(Ordering::Relaxed), 0);
    // Given up at the timeout, not a poll interval later.
    let p = f.points.iter().map(|p| p.latency_ms).fold(0.0, f64::max);
    assert!((500.0..=650.0).contains(&p), "{p} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_is_job_failed_at_the_poll() {
    let script = Script {
        queued: Duration::from_millis(50),
        running: Duration::from_millis(100),
        refuse_every: None,
        poll_retry_after: None,
    };
    let (url, _server) = job_server(script).await;
    let s = scenario("50ms", "10s", BY_LOCATION, r#"["broken"]"#);
    let agg = run_closed(&s, &url, 1, 3).await;
    let f = flows(&agg);
    let t = &f.failed[&(1, FlowErrorKind::JobFailed)];
    assert_eq!((f.completed, t.count), (0, 3));
    assert!(t.example.as_deref().unwrap().contains("failed"), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_value_is_extract_naming_the_step_and_variable() {
    let script = Script {
        queued: Duration::ZERO,
        running: Duration::from_millis(10),
        refuse_every: None,
        poll_retry_after: None,
    };
    let (url, server) = job_server(script).await;
    let s = scenario("50ms", "10s", r#"{ job = "/job/url" }"#, TOPICS);
    let agg = run_closed(&s, &url, 1, 2).await;
    let f = flows(&agg);
    let t = &f.failed[&(0, FlowErrorKind::Extract)];
    assert_eq!(t.count, 2);
    assert_eq!(
        t.example.as_deref(),
        Some("job = /job/url is not in the answer")
    );
    assert_eq!(server.counts.polls.load(Ordering::Relaxed), 0);
    let r = f.result(
        &["submit".into(), "poll".into(), "result".into()],
        Duration::from_secs(1),
        0,
        None,
    );
    assert_eq!(r.failures[0].step, "submit");
    assert_eq!(r.failures[0].kind.name(), "extract");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_retried_after_its_retry_after_and_counted() {
    let script = Script {
        queued: Duration::ZERO,
        running: Duration::from_millis(50),
        refuse_every: Some(2),
        poll_retry_after: None,
    };
    let (url, server) = job_server(script).await;
    let s = scenario("50ms", "10s", BY_LOCATION, TOPICS);
    let agg = run_closed(&s, &url, 1, 4).await;
    let f = flows(&agg);
    assert_eq!(f.completed, 4, "{:?}", f.failed);
    let refused = server.counts.refused.load(Ordering::Relaxed);
    assert!(refused >= 2, "{refused}");
    assert_eq!(f.steps[0].retried_429, refused);
    assert_eq!(
        agg.total.errors[ErrorKind::ALL
            .iter()
            .position(|k| *k == ErrorKind::RateLimited)
            .unwrap()],
        refused,
        "each 429 is still a rate_limited answer"
    );
    // A retried flow waited the Retry-After (200 ms) before its next submit.
    let slowest = f.points.iter().map(|p| p.latency_ms).fold(0.0, f64::max);
    assert!(slowest >= 250.0, "{slowest} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_waits_as_long_as_retry_after_asks() {
    let script = Script {
        queued: Duration::ZERO,
        running: Duration::from_millis(900),
        refuse_every: None,
        poll_retry_after: Some("0.3"),
    };
    let (url, server) = job_server(script).await;
    // Every 50 ms, but the server asks for 300 ms between polls.
    let s = scenario("50ms", "10s", BY_LOCATION, TOPICS);
    let agg = run_closed(&s, &url, 1, 2).await;
    let f = flows(&agg);
    assert_eq!(f.completed, 2, "{:?}", f.failed);
    // Polls at 0, 0.3, 0.6, 0.9 s: 4 a flow (18 at every 50 ms).
    let polls = server.counts.polls.load(Ordering::Relaxed);
    assert_eq!(polls, 8, "{polls} polls for 2 flows");
    let lo = ms(&f.latency_us, 0.0);
    assert!(lo >= 900.0, "{lo} ms");
}
