//! Soak: does the target's memory grow? RSS readings after the warm-up are
//! fitted with least squares (slope and 95% CI, in MiB/h) and cross-checked
//! with Theil–Sen; the verdict compares both with a tolerance.

use genbench_model::{Leak, LeakVerdict, ProcessSample};

use super::stats::{ols, theil_sen};

/// Fewest readings after the warm-up for any verdict but `inconclusive`.
pub const MIN_SAMPLES: usize = 10;

/// `None` with fewer than 3 readings after `warmup_s`.
///
/// - `leak`: the whole CI and the Theil–Sen slope are above `tolerance`;
/// - `no_leak`: the whole CI and the Theil–Sen slope are below it;
/// - `inconclusive`: anything else, or fewer than [`MIN_SAMPLES`] readings.
pub fn leak(samples: &[ProcessSample], warmup_s: f64, tolerance_mib_per_h: f64) -> Option<Leak> {
    let kept: Vec<&ProcessSample> = samples.iter().filter(|s| s.t_s >= warmup_s).collect();
    let x: Vec<f64> = kept.iter().map(|s| s.t_s / 3600.0).collect();
    let y: Vec<f64> = kept.iter().map(|s| s.rss_mib).collect();
    let fit = ols(&x, &y)?;
    let ts = theil_sen(&x, &y)?;
    let ci = [fit.slope - fit.ci95_half, fit.slope + fit.ci95_half];
    let verdict = if kept.len() < MIN_SAMPLES {
        LeakVerdict::Inconclusive
    } else if ci[0] > tolerance_mib_per_h && ts > tolerance_mib_per_h {
        LeakVerdict::Leak
    } else if ci[1] < tolerance_mib_per_h && ts < tolerance_mib_per_h {
        LeakVerdict::NoLeak
    } else {
        LeakVerdict::Inconclusive
    };
    Some(Leak {
        slope_mib_per_h: fit.slope,
        ci95_mib_per_h: ci,
        theil_sen_mib_per_h: ts,
        warmup_excluded_s: warmup_s,
        verdict,
        tolerance_mib_per_h,
        samples: kept.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, f: impl Fn(f64) -> f64) -> Vec<ProcessSample> {
        (1..=n)
            .map(|i| {
                let t = i as f64;
                ProcessSample {
                    t_s: t,
                    cpu_pct: 10.0,
                    rss_mib: f(t),
                }
            })
            .collect()
    }

    // A little deterministic jitter, as allocators give.
    fn jitter(t: f64) -> f64 {
        ((t * 7.3).sin() + (t * 3.1).cos()) * 0.2
    }

    #[test]
    fn a_steady_leak_is_a_leak() {
        // 566 MiB/h, as measured on the reference pipeline's leak knob.
        let s = series(60, |t| 50.0 + 566.0 * t / 3600.0 + jitter(t));
        let l = leak(&s, 15.0, 10.0).unwrap();
        assert_eq!(l.verdict, LeakVerdict::Leak, "{l:?}");
        assert!(
            l.ci95_mib_per_h[0] < 566.0 && 566.0 < l.ci95_mib_per_h[1],
            "{l:?}"
        );
        assert_eq!(l.samples, 46);
    }

    #[test]
    fn a_warm_up_plateau_is_no_leak_once_excluded() {
        // Fills a cache for 15 s, then flat.
        let s = series(120, |t| 40.0 + 20.0 * (t / 15.0).min(1.0) + jitter(t) * 0.1);
        let without = leak(&s, 0.0, 10.0).unwrap();
        assert_ne!(without.verdict, LeakVerdict::NoLeak, "{without:?}");
        let with = leak(&s, 20.0, 10.0).unwrap();
        assert_eq!(with.verdict, LeakVerdict::NoLeak, "{with:?}");
    }

    #[test]
    fn too_few_readings_say_so() {
        let s = series(8, |t| 50.0 + t);
        assert_eq!(
            leak(&s, 0.0, 10.0).unwrap().verdict,
            LeakVerdict::Inconclusive
        );
        assert!(leak(&s, 7.0, 10.0).is_none());
    }

    #[test]
    fn growth_near_the_tolerance_is_inconclusive() {
        let s = series(30, |t| 50.0 + 10.0 * t / 3600.0 + jitter(t));
        assert_eq!(
            leak(&s, 0.0, 10.0).unwrap().verdict,
            LeakVerdict::Inconclusive
        );
    }
}
