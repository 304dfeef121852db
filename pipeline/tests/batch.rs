//! The batch endpoint: every item answered in order, at most
//! max_concurrent at a time, a bad item refused before any is made.

mod common;

use common::*;
use serde_json::{Value, json};

async fn batch(s: &Setup, body: Value) -> (u16, Value) {
    let r = genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(s.url("/api/v1/generate-articles/batch"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_batch_answers_each_item_in_order_within_its_concurrency() {
    let s = setup_with("", |c| c.extra_delay_ms.llm = 200).await;
    let topics = ["tides", "kelp", "reefs", "dunes"];
    let (code, v) = batch(&s, json!({"topics": topics, "max_concurrent": 2})).await;
    assert_eq!(code, 200, "{v}");
    let items = v["items"].as_array().unwrap();
    let got: Vec<&str> = items.iter().map(|i| i["topic"].as_str().unwrap()).collect();
    assert_eq!(got, topics);
    assert_eq!((v["ok"].as_u64(), v["failed"].as_u64()), (Some(4), Some(0)));
    for (n, i) in items.iter().enumerate() {
        assert_eq!(i["index"], n);
        assert_eq!(i["status"], 200);
        assert_eq!(i["cache"], "miss");
        assert!(i["article"].as_str().unwrap().len() > 100);
    }
    // Four misses of at least 200 ms each, two at a time: two rounds.
    assert!(
        v["total_ms"].as_f64().unwrap() >= 400.0,
        "{}",
        v["total_ms"]
    );
    // Made once, then cached.
    let (_, again) = batch(
        &s,
        json!({"items": [{"topic": "kelp", "target_length": 300}, {"topic": "tides"}]}),
    )
    .await;
    assert_eq!(again["items"][1]["cache"], "hit");
}

#[tokio::test]
async fn a_bad_batch_is_refused_naming_the_item() {
    let s = setup().await;
    let (code, v) = batch(&s, json!({"items": [{"topic": "ok"}, {"topic": 7}]})).await;
    assert_eq!(code, 422);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("item 1:"),
        "{v}"
    );
    let (code, v) = batch(&s, json!({"topics": []})).await;
    assert_eq!(code, 422, "{v}");
    let (code, _) = batch(&s, json!({"topics": ["a"], "max_concurrent": 0})).await;
    assert_eq!(code, 422);
}
