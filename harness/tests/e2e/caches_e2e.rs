//! `[collect.caches.NAME]`: several caches in one run, each with its own
//! source (a response header, a JSON pointer into the body, the target's
//! own counters) and its own hit rate, against a server whose answers say
//! hit or miss in a known pattern.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::support::{out_dir, results, run_ok, schema_errors};
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

#[derive(Default)]
struct Counts {
    n: AtomicU64,
    page_hits: AtomicU64,
    page_misses: AtomicU64,
}

/// Request n (from 1): the script cache hits every 2nd, the audio cache
/// (in the body) every 4th, the page cache (counted on /metrics) every 5th.
async fn article(State(c): State<Arc<Counts>>) -> (HeaderMap, String) {
    let n = c.n.fetch_add(1, Ordering::SeqCst) + 1;
    let page = if n % 5 == 0 {
        &c.page_hits
    } else {
        &c.page_misses
    };
    page.fetch_add(1, Ordering::SeqCst);
    let mut h = HeaderMap::new();
    let script = if n % 2 == 0 { "HIT" } else { "MISS" };
    h.insert("x-script-cache", script.parse().unwrap());
    let audio = if n % 4 == 0 { "hit" } else { "miss" };
    (
        h,
        json!({"article": "text", "tts": {"cache": audio}}).to_string(),
    )
}

async fn metrics(State(c): State<Arc<Counts>>) -> String {
    format!(
        "# TYPE page_hits_total counter\npage_hits_total {}\npage_misses_total {}\n",
        c.page_hits.load(Ordering::SeqCst),
        c.page_misses.load(Ordering::SeqCst)
    )
}

/// The server with its counts; its URL.
fn server() -> String {
    support::serve(
        axum::Router::new()
            .route("/article", axum::routing::post(article))
            .route("/metrics", axum::routing::get(metrics))
            .with_state(Arc::new(Counts::default())),
    )
}

const SCENARIO: &str = r#"
name = "caches"
[load]
model = "closed"
think_time = "0s"
stages = "1,1ms;1,20s"
max_requests = 40

[request]
method = "POST"
path = "/article"
body = "{}"

[collect.caches.script]
header = "X-Script-Cache"

[collect.caches.audio]
pointer = "/tts/cache"

[collect.caches.pages]
hits = "page_hits_total"
misses = "page_misses_total"
"#;

#[test]
fn each_named_cache_has_its_own_source_and_hit_rate() {
    let url = server();
    let dir = out_dir("caches");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("caches.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let stdout = run_ok(
        &[
            "run",
            file.to_str().unwrap(),
            "--target",
            &url,
            "--profile",
            "off",
        ],
        &dir,
    );
    let v = results(&dir);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    assert_eq!(v["requests"]["ok"], 40);
    let c = &v["caches"];
    let got = |name: &str| {
        let x = &c[name];
        (
            x["hits"].as_u64().unwrap(),
            x["misses"].as_u64().unwrap(),
            x["source"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(got("script"), (20, 20, "header:X-Script-Cache".into()));
    assert_eq!(got("audio"), (10, 30, "json:/tts/cache".into()));
    assert_eq!(
        got("pages"),
        (8, 32, "metrics:page_hits_total/page_misses_total".into())
    );
    assert_eq!(c["audio"]["hit_rate"], 0.25);
    // The server sends no X-Cache: the default cache learnt nothing.
    assert_eq!(v["cache"], Value::Null);
    assert!(
        stdout.contains("cache       script: hit rate 50.0%"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("named cache") && html.contains("json:/tts/cache"));
}
