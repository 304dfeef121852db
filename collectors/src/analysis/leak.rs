//! Soak: does the target's memory grow? Readings after the warm-up (RSS, or
//! a heap gauge the target publishes) are reduced to each window's floor.
//! Memory moves two ways: steadily, as a leak does, and in steps, as a
//! cache expiring or an allocator mapping an arena does. Steps are found
//! first (jumps far outside the window-to-window spread).
//!
//! On a heap gauge a step is the target's own doing (a cache expiring), so
//! one slope is fitted through the segments between steps, each at its own
//! level, and the steps' net rise counts against `no_leak`. On RSS a step
//! is how an allocator shows a steady leak (it maps memory an arena at a
//! time), so fitting around the steps would remove the leak: the slope is
//! fitted through them, and their serial correlation widens its interval
//! (growth in bursts wanders like a random walk: `stats::drift`).
//! Either way the slope (95% CI, MiB/h) is cross-checked with Theil–Sen
//! over the whole series, and the verdict compares both with a tolerance.

use genbench_model::{Leak, LeakVerdict};

use super::stats::{drift, median, ols_segments, theil_sen};

/// Fewest points (windows) after the warm-up for any verdict but
/// `inconclusive`.
pub const MIN_SAMPLES: usize = 10;

/// What to fit and how.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakInput<'a> {
    /// (seconds into the run, MiB) readings.
    pub series: &'a [(f64, f64)],
    /// `rss` or `metrics:<gauge>`.
    pub signal: &'a str,
    pub warmup_s: f64,
    pub tolerance_mib_per_h: f64,
    /// Each window's lowest reading is one point; 0 fits every reading.
    pub window_s: f64,
    /// The warm-up is the default, not the scenario's: on RSS it is then
    /// extended to where the series settles ([`settled`]).
    pub settle: bool,
}

/// The lowest reading of each `window_s` window from `start_s`, timed at
/// the window's middle; only whole windows. Memory a request holds while in flight lifts a
/// reading for a moment and never the floor; growth lifts both.
pub fn window_floors(series: &[(f64, f64)], start_s: f64, window_s: f64) -> Vec<(f64, f64)> {
    let kept = series.iter().filter(|(t, _)| *t >= start_s);
    if window_s <= 0.0 {
        return kept.copied().collect();
    }
    let mut floors: Vec<(f64, f64)> = Vec::new();
    let mut current: Option<(i64, f64)> = None;
    for &(t, v) in kept {
        let k = ((t - start_s) / window_s).floor() as i64;
        match &mut current {
            Some((ck, min)) if *ck == k => *min = min.min(v),
            _ => {
                if let Some((ck, min)) = current {
                    floors.push((start_s + (ck as f64 + 0.5) * window_s, min));
                }
                current = Some((k, v));
            }
        }
    }
    if let Some((ck, min)) = current {
        floors.push((start_s + (ck as f64 + 0.5) * window_s, min));
    }
    // A window the run ended in has fewer readings, so a higher floor.
    let last_t = series.last().map_or(0.0, |p| p.0);
    floors.retain(|(mid, _)| mid + window_s / 2.0 <= last_t + 1e-9);
    floors
}

/// A jump between neighbours must be this many robust spreads (1.4826 ×
/// the median absolute deviation of the differences) from their median.
const STEP_SPREADS: f64 = 6.0;
/// ... and larger than this many windows' growth at the tolerance, so a
/// series with no spread at all does not call every wobble a step.
const STEP_MIN_WINDOWS: f64 = 4.0;

/// Where each segment between steps starts (the first at 0), and the
/// steps' net rise in MiB. More steps than one point in five is no longer
/// steps but noise: then one segment.
pub fn level_shifts(x_h: &[f64], y: &[f64], tolerance_mib_per_h: f64) -> (Vec<usize>, f64) {
    let d: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let mut sorted = d.clone();
    let Some(med) = median(&mut sorted) else {
        return (vec![0], 0.0);
    };
    let mut dev: Vec<f64> = d.iter().map(|v| (v - med).abs()).collect();
    let spread = 1.4826 * median(&mut dev).unwrap_or(0.0);
    let dt_h = (x_h.last().unwrap_or(&0.0) - x_h.first().unwrap_or(&0.0)) / d.len() as f64;
    let limit = (STEP_SPREADS * spread).max(STEP_MIN_WINDOWS * tolerance_mib_per_h * dt_h);
    let mut starts = vec![0];
    let mut rise = 0.0;
    for (i, v) in d.iter().enumerate() {
        if (v - med).abs() > limit {
            starts.push(i + 1);
            rise += v;
        }
    }
    if starts.len() - 1 > y.len() / 5 {
        return (vec![0], 0.0);
    }
    (starts, rise)
}

/// How many of the first points are still warming up: the truncation that
/// leaves the most linear rest, by the marginal standard error rule (MSER,
/// White 1997) with a line in place of the mean: the `d` in the first half
/// that minimises the residual sum of squares of a line through
/// `points[d..]` over `(n − d)²`. A process still filling its heap (a
/// Python service's arenas and caches) grows fast, then slowly, for
/// minutes; a line through that curve reads growth that stops. A steady
/// leak is a line from the start, and keeps every point.
pub fn settled(points: &[(f64, f64)]) -> usize {
    let n = points.len();
    if n < 2 * MIN_SAMPLES {
        return 0;
    }
    let score = |d: usize| {
        let (x, y): (Vec<f64>, Vec<f64>) = points[d..].iter().copied().unzip();
        let Some(f) = super::stats::ols(&x, &y) else {
            return f64::INFINITY;
        };
        let ssr: f64 = x
            .iter()
            .zip(&y)
            .map(|(x, y)| (y - f.intercept - f.slope * x).powi(2))
            .sum();
        ssr / ((n - d) as f64).powi(2)
    };
    (0..=n / 2)
        .map(|d| (d, score(d)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(d, _)| d)
}

/// `None` with fewer than 3 points after `warmup_s`.
///
/// - `leak`: the whole CI and the Theil–Sen slope are above `tolerance`;
/// - `no_leak`: the CI's top plus any net rise of the steps, and the
///   Theil–Sen slope, are below it (growth hidden in steps is still growth);
/// - `inconclusive`: anything else, or fewer than [`MIN_SAMPLES`] points.
pub fn leak(input: &LeakInput) -> Option<Leak> {
    let tolerance_mib_per_h = input.tolerance_mib_per_h;
    let through_steps = input.signal == "rss";
    let mut points = window_floors(input.series, input.warmup_s, input.window_s);
    let mut warmup_s = input.warmup_s;
    if through_steps && input.settle {
        let d = settled(&points);
        if d > 0 {
            // The window before the first point kept ends where it begins.
            warmup_s = points[d].0 - input.window_s / 2.0;
            points.drain(..d);
        }
    }
    let x: Vec<f64> = points.iter().map(|p| p.0 / 3600.0).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1).collect();
    let (starts, rise) = level_shifts(&x, &y, tolerance_mib_per_h);
    let fit = if through_steps {
        drift(&x, &y)?
    } else {
        ols_segments(&x, &y, &starts).or_else(|| ols_segments(&x, &y, &[0]))?
    };
    let ts = theil_sen(&x, &y)?;
    let span_h = x.last()? - x.first()?;
    let steps = if span_h > 0.0 { rise / span_h } else { 0.0 };
    // Growth in steps the slope did not see counts against `no_leak`.
    let unseen = if through_steps { 0.0 } else { steps.max(0.0) };
    let ci = [fit.slope - fit.ci95_half, fit.slope + fit.ci95_half];
    let verdict = if points.len() < MIN_SAMPLES {
        LeakVerdict::Inconclusive
    } else if ci[0] > tolerance_mib_per_h && ts > tolerance_mib_per_h {
        LeakVerdict::Leak
    } else if ci[1] + unseen < tolerance_mib_per_h && ts < tolerance_mib_per_h {
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
        samples: points.len() as u64,
        signal: input.signal.to_string(),
        window_s: input.window_s,
        level_shifts: starts.len() as u64 - 1,
        steps_mib_per_h: steps,
        segment: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (1..=n).map(|i| (i as f64, f(i as f64))).collect()
    }

    fn leak(s: &[(f64, f64)], warmup_s: f64, tolerance_mib_per_h: f64) -> Option<Leak> {
        super::leak(&LeakInput {
            series: s,
            signal: "rss",
            warmup_s,
            tolerance_mib_per_h,
            window_s: 0.0,
            settle: false,
        })
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

    /// A heap count at 1 Hz: `slope` MiB/h of growth, plus what requests
    /// in flight hold (up to 2 MiB on a few readings in five).
    fn heap(slope: f64, seconds: usize) -> Vec<(f64, f64)> {
        series(seconds, |t| {
            let busy = if (t * 13.7).sin() > 0.6 {
                2.0 * (t * 3.3).cos().abs()
            } else {
                0.0
            };
            44.0 + slope * t / 3600.0 + busy
        })
    }

    #[test]
    fn window_floors_drop_what_requests_hold_for_a_moment() {
        let floors = window_floors(&heap(0.0, 100), 0.0, 10.0);
        assert_eq!(floors.len(), 10);
        assert!(
            floors.iter().all(|&(_, v)| (v - 44.0).abs() < 1e-9),
            "{floors:?}"
        );
        assert_eq!(floors[0].0, 5.0);
        assert_eq!(window_floors(&heap(0.0, 100), 50.0, 0.0).len(), 51);
    }

    /// RSS as an allocator shows a steady leak of `rate` MiB/h: flat, then
    /// a step when the next `step_mib` is mapped, with page-cache jitter.
    fn staircase(rate: f64, step_mib: f64, seconds: usize) -> Vec<(f64, f64)> {
        series(seconds, |t| {
            let kept = rate * t / 3600.0;
            60.0 + (kept / step_mib).floor() * step_mib + 0.01 * (t * 1.7).sin().abs()
        })
    }

    fn rss_soak(series: &[(f64, f64)], signal: &str) -> Leak {
        super::leak(&LeakInput {
            series,
            signal,
            warmup_s: 120.0,
            tolerance_mib_per_h: 5.0,
            window_s: 10.0,
            settle: true,
        })
        .unwrap()
    }

    /// A Python service's RSS as measured (bench/leak-fastapi.sh, glibc,
    /// clean): +2.3 MiB in the first 150 s, +0.25 MiB in the next 120 s,
    /// then +0.1 MiB in five minutes; `leak` MiB/h on top from the start.
    fn python_rss(leak: f64) -> Vec<(f64, f64)> {
        series(600, |t| {
            let warming = 2.35 * (1.0 - (-t / 60.0).exp()) + 0.3 * (1.0 - (-t / 150.0).exp());
            69.9 + warming + 1.2 * t / 3600.0 + leak * t / 3600.0 + 0.01 * (t * 1.3).sin()
        })
    }

    #[test]
    fn rss_still_warming_after_the_default_warm_up_is_left_out_until_it_settles() {
        let clean = rss_soak(&python_rss(0.0), "rss");
        assert_eq!(clean.verdict, LeakVerdict::NoLeak, "{clean:?}");
        assert!(clean.warmup_excluded_s > 120.0, "{clean:?}");
        let leaking = rss_soak(&python_rss(10.0), "rss");
        assert_eq!(leaking.verdict, LeakVerdict::Leak, "{leaking:?}");
        let [lo, hi] = leaking.ci95_mib_per_h;
        assert!(lo < 11.2 && 11.2 < hi, "{leaking:?}");
        // A warm-up the scenario set is kept as set.
        let as_set = super::leak(&LeakInput {
            series: &python_rss(0.0),
            signal: "rss",
            warmup_s: 120.0,
            tolerance_mib_per_h: 5.0,
            window_s: 10.0,
            settle: false,
        })
        .unwrap();
        assert_eq!(as_set.warmup_excluded_s, 120.0);
        // A steady leak from the start keeps (nearly) every point.
        let steady: Vec<(f64, f64)> =
            series(600, |t| 60.0 + 10.0 * t / 3600.0 + 0.01 * (t * 1.3).sin());
        let l = rss_soak(&steady, "rss");
        assert!(l.warmup_excluded_s <= 150.0, "{l:?}");
        assert!(
            l.ci95_mib_per_h[0] < 10.0 && 10.0 < l.ci95_mib_per_h[1],
            "{l:?}"
        );
    }

    #[test]
    fn a_leak_in_allocator_steps_is_read_through_them_on_rss() {
        // 10 MiB/h mapped 0.25 MiB at a time: a step every 90 s, flat
        // between. Fitted around the steps (as a heap gauge is) the slope
        // is near zero; through them, on RSS, it is the leak.
        let s = staircase(10.0, 0.25, 600);
        let rss = rss_soak(&s, "rss");
        assert_eq!(rss.verdict, LeakVerdict::Leak, "{rss:?}");
        assert!(rss.level_shifts >= 3, "{rss:?}");
        let [lo, hi] = rss.ci95_mib_per_h;
        assert!(lo < 10.0 && 10.0 < hi, "{rss:?}");
        let around = rss_soak(&s, "metrics:heap");
        assert!(around.slope_mib_per_h < 3.0, "{around:?}");
        assert_ne!(
            around.verdict,
            LeakVerdict::NoLeak,
            "steps count against no_leak"
        );
        // A clean service's flat RSS stays clean.
        let flat = staircase(0.0, 0.25, 600);
        assert_eq!(rss_soak(&flat, "rss").verdict, LeakVerdict::NoLeak);
    }

    /// `t_s,rss_mib` lines; `#` starts a comment.
    fn measured(csv: &str) -> Vec<(f64, f64)> {
        csv.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(','))
            .map(|(t, v)| (t.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn rss_growing_in_waves_is_still_a_leak() {
        // Two soaks of the leaking example service whose RSS grew in
        // waves: a line with residual correlation widened by n_eff read
        // them as 2.6 to 22.8 and 2.9 to 24.5 MiB/h, `inconclusive`.
        for csv in [
            include_str!("testdata/python-rss-leak-6.csv"),
            include_str!("testdata/python-rss-leak-9.csv"),
        ] {
            let l = rss_soak(&measured(csv), "rss");
            assert_eq!(l.verdict, LeakVerdict::Leak, "{l:?}");
            let [lo, hi] = l.ci95_mib_per_h;
            assert!(hi - lo < 12.0, "{l:?}");
        }
    }

    #[test]
    fn a_leak_at_the_budget_is_told_from_none_in_ten_minutes() {
        // 10 MiB/h against a 5 MiB/h line, 8 minutes after the warm-up.
        let judge = |slope| {
            super::leak(&LeakInput {
                series: &heap(slope, 600),
                signal: "metrics:genbench_pipeline_heap_bytes",
                warmup_s: 120.0,
                tolerance_mib_per_h: 5.0,
                window_s: 10.0,
                settle: true,
            })
            .unwrap()
        };
        let leaking = judge(10.0);
        assert_eq!(leaking.verdict, LeakVerdict::Leak, "{leaking:?}");
        assert_eq!(leaking.samples, 48);
        assert_eq!(judge(0.0).verdict, LeakVerdict::NoLeak);
    }
}
