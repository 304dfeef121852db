//! The pprof endpoint: a flamegraph SVG, one at a time. Its own test binary,
//! because the profiler samples the whole process.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_returns_svg_and_refuses_a_second_at_once() {
    let s = setup_with("", |c| c.profiling = true).await;
    let first = reqwest::get(s.url("/debug/pprof/profile?seconds=2"));
    let second = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        reqwest::get(s.url("/debug/pprof/profile?seconds=1"))
            .await
            .unwrap()
    };
    let load = async {
        for i in 0..20 {
            generate(&s, &format!("topic {i}")).await;
        }
    };
    let (first, second, ()) = tokio::join!(first, second, load);
    let first = first.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "image/svg+xml");
    assert!(first.text().await.unwrap().contains("<svg"));
    assert_eq!(second.status(), 409);
    let bad = reqwest::get(s.url("/debug/pprof/profile?seconds=0"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}
