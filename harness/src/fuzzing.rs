//! Entry points for the fuzz targets (`fuzz/`) and the tests that replay
//! their corpora: each takes arbitrary bytes and must neither panic nor
//! hang, whatever they are. Not an API.

use std::path::Path;
use std::time::Duration;

use crate::engine::chunked::Chunked;
use crate::engine::h1::{Framing, parse_head};
use crate::engine::llm::{Mark, Scratch, read_stream};

/// A response from any server: the head parsed as the engine parses it,
/// then a chunked body fed in pieces whose size the first byte picks.
pub fn h1_response(data: &[u8]) {
    let captured = ["retry-after".to_string(), "location".to_string()];
    let Ok(Some(head)) = parse_head(data, "x-cache", "x-request-id", &captured, false) else {
        return;
    };
    let body = &data[head.len.min(data.len())..];
    if head.framing != Framing::Chunked {
        return;
    }
    let step = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let mut dec = Chunked::default();
    let mut rest = body;
    let mut pending: Vec<u8> = Vec::new();
    while !rest.is_empty() && !dec.done() {
        let take = step.min(rest.len());
        pending.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        match dec.feed(&pending, |_| {}) {
            Ok(fed) => {
                pending.drain(..fed.consumed.min(pending.len()));
            }
            Err(_) => return,
        }
    }
}

/// An event stream as an LLM endpoint sends it, with a mark every 7 bytes.
pub fn sse(data: &[u8]) {
    let marks: Vec<Mark> = (1..=data.len().div_ceil(7))
        .map(|i| Mark {
            end: (i * 7).min(data.len()) as u64,
            at: Duration::from_millis(i as u64),
        })
        .collect();
    let _ = read_stream(data, &marks, &mut Scratch::default());
}

/// A `Server-Timing` header value.
pub fn server_timing(data: &[u8]) {
    let _ = genbench_collectors::stages::parse_server_timing(data).count();
    let mut s = genbench_collectors::stages::Stages::default();
    s.record(data);
    let _ = s.summary();
}

/// Prometheus text exposition, as the collectors scrape it.
pub fn prometheus(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for name in ["genbench_cache_hits_total", "x", ""] {
        let _ = genbench_collectors::prometheus::counter(&text, name);
    }
    use genbench_collectors::stage_histograms::{read, stages};
    let after = read(&text, "article_stage_seconds", "stage");
    let _ = stages(&read("", "article_stage_seconds", "stage"), &after, 1000.0);
}

/// An OTLP trace export as the span receiver gets it: the first byte picks
/// the Content-Type (bit 0: JSON, else protobuf) and the Content-Encoding
/// (bit 1: gzip); the rest is the body. Whatever it is, the receiver
/// answers and its collector still reports.
pub fn otlp_traces(data: &[u8]) {
    use crate::collect::traces::receiver::{Shared, ingest};
    use axum::http::{HeaderMap, HeaderValue, header};
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    let ct = if flags & 1 == 1 {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if flags & 2 == 2 {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let rules = [genbench_scenarios::StageRule {
        stage: "search".into(),
        matches: genbench_scenarios::SpanMatch::AttrContains {
            attr: "url.full".into(),
            text: "/search".into(),
        },
    }];
    // The run nonce of the trace ids in the corpus, so their spans join.
    let shared = Shared {
        collector: std::sync::Mutex::new(genbench_collectors::traces::SpanCollector::new(1, 3)),
        namer: crate::collect::traces::Namer::new(&rules),
    };
    let _ = ingest(&shared, &headers, body);
    let c = shared
        .collector
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let _ = c.finish(1, "otlp_http", None);
}

/// A scenario file through parsing and validation; files it names read
/// as empty (nothing on disk is touched).
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let read = |_: &str| Ok(String::new());
    let _ = genbench_scenarios::Scenario::parse_with(text, "fuzz.toml", &read);
}

/// A results.json through every reader: report, summary, JUnit,
/// comparison, the gate's checks and a merge of itself as one part.
pub fn results_json(data: &[u8]) {
    let Ok(r) = serde_json::from_slice::<genbench_model::RunResult>(data) else {
        return;
    };
    let _ = genbench_reports::report_html(&r, None);
    let _ = genbench_reports::summary_markdown(&r);
    let _ = genbench_reports::junit(&r);
    let runs = [genbench_reports::Run {
        label: "a".into(),
        result: r.clone(),
        report_href: None,
    }];
    let _ = genbench_reports::comparison_html(&runs);
    let side = [("a.json".to_string(), r.clone())];
    if genbench_reports::gate::check(&side, &side).is_ok() {
        let rules = genbench_reports::gate::Rules::default();
        let _ = genbench_reports::gate::gate(&side, &side, &rules);
    }
    let part = genbench_collectors::merge::Part {
        result: &r,
        offset_s: 0.0,
    };
    let _ = genbench_collectors::merge::merge(&[part], None);
}

/// Every file under `dir`, each given to `target`: a corpus replayed.
pub fn replay(dir: &Path, target: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        if let Ok(data) = std::fs::read(e.path()) {
            target(&data);
            n += 1;
        }
    }
    n
}
