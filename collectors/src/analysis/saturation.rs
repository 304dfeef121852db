//! Over-saturation, judged while a probe runs: is the open model's queue
//! growing at a rate the probe cannot recover from? Then the probe fails
//! early instead of waiting out its window (`[load.search]`).
//!
//! The test, on the probe's seconds so far (its first second, a warm-up,
//! left out), needs all three of:
//! - requests in flight rising: the least-squares slope of in-flight
//!   against time has the lower end of its 95% interval (corrected for
//!   autocorrelation, [`super::stats::ols`]) above zero;
//! - rising fast: the slope is at least [`MIN_GROWTH`] of the offered rate,
//!   i.e. completions fall at least that share short of arrivals every
//!   second, so the backlog can only grow while the load holds;
//! - latency rising with it: the Theil–Sen slope of each second's median
//!   latency is above zero.
//!
//! Below capacity the number in flight is stationary (its slope's interval
//! holds zero) however noisy, and a brief stall that recovers does not grow
//! it for [`MIN_SECONDS`].

use super::stats::{ols, theil_sen};

/// The fewest seconds (after the warm-up) the test judges on.
pub const MIN_SECONDS: usize = 5;

/// The growth of in-flight requests, as a share of the offered rate, that
/// counts as unrecoverable.
pub const MIN_GROWTH: f64 = 0.05;

/// One second of a probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeSecond {
    /// Requests started this second.
    pub offered: f64,
    /// Requests in flight at the second's end.
    pub in_flight: f64,
    /// Median latency of the requests that ended this second, ms.
    pub p50_ms: Option<f64>,
}

/// Why a probe was judged over-saturated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Saturated {
    /// In-flight growth, requests per second.
    pub queue_growth_per_s: f64,
    /// Median latency's growth, ms per second.
    pub latency_growth_ms_per_s: f64,
}

/// Judges the probe's seconds so far; `Some` when the queue grows beyond
/// recovery.
pub fn oversaturated(seconds: &[ProbeSecond]) -> Option<Saturated> {
    let s = seconds.get(1..)?;
    if s.len() < MIN_SECONDS {
        return None;
    }
    let t: Vec<f64> = (0..s.len()).map(|i| i as f64).collect();
    let q: Vec<f64> = s.iter().map(|x| x.in_flight).collect();
    let fit = ols(&t, &q)?;
    let offered = s.iter().map(|x| x.offered).sum::<f64>() / s.len() as f64;
    if fit.slope - fit.ci95_half <= 0.0 || fit.slope < MIN_GROWTH * offered {
        return None;
    }
    let (lt, lat): (Vec<f64>, Vec<f64>) = s
        .iter()
        .enumerate()
        .filter_map(|(i, x)| Some((i as f64, x.p50_ms?)))
        .unzip();
    let latency = theil_sen(&lt, &lat)?;
    (latency > 0.0).then_some(Saturated {
        queue_growth_per_s: fit.slope,
        latency_growth_ms_per_s: latency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue served at `capacity`/s, fed `rate`/s, with `noise` in
    /// arrivals each second (a seeded walk); service time `base_ms`.
    fn probe(
        rate: f64,
        capacity: f64,
        base_ms: f64,
        seconds: usize,
        seed: u64,
    ) -> Vec<ProbeSecond> {
        let mut x = seed | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 1000) as f64 / 1000.0 - 0.5
        };
        let mut queue = 0.0f64;
        (0..seconds)
            .map(|_| {
                let offered = (rate * (1.0 + 0.2 * next())).max(0.0);
                let served = (queue + offered).min(capacity * (1.0 + 0.05 * next()));
                queue = (queue + offered - served).max(0.0);
                ProbeSecond {
                    offered,
                    in_flight: queue + capacity * base_ms / 1000.0,
                    p50_ms: Some(base_ms + queue / capacity * 1000.0),
                }
            })
            .collect()
    }

    #[test]
    fn a_growing_queue_is_caught_within_seconds() {
        let s = probe(150.0, 100.0, 200.0, 8, 7);
        let got = oversaturated(&s).expect("50/s more than it can serve");
        assert!((got.queue_growth_per_s - 50.0).abs() < 15.0, "{got:?}");
        assert!(got.latency_growth_ms_per_s > 0.0);
        assert_eq!(
            oversaturated(&s[..MIN_SECONDS]),
            None,
            "too few seconds yet"
        );
    }

    /// At 80% of capacity a probe is never judged over-saturated, however
    /// long it runs (to 120 s), for every one of 10,000 seeds (checked
    /// whole: each seed's prefixes are its shorter probes).
    #[test]
    fn never_at_eighty_percent() {
        for seed in 0u64..10_000 {
            let s = probe(80.0, 100.0, 200.0, 120, seed);
            for n in MIN_SECONDS + 1..=s.len() {
                assert_eq!(oversaturated(&s[..n]), None, "seed {seed}, {n} s");
            }
        }
    }

    /// Well above capacity (1.5x) it is caught within 12 seconds, for every
    /// one of 10,000 seeds (checked whole, so the test cannot flake).
    #[test]
    fn always_well_above() {
        for seed in 0u64..10_000 {
            let s = probe(150.0, 100.0, 200.0, 12, seed);
            assert!(oversaturated(&s).is_some(), "seed {seed}");
        }
    }
}
