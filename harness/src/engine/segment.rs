//! One segment of a scenario's load (`--segment I/N`), so N machines (the
//! pods of a Kubernetes Indexed Job) together send exactly what one would:
//! in the open model, every N-th arrival of the one seeded schedule from
//! the I-th; in the closed model, an even share of the users and of the
//! request budget. The union of the N segments is the unsegmented load,
//! arrival for arrival.

use std::time::Duration;

use serde::Serialize;

use super::schedule::Schedule;
use super::workers::share;

/// Segment `index` of `count` (from 0, as `JOB_COMPLETION_INDEX` counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoadSegment {
    pub index: u32,
    pub count: u32,
}

/// Most segments a load splits into (an Indexed Job's completions limit).
pub const MAX_SEGMENTS: u32 = 100_000;

impl Default for LoadSegment {
    fn default() -> Self {
        LoadSegment::WHOLE
    }
}

impl LoadSegment {
    /// The whole load: what a run without `--segment` sends.
    pub const WHOLE: LoadSegment = LoadSegment { index: 0, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 || count > MAX_SEGMENTS {
            return Err(format!(
                "{count} segments: give between 1 and {MAX_SEGMENTS}"
            ));
        }
        if index >= count {
            return Err(format!(
                "segment {index} of {count}: segments count from 0 to {}, as JOB_COMPLETION_INDEX does",
                count - 1
            ));
        }
        Ok(LoadSegment { index, count })
    }

    /// Parses `I/N`, e.g. `2/4`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: write the segment as I/N, e.g. 0/4"))?;
        let num = |v: &str, what: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{s}`: {what} `{v}` is not a whole number"))
        };
        Self::new(num(i, "the index")?, num(n, "the count")?)
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// The open model's sends of worker `id` of `workers` in this segment:
    /// arrivals k of the whole schedule with k ≡ index (mod count), dealt
    /// round-robin to the workers.
    pub fn arrivals(
        self,
        whole: Schedule,
        id: usize,
        workers: usize,
    ) -> impl Iterator<Item = Duration> {
        let (n, w) = (self.count as usize, workers.max(1));
        whole.skip(self.index as usize + n * id).step_by(n * w)
    }

    /// This segment's part of `total` (users, a request budget).
    pub fn share(self, total: u64) -> u64 {
        share(total, self.index as usize, self.count as usize)
    }

    /// The seed of a worker's dataset draws, from the run's seed and
    /// `parts`: this segment's own (so segments do not send the same rows
    /// in the same order), and for the whole load what it always was.
    pub fn draw_seed(self, seed: u64, parts: &[&str]) -> u64 {
        if self.is_whole() {
            return genbench_presets::rng::hash_parts(seed, parts);
        }
        let label = format!("segment {}/{}", self.index, self.count);
        let mut all = vec![label.as_str()];
        all.extend_from_slice(parts);
        genbench_presets::rng::hash_parts(seed, &all)
    }
}

#[cfg(test)]
mod tests {
    use genbench_scenarios::{Arrivals, parse_shorthand};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn segments_parse_and_say_what_is_wrong() {
        assert_eq!(
            LoadSegment::parse("2/4"),
            Ok(LoadSegment { index: 2, count: 4 })
        );
        assert!(
            LoadSegment::parse("4/4")
                .unwrap_err()
                .contains("from 0 to 3")
        );
        assert!(LoadSegment::parse("0/0").unwrap_err().contains("between 1"));
        assert!(LoadSegment::parse("2").unwrap_err().contains("I/N"));
        assert!(
            LoadSegment::parse("a/4")
                .unwrap_err()
                .contains("whole number")
        );
        let parts = ["users", "0"];
        let whole = LoadSegment::WHOLE.draw_seed(7, &parts);
        assert_eq!(whole, genbench_presets::rng::hash_parts(7, &parts));
        let (a, b) = (
            LoadSegment::new(0, 2).unwrap(),
            LoadSegment::new(1, 2).unwrap(),
        );
        assert_ne!(a.draw_seed(7, &parts), b.draw_seed(7, &parts));
        assert_ne!(a.draw_seed(7, &parts), whole);
    }

    proptest! {
        /// For any stages, seed, cap, segment count and workers, the
        /// segments' sends partition the whole schedule, arrival for
        /// arrival, and a segment's workers partition the segment.
        #[test]
        fn segments_partition_the_whole_schedule(
            rate in 1u32..60,
            secs in 1u32..20,
            poisson in any::<bool>(),
            seed in any::<u64>(),
            cap in prop_oneof![Just(u64::MAX), 0u64..500],
            count in 1u32..9,
            workers in 1usize..5,
        ) {
            let stages = parse_shorthand(&format!("{rate},{secs}s;{rate},{secs}s")).unwrap();
            let arrivals = if poisson { Arrivals::Poisson } else { Arrivals::Constant };
            let whole = || Schedule::new(&stages, arrivals, seed, cap);
            let all: Vec<Duration> = whole().collect();
            let mut parts: Vec<(usize, Duration)> = Vec::new();
            for i in 0..count {
                let seg = LoadSegment::new(i, count).unwrap();
                for id in 0..workers {
                    let sends: Vec<Duration> = seg.arrivals(whole(), id, workers).collect();
                    // Each send is the whole schedule's arrival at its place.
                    for (m, t) in sends.iter().enumerate() {
                        let k = i as usize + count as usize * (id + workers * m);
                        prop_assert_eq!(Some(t), all.get(k));
                        parts.push((k, *t));
                    }
                }
            }
            parts.sort_by_key(|p| p.0);
            let union: Vec<Duration> = parts.iter().map(|p| p.1).collect();
            prop_assert_eq!(union, all);
        }

        #[test]
        fn shares_add_up_to_the_whole(total in 0u64..100_000, count in 1u32..300) {
            let sum: u64 = (0..count).map(|i| LoadSegment::new(i, count).unwrap().share(total)).sum();
            prop_assert_eq!(sum, total);
        }
    }
}
