use hdrhistogram::Histogram;
use proptest::prelude::{prop_assert, proptest};

use super::*;

fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for v in values {
        h.record(v).unwrap();
    }
    h
}

#[test]
fn t_quantiles_match_the_tables() {
    for (p, df, t) in [
        (0.975, 1.0, 12.706),
        (0.975, 4.0, 2.776),
        (0.975, 10.0, 2.228),
        (0.995, 10.0, 3.169),
        (0.95, 30.0, 1.697),
        (0.975, f64::INFINITY, 1.960),
        (0.025, 4.0, -2.776),
    ] {
        let got = t_quantile(p, df);
        assert!((got - t).abs() < 2e-3, "t({p}, {df}) = {got}, table {t}");
    }
}

#[test]
fn the_cdf_reports_the_histograms_own_percentiles() {
    let h = hist((1..=1000).map(|v| v * 100));
    let cdf = Cdf::new(&h).unwrap();
    assert_eq!(cdf.len(), 1000);
    for q in [0.01, 0.5, 0.95, 0.99, 1.0] {
        assert_eq!(cdf.at(q), h.value_at_quantile(q) as f64, "q {q}");
    }
    assert!(Cdf::new(&hist([])).is_none());
}

#[test]
fn beta_draws_match_resampling_the_values() {
    // The median of resamples, drawn the slow way and through Beta.
    let h = hist((1..=200).map(|v| v * v));
    let cdf = Cdf::new(&h).unwrap();
    let values: Vec<f64> = (1..=200).map(|v| cdf.at(v as f64 / 200.0)).collect();
    let mut rng = Rng::new(7);
    let slow: Vec<f64> = (0..4000)
        .map(|_| {
            let mut s: Vec<f64> = (0..200)
                .map(|_| values[(rng.uniform() * 200.0) as usize])
                .collect();
            s.sort_by(f64::total_cmp);
            s[99]
        })
        .collect();
    let fast: Vec<f64> = (0..4000)
        .map(|_| cdf.draw_quantile(0.5, &mut rng))
        .collect();
    let (ms, mf) = (mean(slow.iter().copied()), mean(fast.iter().copied()));
    let (ss, sf) = (variance(&slow).sqrt(), variance(&fast).sqrt());
    assert!((ms - mf).abs() / ms < 0.01, "means {ms} {mf}");
    assert!((ss - sf).abs() / ss < 0.08, "spreads {ss} {sf}");
}

#[test]
fn between_run_spread_widens_the_interval() {
    let tight = |x| Obs {
        x,
        var_within: 1e-6,
    };
    let same = [tight(0.0), tight(0.0), tight(0.0)];
    let spread = [tight(-0.1), tight(0.0), tight(0.1)];
    let narrow = difference(&same, &same, 0.95).unwrap();
    let wide = difference(&spread, &spread, 0.95).unwrap();
    assert!(
        wide.hi - wide.lo > 50.0 * (narrow.hi - narrow.lo),
        "{narrow:?} {wide:?}"
    );
    // df = 4 for 3 + 3 runs: t = 2.776, sd 0.1, se = 0.1·sqrt(2/3).
    let half = 2.776 * 0.1 * (2.0f64 / 3.0).sqrt();
    assert!((wide.hi - half).abs() < 1e-3, "{wide:?}");
}

proptest! {
    #[test]
    fn gamma_draws_have_the_right_mean(shape in 0.3f64..500.0, seed in 0u64..1000) {
        let mut rng = Rng::new(seed);
        let m = (0..2000).map(|_| rng.gamma(shape)).sum::<f64>() / 2000.0;
        // The mean of 2,000 draws is within 5 standard errors.
        prop_assert!((m - shape).abs() < 5.0 * (shape / 2000.0).sqrt(), "{m} vs {shape}");
    }
}
