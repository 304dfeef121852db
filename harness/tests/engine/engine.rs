//! The open-model engine on loopback against servers with known delays.

use std::time::Duration;

use crate::common::*;
use genbench_collectors::summary::latency_ms;
use genbench_mock::{MockAddrs, MockConfig, MockServers};
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_the_tail_without_coordinated_omission() {
    let t0 = Instant::now();
    // The server stalls for 1 s starting 2 s in.
    let url = delay_server(
        Duration::from_millis(5),
        Some((Duration::from_secs(2), Duration::from_secs(3))),
        t0,
    )
    .await;
    let agg = run(&url, "/work", "{\"n\": {{n}}}", "50,1s;50,4s", t0).await;
    let s = latency_ms(&agg.total.latency_us).unwrap();
    // About 50 of 225 requests were scheduled inside the stall and waited up
    // to a second from their scheduled time; a closed loop would show one.
    assert!(s.p50 < 50.0, "p50 {}", s.p50);
    assert!(s.p95 > 400.0, "p95 {} ms: the stall is hidden", s.p95);
    assert!(s.max > 900.0, "max {}", s.max);
    let service = agg.total.service_us.value_at_quantile(0.95) as f64 / 1000.0;
    assert!(service <= s.p95, "service time is kept apart from latency");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_counts_equal_the_mock_ledger() {
    let m = MockServers::start(MockConfig::instant(), MockAddrs::default())
        .await
        .unwrap();
    let body = r#"{"model": "gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "topic {{n}}"}]}"#;
    let agg = run(
        &m.llm_url(),
        "/v1/chat/completions",
        body,
        "40,1s;40,2s",
        Instant::now(),
    )
    .await;
    let ledger = m.ledger();
    assert_eq!(agg.total.total(), 100);
    assert_eq!(agg.total.ok, ledger.models["gpt-4o-mini"].requests);
    assert_eq!(ledger.models["gpt-4o-mini"].completion_tokens, 5 * 100);
}

#[tokio::test]
async fn unreachable_targets_are_connect_errors_not_panics() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let agg = run(
        &format!("http://{closed}"),
        "/work",
        "{}",
        "20,1s",
        Instant::now(),
    )
    .await;
    assert_eq!(agg.total.ok, 0);
    assert_eq!(agg.total.failed(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_users_wait_for_answers_and_think() {
    let t0 = Instant::now();
    let url = delay_server(Duration::from_millis(20), None, t0).await;
    // 5 users, 20 ms answers, 80 ms think: each user sends 10 per second.
    let agg = run_closed(&url, "5,100ms;5,3s", Duration::from_millis(80)).await;
    let total = agg.total.total() as f64;
    assert!(
        (135.0..=165.0).contains(&total),
        "{total} requests, expected about 150"
    );
    assert!(
        agg.timeline.iter().all(|p| p.in_flight <= 5),
        "{:?}",
        agg.timeline
    );
    let s = latency_ms(&agg.total.latency_us).unwrap();
    assert!(
        s.p50 < 30.0,
        "closed-model latency counts from the send: {}",
        s.p50
    );
}

/// One user lives on one of the two workers; the cap is still all its own,
/// and the run ends when it is spent rather than when the stages do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_cap_is_one_budget_and_ends_the_run() {
    let t0 = Instant::now();
    let url = delay_server(Duration::from_millis(5), None, t0).await;
    let agg = run_closed_capped(&url, "1,10ms;1,20s", Duration::from_millis(5), 7).await;
    assert_eq!(agg.total.total(), 7);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_responses_record_first_chunk_and_every_gap() {
    let t0 = Instant::now();
    let url = stream_server(20, Duration::from_millis(10)).await;
    let agg = run(&url, "/stream", "{}", "20,2s", t0).await;
    let t = &agg.total;
    assert_eq!(t.ok, 20, "a 2 s ramp from 0 to 20/s sends 20");
    // 20 events, 19 gaps each, all timed: none merged or lost.
    assert_eq!(t.chunk_gap_us.len(), 20 * 19);
    let p50_ms = t.chunk_gap_us.value_at_quantile(0.5) as f64 / 1000.0;
    assert!(
        (p50_ms - 10.0).abs() < 1.0,
        "gap p50 {p50_ms} ms, sent 10 ms apart"
    );
    let ttfb = latency_ms(&t.ttfb_us).unwrap();
    let end = latency_ms(&t.latency_us).unwrap();
    assert!(ttfb.p50 < 5.0, "first event goes out at once: {}", ttfb.p50);
    assert!(
        (end.p50 - 190.0).abs() < 5.0,
        "end after 19 gaps: {}",
        end.p50
    );

    // A plain (content-length) response has no chunk gaps to report.
    let plain = delay_server(Duration::from_millis(1), None, t0).await;
    let agg = run(&plain, "/work", "{}", "20,2s", Instant::now()).await;
    assert_eq!(agg.total.ok, 20);
    assert_eq!(agg.total.chunk_gap_us.len(), 0);
}
