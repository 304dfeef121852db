use super::*;

const RUN: u64 = 0xfeed;

struct Req {
    ids: TraceIds,
}

fn req(i: u64) -> Req {
    Req {
        ids: TraceIds::new(RUN, i, 0),
    }
}

fn span(
    c: &mut SpanCollector,
    r: &Req,
    id: u64,
    parent: Option<u64>,
    stage: &str,
    ms: (u64, u64),
) -> Span {
    Span {
        trace: r.ids.trace,
        id,
        parent: parent.unwrap_or(r.ids.span),
        stage: c.stage(stage),
        name: stage.into(),
        start_ns: ms.0 * 1_000_000,
        end_ns: ms.1 * 1_000_000,
        failure: None,
        usage: None,
    }
}

/// A request: root 0..100 ms, search 0..20, two fetches 20..50 and
/// 20..60 side by side, chat 60..100 with 7+3 tokens.
fn article(c: &mut SpanCollector, i: u64) -> Vec<Span> {
    let r = req(i);
    let base = i * 100;
    let mut chat = span(
        c,
        &r,
        base + 5,
        Some(base + 1),
        "chat gpt-4o-mini",
        (60, 100),
    );
    chat.usage = Some(SpanUsage {
        model: "gpt-4o-mini".into(),
        input: 7,
        output: 3,
        cached_input: 0,
    });
    vec![
        span(c, &r, base + 2, Some(base + 1), "search", (0, 20)),
        span(c, &r, base + 3, Some(base + 1), "fetch", (20, 50)),
        span(c, &r, base + 4, Some(base + 1), "fetch", (20, 60)),
        chat,
        span(c, &r, base + 1, None, "POST /article", (0, 100)),
    ]
}

#[test]
fn stages_critical_path_and_tokens_from_joined_trees() {
    let mut c = SpanCollector::new(RUN, 2);
    for i in 0..10 {
        let spans = article(&mut c, i);
        c.add(spans);
    }
    assert_eq!(c.roots(), 10);
    let (r, usage) = c.finish(10, "otlp_http", None);
    assert_eq!((r.joined, r.join_rate), (10, Some(1.0)));
    assert_eq!(
        (r.spans.received, r.spans.ours, r.spans.unrooted),
        (50, 50, 0)
    );
    let fetch = &r.stages["fetch"];
    assert_eq!(fetch.count, 20);
    assert!((fetch.duration_ms.mean - 35.0).abs() < 1e-9, "{fetch:?}");
    // Two fetches side by side are one fetch's 40 ms on the path.
    assert!((fetch.critical_path_ms_per_request - 40.0).abs() < 1e-9);
    assert!((r.stages["search"].critical_path_ms_per_request - 20.0).abs() < 1e-9);
    assert!((r.stages["chat gpt-4o-mini"].critical_path_ms_per_request - 40.0).abs() < 1e-9);
    assert!(
        !r.stages.contains_key("POST /article")
            || r.stages["POST /article"].critical_path_ms_per_request == 0.0
    );
    // Nothing of the root's own on the path here.
    assert!(r.self_ms.unwrap().max < 0.01);
    assert_eq!(r.slowest.len(), 2);
    assert_eq!(r.slowest[0].spans.len(), 5);
    assert_eq!(r.slowest[0].spans[0].depth, 0);
    let (spend, unpriced) = usage.all.priced(&Default::default());
    assert_eq!(unpriced, ["gpt-4o-mini"]);
    assert_eq!(spend.models["gpt-4o-mini"].usage.prompt, 70);
    assert_eq!(spend.models["gpt-4o-mini"].usage.completion, 30);
}

#[test]
fn children_in_an_earlier_batch_than_their_root_join_it() {
    let mut c = SpanCollector::new(RUN, 5);
    let mut spans = article(&mut c, 1);
    let root = spans.pop().unwrap();
    c.add(spans);
    assert_eq!(c.roots(), 0);
    c.add(vec![root]);
    let (r, _) = c.finish(1, "file", None);
    assert_eq!(r.joined, 1);
    assert!((r.stages["fetch"].critical_path_ms_per_request - 40.0).abs() < 1e-9);
    assert_eq!(r.spans.unrooted, 0);
}

#[test]
fn other_traces_are_counted_and_dropped() {
    let mut c = SpanCollector::new(RUN, 5);
    let foreign = TraceIds::new(RUN + 1, 1, 0);
    let s = Span {
        trace: foreign.trace,
        id: 1,
        parent: foreign.span,
        stage: c.stage("x"),
        ..Span::default()
    };
    c.add(vec![s]);
    let (r, _) = c.finish(3, "otlp_http", None);
    assert_eq!((r.spans.received, r.spans.other, r.spans.ours), (1, 1, 0));
    assert_eq!((r.joined, r.join_rate), (0, Some(0.0)));
    assert!(r.stages.is_empty());
}

#[test]
fn outside_the_root_is_service_time_minus_the_root_either_order() {
    let mut c = SpanCollector::new(RUN, 5);
    // Request 1's second reaches the collector before its root; request
    // 2's after it.
    c.requests(&[(req(1).ids.span, 130_000)]);
    let a = article(&mut c, 1);
    c.add(a);
    let b = article(&mut c, 2);
    c.add(b);
    c.requests(&[(req(2).ids.span, 110_000)]);
    let (r, _) = c.finish(2, "otlp_http", None);
    let out = r.outside_root_ms.unwrap();
    assert!(
        (out.min - 10.0).abs() < 0.05 && (out.max - 30.0).abs() < 0.05,
        "{out:?}"
    );
}

#[test]
fn spans_count_into_the_step_they_ended_in() {
    let mut c = SpanCollector::new(RUN, 1);
    // Steps of 1 s from t0 = 0: request 0's spans end by 100 ms (step 0);
    // a request whose spans end 1.0x s in (step 1), its search failing 429.
    c.set_steps(0, &[(0.0, 1.0, Some(5.0)), (1.0, 2.0, Some(10.0))]);
    let a = article(&mut c, 0);
    c.add(a);
    let mut b = article(&mut c, 1);
    for s in &mut b {
        s.start_ns += 1_000_000_000;
        s.end_ns += 1_000_000_000;
    }
    b[0].failure = Some(Failure::Status(429));
    c.add(b);
    let (r, _) = c.finish(2, "otlp_http", None);
    assert_eq!(r.steps.len(), 2);
    assert_eq!(r.steps[0].target_rps, Some(5.0));
    assert!((r.steps[0].stages_p95_ms["search"] - 20.0).abs() < 0.2);
    assert!(r.steps[0].failures.is_empty());
    assert_eq!(r.steps[1].failures[0].status, "429");
    assert_eq!(r.steps[1].stages_p95_ms.len(), 4);
}

#[test]
fn failures_are_counted_by_stage_and_status() {
    let mut c = SpanCollector::new(RUN, 5);
    let mut spans = article(&mut c, 1);
    spans[0].failure = Some(Failure::Status(429));
    spans[1].failure = Some(Failure::Error);
    c.add(spans);
    let (r, _) = c.finish(1, "otlp_http", None);
    let got: Vec<(&str, &str, u64)> = r
        .failures
        .iter()
        .map(|f| (f.stage.as_str(), f.status.as_str(), f.count))
        .collect();
    assert_eq!(got, [("search", "429", 1), ("fetch", "error", 1)]);
    assert_eq!(r.stages["search"].errors, 1);
}

#[test]
fn finished_traces_leave_nothing_behind() {
    let mut c = SpanCollector::new(RUN, 1);
    for i in 0..20_000 {
        let spans = article(&mut c, i);
        c.add(spans);
    }
    assert_eq!(c.roots(), 20_000);
    assert!(c.waiting() <= 2 * 1024 + 2, "{}", c.waiting());
}

#[test]
fn memory_is_bounded_whatever_arrives() {
    let mut c = SpanCollector::new(RUN, 5);
    for i in 0..1000 {
        let _ = c.stage(&format!("s{i}"));
    }
    assert_eq!(c.stage("s999"), c.stage(OTHER));
    // Spans that never get a root.
    let r = req(1);
    let batch: Vec<Span> = (0..MAX_PENDING_SPANS as u64 + 10)
        .map(|i| Span {
            trace: TraceIds::new(RUN, i, 0).trace,
            id: i + 1,
            parent: 7,
            ..Span::default()
        })
        .collect();
    let _ = r;
    c.add(batch);
    let (res, _) = c.finish(0, "otlp_http", None);
    assert_eq!(res.spans.unrooted, MAX_PENDING_SPANS as u64 + 10);
    assert_eq!(res.join_rate, None);
}
