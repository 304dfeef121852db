//! Open-model send times. The stages define a rate r(t) (linear within each
//! stage); the expected number of sends by time t is N(t) = ∫ r. Constant
//! arrivals put the k-th send where N(t) = k; Poisson arrivals put it where
//! N(t) equals a running sum of Exp(1) draws (a non-homogeneous Poisson
//! process by time rescaling). Either way the achieved rate follows the
//! stages exactly, and times are absolute offsets from the run's start, so
//! nothing drifts.

use std::time::Duration;

use genbench_presets::rng::Rng;
use genbench_scenarios::{Arrivals, Stage};

/// One stage in the form inversion needs.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start_s: f64,
    len_s: f64,
    /// Rate at the start and end, per second.
    r0: f64,
    r1: f64,
    /// N at the segment's start.
    n0: f64,
}

impl Segment {
    fn n_len(&self) -> f64 {
        (self.r0 + self.r1) / 2.0 * self.len_s
    }

    /// Seconds into the segment at which `m` sends have accumulated.
    fn invert(&self, m: f64) -> f64 {
        let a = (self.r1 - self.r0) / self.len_s;
        if a.abs() < 1e-12 {
            return m / self.r0;
        }
        let disc = (self.r0 * self.r0 + 2.0 * a * m).max(0.0);
        ((-self.r0 + disc.sqrt()) / a).clamp(0.0, self.len_s)
    }
}

/// An iterator of send offsets from the start of the run.
#[derive(Debug, Clone)]
pub struct Schedule {
    segments: Vec<Segment>,
    arrivals: Arrivals,
    rng: Rng,
    /// N of the next send.
    next_n: f64,
    seg: usize,
    remaining: u64,
}

impl Schedule {
    /// `max_requests` caps the sends whatever the stages say.
    pub fn new(stages: &[Stage], arrivals: Arrivals, seed: u64, max_requests: u64) -> Self {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut t, mut n, mut prev) = (0.0, 0.0, 0.0);
        for s in stages {
            let seg = Segment {
                start_s: t,
                len_s: s.duration.as_secs_f64(),
                r0: prev,
                r1: s.target,
                n0: n,
            };
            n += seg.n_len();
            t += seg.len_s;
            prev = s.target;
            segments.push(seg);
        }
        let mut sched = Schedule {
            segments,
            arrivals,
            rng: Rng::new(seed),
            next_n: 0.0,
            seg: 0,
            remaining: max_requests,
        };
        if arrivals == Arrivals::Poisson {
            sched.next_n = sched.exp1();
        }
        sched
    }

    fn exp1(&mut self) -> f64 {
        -(1.0 - self.rng.unit()).ln()
    }

    /// Total sends the stages ask for (the expectation, for Poisson).
    pub fn expected_total(stages: &[Stage]) -> f64 {
        let mut prev = 0.0;
        stages
            .iter()
            .map(|s| {
                let n = (prev + s.target) / 2.0 * s.duration.as_secs_f64();
                prev = s.target;
                n
            })
            .sum()
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.remaining == 0 {
            return None;
        }
        let n = self.next_n;
        while let Some(seg) = self.segments.get(self.seg) {
            if n < seg.n0 + seg.n_len() {
                let t = seg.start_s + seg.invert(n - seg.n0);
                self.next_n += match self.arrivals {
                    Arrivals::Constant => 1.0,
                    Arrivals::Poisson => self.exp1(),
                };
                self.remaining -= 1;
                return Some(Duration::from_secs_f64(t));
            }
            self.seg += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genbench_scenarios::parse_shorthand;

    fn times(shorthand: &str, arrivals: Arrivals) -> Vec<f64> {
        Schedule::new(&parse_shorthand(shorthand).unwrap(), arrivals, 7, u64::MAX)
            .map(|d| d.as_secs_f64())
            .collect()
    }

    #[test]
    fn constant_rate_is_evenly_spaced_and_exact() {
        // Ramp 0 -> 10/s over 2 s (10 sends), then 10/s for 10 s (100 sends).
        let t = times("10,2s;10,10s", Arrivals::Constant);
        assert_eq!(t.len(), 110);
        let steady: Vec<f64> = t.iter().copied().filter(|x| *x >= 2.0).collect();
        for w in steady.windows(2) {
            assert!((w[1] - w[0] - 0.1).abs() < 1e-9, "{w:?}");
        }
    }

    #[test]
    fn ramps_accelerate() {
        let t = times("10,10s", Arrivals::Constant);
        assert_eq!(t.len(), 50); // the area under a 0 -> 10/s ramp over 10 s
        let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.windows(2).all(|g| g[1] <= g[0] + 1e-12),
            "gaps shrink as the rate rises"
        );
    }

    #[test]
    fn poisson_matches_the_expected_count_and_is_seeded() {
        let t = times("50,1s;50,99s", Arrivals::Poisson);
        let expected: f64 = 25.0 + 50.0 * 99.0;
        let sd = expected.sqrt();
        assert!(
            (t.len() as f64 - expected).abs() < 4.0 * sd,
            "{} vs {expected}",
            t.len()
        );
        assert!(t.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(t, times("50,1s;50,99s", Arrivals::Poisson));
        // Exponential gaps: their coefficient of variation is near 1.
        let gaps: Vec<f64> = t
            .windows(2)
            .filter(|w| w[0] > 1.0)
            .map(|w| w[1] - w[0])
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.1,
            "cv {}",
            var.sqrt() / mean
        );
    }

    #[test]
    fn zero_rate_stages_send_nothing_and_caps_hold() {
        let t = times("0,5s;4,1s;4,1s", Arrivals::Constant);
        assert!(t.iter().all(|x| *x >= 5.0), "{t:?}");
        assert_eq!(t.len(), 6);
        let capped = Schedule::new(
            &parse_shorthand("100,10s").unwrap(),
            Arrivals::Constant,
            0,
            7,
        )
        .count();
        assert_eq!(capped, 7);
        assert_eq!(
            Schedule::expected_total(&parse_shorthand("10,2s;10,10s").unwrap()),
            110.0
        );
    }
}
