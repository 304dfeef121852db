//! The run so far in the Prometheus text format, by the `prometheus-client`
//! crate's encoder: a pure function from a snapshot and the run's labels to
//! the bytes a scrape gets.
//!
//! Every series carries `scenario`, `run` and `segment`, so the pods of one
//! Kubernetes run sum in PromQL (`sum by (scenario, run)`).

use std::borrow::Cow;
use std::path::Path;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::{Buckets, Snapshot};

/// The `Content-Type` of what [`exposition`] returns.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Who is measuring: the labels on every series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLabels {
    pub scenario: String,
    /// The run's id: its output directory's name.
    pub run: String,
    /// `index/count` of a segmented run, `0/1` for a whole one.
    pub segment: String,
}

impl RunLabels {
    /// `run` is the output directory's name, or for a segment written to
    /// `NAME/part-I` (as `genbench k8s job`'s pods are), `NAME`, so every
    /// segment of one run has the same label. `segment`: index and count.
    pub fn new(scenario: &str, out_dir: &Path, segment: Option<(u32, u32)>) -> Self {
        let name = |p: &Path| {
            p.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        let run = match out_dir.parent() {
            Some(parent) if segment.is_some() && name(out_dir).starts_with("part-") => name(parent),
            _ => name(out_dir),
        };
        let (index, count) = segment.unwrap_or((0, 1));
        RunLabels {
            scenario: scenario.to_string(),
            run,
            segment: format!("{index}/{count}"),
        }
    }
}

/// The snapshot as Prometheus text (version 0.0.4).
pub fn exposition(snap: &Snapshot, labels: &RunLabels) -> String {
    let mut registry = Registry::with_prefix_and_labels(
        "genbench",
        [
            ("scenario", labels.scenario.clone()),
            ("run", labels.run.clone()),
            ("segment", labels.segment.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Owned(v))),
    );
    registry.register_collector(Box::new(Of(snap.clone())));
    let mut out = String::new();
    // Writing to a String cannot fail; the encoder's own errors are
    // formatting errors of values it made.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
    out
}

#[derive(Debug)]
struct Of(Snapshot);

impl Collector for Of {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let mut m = enc.encode_descriptor(
            "requests",
            "Requests that ended, by outcome: ok, the error kind, or abandoned_unanswered and abandoned_cancelled (the client gave up)",
            None,
            MetricType::Counter,
        )?;
        m.encode_family(&[("outcome", "ok")])?
            .encode_counter::<NoLabels, _, u64>(&s.ok, None)?;
        for (kind, n) in s.errors.iter().chain(&s.abandoned) {
            m.encode_family(&[("outcome", *kind)])?
                .encode_counter::<NoLabels, _, u64>(n, None)?;
        }
        histogram(
            &mut enc,
            "request_duration",
            "Request latency, from the scheduled send to the last byte",
            &s.latency,
        )?;
        enc.encode_descriptor(
            "in_flight",
            "Requests sent and not yet answered",
            None,
            MetricType::Gauge,
        )?
        .encode_gauge(&s.in_flight)?;
        if let Some(t) = s.target {
            gauge(
                &mut enc,
                "target",
                "What the load asks for now: requests per second (open model) or users (closed)",
                t,
            )?;
        }
        gauge(
            &mut enc,
            "achieved_rps",
            "Requests answered per second in the last interval",
            s.achieved_rps,
        )?;
        if let Some(l) = &s.llm {
            histogram(
                &mut enc,
                "llm_ttft",
                "LLM streams' time to first token",
                &l.ttft,
            )?;
            histogram(
                &mut enc,
                "llm_tpot",
                "LLM streams' time per output token",
                &l.tpot,
            )?;
            enc.encode_descriptor(
                "llm_output_tokens",
                "Output tokens streamed",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabels, _, u64>(&l.output_tokens, None)?;
        }
        if let Some(usd) = s.cost_usd {
            enc.encode_descriptor(
                "cost_usd",
                "Cost so far, in US dollars",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabels, _, u64>(&usd, None)?;
        }
        Ok(())
    }
}

type NoLabels = prometheus_client::encoding::NoLabelSet;

fn gauge(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    v: f64,
) -> Result<(), std::fmt::Error> {
    enc.encode_descriptor(name, help, None, MetricType::Gauge)?
        .encode_gauge(&v)
}

fn histogram(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    b: &Buckets,
) -> Result<(), std::fmt::Error> {
    enc.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?
        .encode_histogram::<NoLabels>(b.sum_s, b.count, &b.pairs(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LATENCY_BOUNDS_S, LlmSnapshot, TPOT_BOUNDS_S, test_buckets as buckets};

    fn snapshot() -> Snapshot {
        Snapshot {
            elapsed_s: 3.0,
            ok: 7,
            errors: vec![("timeout", 2), ("server_5xx", 0)],
            abandoned: [("abandoned_unanswered", 4), ("abandoned_cancelled", 1)],
            latency: buckets(&LATENCY_BOUNDS_S, 7, 0),
            in_flight: 3,
            target: Some(20.0),
            achieved_rps: 19.5,
            llm: Some(LlmSnapshot {
                ttft: buckets(&LATENCY_BOUNDS_S, 4, 1),
                tpot: buckets(&TPOT_BOUNDS_S, 5, 0),
                itl: buckets(&TPOT_BOUNDS_S, 5, 0),
                tokens: buckets(&crate::live::TOKEN_BOUNDS, 0, 5),
                output_tokens: 640,
            }),
            cost_usd: Some(0.25),
        }
    }

    fn labels() -> RunLabels {
        RunLabels {
            scenario: "say \"hi\"\n".into(),
            run: "r1".into(),
            segment: "2/4".into(),
        }
    }

    #[test]
    fn every_series_carries_the_run_labels_and_counts_are_cumulative() {
        let text = exposition(&snapshot(), &labels());
        let l = r#"scenario="say \"hi\"\n",run="r1",segment="2/4""#;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.contains(l), "{line}");
        }
        let has = |series: &str, extra: &str, v: &str| {
            let line = format!("{series}{{{l}{extra}}} {v}");
            assert!(text.lines().any(|x| x == line), "no {line} in\n{text}");
        };
        has("genbench_requests_total", r#",outcome="ok""#, "7");
        has("genbench_requests_total", r#",outcome="timeout""#, "2");
        has(
            "genbench_requests_total",
            r#",outcome="abandoned_unanswered""#,
            "4",
        );
        has(
            "genbench_requests_total",
            r#",outcome="abandoned_cancelled""#,
            "1",
        );
        // Seven in the first bucket; every later bound counts them too.
        has(
            "genbench_request_duration_seconds_bucket",
            r#",le="120""#,
            "7",
        );
        has(
            "genbench_request_duration_seconds_bucket",
            r#",le="+Inf""#,
            "7",
        );
        // One TTFT over the last bound is only in +Inf and the count.
        has("genbench_llm_ttft_seconds_bucket", r#",le="120""#, "4");
        has("genbench_llm_ttft_seconds_count", "", "5");
        has("genbench_llm_output_tokens_total", "", "640");
        has("genbench_cost_usd_total", "", "0.25");
        has("genbench_in_flight", "", "3");
        assert!(text.contains("# TYPE genbench_request_duration_seconds histogram"));
    }

    #[test]
    fn segments_of_one_run_share_its_run_label() {
        let run = |dir: &str, seg| RunLabels::new("s", Path::new(dir), seg).run;
        assert_eq!(run("/results/stress/part-3", Some((3, 8))), "stress");
        assert_eq!(run("out/part-3", None), "part-3");
        assert_eq!(run("genbench-out/baseline-1", None), "baseline-1");
        assert_eq!(run("a", Some((0, 2))), "a");
        assert_eq!(RunLabels::new("s", Path::new("a"), None).segment, "0/1");
    }

    #[test]
    fn what_the_run_cannot_measure_is_left_out_not_zero() {
        let mut s = snapshot();
        (s.llm, s.cost_usd, s.target) = (None, None, None);
        let text = exposition(&s, &labels());
        for absent in ["llm_", "cost_usd", "genbench_target"] {
            assert!(!text.contains(absent), "{absent} in\n{text}");
        }
    }
}
