//! What a run shows while it runs: a snapshot of the run so far, taken once
//! a second by the aggregator (never per request), and the outputs that
//! read it: Prometheus exposition ([`prom`]) and its HTTP server
//! ([`server`]).
//!
//! Nothing here is on the engine's path: workers hand their intervals to
//! the aggregator as they always do, and a snapshot is only built when a
//! live output was asked for.

pub mod dashboard;
pub mod otlp;
pub mod outputs;
pub mod prom;
pub mod server;

use genbench_collectors::Recorder;
use genbench_model::{ErrorKind, TimelinePoint};
use hdrhistogram::Histogram;

/// Upper bounds of the latency and TTFT histograms, in seconds: from a
/// cached answer to a long article.
pub const LATENCY_BOUNDS_S: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
];
/// Upper bounds of the time-per-output-token histogram, in seconds.
pub const TPOT_BOUNDS_S: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 1.0];

/// Upper bounds of the output tokens per stream histogram: the GenAI
/// semantic conventions' advice for `gen_ai.client.token.usage`.
pub const TOKEN_BOUNDS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// A histogram in fixed buckets: how many values fell in each bucket (not
/// cumulative), their sum and count. Values over the last bound count only
/// in `count`.
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    pub bounds_s: &'static [f64],
    pub in_bucket: Vec<u64>,
    pub sum_s: f64,
    pub count: u64,
}

impl Buckets {
    /// Buckets of a histogram of microseconds. The sum is the histogram's
    /// mean times its count: exact to the histogram's precision.
    pub fn of_us(h: &Histogram<u64>, bounds_s: &'static [f64]) -> Self {
        Self::of_scaled(h, bounds_s, 1e6)
    }

    /// Buckets of a histogram whose values are `per_unit` times the unit
    /// of `bounds`.
    pub fn of_scaled(h: &Histogram<u64>, bounds: &'static [f64], per_unit: f64) -> Self {
        let mut below = 0u64;
        let in_bucket = bounds
            .iter()
            .map(|b| {
                let upto = h.count_between(0, (b * per_unit) as u64);
                let n = upto.saturating_sub(below);
                below = upto;
                n
            })
            .collect();
        Buckets {
            bounds_s: bounds,
            in_bucket,
            sum_s: h.mean() * h.len() as f64 / per_unit,
            count: h.len(),
        }
    }

    /// Values over the last bound.
    pub fn over(&self) -> u64 {
        self.count.saturating_sub(self.in_bucket.iter().sum())
    }

    /// `(upper bound, values in the bucket)` pairs.
    pub fn pairs(&self) -> Vec<(f64, u64)> {
        self.bounds_s
            .iter()
            .copied()
            .zip(self.in_bucket.iter().copied())
            .collect()
    }
}

/// The run so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Seconds of load so far (the last whole interval's end).
    pub elapsed_s: f64,
    pub ok: u64,
    /// Failed requests by error kind, every kind (zeros included, so each
    /// series exists from the start).
    pub errors: Vec<(&'static str, u64)>,
    /// Requests the client gave up on, by why (`abandoned_unanswered`,
    /// `abandoned_cancelled`), zeros included.
    pub abandoned: [(&'static str, u64); 2],
    pub latency: Buckets,
    pub in_flight: u64,
    /// Requests per second (open model) or users (closed) the load asked
    /// for in the last interval.
    pub target: Option<f64>,
    /// Requests per second answered in the last interval.
    pub achieved_rps: f64,
    pub llm: Option<LlmSnapshot>,
    /// Cost so far, where the run can price it while it runs.
    pub cost_usd: Option<f64>,
}

/// LLM streams so far.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmSnapshot {
    pub ttft: Buckets,
    pub tpot: Buckets,
    /// Gaps between content events (inter-token latency).
    pub itl: Buckets,
    /// Output tokens per stream (`bounds_s` and `sum_s` in tokens).
    pub tokens: Buckets,
    pub output_tokens: u64,
}

impl Snapshot {
    /// The run so far: `total` is every request recorded, `last` the last
    /// whole interval's point.
    pub fn new(total: &Recorder, last: &TimelinePoint) -> Self {
        let llm = (total.llm.streams > 0).then(|| LlmSnapshot {
            ttft: Buckets::of_us(&total.llm.ttft_us, &LATENCY_BOUNDS_S),
            tpot: Buckets::of_us(&total.llm.tpot_us, &TPOT_BOUNDS_S),
            itl: Buckets::of_us(&total.llm.itl_us, &TPOT_BOUNDS_S),
            tokens: Buckets::of_scaled(&total.llm.tokens, &TOKEN_BOUNDS, 1.0),
            output_tokens: total.llm.output_tokens,
        });
        Snapshot {
            elapsed_s: last.t_s,
            ok: total.ok,
            // `errors` is indexed as `ErrorKind::ALL` lists the kinds.
            errors: ErrorKind::ALL
                .iter()
                .zip(total.errors)
                .map(|(k, n)| (k.name(), n))
                .collect(),
            abandoned: [
                ("abandoned_unanswered", total.abandoned.unanswered),
                ("abandoned_cancelled", total.abandoned.cancelled),
            ],
            latency: Buckets::of_us(&total.latency_us, &LATENCY_BOUNDS_S),
            in_flight: last.in_flight,
            target: last.target_rate,
            achieved_rps: last.rps,
            llm,
            cost_usd: None,
        }
    }

    pub fn with_cost(mut self, usd: Option<f64>) -> Self {
        self.cost_usd = usd;
        self
    }
}

/// Buckets for the encoders' tests: `first` values in the first bucket,
/// `over` past the last.
#[cfg(test)]
pub(crate) fn test_buckets(bounds_s: &'static [f64], first: u64, over: u64) -> Buckets {
    let mut in_bucket = vec![0; bounds_s.len()];
    in_bucket[0] = first;
    Buckets {
        bounds_s,
        in_bucket,
        sum_s: 1.5,
        count: first + over,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_each_value_once_in_the_first_bound_above_it() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for us in [2_000, 4_000, 9_000, 600_000, 200_000_000] {
            h.record(us).unwrap();
        }
        let b = Buckets::of_us(&h, &LATENCY_BOUNDS_S);
        // 2 ms and 4 ms ≤ 5 ms; 9 ms ≤ 10 ms; 0.6 s ≤ 1 s; 200 s over all.
        assert_eq!(&b.in_bucket[..8], &[2, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(b.in_bucket.iter().sum::<u64>(), 4);
        assert_eq!(b.count, 5);
        assert!((b.sum_s - 200.615).abs() < 200.615 * 0.002, "{}", b.sum_s);
    }
}
