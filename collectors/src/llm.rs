//! Per-request LLM stream metrics and their run-level recording: TTFT to
//! the first content event, TPOT, inter-token latency, output tokens and
//! tokens/s, and whether a request met the `[slo]` objectives. The engine
//! reads the events and their arrival times; this only records.

use std::time::Duration;

use genbench_model::{LlmMetrics, Objectives, ValueSummary};
use hdrhistogram::Histogram;

use crate::histogram::new_histogram;
use crate::sample::Sample;
use crate::summary::latency_ms;

/// What one streamed completion's events said. Times are offsets from the
/// run's start, like the sample's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlmSample {
    /// Arrival of the first event that carried content.
    pub first_content: Duration,
    pub output_tokens: u64,
    /// The count came from the stream's `usage` (else the tokenizer).
    pub from_usage: bool,
}

impl LlmSample {
    /// Scheduled instant to the first content event.
    pub fn ttft(&self, s: &Sample) -> Duration {
        self.first_content.saturating_sub(s.scheduled)
    }

    /// (end − first content) / (tokens − 1); `None` below two tokens.
    pub fn tpot(&self, s: &Sample) -> Option<Duration> {
        (self.output_tokens >= 2).then(|| {
            let streaming = s.end.saturating_sub(self.first_content).as_nanos();
            Duration::from_nanos((streaming / u128::from(self.output_tokens - 1)) as u64)
        })
    }
}

/// Whether a request met every objective: it succeeded and each limit
/// given holds. A limit on TTFT or TPOT is missed by a response that has no
/// such figure (not a stream, or a single token).
pub fn meets(o: &Objectives, s: &Sample, llm: Option<&LlmSample>) -> bool {
    let under = |limit: Option<f64>, d: Option<Duration>| match limit {
        None => true,
        Some(ms) => d.is_some_and(|d| d.as_secs_f64() * 1e3 < ms),
    };
    s.ok()
        && under(o.latency_ms, Some(s.latency()))
        && under(o.ttfb_ms, s.ttfb())
        && under(o.ttft_ms, llm.map(|l| l.ttft(s)))
        && under(o.tpot_ms, llm.and_then(|l| l.tpot(s)))
}

/// Tokens/s are recorded in thousandths, so a slow stream keeps 3 figures.
const TPS_SCALE: f64 = 1000.0;

/// LLM figures of one interval or, merged, of a run.
#[derive(Debug, Clone)]
pub struct LlmStats {
    pub streams: u64,
    pub ttft_us: Histogram<u64>,
    pub tpot_us: Histogram<u64>,
    pub itl_us: Histogram<u64>,
    pub tokens: Histogram<u64>,
    pub tps_milli: Histogram<u64>,
    pub output_tokens: u64,
    pub from_usage: u64,
    pub counted: u64,
}

impl Default for LlmStats {
    fn default() -> Self {
        LlmStats {
            streams: 0,
            ttft_us: new_histogram(),
            tpot_us: new_histogram(),
            itl_us: new_histogram(),
            tokens: new_histogram(),
            tps_milli: new_histogram(),
            output_tokens: 0,
            from_usage: 0,
            counted: 0,
        }
    }
}

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

impl LlmStats {
    /// Records one successful stream, with the gaps between its content
    /// events in µs.
    pub fn record(&mut self, s: &Sample, l: &LlmSample, itl_us: &[u32]) {
        self.streams += 1;
        self.ttft_us.saturating_record(us(l.ttft(s)));
        if let Some(t) = l.tpot(s) {
            self.tpot_us.saturating_record(us(t));
        }
        for &g in itl_us {
            self.itl_us.saturating_record(u64::from(g).max(1));
        }
        self.tokens.saturating_record(l.output_tokens.max(1));
        let secs = s.latency().as_secs_f64();
        if secs > 0.0 {
            let tps = l.output_tokens as f64 / secs;
            self.tps_milli
                .saturating_record(((tps * TPS_SCALE) as u64).max(1));
        }
        self.output_tokens += l.output_tokens;
        if l.from_usage {
            self.from_usage += 1;
        } else {
            self.counted += 1;
        }
    }

    pub fn merge(&mut self, o: &LlmStats) {
        self.streams += o.streams;
        let _ = self.ttft_us.add(&o.ttft_us);
        let _ = self.tpot_us.add(&o.tpot_us);
        let _ = self.itl_us.add(&o.itl_us);
        let _ = self.tokens.add(&o.tokens);
        let _ = self.tps_milli.add(&o.tps_milli);
        self.output_tokens += o.output_tokens;
        self.from_usage += o.from_usage;
        self.counted += o.counted;
    }

    /// The result section; `None` when no stream was measured. `window_s`
    /// is the load window, as for `throughput_rps`.
    pub fn metrics(&self, window_s: f64) -> Option<LlmMetrics> {
        (self.streams > 0).then(|| LlmMetrics {
            streams: self.streams,
            ttft_ms: latency_ms(&self.ttft_us),
            tpot_ms: latency_ms(&self.tpot_us),
            itl_ms: latency_ms(&self.itl_us),
            output_tokens: self.output_tokens,
            output_tokens_per_request: values(&self.tokens, 1.0),
            tokens_from_usage: self.from_usage,
            tokens_counted: self.counted,
            output_tps: if window_s > 0.0 {
                self.output_tokens as f64 / window_s
            } else {
                0.0
            },
            output_tps_per_request: values(&self.tps_milli, TPS_SCALE),
        })
    }
}

/// A histogram's distribution, its values divided by `scale`.
fn values(h: &Histogram<u64>, scale: f64) -> Option<ValueSummary> {
    if h.is_empty() {
        return None;
    }
    let q = |p: f64| h.value_at_quantile(p) as f64 / scale;
    Some(ValueSummary {
        min: h.min() as f64 / scale,
        mean: h.mean() / scale,
        p10: q(0.10),
        p50: q(0.50),
        p90: q(0.90),
        p99: q(0.99),
        max: h.max() as f64 / scale,
    })
}

#[cfg(test)]
mod tests {
    use genbench_model::ErrorKind;

    use super::*;
    use crate::Outcome;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Scheduled at 100 ms, sent at 110, first byte 300, end 1,300.
    fn sample(outcome: Outcome) -> Sample {
        Sample {
            scheduled: ms(100),
            sent: ms(110),
            first_byte: Some(ms(300)),
            end: ms(1300),
            outcome,
            bytes: 0,
            cache: None,
            trace: None,
        }
    }

    #[test]
    fn ttft_and_tpot_count_from_the_schedule_and_the_first_content() {
        let s = sample(Outcome::Ok(200));
        // A role-only event came first (the first byte, at 300 ms); content at 400.
        let l = LlmSample {
            first_content: ms(400),
            output_tokens: 91,
            from_usage: true,
        };
        assert_eq!(l.ttft(&s), ms(300));
        assert_eq!(l.tpot(&s), Some(ms(10))); // 900 ms over 90 tokens
        let one = LlmSample {
            output_tokens: 1,
            ..l
        };
        assert_eq!(one.tpot(&s), None);
    }

    #[test]
    fn a_request_meets_the_objectives_only_if_it_succeeded_and_each_holds() {
        let s = sample(Outcome::Ok(200));
        let l = LlmSample {
            first_content: ms(400),
            output_tokens: 91,
            from_usage: true,
        };
        let o = |latency, ttft, tpot| Objectives {
            latency_ms: latency,
            ttfb_ms: None,
            ttft_ms: ttft,
            tpot_ms: tpot,
        };
        assert!(meets(
            &o(Some(1201.0), Some(301.0), Some(10.5)),
            &s,
            Some(&l)
        ));
        // Strictly below: equal misses.
        assert!(!meets(&o(Some(1200.0), None, None), &s, Some(&l)));
        assert!(!meets(&o(None, Some(300.0), None), &s, Some(&l)));
        assert!(!meets(&o(None, None, Some(9.9)), &s, Some(&l)));
        // No stream: a TTFT objective cannot be met; a latency one can.
        assert!(!meets(&o(None, Some(1e9), None), &s, None));
        assert!(meets(&o(Some(1e9), None, None), &s, None));
        let failed = sample(Outcome::Error(ErrorKind::Timeout));
        assert!(!meets(&Objectives::default(), &failed, Some(&l)));
    }

    #[test]
    fn merged_stats_equal_stats_of_all_streams() {
        let mut a = LlmStats::default();
        let mut b = LlmStats::default();
        let mut all = LlmStats::default();
        for i in 0..100u64 {
            let s = Sample {
                end: ms(1300 + i * 10),
                ..sample(Outcome::Ok(200))
            };
            let l = LlmSample {
                first_content: ms(400 + i),
                output_tokens: 10 + i,
                from_usage: i % 2 == 0,
            };
            let gaps = [1000u32 + i as u32, 2000];
            if i % 3 == 0 { &mut a } else { &mut b }.record(&s, &l, &gaps);
            all.record(&s, &l, &gaps);
        }
        a.merge(&b);
        let (m, want) = (a.metrics(10.0).unwrap(), all.metrics(10.0).unwrap());
        assert_eq!(m, want);
        assert_eq!(m.streams, 100);
        assert_eq!(m.output_tokens, (10..110).sum::<u64>());
        assert_eq!((m.tokens_from_usage, m.tokens_counted), (50, 50));
        assert_eq!(m.output_tps, m.output_tokens as f64 / 10.0);
        assert_eq!(m.output_tokens_per_request.unwrap().max, 109.0);
        assert!(LlmStats::default().metrics(10.0).is_none());
    }
}
