//! Capacity by search (`[load.search]`): which load to probe next, given
//! what each probe so far showed. Exponential steps up from the low bound
//! bracket the boundary; bisection (in ratio, the geometric middle) narrows
//! it until the highest passing and lowest failing loads are within the
//! resolution; a hold at the highest passing load confirms it. Pure: the
//! caller runs each probe and records its verdict, so the search is tested
//! here against simulated targets.

/// The search's bounds and resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSpec {
    /// The first load probed; the answer is "below this" if it fails.
    pub low: f64,
    /// The most load probed; the answer is "at least this" if it passes.
    pub high: f64,
    /// Done when the lowest failing load is within this ratio above the
    /// highest passing one (0.05: within 5%).
    pub resolution: f64,
    /// Loads are whole numbers (users, in the closed model).
    pub whole: bool,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Probe this load for a probe window.
    Probe(f64),
    /// Hold the answer for the confirmation window.
    Confirm(f64),
    Done,
}

/// Where the answer lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    /// Even the low bound failed (its confirmation included).
    BelowLow,
    /// Capacity is at least `passed` and below `failed`, narrowed to the
    /// resolution and confirmed at `passed`.
    Within { passed: f64, failed: f64 },
    /// The high bound passed and held: capacity is at least that.
    AtLeastHigh { passed: f64 },
}

/// Most probes a search runs, whatever its targets' verdicts: a target that
/// passes and fails at random cannot keep it going.
pub const MAX_PROBES: usize = 40;

/// The search so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    spec: SearchSpec,
    passed: Vec<f64>,
    failed: Vec<f64>,
    /// The load whose confirmation passed.
    confirmed: Option<f64>,
    probes: usize,
}

impl Search {
    pub fn new(spec: SearchSpec) -> Self {
        Search {
            spec,
            passed: Vec::new(),
            failed: Vec::new(),
            confirmed: None,
            probes: 0,
        }
    }

    /// The lowest failing load.
    fn hi(&self) -> Option<f64> {
        self.failed.iter().copied().reduce(f64::min)
    }

    /// The highest passing load below the lowest failing one: a pass above
    /// a failure is luck, not capacity.
    fn lo(&self) -> Option<f64> {
        let hi = self.hi().unwrap_or(f64::INFINITY);
        self.passed
            .iter()
            .copied()
            .filter(|p| *p < hi)
            .reduce(f64::max)
    }

    fn narrow_enough(&self, lo: f64, hi: f64) -> bool {
        hi <= lo * (1.0 + self.spec.resolution) || (self.spec.whole && hi - lo <= 1.0)
    }

    fn round(&self, x: f64) -> f64 {
        if self.spec.whole { x.round() } else { x }
    }

    /// The next probe, or the confirmation, or the end.
    pub fn next(&self) -> Step {
        if self.confirmed.is_some() || self.probes >= MAX_PROBES {
            return Step::Done;
        }
        let (lo, hi) = (self.lo(), self.hi());
        match (lo, hi) {
            (None, None) => Step::Probe(self.spec.low),
            (None, Some(_)) => Step::Done,
            (Some(lo), None) if lo >= self.spec.high => Step::Confirm(lo),
            (Some(lo), None) => Step::Probe(self.round((lo * 2.0).min(self.spec.high))),
            (Some(lo), Some(hi)) if self.narrow_enough(lo, hi) => Step::Confirm(lo),
            (Some(lo), Some(hi)) => {
                let mid = self.round((lo * hi).sqrt());
                // Whole loads: the middle rounds onto a bound when they are
                // two apart; step inside instead.
                let mid = if mid <= lo || mid >= hi {
                    self.round(lo + 1.0)
                } else {
                    mid
                };
                Step::Probe(mid)
            }
        }
    }

    /// What the probe (or confirmation) at `load` showed.
    pub fn record(&mut self, step: Step, passed: bool) {
        self.probes += 1;
        let load = match step {
            Step::Probe(l) | Step::Confirm(l) => l,
            Step::Done => return,
        };
        match (step, passed) {
            (Step::Confirm(l), true) => self.confirmed = Some(l),
            (_, true) => self.passed.push(load),
            (_, false) => self.failed.push(load),
        }
    }

    /// The answer once [`Search::next`] says done.
    pub fn answer(&self) -> Answer {
        match (self.confirmed.or(self.lo()), self.hi()) {
            (None, _) => Answer::BelowLow,
            (Some(passed), Some(failed)) => Answer::Within { passed, failed },
            (Some(passed), None) => Answer::AtLeastHigh { passed },
        }
    }

    /// Probes run so far (confirmations included).
    pub fn probes(&self) -> usize {
        self.probes
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Runs a search against a target that passes a load iff `passes(load)`.
    fn run(spec: SearchSpec, mut passes: impl FnMut(f64) -> bool) -> (Answer, Vec<Step>) {
        let mut s = Search::new(spec);
        let mut steps = Vec::new();
        loop {
            let step = s.next();
            if step == Step::Done {
                return (s.answer(), steps);
            }
            let l = match step {
                Step::Probe(l) | Step::Confirm(l) => l,
                Step::Done => unreachable!(),
            };
            steps.push(step);
            s.record(step, passes(l));
        }
    }

    fn spec(low: f64, high: f64) -> SearchSpec {
        SearchSpec {
            low,
            high,
            resolution: 0.05,
            whole: false,
        }
    }

    #[test]
    fn brackets_then_bisects_then_confirms() {
        let (a, steps) = run(spec(10.0, 1000.0), |l| l <= 137.0);
        let Answer::Within { passed, failed } = a else {
            panic!("{a:?}")
        };
        assert!(
            passed <= 137.0 && failed > 137.0 && failed <= passed * 1.05,
            "{a:?}"
        );
        let probes: Vec<f64> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Probe(l) => Some(*l),
                _ => None,
            })
            .collect();
        assert_eq!(&probes[..5], &[10.0, 20.0, 40.0, 80.0, 160.0]);
        assert_eq!(steps.last(), Some(&Step::Confirm(passed)));
        assert!(steps.len() <= 12, "{steps:?}");
    }

    #[test]
    fn the_bounds_answer_for_themselves() {
        assert_eq!(run(spec(10.0, 100.0), |_| false).0, Answer::BelowLow);
        assert_eq!(
            run(spec(10.0, 100.0), |_| true).0,
            Answer::AtLeastHigh { passed: 100.0 }
        );
    }

    #[test]
    fn a_failed_confirmation_narrows_again_below_it() {
        // Passes short probes up to 50, but a hold at 48-50 fails.
        let mut s = Search::new(spec(10.0, 100.0));
        loop {
            match s.next() {
                Step::Done => break,
                st @ Step::Probe(l) => s.record(st, l <= 50.0),
                st @ Step::Confirm(l) => s.record(st, l <= 45.0),
            }
        }
        let Answer::Within { passed, failed } = s.answer() else {
            panic!("{:?}", s.answer())
        };
        assert!(passed <= 45.0 && failed > 45.0, "{passed} {failed}");
    }

    #[test]
    fn users_are_whole_and_narrow_to_one() {
        let spec = SearchSpec {
            low: 1.0,
            high: 64.0,
            resolution: 0.05,
            whole: true,
        };
        let (a, steps) = run(spec, |l| l <= 23.0);
        assert_eq!(
            a,
            Answer::Within {
                passed: 23.0,
                failed: 24.0
            }
        );
        assert!(steps.iter().all(|s| match s {
            Step::Probe(l) | Step::Confirm(l) => l.fract() == 0.0,
            Step::Done => true,
        }));
    }

    proptest! {
        /// Against any monotone target the answer brackets its capacity
        /// within the resolution, in a bounded number of probes.
        #[test]
        fn lands_within_the_resolution(cap in 1.0f64..5000.0, low in 1.0f64..50.0, res in 0.01f64..0.2) {
            let spec = SearchSpec { low, high: 10_000.0, resolution: res, whole: false };
            let (a, steps) = run(spec, |l| l <= cap);
            match a {
                Answer::Within { passed, failed } => {
                    prop_assert!(passed <= cap && failed > cap);
                    prop_assert!(failed <= passed * (1.0 + res) + 1e-9);
                }
                Answer::BelowLow => prop_assert!(cap < low),
                Answer::AtLeastHigh { .. } => prop_assert!(false, "capacity is below high"),
            }
            let bound = (10_000.0f64 / low).log2().ceil() + ((2.0f64).ln() / (1.0 + res).ln()).log2().ceil() + 3.0;
            prop_assert!(steps.len() as f64 <= bound, "{} probes, bound {}", steps.len(), bound);
        }

        /// A target that passes and fails at random still ends the search.
        #[test]
        fn noise_cannot_keep_it_going(seed in 0u64..1000) {
            let mut x = seed;
            let (_, steps) = run(spec(1.0, 1e6), |_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                x >> 63 == 1
            });
            prop_assert!(steps.len() <= MAX_PROBES);
        }
    }
}
