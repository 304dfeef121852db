use hdrhistogram::Histogram;
use proptest::collection::vec;
use proptest::prelude::{prop_assert, prop_assert_eq, proptest};

use super::*;

/// A side of `runs` runs of `n` requests. Request i has a delay every run
/// shares (what the seeded mocks give it: 30% cache hits near 20 ms,
/// misses log-normal around 600 ms); each run adds its machine's slowness (`run_sd`,
/// on the log scale) and each request its own jitter (`req_sd`);
/// `slower_ms` is what a regression adds to the misses.
struct World {
    shared: Vec<f64>,
    run_sd: f64,
    req_sd: f64,
}

impl World {
    fn new(n: usize, rng: &mut Rng) -> World {
        let shared = (0..n)
            .map(|_| {
                if rng.uniform() < 0.3 {
                    20.0 + 5.0 * rng.uniform()
                } else {
                    600.0 * (0.25 * rng.normal()).exp()
                }
            })
            .collect();
        World {
            shared,
            run_sd: 0.03,
            req_sd: 0.02,
        }
    }

    fn side(&self, runs: usize, slower_ms: f64, rng: &mut Rng) -> Vec<Vec<f64>> {
        (0..runs)
            .map(|_| {
                let machine = (self.run_sd * rng.normal()).exp();
                self.shared
                    .iter()
                    .map(|&s| {
                        let s = if s > 100.0 { s + slower_ms } else { s };
                        s * machine * (self.req_sd * rng.normal()).exp()
                    })
                    .collect()
            })
            .collect()
    }
}

/// How often `paired`'s interval says "slower" (its low end above 0) and
/// the change is past a 5% floor, in `trials` simulated comparisons.
fn alarms(slower_ms: f64, trials: usize, seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    (0..trials)
        .filter(|_| {
            let w = World::new(60, &mut rng);
            let (b, c) = (w.side(3, 0.0, &mut rng), w.side(3, slower_ms, &mut rng));
            let d = paired(&b, &c, 0.95, 400, 0.95, &mut rng).unwrap();
            d.lo > 0.0 && d.d > 0.05f64.ln_1p()
        })
        .count()
}

#[test]
fn paired_requests_see_a_tenth_more_at_p95_and_cry_no_wolf() {
    // The p95 of the shared delays is near 900 ms: +90 ms on each miss is
    // +10% there.
    let caught = alarms(90.0, 60, 1);
    assert!(caught >= 57, "caught {caught} of 60");
    let false_alarms = alarms(0.0, 60, 2);
    assert!(false_alarms <= 3, "{false_alarms} false alarms in 60");
}

#[test]
fn unpaired_runs_cannot_be_paired() {
    let mut rng = Rng::new(3);
    let w = World::new(10, &mut rng);
    let b = w.side(2, 0.0, &mut rng);
    let mut c = w.side(2, 0.0, &mut rng);
    c[1].pop();
    assert!(paired(&b, &c, 0.95, 10, 0.95, &mut rng).is_none());
    assert!(paired(&b, &[], 0.95, 10, 0.95, &mut rng).is_none());
    c[1].push(0.0);
    assert!(paired(&b, &c, 0.95, 10, 0.95, &mut rng).is_none());
}

fn hist(values: &[u64]) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for &v in values {
        h.record(v).unwrap();
    }
    h
}

proptest! {
    #[test]
    fn one_run_a_side_scaled_is_exactly_that_change(
        values in vec(1.0f64..1e6, 1..200),
        factor in 0.5f64..2.0,
        q in 0.01f64..1.0,
        seed in 0u64..1000,
    ) {
        // Every replicate draws the same requests on both sides, so each
        // sees exactly the factor.
        let cur: Vec<f64> = values.iter().map(|v| v * factor).collect();
        let d = paired(&[values], &[cur], q, 50, 0.95, &mut Rng::new(seed)).unwrap();
        let want = factor.ln();
        prop_assert!((d.d - want).abs() < 1e-9 && (d.lo - want).abs() < 1e-9 && (d.hi - want).abs() < 1e-9, "{d:?}");
    }

    #[test]
    fn the_estimate_is_the_pooled_quantiles_and_inside_its_interval(
        runs in vec(vec(1.0f64..1e4, 20), 1..4),
        other in vec(vec(1.0f64..1e4, 20), 1..4),
        q in 0.05f64..1.0,
        seed in 0u64..1000,
    ) {
        let d = paired(&runs, &other, q, 200, 0.99, &mut Rng::new(seed)).unwrap();
        let pooled = |s: &[Vec<f64>]| quantile_of(&mut s.concat(), q).ln();
        prop_assert!((d.d - (pooled(&other) - pooled(&runs))).abs() < 1e-12);
        prop_assert!(d.lo <= d.hi);
        // Run order never matters.
        let mut shuffled = runs.clone();
        shuffled.reverse();
        let e = paired(&shuffled, &other, q, 200, 0.99, &mut Rng::new(seed)).unwrap();
        prop_assert_eq!(d.d, e.d);
    }

    #[test]
    fn pooled_cdfs_are_the_added_histograms(
        a in vec(1u64..1_000_000, 1..100),
        b in vec(1u64..1_000_000, 1..100),
        q in 0.0f64..1.0,
    ) {
        let (ha, hb) = (hist(&a), hist(&b));
        let mut added = ha.clone();
        added.add(&hb).unwrap();
        let pooled = Cdf::pooled([&Cdf::new(&ha).unwrap(), &Cdf::new(&hb).unwrap()]);
        let want = Cdf::new(&added).unwrap();
        prop_assert_eq!(pooled.len(), want.len());
        prop_assert_eq!(pooled.at(q), want.at(q));
    }

    #[test]
    fn blocked_sides_of_one_histogram_never_differ_beyond_noise(
        a in vec(1u64..1_000_000, 30..200),
        seed in 0u64..1000,
    ) {
        let c = Cdf::new(&hist(&a)).unwrap();
        let side = [c.clone(), c.clone(), c];
        let d = blocked(&side, &side, 0.95, 300, 0.95, &mut Rng::new(seed)).unwrap();
        prop_assert_eq!(d.d, 0.0);
        prop_assert!(d.lo <= 0.0 && 0.0 <= d.hi, "{d:?}");
    }
}

#[test]
fn blocked_runs_see_what_one_slow_run_does_to_the_interval() {
    // Three runs a side from one distribution, and the same with one run
    // 40% slower: the slow run widens the interval (a run is the block)
    // instead of shifting a pooled estimate with a narrow interval.
    let base: Vec<u64> = (1..=200).map(|v| 1_000 * v).collect();
    let slow: Vec<u64> = base.iter().map(|v| v * 14 / 10).collect();
    let cdf = |v: &[u64]| Cdf::new(&hist(v)).unwrap();
    let steady = [cdf(&base), cdf(&base), cdf(&base)];
    let one_slow = [cdf(&base), cdf(&base), cdf(&slow)];
    let quiet = blocked(&steady, &steady, 0.95, 2000, 0.95, &mut Rng::new(5)).unwrap();
    let noisy = blocked(&steady, &one_slow, 0.95, 2000, 0.95, &mut Rng::new(5)).unwrap();
    assert!(noisy.d > 0.05, "{noisy:?}");
    assert!(
        noisy.lo <= 0.0,
        "one slow run in three is not a regression: {noisy:?}"
    );
    assert!(
        noisy.hi - noisy.lo > 2.0 * (quiet.hi - quiet.lo),
        "{quiet:?} {noisy:?}"
    );
}
