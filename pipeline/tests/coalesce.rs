//! cache.coalesce: simultaneous requests for one topic make one article;
//! with it off, each runs the whole pipeline.

mod common;

use common::*;
use serde_json::Value;

/// Eight requests for one topic at once: (misses, coalesced, what the
/// answers say of the cache).
async fn burst(coalesce: bool) -> (f64, f64, Vec<String>) {
    let s = setup_with("", |c| {
        c.extra_delay_ms.llm = 300;
        c.cache.coalesce = coalesce;
    })
    .await;
    let answers =
        futures_util::future::join_all((0..8).map(|_| generate(&s, "kelp forests"))).await;
    let mut said = Vec::new();
    for a in answers {
        assert_eq!(a.status(), 200);
        let v: Value = a.json().await.unwrap();
        said.push(v["cache"].as_str().unwrap().to_string());
    }
    said.sort();
    (
        metric(&s, "genbench_pipeline_cache_misses_total").await,
        metric(&s, "genbench_pipeline_cache_coalesced_total").await,
        said,
    )
}

#[tokio::test]
async fn one_topic_at_once_is_made_once_with_coalescing_and_eight_times_without() {
    let (misses, coalesced, said) = burst(true).await;
    assert_eq!((misses, coalesced), (1.0, 7.0));
    assert_eq!(said.iter().filter(|s| *s == "miss").count(), 1, "{said:?}");
    assert_eq!(
        said.iter().filter(|s| *s == "coalesced").count(),
        7,
        "{said:?}"
    );
    let (misses, coalesced, said) = burst(false).await;
    assert_eq!((misses, coalesced), (8.0, 0.0));
    assert!(said.iter().all(|s| s == "miss"), "{said:?}");
}
