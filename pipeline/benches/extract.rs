//! The extraction stage on the mock's synthetic article pages, the input the
//! reference pipeline sees under `genbench run`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn extraction(c: &mut Criterion) {
    let mut g = c.benchmark_group("extract");
    for words in [300usize, 1200, 5000] {
        let html = genbench_mock::render_page(7, "bench-page", words);
        g.throughput(Throughput::Bytes(html.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("mock_page_words", words),
            &html,
            |b, html| b.iter(|| genbench_pipeline::extract::extract(black_box(html))),
        );
    }
    // A page of many scripts (analytics, widgets, inlined bundles): the
    // raw-text skip must stay linear in the page.
    for scripts in [10usize, 300, 3000] {
        let block =
            "<script>window.dataLayer=window.dataLayer||[];dataLayer.push({'event':'x'});</script>";
        let html = format!(
            "<html><head>{}</head><body><article><p>{}</p></article></body></html>",
            block.repeat(scripts),
            "word ".repeat(1200)
        );
        g.throughput(Throughput::Bytes(html.len() as u64));
        g.bench_with_input(BenchmarkId::new("scripts", scripts), &html, |b, html| {
            b.iter(|| genbench_pipeline::extract::extract(black_box(html)))
        });
    }
    g.finish();
}

criterion_group!(benches, extraction);
criterion_main!(benches);
