//! The pprof endpoint: a flamegraph SVG, one at a time. Its own test binary,
//! because the profiler samples the whole process.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_returns_svg_and_refuses_a_second_at_once() {
    let s = setup_with("", |c| c.profiling = true).await;
    let done = AtomicBool::new(false);
    let first = async {
        let r = common::get(s.url("/debug/pprof/profile?seconds=2")).await;
        done.store(true, Ordering::Relaxed);
        r
    };
    let second = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        common::get(s.url("/debug/pprof/profile?seconds=1"))
            .await
            .unwrap()
    };
    // Busy for the whole window, so the profiler has CPU time to sample;
    // bounded in count in case the profile never answers.
    let load = async {
        for i in 0..20_000 {
            if done.load(Ordering::Relaxed) {
                break;
            }
            generate(&s, &format!("topic {i}")).await;
        }
    };
    let (first, second, ()) = tokio::join!(first, second, load);
    let first = first.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "image/svg+xml");
    assert_svg(&first.text().await.unwrap());
    assert_eq!(second.status(), 409);
    let bad = common::get(s.url("/debug/pprof/profile?seconds=0"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);

    // Idle, the profiler takes no sample; the answer is still an SVG.
    let idle = common::get(s.url("/debug/pprof/profile?seconds=1"))
        .await
        .unwrap();
    assert_eq!(idle.status(), 200);
    assert_svg(&idle.text().await.unwrap());
}

fn assert_svg(body: &str) {
    assert!(
        body.contains("<svg"),
        "not an SVG ({} bytes): {body:.300}",
        body.len()
    );
}
