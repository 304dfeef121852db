//! The job API: submit, poll, result; a full queue refused with 429 and
//! Retry-After; the pool's gauges on /metrics.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

async fn submit(s: &Setup, topic: &str) -> reqwest::Response {
    genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(s.url("/api/v1/jobs"))
        .json(&json!({"topic": topic, "target_length": 120}))
        .send()
        .await
        .unwrap()
}

async fn get_json(s: &Setup, path: &str) -> (u16, Value) {
    let r = common::get(s.url(path)).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_job_is_queued_run_and_its_article_fetched() {
    let s = setup_with("", |c| c.extra_delay_ms.llm = 150).await;
    let r = submit(&s, "tidal power").await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let id = body["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/jobs/{id}"));

    // Not done yet: the result says so, with what to do.
    let (code, early) = get_json(&s, &format!("{location}/result")).await;
    assert_eq!(code, 409, "{early}");
    assert!(early["error"]["message"].as_str().unwrap().contains("poll"));

    let mut states = Vec::new();
    let done = loop {
        let (code, v) = get_json(&s, &location).await;
        assert_eq!(code, 200);
        let state = v["job"]["state"].as_str().unwrap().to_string();
        if states.last() != Some(&state) {
            states.push(state.clone());
        }
        if state == "done" {
            break v;
        }
        assert!(
            states.len() < 4 && v["job"]["progress"].as_f64().unwrap() < 1.0,
            "{v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(states.last().unwrap(), "done");
    assert!(states.contains(&"running".to_string()), "{states:?}");
    assert_eq!(done["job"]["progress"], 1.0);
    let r = common::get(s.url(&format!("{location}/result")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-cache"], "MISS");
    assert!(
        r.headers()["server-timing"]
            .to_str()
            .unwrap()
            .contains("llm;dur=")
    );
    let article: Value = r.json().await.unwrap();
    assert!(article["article"].as_str().unwrap().len() > 100);

    let (code, v) = get_json(&s, "/api/v1/jobs/999999").await;
    assert_eq!(code, 404, "{v}");
}

#[tokio::test]
async fn a_full_queue_answers_429_with_retry_after_and_the_gauges_show_it() {
    let s = setup_with("", |c| {
        c.extra_delay_ms.llm = 400;
        c.jobs.workers = 1;
        c.jobs.queue_capacity = 1;
        c.jobs.retry_after_s = 2;
    })
    .await;
    let first: Value = submit(&s, "one").await.json().await.unwrap();
    let first = format!("/api/v1/jobs/{}", first["job"]["id"].as_str().unwrap());
    // The worker takes the first; the second waits in the one place.
    for _ in 0..200 {
        if get_json(&s, &first).await.1["job"]["state"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(submit(&s, "two").await.status(), 202);
    let r = submit(&s, "three").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["kind"], "queue_full");
    assert_eq!(metric(&s, "genbench_pipeline_jobs_queued").await, 1.0);
    assert_eq!(metric(&s, "genbench_pipeline_jobs_workers_busy").await, 1.0);
    assert_eq!(metric(&s, "genbench_pipeline_jobs_workers").await, 1.0);
}

#[tokio::test]
async fn a_bad_job_is_refused_before_it_is_queued() {
    let s = setup().await;
    let r = genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(s.url("/api/v1/jobs"))
        .json(&json!({"title": "no topic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(metric(&s, "genbench_pipeline_jobs_queued").await, 0.0);
}
