//! The leak knob grows RSS; without it, the same load does not. Its own test
//! binary, so no other test's allocations share the process.

mod common;

use common::*;

/// Memory is process-wide: the tests here take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

async fn growth_over(s: &Setup, requests: usize) -> f64 {
    // Warm up first: caches, pools and lazily built tables settle.
    for _ in 0..10 {
        generate(s, "warm").await;
    }
    let before = rss_mib();
    for _ in 0..requests {
        assert_eq!(generate(s, "warm").await.status(), 200);
    }
    rss_mib() - before
}

#[tokio::test]
async fn leak_knob_grows_rss_and_its_absence_does_not() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let off = setup().await;
    let grew_off = growth_over(&off, 64).await;
    let on = setup_with("", |c| c.leak_bytes_per_request = 1 << 20).await;
    let grew_on = growth_over(&on, 64).await;
    assert!(
        grew_on >= 56.0,
        "64 requests x 1 MiB grew RSS by only {grew_on:.1} MiB"
    );
    assert!(
        grew_off < 16.0,
        "without the knob RSS grew {grew_off:.1} MiB"
    );
}

async fn heap_bytes(s: &Setup) -> f64 {
    metric(s, "genbench_pipeline_heap_bytes").await
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn the_heap_gauge_moves_by_what_is_kept() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // Small leaks fill freed holes in the heap, invisible in RSS for
    // minutes; the heap count has them at once. The mocks and the client
    // share this process and churn about a MiB, so the blocks are 32 KiB
    // (still below malloc's mmap threshold: heap, not mappings).
    let s = setup_with("", |c| c.leak_bytes_per_request = 32 << 10).await;
    for _ in 0..10 {
        generate(&s, "warm").await;
    }
    let before = heap_bytes(&s).await;
    for _ in 0..200 {
        assert_eq!(generate(&s, "warm").await.status(), 200);
    }
    let grew = (heap_bytes(&s).await - before) / f64::from(1 << 20);
    let kept = 200.0 * 32.0 / 1024.0;
    assert!(
        (grew - kept).abs() < 1.5,
        "200 leaks of 32 KiB ({kept} MiB) moved the heap by {grew:.2} MiB"
    );
}
