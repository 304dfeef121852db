//! The gate's statistics: bootstrap draws of a percentile straight from a
//! histogram, the interval of a difference between two sets of runs, and
//! the Student t quantiles both need. Seeded, so the same files always get
//! the same verdict.

use hdrhistogram::Histogram;

/// SplitMix64: small, fast, and good enough for resampling.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1), never 0.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 boosted.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            return self.gamma(shape + 1.0) * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        x / (x + self.gamma(b))
    }
}

/// A histogram as the empirical distribution of its recorded values.
#[derive(Debug, Clone)]
pub struct Cdf {
    /// Distinct values (each bucket's highest equivalent value, as the
    /// summary percentiles report) and the count at or below each.
    values: Vec<f64>,
    cumulative: Vec<u64>,
}

impl Cdf {
    /// `None` for an empty histogram.
    pub fn new(h: &Histogram<u64>) -> Option<Cdf> {
        let (mut values, mut cumulative) = (Vec::new(), Vec::new());
        let mut total = 0;
        for v in h.iter_recorded() {
            total += v.count_at_value();
            values.push(v.value_iterated_to() as f64);
            cumulative.push(total);
        }
        (total > 0).then_some(Cdf { values, cumulative })
    }

    pub fn len(&self) -> u64 {
        *self.cumulative.last().unwrap_or(&0)
    }

    /// The value of rank `ceil(u·n)` (at least 1), `u` in [0, 1].
    pub fn at(&self, u: f64) -> f64 {
        let rank = ((u * self.len() as f64).ceil() as u64).max(1);
        let i = self.cumulative.partition_point(|&c| c < rank);
        self.values[i.min(self.values.len() - 1)]
    }

    /// One bootstrap replicate of the `q` quantile. A resample of n values
    /// from the histogram has its k-th smallest at the k-th order statistic
    /// of n uniforms, which is Beta(k, n−k+1): one Beta draw per replicate
    /// instead of n value draws, exact for any n.
    pub fn draw_quantile(&self, q: f64, rng: &mut Rng) -> f64 {
        let n = self.len() as f64;
        let k = (q * n).ceil().clamp(1.0, n);
        self.at(rng.beta(k, n - k + 1.0))
    }

    /// The distribution of several runs' values together.
    pub fn pooled<'a>(cdfs: impl IntoIterator<Item = &'a Cdf>) -> Cdf {
        let mut counts: Vec<(f64, u64)> = Vec::new();
        for c in cdfs {
            let mut below = 0;
            for (v, cum) in c.values.iter().zip(&c.cumulative) {
                counts.push((*v, cum - below));
                below = *cum;
            }
        }
        counts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut values, mut cumulative) = (Vec::new(), Vec::<u64>::new());
        let mut total = 0;
        for (v, n) in counts {
            total += n;
            if values.last() == Some(&v) {
                *cumulative.last_mut().expect("a value has its count") = total;
            } else {
                values.push(v);
                cumulative.push(total);
            }
        }
        Cdf { values, cumulative }
    }
}

/// One run's estimate of a metric, on the scale changes are measured on
/// (the log of the value for relative changes), and the variance of that
/// estimate from the run's own sampling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    pub x: f64,
    pub var_within: f64,
}

/// An estimated difference (current − baseline) and its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diff {
    pub d: f64,
    pub lo: f64,
    pub hi: f64,
    /// The interval came from the spread between runs, not within them.
    pub from_runs: bool,
}

fn mean(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = v.clone().count() as f64;
    v.sum::<f64>() / n
}

/// The difference of the two sides' means and its `confidence` interval.
///
/// Runs on shared machines differ more than one run's sampling says, so
/// the variance of one run's estimate is the larger of the spread between
/// runs (pooled over both sides, with its degrees of freedom) and the mean
/// variance within a run (which keeps three near-identical runs from
/// claiming an interval narrower than their own sampling allows).
pub fn difference(base: &[Obs], cur: &[Obs], confidence: f64) -> Option<Diff> {
    if base.is_empty() || cur.is_empty() {
        return None;
    }
    let (mb, mc) = (base.len() as f64, cur.len() as f64);
    let (xb, xc) = (
        mean(base.iter().map(|o| o.x)),
        mean(cur.iter().map(|o| o.x)),
    );
    let ss = |side: &[Obs], m: f64| side.iter().map(|o| (o.x - m).powi(2)).sum::<f64>();
    let df = mb + mc - 2.0;
    let between = (df > 0.0).then(|| (ss(base, xb) + ss(cur, xc)) / df);
    let within = mean(base.iter().chain(cur).map(|o| o.var_within));
    let (var, dof, from_runs) = match between {
        Some(b) if b > within => (b, df, true),
        _ => (within, f64::INFINITY, false),
    };
    let se = (var / mb + var / mc).sqrt();
    let t = t_quantile(0.5 + confidence / 2.0, dof);
    let d = xc - xb;
    Some(Diff {
        d,
        lo: d - t * se,
        hi: d + t * se,
        from_runs,
    })
}

/// Sample variance; 0 for fewer than two values.
pub fn variance(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v.iter().copied());
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
}

/// The `p` quantile of Student's t with `df` degrees of freedom (the
/// normal's for infinite `df`), by bisection on the CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (-1e3, 1e3);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

fn t_cdf(t: f64, df: f64) -> f64 {
    if !df.is_finite() || df > 1e7 {
        return 0.5 * erfc(-t / std::f64::consts::SQRT_2);
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// Complementary error function (Numerical Recipes' erfcc, |error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The regularized incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// Lentz's continued fraction for the incomplete beta function.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = if d.abs() < TINY { TINY } else { d };
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            d = if d.abs() < TINY { TINY } else { d };
            c = 1.0 + aa / c;
            c = if c.abs() < TINY { TINY } else { c };
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) by Lanczos (g = 7, n = 9), x > 0.
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (std::f64::consts::TAU).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
