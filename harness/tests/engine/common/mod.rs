//! Helpers for the engine tests: servers with known delays, and a run.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use genbench::engine::aggregate::Aggregator;
use genbench::engine::clock::sleep_until_precise as precise_sleep_until;
use genbench::engine::closed::{self, ClosedPlan};
use genbench::engine::open::{OpenPlan, start};
use genbench::engine::requests::RequestFactory;
use genbench::engine::sender::Sender;
use genbench::engine::workers::Work;
use genbench_scenarios::{Arrivals, Dataset, Repeat, RequestTemplate, parse_shorthand};
use tokio::sync::watch;
use tokio::time::Instant;

/// A server answering after `delay`, and holding every request that arrives
/// in [stall_from, stall_to) (offsets from `t0`) until `stall_to`.
pub async fn delay_server(
    delay: Duration,
    stall: Option<(Duration, Duration)>,
    t0: Instant,
) -> String {
    let app = axum::Router::new().route(
        "/work",
        axum::routing::post(move || async move {
            if let Some((from, to)) = stall {
                let now = t0.elapsed();
                if now >= from && now < to {
                    tokio::time::sleep_until(t0 + to).await;
                }
            }
            precise_sleep_until(Instant::now() + delay).await;
            "done"
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    url
}

/// A server answering `GET /stream` with `chunks` SSE events, the first at
/// once and each next one `gap` after it (absolute deadlines, so gaps do not
/// drift).
pub async fn stream_server(chunks: usize, gap: Duration) -> String {
    use axum::response::sse::{Event, Sse};
    let app = axum::Router::new().route(
        "/stream",
        axum::routing::post(move || async move {
            let start = Instant::now();
            let events = futures_util::stream::unfold(0usize, move |i| async move {
                if i == chunks {
                    return None;
                }
                precise_sleep_until(start + gap * i as u32).await;
                Some((
                    Ok::<_, std::convert::Infallible>(Event::default().data(i.to_string())),
                    i + 1,
                ))
            });
            Sse::new(events)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    url
}

pub fn template(path: &str, body: &str) -> (RequestTemplate, BTreeMap<String, Dataset>) {
    let t = RequestTemplate {
        method: "POST".into(),
        path: path.into(),
        headers: BTreeMap::from([("content-type".into(), "application/json".into())]),
        body: Some(body.into()),
        stream: false,
        variables: vec!["n".into()],
        extracted: Vec::new(),
        checks: Default::default(),
        follow_redirects: 0,
    };
    let d = BTreeMap::from([(
        "n".to_string(),
        Dataset {
            columns: vec!["n".into()],
            rows: (0..100).map(|i| vec![i.to_string()]).collect(),
            repeat: Repeat::Uniform,
        },
    )]);
    (t, d)
}

pub async fn run(url: &str, path: &str, body: &str, stages: &str, t0: Instant) -> Aggregator {
    let (t, d) = template(path, body);
    let stages = parse_shorthand(stages).unwrap();
    let plan = OpenPlan {
        stages: stages.clone(),
        arrivals: Arrivals::Constant,
        seed: 1,
        max_requests: u64::MAX,
        workers: 2,
        drain: Duration::from_secs(10),
        segment: Default::default(),
    };
    let sender = Sender::new(url, "POST", &t.headers, Duration::from_secs(10), t0).unwrap();
    let (_stop_tx, stop) = watch::channel(false);
    let rx = start(plan, request_work(&t, &d, sender), t0, stop);
    aggregate(rx, stages).await
}

/// Runs the closed model: `stages` in users, `think` between requests.
pub async fn run_closed(url: &str, stages: &str, think: Duration) -> Aggregator {
    run_closed_capped(url, stages, think, u64::MAX).await
}

/// [`run_closed`] with at most `max_requests` sent.
pub async fn run_closed_capped(
    url: &str,
    stages: &str,
    think: Duration,
    max_requests: u64,
) -> Aggregator {
    let (t, d) = template("/work", "{\"n\": {{n}}}");
    let stages = parse_shorthand(stages).unwrap();
    let t0 = Instant::now();
    let plan = ClosedPlan {
        stages: stages.clone(),
        think_time: think,
        seed: 1,
        max_requests,
        workers: 2,
        drain: Duration::from_secs(10),
        segment: Default::default(),
    };
    let sender = Sender::new(url, "POST", &t.headers, Duration::from_secs(10), t0).unwrap();
    let (_stop_tx, stop) = watch::channel(false);
    let rx = closed::start(plan, request_work(&t, &d, sender), t0, stop);
    aggregate(rx, stages).await
}

/// One request per arrival or iteration, from `t`.
pub fn request_work(t: &RequestTemplate, d: &BTreeMap<String, Dataset>, sender: Sender) -> Work {
    Work::Request {
        factory: RequestFactory::new(t, d),
        sender: std::sync::Arc::new(sender),
    }
}

/// Merges the two test workers' reports until they end.
pub async fn aggregate(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<genbench::engine::workers::IntervalReport>,
    stages: Vec<genbench_scenarios::Stage>,
) -> Aggregator {
    let mut agg = Aggregator::new(2, stages);
    while let Some(r) = rx.recv().await {
        agg.add(r);
    }
    agg.finish();
    agg
}
