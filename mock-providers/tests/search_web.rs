//! The search and web mocks over HTTP, and the ledger endpoints.

mod common;

use common::*;
use serde_json::Value;

async fn get_json(url: &str) -> (u16, Value) {
    let r = common::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn search_has_google_shape_and_links_into_the_web_mock() {
    let m = instant_with("").await;
    let url = format!(
        "{}/customsearch/v1?q=solar+power&num=5&key=k&cx=c",
        m.search_url()
    );
    let (status, v) = get_json(&url).await;
    assert_eq!(status, 200);
    assert_eq!(v["kind"], "customsearch#search");
    assert_eq!(v["queries"]["request"][0]["searchTerms"], "solar power");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for it in items {
        assert_eq!(it["kind"], "customsearch#result");
        assert!(it["title"].as_str().unwrap().starts_with("Solar Power"));
        assert!(it["snippet"].as_str().unwrap().contains("solar power"));
        assert!(
            it["link"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/pages/", m.web_url()))
        );
    }
    let (_, again) = get_json(&url).await;
    assert_eq!(again["items"], v["items"], "deterministic per query");
    let (_, other) = get_json(&format!("{}/customsearch/v1?q=wind", m.search_url())).await;
    assert_ne!(other["items"][0]["link"], v["items"][0]["link"]);
    assert_eq!(
        other["items"].as_array().unwrap().len(),
        10,
        "num defaults to 10"
    );

    let page = common::get(items[0]["link"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<article"));
    let ledger = m.ledger();
    assert_eq!((ledger.search.calls, ledger.web.pages), (3, 1));
    assert!(
        (ledger.search.cost_usd - 3.0 * 0.0).abs() < 1e-12,
        "instant search is free"
    );
}

#[tokio::test]
async fn search_price_comes_from_the_preset() {
    let m = start(genbench_mock::MockConfig {
        search_preset: "serpapi".into(),
        time_scale: 0.0,
        ..genbench_mock::MockConfig::instant()
    })
    .await;
    for q in ["a", "b", "c"] {
        let (s, _) = get_json(&format!("{}/customsearch/v1?q={q}", m.search_url())).await;
        assert_eq!(s, 200);
    }
    // The worked example of provider-defaults.md: three SerpAPI searches, $0.045.
    assert!((m.ledger().search.cost_usd - 0.045).abs() < 1e-12);
}

#[tokio::test]
async fn search_bad_input_gets_google_errors() {
    let m = instant_with("").await;
    for (query, needle) in [
        ("", "Missing required parameter: q"),
        ("q=x&num=11", "num"),
        ("q=x&num=ten", "num"),
        ("q=x&start=0", "start"),
    ] {
        let (status, v) = get_json(&format!("{}/customsearch/v1?{query}", m.search_url())).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(v["error"]["code"], 400);
        assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{v}"
        );
    }
}

#[tokio::test]
async fn pages_have_configurable_size_and_boilerplate() {
    let m = instant_with("").await;
    let small = common::get(format!("{}/pages/abc?words=200", m.web_url()))
        .await
        .unwrap();
    assert!(
        small.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let small = small.text().await.unwrap();
    let big = common::get(format!("{}/pages/abc?words=4000", m.web_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        big.len() > 5 * small.len() / 2,
        "{} vs {}",
        big.len(),
        small.len()
    );
    for part in ["<nav", "cookie-banner", "ad-leaderboard", "<footer"] {
        assert!(small.contains(part), "{part}");
    }
    let r = common::get(format!("{}/pages/abc?words=0", m.web_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = common::get(format!("{}/pages/a%2Fb", m.web_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn ledger_metrics_and_reset_on_every_port() {
    let m = instant_with("").await;
    post(
        &format!("{}/v1/chat/completions", m.llm_url()),
        &chat_body("gpt-4o-mini", "x", Some(3), false),
    )
    .await;
    for base in [m.llm_url(), m.search_url(), m.web_url()] {
        let (s, v) = get_json(&format!("{base}/mock/ledger")).await;
        assert_eq!(s, 200);
        assert_eq!(v["models"]["gpt-4o-mini"]["completion_tokens"], 3);
    }
    let text = common::get(format!("{}/metrics", m.search_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("genbench_mock_completion_tokens_total{model=\"gpt-4o-mini\"} 3"),
        "{text}"
    );
    assert!(text.contains("# TYPE genbench_mock_requests_total counter"));
    let r = common::http()
        .build()
        .unwrap()
        .post(format!("{}/mock/ledger/reset", m.web_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(m.ledger().models.is_empty());
    let r = common::get(format!("{}/mock/ledger/reset", m.web_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 405, "reset is POST only");
}
