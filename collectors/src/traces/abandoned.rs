//! The GenAI usage of requests genbench abandoned: the cost of work nobody
//! received. A span and the notice that its request was abandoned arrive
//! in either order (spans are exported in batches, seconds later; a call
//! can also end before the client gives up), so each side waits for the
//! other, within bounds.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::body::Usage;
use crate::cost::UsageTally;

/// Traces whose GenAI usage is kept in case their request turns out to be
/// abandoned; older ones are forgotten first. At a thousand requests a
/// second, well over a minute of them.
const RECENT_TRACES: usize = 100_000;
/// Abandoned traces remembered for spans still to come.
const ABANDONED_TRACES: usize = 1_000_000;

#[derive(Debug, Default)]
pub struct AbandonedUsage {
    abandoned: HashSet<u128>,
    recent: HashMap<u128, Vec<(Box<str>, Usage)>>,
    order: VecDeque<u128>,
    tally: UsageTally,
}

impl AbandonedUsage {
    /// A GenAI span's usage, of trace `trace`.
    pub fn usage(&mut self, trace: u128, model: &str, u: Usage) {
        if self.abandoned.contains(&trace) {
            self.tally.record(model, u);
            return;
        }
        let calls = self.recent.entry(trace).or_default();
        if calls.is_empty() {
            self.order.push_back(trace);
        }
        calls.push((model.into(), u));
        while self.order.len() > RECENT_TRACES {
            if let Some(old) = self.order.pop_front() {
                self.recent.remove(&old);
            }
        }
    }

    /// Requests genbench abandoned, by their trace ids.
    pub fn abandoned(&mut self, traces: &[u128]) {
        for &t in traces {
            if let Some(calls) = self.recent.remove(&t) {
                for (model, u) in calls {
                    self.tally.record(&model, u);
                }
            }
            if self.abandoned.len() < ABANDONED_TRACES {
                self.abandoned.insert(t);
            }
        }
    }

    /// The usage of every abandoned request's GenAI calls.
    pub fn finish(self) -> UsageTally {
        self.tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(completion: u64) -> Usage {
        Usage {
            prompt: 100,
            completion,
            cached_prompt: 0,
        }
    }

    #[test]
    fn usage_counts_whichever_arrives_first() {
        let mut a = AbandonedUsage::default();
        a.usage(1, "m", u(10)); // before its notice
        a.usage(2, "m", u(20)); // a request that was answered
        a.abandoned(&[1, 3]);
        a.usage(3, "m", u(30)); // after its notice
        a.usage(3, "m", u(5)); // a second call of the same request
        let mut want = UsageTally::default();
        want.record("m", u(10));
        want.record("m", u(30));
        want.record("m", u(5));
        assert_eq!(a.finish(), want);
    }

    #[test]
    fn the_oldest_unclaimed_usage_is_forgotten_first() {
        let mut a = AbandonedUsage::default();
        for t in 0..(RECENT_TRACES as u128 + 10) {
            a.usage(t, "m", u(1));
        }
        assert_eq!(a.recent.len(), RECENT_TRACES);
        a.abandoned(&[0, RECENT_TRACES as u128 + 9]);
        let mut want = UsageTally::default();
        want.record("m", u(1));
        assert_eq!(a.finish(), want, "trace 0 was forgotten");
    }
}
