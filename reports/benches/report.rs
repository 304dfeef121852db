//! Rendering a long run's report: a 2-hour soak (7,200 timeline points and
//! 7,200 readings of each process) into report.html, and its Markdown.
//! The target is under 1 s and 3 MB for the HTML (bench/report.sh checks
//! the whole `genbench report` command against it).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[allow(dead_code)]
#[path = "../examples/soak_fixture.rs"]
mod soak_fixture;

fn render(c: &mut Criterion) {
    let r = soak_fixture::soak(7200);
    let html = genbench_reports::report_html(&r, None);
    eprintln!("2-hour soak report.html: {} bytes", html.len());
    let mut g = c.benchmark_group("report_2h_soak");
    g.sample_size(20);
    g.bench_function("html", |b| {
        b.iter(|| genbench_reports::report_html(black_box(&r), None))
    });
    g.bench_function("markdown", |b| {
        b.iter(|| genbench_reports::summary_markdown(black_box(&r)))
    });
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
