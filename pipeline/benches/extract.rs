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
    g.finish();
}

criterion_group!(benches, extraction);
criterion_main!(benches);
