//! Seeded randomness that stays the same across builds and platforms.
//!
//! The mock promises "same seed, same behaviour", so it cannot rely on
//! `std`'s `DefaultHasher` or a crate's `StdRng`, whose streams may change
//! between versions. SplitMix64 and FNV-1a are tiny, fixed algorithms.

/// FNV-1a over bytes, chained from `seed`; used to derive per-request keys.
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Hashes several string parts with separators, so ("ab","c") != ("a","bc").
pub fn hash_parts(seed: u64, parts: &[&str]) -> u64 {
    let mut h = seed;
    for p in parts {
        h = hash_bytes(h, p.as_bytes());
        h = hash_bytes(h, &[0xff]);
    }
    h
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64: a small, fast generator with a fixed output stream per seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, n); `n` must be non-zero.
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift keeps the bias below 2^-64 * n, irrelevant for a mock.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Standard normal via Box–Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln stays finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A log-normal distribution given the way providers publish latency:
/// its median and its 95th percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    mu: f64,
    sigma: f64,
}

/// z-score of the 95th percentile of the standard normal.
const Z95: f64 = 1.644_853_626_951_472_2;

impl LogNormal {
    /// `p95 < median` is treated as no spread; zero median gives zero always.
    pub fn from_median_p95(median: f64, p95: f64) -> Self {
        if median <= 0.0 {
            return LogNormal {
                mu: f64::NEG_INFINITY,
                sigma: 0.0,
            };
        }
        let sigma = if p95 > median {
            (p95 / median).ln() / Z95
        } else {
            0.0
        };
        LogNormal {
            mu: median.ln(),
            sigma,
        }
    }

    pub fn sample(&self, rng: &mut Rng) -> f64 {
        if self.mu == f64::NEG_INFINITY {
            return 0.0;
        }
        (self.mu + self.sigma * rng.normal()).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .scan(Rng::new(8), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn hash_parts_respects_boundaries() {
        assert_ne!(hash_parts(1, &["ab", "c"]), hash_parts(1, &["a", "bc"]));
        assert_eq!(hash_parts(1, &["ab", "c"]), hash_parts(1, &["ab", "c"]));
    }

    #[test]
    fn lognormal_hits_its_median_and_p95() {
        let d = LogNormal::from_median_p95(450.0, 1500.0);
        let mut rng = Rng::new(42);
        let mut xs: Vec<f64> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = xs[xs.len() / 2];
        let p95 = xs[xs.len() * 95 / 100];
        assert!((median - 450.0).abs() < 450.0 * 0.02, "median {median}");
        assert!((p95 - 1500.0).abs() < 1500.0 * 0.03, "p95 {p95}");
    }

    #[test]
    fn zero_median_is_always_zero() {
        let d = LogNormal::from_median_p95(0.0, 0.0);
        let mut rng = Rng::new(1);
        assert_eq!(d.sample(&mut rng), 0.0);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(3);
        assert!((0..10_000).all(|_| rng.below(7) < 7));
    }
}
