//! The checked-in JSON Schema and the Rust types describe the same document:
//! every shape the types can produce validates, and the schema rejects what
//! the contract forbids. (The engine's tests validate real run output too.)

use std::collections::BTreeMap;

use genbench_model::*;
use serde_json::{Value, json};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA_JSON).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn errors(v: &Value) -> Vec<String> {
    validator()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn empty() -> RunResult {
    RunResult::new(
        "0.1.0",
        ScenarioInfo {
            name: "baseline".into(),
            kind: ScenarioKind::Baseline,
            resolved: json!({"rate": 2}),
            seed: None,
        },
        TargetInfo {
            kind: TargetKind::Embedded,
            url: "http://127.0.0.1:1".into(),
            pid: Some(42),
            mock_time_scale: None,
        },
        "2026-11-22T20:00:00Z".into(),
    )
}

fn full() -> RunResult {
    let lat = LatencySummaryMs {
        min: 1.0,
        mean: 2.0,
        p50: 2.0,
        p90: 3.0,
        p95: 3.5,
        p99: 4.0,
        p999: 5.0,
        max: 6.0,
    };
    let proc = ProcessStats {
        cpu_pct: CpuPct {
            mean: 50.0,
            max: 90.0,
        },
        rss_mib: RssMib {
            start: 10.0,
            max: 20.0,
            end: 15.0,
        },
        pid: Some(42),
        samples: vec![ProcessSample {
            t_s: 2.0,
            cpu_pct: 12.5,
            rss_mib: 14.0,
        }],
    };
    let mut r = empty();
    r.status = RunStatus::Interrupted;
    r.host = Some(Host {
        os: "Linux (Debian GNU/Linux 12)".into(),
        arch: "x86_64".into(),
        cpus: 2,
        cpu_brand: None,
        kernel: Some("6.1.0".into()),
        memory_mib: Some(24_000.0),
    });
    r.latency_ms = Some(lat);
    r.ttfb_ms = Some(lat);
    r.chunk_gap_ms = Some(lat);
    r.completions_rps = Some(1.9);
    r.send_lag_ms = Some(lat);
    let values = ValueSummary {
        min: 1.0,
        mean: 2.0,
        p10: 1.0,
        p50: 2.0,
        p90: 3.0,
        p99: 4.0,
        max: 5.0,
    };
    r.llm = Some(LlmMetrics {
        streams: 3,
        ttft_ms: Some(lat),
        tpot_ms: Some(lat),
        itl_ms: None,
        output_tokens: 300,
        output_tokens_per_request: Some(values),
        tokens_from_usage: 2,
        tokens_counted: 1,
        output_tps: 150.0,
        output_tps_per_request: Some(values),
    });
    r.goodput = Some(Goodput {
        objectives: Objectives {
            latency_ms: None,
            ttfb_ms: None,
            ttft_ms: Some(600.0),
            tpot_ms: Some(50.0),
        },
        met: 2,
        share: 2.0 / 3.0,
        rps: 1.0,
    });
    r.errors = Errors {
        rate: 0.01,
        by_kind: BTreeMap::from([
            (ErrorKind::Timeout.name().to_string(), 3),
            (ErrorKind::Check.name().to_string(), 2),
        ]),
        by_check: BTreeMap::from([("article".to_string(), 2)]),
    };
    r.connections = Some(Connections {
        protocol: "h2".into(),
        opened: 4,
        resumed: 3,
        failed: 1,
        connect_ms: Some(lat),
        tls_ms: Some(lat),
        tls: Some(TlsVerify {
            mode: TlsMode::CaCert,
            ca_cert: Some("ca.pem".into()),
        }),
    });
    r.cache = Some(CacheStats {
        hits: 6,
        misses: 4,
        hit_rate: Some(0.6),
        source: "header:X-Cache".into(),
        latency_hit_ms: Some(lat),
        latency_miss_ms: None,
    });
    r.stages.insert(
        "llm".into(),
        StageSummaryMs {
            mean: 1.0,
            p50: 1.0,
            p95: 2.0,
            p99: 3.0,
            count: 10,
            source: None,
        },
    );
    r.cost = Some(Cost {
        total_usd: 0.02,
        per_article_usd: Some(0.002),
        tokens: TokenCounts {
            prompt: 8000,
            completion: 1500,
            cached_prompt: 0,
        },
        by_model: BTreeMap::from([("gpt-4o-mini".into(), 0.0021)]),
        search_calls: 3,
        source: "mock_ledger".into(),
        search_usd: 0.015,
        tokens_per_article: Some(950.0),
        articles: 10,
        unpriced: None,
        abandoned: Some(genbench_model::AbandonedCost {
            calls: 2,
            tokens: TokenCounts {
                prompt: 1600,
                completion: 90,
                cached_prompt: 0,
            },
            usd: 0.000_294,
        }),
    });
    r.requests.abandoned = 3;
    r.requests.abandoned_unanswered = 1;
    r.requests.abandoned_cancelled = 2;
    r.process = Processes {
        target: Some(proc.clone()),
        harness: Some(proc),
        memory_gauge: Some(genbench_model::GaugeSeries {
            source: "metrics:genbench_pipeline_heap_bytes".into(),
            samples: vec![genbench_model::GaugeSample {
                t_s: 1.0,
                mib: 41.5,
            }],
        }),
    };
    r.leak = Some(Leak {
        slope_mib_per_h: 566.0,
        ci95_mib_per_h: [500.0, 600.0],
        theil_sen_mib_per_h: 560.0,
        warmup_excluded_s: 15.0,
        verdict: LeakVerdict::Leak,
        tolerance_mib_per_h: 10.0,
        samples: 45,
        signal: "metrics:genbench_pipeline_heap_bytes".into(),
        window_s: 10.0,
        level_shifts: 2,
        steps_mib_per_h: -1.5,
        segment: None,
    });
    r.capacity = Some(Capacity {
        max_sustainable_rps: Some(40.0),
        knee_rps: None,
        slo: vec!["p95 < 15s".into()],
        steps: vec![CapacityStep {
            target_rps: 40.0,
            achieved_rps: 39.5,
            p95_ms: Some(800.0),
            meets_slo: true,
            ..Default::default()
        }],
        search: Some(CapacitySearch {
            variable: "rate".into(),
            unit: "req/s".into(),
            outcome: SearchOutcome::Within,
            max_sustainable: Some(40.0),
            lowest_failing: Some(41.5),
            confirmed: true,
            resolution: 0.05,
            failed_first: vec!["p95 < 15s".into()],
            grew_most: Some(StageGrowth {
                stage: "llm".into(),
                passing_p95_ms: 700.0,
                failing_p95_ms: 16000.0,
            }),
            probes: vec![
                Probe {
                    load: 41.5,
                    kind: Some(ProbeKind::Probe),
                    start_s: 30.0,
                    end_s: 38.0,
                    failed: vec!["p95 < 15s".into()],
                    oversaturated: Some(Oversaturation {
                        after_s: 8.0,
                        queue_growth_per_s: 2.5,
                        latency_growth_ms_per_s: 900.0,
                    }),
                    requests: 300,
                    p95_ms: Some(16000.0),
                    stages_p95_ms: [("llm".to_string(), 16000.0)].into_iter().collect(),
                    cache_hit_rate: Some(0.5),
                    target_cpu_mean_pct: Some(95.0),
                    target_rss_max_mib: Some(80.0),
                    ..Default::default()
                },
                Probe {
                    load: 40.0,
                    kind: Some(ProbeKind::Confirm),
                    start_s: 48.0,
                    end_s: 108.0,
                    passed: true,
                    ..Default::default()
                },
            ],
        }),
    });
    r.spike = Some(Spike {
        recovery_s: Some(3.0),
        errors_during_burst: 2,
        p95_during_burst_ms: 900.0,
        baseline_p95_ms: Some(300.0),
        burst_start_s: 20.0,
        burst_end_s: 40.0,
    });
    r.profile = Some(Profile {
        tool: Some(ProfilerKind::PySpy),
        status: ProfileStatus::Captured,
        detail: "py-spy record --pid 42".into(),
        window_s: Some([10.0, 40.0]),
    });
    r.timeline.push(TimelinePoint {
        t_s: 1.0,
        target_rate: Some(2.0),
        rps: 2.0,
        p50_ms: Some(1.0),
        cache_hit_rate: Some(0.5),
        ..Default::default()
    });
    r.thresholds.push(ThresholdResult {
        expr: "p95 < 15s".into(),
        observed: Some(3.5),
        passed: true,
        inconclusive: false,
    });
    r.artifacts.report_html = Some("report.html".into());
    r.histograms.latency_us = Some("HISTFAAAA".into());
    r.histograms.chunk_gap_us = Some("HISTFAAAA".into());
    r.histograms.ttft_us = Some("HISTFAAAA".into());
    r.replay = Some(genbench_model::ReplayResult {
        file: "traffic.jsonl".into(),
        format: "jsonl".into(),
        rows: 10,
        window_rows: 8,
        sent: 8,
        passes: 1,
        time_scale: 3.0,
        trace_span_s: 60.0,
        held_by_rate_cap: 1,
        credentials_dropped: 2,
        fidelity_ms: r.latency_ms,
        error: None,
    });
    r
}

#[test]
fn empty_and_full_results_validate() {
    for r in [empty(), full()] {
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(errors(&v), Vec::<String>::new());
        let back: RunResult = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}

#[test]
fn schema_rejects_what_the_contract_forbids() {
    let good = serde_json::to_value(full()).unwrap();
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("timeline");
    let mut extra = good.clone();
    extra["surprise"] = json!(1);
    let mut bad_status = good.clone();
    bad_status["status"] = json!("done");
    let mut bad_kind = good.clone();
    bad_kind["errors"]["by_kind"] = json!({"gremlins": 1});
    let mut bad_rate = good.clone();
    bad_rate["errors"]["rate"] = json!(1.5);
    let mut bad_profile = good.clone();
    bad_profile["profile"]["status"] = json!("maybe");
    for (name, v) in [
        ("missing", missing),
        ("extra", extra),
        ("status", bad_status),
        ("kind", bad_kind),
        ("rate", bad_rate),
        ("profile", bad_profile),
    ] {
        assert!(!errors(&v).is_empty(), "{name} should not validate");
    }
}

/// The schema is the one list of result keys (docs/design.md links to it):
/// every top-level key a result can carry is in it, with a description.
#[test]
fn every_top_level_key_is_described_in_the_schema() {
    let schema: Value = serde_json::from_str(genbench_model::SCHEMA_JSON).unwrap();
    let props = schema["properties"].as_object().unwrap();
    let undescribed: Vec<&String> = props
        .iter()
        .filter(|(_, v)| {
            v["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
        })
        .map(|(k, _)| k)
        .collect();
    assert!(undescribed.is_empty(), "no description: {undescribed:?}");
    let full = serde_json::to_value(full()).unwrap();
    for key in full.as_object().unwrap().keys() {
        assert!(
            props.contains_key(key),
            "`{key}` is written but not in the schema"
        );
    }
}
