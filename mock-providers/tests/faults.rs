//! Fault injection over HTTP: rate limits, errors, hangs, cut streams, slow
//! tails, and their reproducibility.

mod common;

use std::time::{Duration, Instant};

use common::*;
use genbench_mock::{Faults, MockConfig};
use serde_json::Value;

fn chat_url(m: &genbench_mock::MockServers) -> String {
    format!("{}/v1/chat/completions", m.llm_url())
}

#[tokio::test]
async fn rpm_limit_answers_429_with_retry_after_and_openai_body() {
    let m = instant_with("rpm=2").await;
    let body = chat_body("gpt-4o-mini", "x", Some(1), false);
    assert_eq!(post(&chat_url(&m), &body).await.status(), 200);
    assert_eq!(post(&chat_url(&m), &body).await.status(), 200);
    let r = post(&chat_url(&m), &body).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(v["error"]["type"], "requests");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Rate limit reached for gpt-4o-mini")
    );
    let l = &m.ledger().models["gpt-4o-mini"];
    assert_eq!(
        (l.requests, l.failed_requests, l.completion_tokens),
        (3, 1, 2)
    );
}

#[tokio::test]
async fn tpm_limit_counts_prompt_and_max_tokens() {
    let m = instant_with("tpm=1000").await;
    assert_eq!(
        post(
            &chat_url(&m),
            &chat_body("gpt-4o-mini", "x", Some(900), false)
        )
        .await
        .status(),
        200
    );
    let r = post(
        &chat_url(&m),
        &chat_body("gpt-4o-mini", "x", Some(200), false),
    )
    .await;
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "tokens");
}

#[tokio::test]
async fn error_rate_one_gives_5xx_in_openai_shape() {
    let m = instant_with("error_rate=1").await;
    for i in 0..10 {
        let r = post(
            &chat_url(&m),
            &chat_body("gpt-4o-mini", &format!("{i}"), Some(1), false),
        )
        .await;
        assert!(
            [500, 502, 503].contains(&r.status().as_u16()),
            "{}",
            r.status()
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["type"], "server_error");
    }
    assert_eq!(m.ledger().models["gpt-4o-mini"].failed_requests, 10);
}

#[tokio::test]
async fn hang_stalls_then_504() {
    let m = instant_with("hang_rate=1,hang_ms=300").await;
    let t = Instant::now();
    let r = post(
        &chat_url(&m),
        &chat_body("gpt-4o-mini", "x", Some(1), false),
    )
    .await;
    assert_eq!(r.status(), 504);
    assert!(t.elapsed() >= Duration::from_millis(300));
    // A client with a shorter timeout sees a hang.
    let client = common::http()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let e = client
        .post(chat_url(&m))
        .json(&chat_body("gpt-4o-mini", "y", Some(1), false))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout());
}

#[tokio::test]
async fn cut_streams_end_without_done_and_bill_what_was_sent() {
    let m = instant_with("cut_rate=1").await;
    let mut r = post(
        &chat_url(&m),
        &chat_body("gpt-4o-mini", "x", Some(200), true),
    )
    .await;
    assert_eq!(r.status(), 200);
    let mut text = String::new();
    let outcome = loop {
        match r.chunk().await {
            Ok(Some(c)) => text.push_str(&String::from_utf8_lossy(&c)),
            Ok(None) => break "clean end",
            Err(_) => break "cut",
        }
    };
    assert_eq!(outcome, "cut");
    assert!(!text.contains("[DONE]"));
    let sent = text.matches("\"content\":\" ").count()
        + text.matches("\"content\":\".").count()
        + text.matches("\"content\":\",").count();
    let l = &m.ledger().models["gpt-4o-mini"];
    assert_eq!(l.failed_requests, 1);
    assert!(l.completion_tokens < 200);
    assert_eq!(l.completion_tokens as usize, sent);
}

#[tokio::test]
async fn slow_tail_adds_latency() {
    let m = instant_with("slow_rate=1,slow_ms=250").await;
    let t = Instant::now();
    let r = post(
        &chat_url(&m),
        &chat_body("gpt-4o-mini", "x", Some(1), false),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    let s = instant_with("search.slow_rate=1,search.slow_ms=250").await;
    let t = Instant::now();
    common::get(format!("{}/customsearch/v1?q=x", s.search_url()))
        .await
        .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn search_and_web_faults() {
    let m = instant_with("search.error_rate=1,web.error_rate=1").await;
    let r = common::get(format!("{}/customsearch/v1?q=x", m.search_url()))
        .await
        .unwrap();
    assert!(r.status().is_server_error());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["errors"][0]["reason"], "backendError");
    let r = common::get(format!("{}/pages/x", m.web_url()))
        .await
        .unwrap();
    assert!(r.status().is_server_error());
    assert_eq!(m.ledger().search.failed_calls, 1);
}

#[tokio::test]
async fn serper_preset_limits_requests_per_second() {
    let m = start(MockConfig {
        search_preset: "serper".into(),
        ..MockConfig::instant()
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r = common::get(format!("{}/customsearch/v1?q={i}", m.search_url()))
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    // A burst of 8 within well under a second: 5 pass, then 429.
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(*statuses.last().unwrap(), 429);
}

#[tokio::test]
async fn same_seed_same_faults_for_a_sequential_client() {
    let faults = Faults::parse_spec("error_rate=0.3").unwrap();
    let run = |seed: u64| {
        let faults = faults.clone();
        async move {
            let m = start(MockConfig {
                seed,
                faults,
                ..MockConfig::instant()
            })
            .await;
            let mut codes = Vec::new();
            for i in 0..30 {
                let r = post(
                    &chat_url(&m),
                    &chat_body("gpt-4o-mini", &format!("{i}"), Some(1), false),
                )
                .await;
                codes.push(r.status().as_u16());
            }
            codes
        }
    };
    let a = run(5).await;
    assert_eq!(a, run(5).await);
    assert_ne!(a, run(6).await);
    assert!(a.contains(&200) && a.iter().any(|c| *c >= 500), "{a:?}");
}
