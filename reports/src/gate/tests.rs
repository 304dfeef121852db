use base64::Engine as _;
use genbench_model::{RunResult, TargetKind};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use proptest::prelude::{ProptestConfig, prop_assert, prop_assert_eq, proptest};

use super::stats::Rng;
use super::*;

fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).unwrap();
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// `n` log-normal latencies around 100 ms, scaled by `factor`.
fn latencies(n: usize, factor: f64, rng: &mut Rng) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for _ in 0..n {
        let v = 100_000.0 * factor * (0.4 * rng.normal()).exp();
        h.record(v.max(1.0) as u64).unwrap();
    }
    h
}

fn run(h: &Histogram<u64>) -> RunResult {
    let mut r = RunResult::example("ci", genbench_model::ScenarioKind::Baseline);
    r.scenario.resolved = serde_json::json!({"load": {"model": "open"}});
    r.scenario.seed = Some(1);
    r.target.kind = TargetKind::Embedded;
    r.target.mock_time_scale = Some(1.0);
    r.started_at = String::new();
    r.requests.total = h.len();
    r.requests.ok = h.len();
    r.histograms.latency_us = Some(encode(h));
    r
}

fn side(runs: Vec<RunResult>) -> Vec<(String, RunResult)> {
    runs.into_iter()
        .enumerate()
        .map(|(i, r)| (format!("run-{}/results.json", i + 1), r))
        .collect()
}

fn metric<'a>(g: &'a GateReport, name: &str) -> &'a MetricVerdict {
    g.metrics.iter().find(|m| m.name == name).unwrap()
}

/// Rules with no noise floor, so the interval alone decides.
fn no_floor() -> Rules {
    Rules {
        noise_floor: FloorSpec::Number(0.0),
        ..Rules::default()
    }
}

#[test]
fn identical_distributions_fail_no_more_often_than_the_confidence_allows() {
    // 200 A/A pairs of one run each, floor 0: a 95% interval excludes zero
    // on the worse side in about 2.5% of them.
    let mut rng = Rng::new(11);
    let mut worse = 0;
    for _ in 0..200 {
        let b = side(vec![run(&latencies(400, 1.0, &mut rng))]);
        let c = side(vec![run(&latencies(400, 1.0, &mut rng))]);
        let g = gate(&b, &c, &no_floor());
        if metric(&g, "latency_p95").verdict == Verdict::Regressed {
            worse += 1;
        }
    }
    assert!(worse <= 12, "{worse} of 200 identical pairs flagged at p95");
}

#[test]
fn runs_that_differ_between_themselves_do_not_cry_wolf() {
    // Each run is shifted by its own factor (sd 8%), as on a shared machine:
    // within-run sampling alone would flag about a third of these pairs.
    let mut rng = Rng::new(5);
    let mut flagged = 0;
    for _ in 0..100 {
        let make = |rng: &mut Rng| {
            (0..3)
                .map(|_| {
                    let f = (0.08 * rng.normal()).exp();
                    run(&latencies(2000, f, rng))
                })
                .collect::<Vec<_>>()
        };
        let (b, c) = (side(make(&mut rng)), side(make(&mut rng)));
        let g = gate(&b, &c, &no_floor());
        if metric(&g, "latency_p50").verdict == Verdict::Regressed {
            flagged += 1;
        }
    }
    assert!(flagged <= 8, "{flagged} of 100 A/A pairs flagged");
}

#[test]
fn mismatched_inputs_are_refused_with_the_reason() {
    let mut rng = Rng::new(1);
    let h = latencies(100, 1.0, &mut rng);
    let mut other = run(&h);
    other.scenario.name = "stress".into();
    let e = check(&side(vec![run(&h)]), &side(vec![other])).unwrap_err();
    assert!(
        e.0.contains("different scenarios") && e.0.contains("stress"),
        "{e}"
    );
    let mut seed = run(&h);
    seed.scenario.seed = Some(2);
    assert!(
        check(&side(vec![run(&h)]), &side(vec![seed]))
            .unwrap_err()
            .0
            .contains("seeds")
    );
    let mut bare = run(&h);
    bare.histograms.latency_us = None;
    let e = check(&side(vec![run(&h)]), &side(vec![bare])).unwrap_err();
    assert!(e.0.contains("histograms.latency_us"), "{e}");
    assert!(check(&side(vec![run(&h)]), &[]).is_err());
}

#[test]
fn exact_metrics_flag_any_increase_and_report_improvements() {
    let mut rng = Rng::new(3);
    let h = latencies(500, 1.0, &mut rng);
    let with_cost = |usd: f64, tokens: u64| {
        let mut r = run(&h);
        r.cost = Some(genbench_model::Cost {
            total_usd: usd,
            per_article_usd: Some(usd / 10.0),
            tokens: genbench_model::TokenCounts {
                prompt: tokens,
                completion: 0,
                cached_prompt: 0,
            },
            by_model: Default::default(),
            search_calls: 0,
            source: "ledger".into(),
            search_usd: 0.0,
            tokens_per_article: None,
            articles: 10,
            unpriced: None,
            abandoned: None,
        });
        r
    };
    let b = side(vec![with_cost(0.1, 10_000), with_cost(0.1, 10_000)]);
    let more = side(vec![with_cost(0.1, 10_001)]);
    let g = gate(&b, &more, &Rules::default());
    assert_eq!(metric(&g, "tokens_per_article").verdict, Verdict::Regressed);
    assert_eq!(metric(&g, "cost_per_article").verdict, Verdict::Unchanged);
    assert!(g.regressed());
    let cheaper = side(vec![with_cost(0.08, 10_000)]);
    let g = gate(&b, &cheaper, &Rules::default());
    assert_eq!(metric(&g, "cost_per_article").verdict, Verdict::Improved);
    assert!(!g.regressed(), "an improvement never fails the gate");
}

#[test]
fn rules_switch_a_metric_off_and_move_its_floor() {
    let mut rng = Rng::new(9);
    let b = side(vec![run(&latencies(3000, 1.0, &mut rng))]);
    let c = side(vec![run(&latencies(3000, 1.3, &mut rng))]);
    assert_eq!(
        metric(&gate(&b, &c, &Rules::default()), "latency_p50").verdict,
        Verdict::Regressed
    );
    let mut rules = Rules::default();
    rules.metrics.insert(
        "latency_p50".into(),
        MetricRule {
            noise_floor: Some(FloorSpec::Text("50%".into())),
            ..Default::default()
        },
    );
    assert_eq!(
        metric(&gate(&b, &c, &rules), "latency_p50").verdict,
        Verdict::Unchanged
    );
    rules.metrics.insert(
        "latency_p50".into(),
        MetricRule {
            enabled: Some(false),
            ..Default::default()
        },
    );
    assert_eq!(
        metric(&gate(&b, &c, &rules), "latency_p50").verdict,
        Verdict::Disabled
    );
}

#[test]
fn outputs_put_the_worst_first_and_parse() {
    let mut rng = Rng::new(2);
    let mut fast = run(&latencies(3000, 1.0, &mut rng));
    let mut slow = run(&latencies(3000, 1.5, &mut rng));
    for i in 0..40 {
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 2).unwrap();
        h.record(1000 + i).unwrap();
        fast.histograms
            .stages_us
            .insert(format!("stage-{i:03}"), encode(&h));
        slow.histograms
            .stages_us
            .insert(format!("stage-{i:03}"), encode(&h));
    }
    let (b, c) = (side(vec![fast]), side(vec![slow]));
    let mut g = gate(&b, &c, &Rules::default());
    assert_eq!(g.metrics[0].verdict, Verdict::Regressed);
    // One value a side has nothing beyond its p95: shown, never judged.
    assert_eq!(
        metric(&g, "stage_p95.stage-007").verdict,
        Verdict::Undecided
    );
    let md = markdown(&g);
    assert!(
        md.find("latency").unwrap() < md.find("stage-000").unwrap(),
        "{md}"
    );
    // Thousands of stages still fit a job summary, worst rows kept.
    let many = metric(&g, "stage_p95.stage-007").clone();
    g.metrics.extend((0..20_000).map(|i| MetricVerdict {
        name: format!("stage_p95.{i:05}-{}", "x".repeat(40)),
        ..many.clone()
    }));
    let md = markdown(&g);
    assert!(md.len() < render::MARKDOWN_LIMIT, "{}", md.len());
    assert!(md.contains("latency") && md.contains("more metrics in gate.json"));
    let t = text(&g);
    assert!(t.contains("gate FAILED") && t.contains("REGRESSED"), "{t}");
    let x = junit(&g);
    assert_eq!(x.matches("<testcase ").count(), g.metrics.len());
    assert!(x.contains("<failure "));
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["verdict"], "regressed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_shift_past_the_floor_is_caught(shift in 0.12f64..0.6, seed in 0u64..10_000) {
        let mut rng = Rng::new(seed);
        let b = side(vec![run(&latencies(2000, 1.0, &mut rng))]);
        let c = side(vec![run(&latencies(2000, 1.0 + shift, &mut rng))]);
        let g = gate(&b, &c, &Rules::default());
        prop_assert_eq!(metric(&g, "latency_p50").verdict, Verdict::Regressed);
        // And the other way round it is an improvement, never a failure.
        let g = gate(&c, &b, &Rules::default());
        prop_assert_eq!(metric(&g, "latency_p50").verdict, Verdict::Improved);
        prop_assert!(!g.regressed());
    }

    #[test]
    fn the_interval_narrows_with_more_samples(seed in 0u64..10_000) {
        let mut rng = Rng::new(seed);
        let width = |n: usize, rng: &mut Rng| {
            let b = side(vec![run(&latencies(n, 1.0, rng))]);
            let c = side(vec![run(&latencies(n, 1.0, rng))]);
            let ci = metric(&gate(&b, &c, &Rules::default()), "latency_p95").ci.unwrap();
            ci[1] - ci[0]
        };
        let (small, large) = (width(100, &mut rng), width(10_000, &mut rng));
        // sqrt(100) = 10 times narrower in theory; at least 3 here, since
        // each width is itself an estimate.
        prop_assert!(large * 3.0 < small, "{} vs {}", small, large);
    }
}

/// A run of `latencies` ms with every request kept, in schedule order.
fn run_with_points(latencies_ms: &[f64]) -> RunResult {
    let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    let mut t_s = 0.0;
    let points = latencies_ms
        .iter()
        .map(|&ms| {
            h.record((ms * 1000.0) as u64).unwrap();
            t_s += ms / 1000.0 + 0.1;
            genbench_model::RequestPoint {
                t_s,
                latency_ms: ms,
                error: None,
                cache_hit: None,
                trace_id: None,
            }
        })
        .collect();
    let mut r = run(&h);
    r.points = Some(points);
    r
}

#[test]
fn requests_pair_on_what_every_run_sent_and_histograms_serve_otherwise() {
    // The same 60 seeded requests, 10% slower on the current side; one run
    // reached its time limit two requests short.
    let mut rng = Rng::new(4);
    let shared: Vec<f64> = (0..60)
        .map(|_| 300.0 * (0.5 * rng.normal()).exp())
        .collect();
    let noisy = |f: f64, rng: &mut Rng| -> Vec<f64> {
        shared
            .iter()
            .map(|v| v * f * (0.01 * rng.normal()).exp())
            .collect()
    };
    let mut short = noisy(1.1, &mut rng);
    short.truncate(58);
    let b = side(
        (0..3)
            .map(|_| run_with_points(&noisy(1.0, &mut rng)))
            .collect(),
    );
    let c = side(vec![
        run_with_points(&noisy(1.1, &mut rng)),
        run_with_points(&short),
        run_with_points(&noisy(1.1, &mut rng)),
    ]);
    let g = gate(&b, &c, &Rules::default());
    let p95 = metric(&g, "latency_p95");
    assert_eq!(p95.method, Some(Method::Paired), "{p95:?}");
    assert_eq!(p95.verdict, Verdict::Regressed, "{p95:?}");
    let [lo, hi] = p95.ci.unwrap();
    assert!(lo > 0.05 && hi < 0.15, "{p95:?}");
    // A run that kept no requests one by one: from the histograms.
    let mut c2 = c.clone();
    c2[0].1.points = None;
    let p95 = metric(&gate(&b, &c2, &Rules::default()), "latency_p95").clone();
    assert_eq!(p95.method, Some(Method::Bootstrap), "{p95:?}");
}
