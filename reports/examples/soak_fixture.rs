//! Writes a synthetic `results.json` of a soak of any length (default 2 h,
//! one timeline point and one process reading a second), for the report
//! benchmark: `cargo run --release -p genbench-reports --example
//! soak_fixture -- OUT.json [SECONDS]`. The numbers are drawn from a fixed
//! seed and shaped like a real soak (steady rate, noisy latency, RSS with a
//! warm-up then a slow leak) so the charts carry the detail real ones do.

use std::collections::BTreeMap;

use base64::Engine as _;
use genbench_model::*;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};

/// xorshift64*: a fixed sequence without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serialize");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

fn summary(h: &Histogram<u64>) -> LatencySummaryMs {
    let q = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    LatencySummaryMs {
        min: h.min() as f64 / 1000.0,
        mean: h.mean() / 1000.0,
        p50: q(0.5),
        p90: q(0.9),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: h.max() as f64 / 1000.0,
    }
}

/// A soak of `seconds` seconds at 5 requests/s.
pub fn soak(seconds: usize) -> RunResult {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut total = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
    let (mut timeline, mut target, mut harness) = (Vec::new(), Vec::new(), Vec::new());
    let rate = 5.0;
    for s in 1..=seconds {
        let t = s as f64;
        let mut sec = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
        let mut hits = 0;
        for _ in 0..rate as usize {
            let hit = rng.next() < 0.6;
            hits += hit as u32;
            let us = if hit {
                300.0 + rng.next() * 900.0
            } else {
                2.5e6 + rng.next().powi(3) * 6e6
            };
            sec.record(us as u64).expect("record");
        }
        total.add(&sec).expect("add");
        let q = |q: f64| Some(sec.value_at_quantile(q) as f64 / 1000.0);
        timeline.push(TimelinePoint {
            t_s: t,
            target_rate: Some(rate),
            rps: rate,
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            errors: (rng.next() < 0.002) as u64,
            in_flight: (rng.next() * 12.0) as u64,
            cache_hit_rate: Some(hits as f64 / rate),
            ..Default::default()
        });
        let warm = 40.0 * (1.0 - (-t / 120.0).exp());
        target.push(ProcessSample {
            t_s: t,
            cpu_pct: 3.0 + rng.next() * 6.0,
            rss_mib: 12.0 + warm + t / 3600.0 * 8.0 + rng.next() * 0.8,
        });
        harness.push(ProcessSample {
            t_s: t,
            cpu_pct: 1.0 + rng.next(),
            rss_mib: 19.0 + rng.next() * 0.3,
        });
    }
    let requests = total.len();
    let stats = |v: &[ProcessSample]| ProcessStats {
        cpu_pct: CpuPct {
            mean: v.iter().map(|s| s.cpu_pct).sum::<f64>() / v.len() as f64,
            max: v.iter().map(|s| s.cpu_pct).fold(0.0, f64::max),
        },
        rss_mib: RssMib {
            start: v[0].rss_mib,
            max: v.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
            end: v[v.len() - 1].rss_mib,
        },
        pid: Some(4242),
        samples: v.to_vec(),
    };
    let mut r = RunResult::example("soak", genbench_model::ScenarioKind::Soak);
    r.scenario.resolved = serde_json::json!({"name": "soak", "kind": "soak", "load": {"model": "open", "stages": [{"duration": format!("{seconds}s"), "target": rate}]}});
    r.target.kind = TargetKind::Embedded;
    r.target.url = "http://127.0.0.1:40000".into();
    r.target.pid = Some(4242);
    r.started_at = "2026-12-02T00:00:00Z".into();
    r.duration_s = seconds as f64;
    r.requests = RequestCounts {
        total: requests,
        ok: requests,
        ..Default::default()
    };
    r.throughput_rps = rate;
    r.latency_ms = Some(summary(&total));
    r.ttfb_ms = Some(summary(&total));
    r.stages = BTreeMap::from([
        (
            "llm".to_string(),
            StageSummaryMs {
                mean: 2900.0,
                p50: 2700.0,
                p95: 6100.0,
                p99: 7900.0,
                count: requests * 2 / 5,
                source: None,
            },
        ),
        (
            "search".to_string(),
            StageSummaryMs {
                mean: 420.0,
                p50: 400.0,
                p95: 700.0,
                p99: 900.0,
                count: requests * 2 / 5,
                source: None,
            },
        ),
    ]);
    r.process = Processes {
        target: Some(stats(&target)),
        harness: Some(stats(&harness)),
        memory_gauge: None,
    };
    r.leak = Some(Leak {
        slope_mib_per_h: 8.0,
        ci95_mib_per_h: [7.6, 8.4],
        theil_sen_mib_per_h: 8.0,
        warmup_excluded_s: seconds as f64 * 0.2,
        verdict: LeakVerdict::Inconclusive,
        tolerance_mib_per_h: 10.0,
        samples: (seconds as f64 * 0.8) as u64,
        signal: "rss".into(),
        window_s: 0.0,
        level_shifts: 0,
        steps_mib_per_h: 0.0,
        segment: None,
    });
    r.timeline = timeline;
    r.thresholds = vec![ThresholdResult {
        expr: "rss_growth < 10MiB/h".into(),
        observed: Some(8.0),
        passed: true,
        inconclusive: false,
    }];
    r.histograms.latency_us = Some(encode(&total));
    r.histograms.ttfb_us = Some(encode(&total));
    r
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("soak-2h.json", String::as_str);
    let seconds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7200);
    let r = soak(seconds);
    let json = serde_json::to_vec_pretty(&r).expect("serialize");
    std::fs::write(out, &json).unwrap_or_else(|e| panic!("cannot write {out}: {e}"));
    eprintln!(
        "{out}: {seconds} s, {} requests, {} bytes",
        r.requests.total,
        json.len()
    );
}
