//! Small statistics the analyses share: least squares with a confidence
//! interval that allows for autocorrelated residuals, a slope for series
//! that wander ([`drift`]), Theil–Sen, and the Student t quantile.

/// An ordinary least-squares line fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    /// Half-width of the 95% confidence interval of the slope.
    pub ci95_half: f64,
}

/// Fits `y = a + b·x`. The slope's standard error is inflated for lag-1
/// autocorrelation of the residuals (effective sample size
/// `n·(1-ρ)/(1+ρ)`): memory readings a second apart are not independent,
/// and a CI that assumed they were would be too narrow and cry wolf.
/// `None` with fewer than 3 points or no spread in `x`.
pub fn ols(x: &[f64], y: &[f64]) -> Option<Fit> {
    ols_segments(x, y, &[0])
}

/// One slope through segments that each keep their own level: the points
/// from `starts[i]` to `starts[i + 1]` share an intercept (the fit's is the
/// first segment's). Memory that steps (a cache expiring, an allocator
/// mapping an arena) moves the levels; growth moves the slope. The CI is
/// [`ols`]'s, with a degree of freedom spent per segment. `None` with too
/// few points for the segments or no spread in `x` within them.
pub fn ols_segments(x: &[f64], y: &[f64], starts: &[usize]) -> Option<Fit> {
    let n = x.len().min(y.len());
    let k = starts.len().max(1);
    if n < k + 2 {
        return None;
    }
    let (x, y) = (&x[..n], &y[..n]);
    let bounds: Vec<(usize, usize)> = (0..k)
        .map(|i| {
            (
                starts.get(i).copied().unwrap_or(0),
                starts.get(i + 1).copied().unwrap_or(n),
            )
        })
        .filter(|(a, b)| a < b && *b <= n)
        .collect();
    let means: Vec<(f64, f64)> = bounds
        .iter()
        .map(|&(a, b)| {
            let m = (b - a) as f64;
            (
                x[a..b].iter().sum::<f64>() / m,
                y[a..b].iter().sum::<f64>() / m,
            )
        })
        .collect();
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (&(a, b), &(mx, my)) in bounds.iter().zip(&means) {
        for i in a..b {
            sxx += (x[i] - mx).powi(2);
            sxy += (x[i] - mx) * (y[i] - my);
        }
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let mut resid = Vec::with_capacity(n);
    for (&(a, b), &(mx, my)) in bounds.iter().zip(&means) {
        resid.extend((a..b).map(|i| y[i] - my - slope * (x[i] - mx)));
    }
    let spent = bounds.len() as f64 + 1.0;
    let rho = lag1_autocorrelation(&resid).clamp(0.0, 0.99);
    let (mx0, my0) = means[0];
    Some(Fit {
        slope,
        intercept: my0 - slope * mx0,
        ci95_half: half_width(&resid, sxx, spent, rho),
    })
}

/// Above this corrected lag-1 correlation, a line's residuals are waves
/// with no level to return to (a random walk), not noise around the line.
const WANDERING: f64 = 0.8;

/// The slope of a series whose residuals may wander, as RSS that grows in
/// bursts does. [`ols`] widens its CI for lag-1 correlation, but two
/// things make that too narrow, then far too wide, on a 10-minute soak of
/// 40 windows: the correlation measured from a line's residuals reads low
/// (by about `(2 + 4ρ)/n`, so it is corrected), and once it nears 1 the
/// effective sample size falls to 3 and the t quantile to 12.7. When the
/// corrected correlation reaches [`WANDERING`], the residuals are a random
/// walk, and its increments are what is independent: the slope is the mean
/// rate between neighbouring points, with a t interval over those rates.
/// `None` as for [`ols`].
pub fn drift(x: &[f64], y: &[f64]) -> Option<Fit> {
    let n = x.len().min(y.len());
    let line = ols(x, y)?;
    let resid: Vec<f64> = (0..n)
        .map(|i| y[i] - line.intercept - line.slope * x[i])
        .collect();
    let nf = n as f64;
    let rho = ((nf * lag1_autocorrelation(&resid) + 2.0) / (nf - 4.0).max(1.0)).clamp(0.0, 0.99);
    if rho < WANDERING {
        return Some(widened(&line, x, &resid, rho));
    }
    let rates: Vec<f64> = (1..n)
        .filter(|&i| x[i] > x[i - 1])
        .map(|i| (y[i] - y[i - 1]) / (x[i] - x[i - 1]))
        .collect();
    if rates.len() < 2 {
        return Some(widened(&line, x, &resid, rho));
    }
    let (slope, ci95_half) = mean_with_ci(&rates);
    let (mx, my) = (
        x[..n].iter().sum::<f64>() / nf,
        y[..n].iter().sum::<f64>() / nf,
    );
    Some(Fit {
        slope,
        intercept: my - slope * mx,
        ci95_half,
    })
}

/// The mean of `v` (at least 2 values) and its 95% CI half-width, widened
/// for lag-1 correlation as [`widened`] is (the bias of a mean-corrected
/// estimate is about `(1 + 3ρ)/n`). Rates that drift smoothly are
/// curvature the line did not model, not a random walk's independent
/// steps, and they widen the interval.
fn mean_with_ci(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let centred: Vec<f64> = v.iter().map(|r| r - mean).collect();
    let var = centred.iter().map(|r| r * r).sum::<f64>() / (k - 1.0);
    let rho = ((k * lag1_autocorrelation(&centred) + 1.0) / (k - 3.0).max(1.0)).clamp(0.0, 0.99);
    let k_eff = (k * (1.0 - rho) / (1.0 + rho)).max(2.0);
    (mean, t_quantile_975(k_eff - 1.0) * (var / k_eff).sqrt())
}

/// `line`'s CI for residuals with lag-1 correlation `rho`.
fn widened(line: &Fit, x: &[f64], resid: &[f64], rho: f64) -> Fit {
    let nf = resid.len() as f64;
    let mx = x.iter().take(resid.len()).sum::<f64>() / nf;
    let sxx: f64 = x.iter().take(resid.len()).map(|v| (v - mx).powi(2)).sum();
    Fit {
        ci95_half: half_width(resid, sxx, 2.0, rho),
        ..*line
    }
}

/// The 95% half-width of a slope whose residuals are `resid`, with
/// `spent` degrees of freedom fitted and lag-1 correlation `rho`: the
/// standard error inflated by `n / n_eff`, with `n_eff = n(1 − ρ)/(1 + ρ)`
/// (at least `spent + 1`), and a t over `n_eff − spent` degrees of freedom.
fn half_width(resid: &[f64], sxx: f64, spent: f64, rho: f64) -> f64 {
    let nf = resid.len() as f64;
    let ssr: f64 = resid.iter().map(|r| r * r).sum();
    let n_eff = (nf * (1.0 - rho) / (1.0 + rho)).max(spent + 1.0);
    let se = (ssr / (nf - spent).max(1.0) / sxx).sqrt() * (nf / n_eff).sqrt();
    t_quantile_975((n_eff - spent).max(1.0)) * se
}

fn lag1_autocorrelation(r: &[f64]) -> f64 {
    let n = r.len();
    if n < 3 {
        return 0.0;
    }
    let m = r.iter().sum::<f64>() / n as f64;
    let var: f64 = r.iter().map(|v| (v - m).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = r.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    cov / var
}

/// Theil–Sen slope: the median of the slopes of all pairs of points, robust
/// to outliers and steps. Pairs are subsampled evenly past 2,000 points so a
/// 2-hour soak (7,200 readings) stays cheap.
pub fn theil_sen(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    let stride = n.div_ceil(2000).max(1);
    let idx: Vec<usize> = (0..n).step_by(stride).collect();
    let mut slopes = Vec::with_capacity(idx.len() * idx.len() / 2);
    for (k, &i) in idx.iter().enumerate() {
        for &j in &idx[k + 1..] {
            let dx = x[j] - x[i];
            if dx != 0.0 {
                slopes.push((y[j] - y[i]) / dx);
            }
        }
    }
    median(&mut slopes)
}

pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Two-sided 95% t quantiles for 1 to 10 degrees of freedom.
const T975: [f64; 10] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom: from the
/// table (interpolated) up to 10, then the Cornish–Fisher expansion around
/// the normal quantile, which is within 0.05% there and better beyond.
pub fn t_quantile_975(df: f64) -> f64 {
    if df <= 1.0 {
        return T975[0];
    }
    if df < 10.0 {
        let i = df.floor() as usize;
        let frac = df - i as f64;
        return T975[i - 1] + (T975[i] - T975[i - 1]) * frac;
    }
    let z: f64 = 1.959_963_985;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df.powi(2))
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        for (df, t) in [
            (3.0, 3.182),
            (5.0, 2.571),
            (10.0, 2.228),
            (30.0, 2.042),
            (1000.0, 1.962),
        ] {
            assert!(
                (t_quantile_975(df) - t).abs() / t < 0.004,
                "df {df}: {}",
                t_quantile_975(df)
            );
        }
    }

    #[test]
    fn a_step_fools_least_squares_more_than_theil_sen() {
        let x: Vec<f64> = (0..60).map(f64::from).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|&v| if v < 10.0 { 0.0 } else { 100.0 })
            .collect();
        let ols = ols(&x, &y).unwrap().slope;
        let ts = theil_sen(&x[10..], &y[10..]).unwrap();
        assert!(ols > 1.0, "{ols}");
        assert_eq!(ts, 0.0);
    }

    /// A seeded stream of standard normal draws (Box–Muller over an LCG).
    fn normals(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed
            .wrapping_mul(2862933555777941757)
            .wrapping_add(3037000493);
        let mut uniform = move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        move || (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos()
    }

    /// How often `drift`'s interval holds the true slope: 40 points 10 s
    /// apart (a 10-minute soak's windows), 10 MiB/h, AR(1) residuals.
    fn drift_coverage(rho: f64, seed: u64) -> f64 {
        let mut z = normals(seed);
        let x: Vec<f64> = (0..40).map(|i| f64::from(i) / 360.0).collect();
        let reps = 400;
        let held = (0..reps)
            .filter(|_| {
                let mut e = 0.0;
                let y: Vec<f64> = x
                    .iter()
                    .map(|t| {
                        e = rho * e + 0.05 * z();
                        10.0 * t + e
                    })
                    .collect();
                let f = drift(&x, &y).unwrap();
                (f.slope - 10.0).abs() <= f.ci95_half
            })
            .count();
        held as f64 / reps as f64
    }

    #[test]
    fn drift_intervals_hold_the_slope_from_noise_to_a_random_walk() {
        // Measured with 1,500 replicates: 0.96, 0.93, 0.93, 0.82; what
        // [`ols`] gave: 0.96, 0.90, 0.83, 0.66. Forty points cannot tell a
        // random walk from slow waves well, hence the lower bar there.
        for (rho, least) in [(0.0, 0.92), (0.5, 0.88), (0.9, 0.88), (1.0, 0.76)] {
            let held = drift_coverage(rho, 7);
            assert!(held >= least, "rho {rho}: held {held}");
        }
    }

    proptest! {
        #[test]
        fn exact_lines_are_recovered(a in -1e3f64..1e3, b in -50f64..50.0, n in 3usize..300) {
            let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
            let y: Vec<f64> = x.iter().map(|v| a + b * v).collect();
            let f = ols(&x, &y).unwrap();
            prop_assert!((f.slope - b).abs() < 1e-6 * (1.0 + b.abs()));
            prop_assert!(f.ci95_half.abs() < 1e-5 * (1.0 + b.abs() + a.abs()));
            let d = drift(&x, &y).unwrap();
            prop_assert!((d.slope - b).abs() < 1e-6 * (1.0 + b.abs()));
            prop_assert!(d.ci95_half.abs() < 1e-5 * (1.0 + b.abs() + a.abs()));
            let ts = theil_sen(&x, &y).unwrap();
            prop_assert!((ts - b).abs() < 1e-6 * (1.0 + b.abs()));
        }

        #[test]
        fn noise_around_a_slope_stays_inside_a_wide_enough_ci(b in -5f64..5.0, seed in 0u64..1000) {
            // Uniform noise: the true slope lies within 2.5 CI half-widths (a miss
            // has odds of about one in a million for a correct CI).
            let mut s = seed.wrapping_mul(2862933555777941757).wrapping_add(3037000493);
            let x: Vec<f64> = (0..120).map(f64::from).collect();
            let y: Vec<f64> = x.iter().map(|v| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                b * v + ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 4.0
            }).collect();
            let f = ols(&x, &y).unwrap();
            prop_assert!((f.slope - b).abs() <= f.ci95_half * 2.5 + 1e-9,
                "slope {} ± {} vs {}", f.slope, f.ci95_half, b);
        }

        #[test]
        fn the_median_is_order_free(mut v in prop::collection::vec(-1e6f64..1e6, 1..50)) {
            let m1 = median(&mut v.clone()).unwrap();
            v.reverse();
            prop_assert_eq!(m1, median(&mut v).unwrap());
        }
    }
}
