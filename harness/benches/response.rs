//! One response through the engine's hot path, as a worker handles it: the
//! request written on a kept-alive loopback connection, the response read
//! and parsed, its body checked for what the default `[collect]` reads
//! (usage), and the sample recorded. The server is a canned answer in the
//! same runtime, so the figure is the client's work plus two loopback
//! syscalls each way. Compare runs of `cargo bench -p genbench` to see a
//! regression in the per-response cost.

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use genbench::engine::inspect::{Inspect, UsageFields};
use genbench::engine::sender::Sender;
use genbench::engine::workers::Slots;
use genbench_collectors::Recorder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A model list shaped and sized like `genbench mock`'s answer to
/// GET /v1/models: 753 bytes of JSON.
fn canned() -> Vec<u8> {
    let models: Vec<String> = (0..7)
        .map(|i| format!(r#"{{"id":"model-{i}","object":"model","created":1700000000,"owned_by":"genbench-mock"}}"#))
        .collect();
    let mut body = format!(r#"{{"object":"list","data":[{}]}}"#, models.join(","));
    body.push_str(&" ".repeat(753usize.saturating_sub(body.len())));
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nserver: canned\r\n\r\n",
        body.len()
    );
    [head.into_bytes(), body.into_bytes()].concat()
}

/// Answers every request on every connection with `answer`.
async fn serve(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    let requests = buf[..n].windows(4).filter(|w| w == b"\r\n\r\n").count();
                    if n == 0 || s.write_all(&answer.repeat(requests)).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

fn one_response(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(serve(canned()));
    let sender = rt.block_on(async {
        let usage = UsageFields {
            usage: "/usage".into(),
            model: "/model".into(),
            default_model: "unknown".into(),
            search_calls: None,
        };
        Sender::new(
            &url,
            "GET",
            &BTreeMap::new(),
            Duration::from_secs(5),
            tokio::time::Instant::now(),
        )
        .unwrap()
        .with_inspect(Inspect {
            usage: Some(usage),
            ..Inspect::default()
        })
    });
    let (mut slots, mut rec) = (Slots::for_worker(0), Recorder::default());
    c.bench_function("one 753-byte JSON response, kept alive", |b| {
        b.iter(|| {
            let mut slot = slots.take();
            slot.request_mut().path.replace_range(.., "/v1/models");
            let (sample, slot) = rt.block_on(sender.send(None, slot));
            assert!(sample.ok());
            slots.finish(sample, slot, &sender, &mut rec, None);
        })
    });
}

criterion_group!(benches, one_response);
criterion_main!(benches);
