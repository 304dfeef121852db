//! Turning merged recordings into the result contract's sections.

use std::collections::BTreeMap;

use base64::Engine as _;
use genbench_model::{ErrorKind, Errors, LatencySummaryMs, TimelinePoint};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};

use crate::Recorder;

/// Percentiles of a µs histogram in ms; `None` when it is empty.
pub fn latency_ms(h: &Histogram<u64>) -> Option<LatencySummaryMs> {
    if h.is_empty() {
        return None;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Some(LatencySummaryMs {
        min: ms(h.min()),
        mean: h.mean() / 1000.0,
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
    })
}

pub fn errors(r: &Recorder) -> Errors {
    let total = r.total();
    let by_kind: BTreeMap<String, u64> = ErrorKind::ALL
        .iter()
        .zip(r.errors)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.name().to_string(), n))
        .collect();
    Errors {
        rate: if total == 0 {
            0.0
        } else {
            r.failed() as f64 / total as f64
        },
        by_kind,
        by_check: BTreeMap::new(),
    }
}

/// Hits / (hits + misses), `None` with neither.
pub fn hit_rate(hits: u64, misses: u64) -> Option<f64> {
    let seen = hits + misses;
    (seen > 0).then(|| hits as f64 / seen as f64)
}

/// One timeline point from one interval's recording.
pub fn timeline_point(
    t_s: f64,
    interval_s: f64,
    r: &Recorder,
    target_rate: Option<f64>,
    in_flight: u64,
) -> TimelinePoint {
    let q = |p: f64| {
        (!r.latency_us.is_empty()).then(|| r.latency_us.value_at_quantile(p) as f64 / 1000.0)
    };
    TimelinePoint {
        t_s,
        target_rate,
        rps: if interval_s > 0.0 {
            r.total() as f64 / interval_s
        } else {
            0.0
        },
        p50_ms: q(0.5),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        errors: r.failed(),
        in_flight,
        cache_hit_rate: hit_rate(r.cache_hits, r.cache_misses),
        flows_completed: r.flows.as_ref().map(|f| f.completed),
        flows_failed: r.flows.as_ref().map(|f| f.failed_total()),
    }
}

/// Base64 of the V2+DEFLATE encoding, as `histograms.*` in results.json.
pub fn encode_histogram(h: &Histogram<u64>) -> Option<String> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(buf))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Outcome, Sample};

    fn rec(latencies_ms: &[u64], errors: usize) -> Recorder {
        let mut r = Recorder::default();
        for ms in latencies_ms {
            r.record(&Sample {
                scheduled: Duration::ZERO,
                sent: Duration::ZERO,
                first_byte: None,
                end: Duration::from_millis(*ms),
                outcome: Outcome::Ok(200),
                bytes: 0,
                cache: None,
                trace: None,
            });
        }
        for _ in 0..errors {
            r.record(&Sample {
                scheduled: Duration::ZERO,
                sent: Duration::ZERO,
                first_byte: None,
                end: Duration::ZERO,
                outcome: Outcome::Error(ErrorKind::Server5xx),
                bytes: 0,
                cache: None,
                trace: None,
            });
        }
        r
    }

    #[test]
    fn summaries_in_ms() {
        let r = rec(&(1..=100).collect::<Vec<_>>(), 0);
        let s = latency_ms(&r.latency_us).unwrap();
        assert!(
            (s.p50 - 50.0).abs() < 0.1 && (s.p99 - 99.0).abs() < 0.1 && (s.max - 100.0).abs() < 0.1,
            "{s:?}"
        );
        assert!(latency_ms(&Recorder::default().latency_us).is_none());
    }

    #[test]
    fn error_rate_and_kinds() {
        let e = errors(&rec(&[1, 2, 3], 1));
        assert_eq!(e.rate, 0.25);
        assert_eq!(e.by_kind["server_5xx"], 1);
    }

    #[test]
    fn histograms_encode_small_and_decode_back() {
        let r = rec(&(1..=1000).collect::<Vec<_>>(), 0);
        let b64 = encode_histogram(&r.latency_us).unwrap();
        assert!(b64.len() < 8000, "{}", b64.len());
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let back: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut &bytes[..])
            .unwrap();
        assert_eq!(
            back.value_at_quantile(0.99),
            r.latency_us.value_at_quantile(0.99)
        );
    }

    #[test]
    fn timeline_point_rates() {
        let p = timeline_point(3.0, 1.0, &rec(&[10, 20], 1), Some(3.0), 2);
        assert_eq!(
            (p.rps, p.errors, p.in_flight, p.target_rate),
            (3.0, 1, 2, Some(3.0))
        );
        assert!(p.p50_ms.is_some());
    }
}
