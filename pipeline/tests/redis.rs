//! The Redis cache against a real redis-server started here on a free port.
//! `.ci/test` installs redis-server (Debian package) when it is missing.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use genbench_pipeline::{CacheKind, Pipeline};

struct Redis {
    child: Child,
    url: String,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn redis() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server not found: install it (Debian: apt-get install redis-server) or run .ci/test");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Redis {
        child,
        url: format!("redis://127.0.0.1:{port}"),
    }
}

#[tokio::test]
async fn articles_are_shared_through_redis() {
    let r = redis().await;
    let a = setup_with("", |c| {
        c.cache.kind = CacheKind::Redis;
        c.cache.redis_url = r.url.clone();
    })
    .await;
    let first = generate(&a, "ocean currents").await;
    assert_eq!(first.headers()["x-cache"], "MISS");
    let article = json(first).await["article"].clone();
    let again = generate(&a, "ocean currents").await;
    assert_eq!(again.headers()["x-cache"], "HIT");
    // A second pipeline on the same Redis finds it too: the cache is external.
    let mut cfg = config_for(&a.mocks);
    cfg.cache.kind = CacheKind::Redis;
    cfg.cache.redis_url = r.url.clone();
    let b = Pipeline::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let v: serde_json::Value = genbench_pipeline::client_builder()
        .build()
        .unwrap()
        .post(format!("{}/api/v1/generate-article", b.url()))
        .json(&serde_json::json!({"topic": "ocean currents", "target_length": 120}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["cache"], "hit");
    assert_eq!(v["article"], article);
}

#[tokio::test]
async fn unreachable_redis_fails_at_start_with_the_fix() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let m = mocks("").await;
    let mut cfg = config_for(&m);
    cfg.cache.kind = CacheKind::Redis;
    cfg.cache.redis_url = format!("redis://{closed}");
    let e = Pipeline::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Redis") && e.contains("redis-server"), "{e}");
}
