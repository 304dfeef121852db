//! A percentile's change between two sides of several runs each, by a
//! bootstrap that resamples whole runs (the block: a run's requests share
//! its machine's state) and, within them, the pooled requests.
//!
//! Two forms:
//! - [`paired`]: every run sent the same requests in the same order (the
//!   `ci` built-in is seeded and single-user, and the mocks draw each call's
//!   delay from its sequence number), so request i met the same provider
//!   delays on both sides. One set of request indices is drawn for both
//!   sides, so what the requests share cancels and only the build's change
//!   and the machines' noise are left.
//! - [`blocked`]: from histograms alone (a run with too many requests to
//!   keep one by one, a stage, TTFT): the pooled quantile of the drawn runs
//!   is drawn at once through its order statistic's Beta distribution.
//!
//! Either way a replicate's change is ln(current) − ln(baseline), and the
//! interval is the replicates' percentile interval.

use super::stats::{Cdf, Diff, Rng};

/// The rank (1-based) of the `q` quantile among `n` values, as
/// [`Cdf::at`] picks it.
fn rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n.max(1))
}

/// The `q` quantile of `values` (reordered in place).
pub fn quantile_of(values: &mut [f64], q: f64) -> f64 {
    let k = rank(q, values.len()) - 1;
    *values.select_nth_unstable_by(k, f64::total_cmp).1
}

/// `count` run indices drawn with replacement from `0..count`.
fn draw_runs(count: usize, rng: &mut Rng) -> Vec<usize> {
    (0..count).map(|_| draw_below(count, rng)).collect()
}

fn draw_below(n: usize, rng: &mut Rng) -> usize {
    ((rng.uniform() * n as f64) as usize).min(n - 1)
}

fn interval(mut diffs: Vec<f64>, d: f64, confidence: f64) -> Diff {
    diffs.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let pick = |p: f64| diffs[((p * diffs.len() as f64) as usize).min(diffs.len() - 1)];
    Diff {
        d,
        lo: pick(tail),
        hi: pick(1.0 - tail),
        from_runs: false,
    }
}

/// Each side's runs as latencies in schedule order, every run the same
/// length: the change of the pooled `q` quantile, ln scale. `None` when a
/// side is empty, the runs differ in length, or a value is not positive.
pub fn paired(
    base: &[Vec<f64>],
    cur: &[Vec<f64>],
    q: f64,
    draws: usize,
    confidence: f64,
    rng: &mut Rng,
) -> Option<Diff> {
    let n = base.first()?.len();
    let runs = || base.iter().chain(cur);
    if n == 0 || cur.is_empty() || runs().any(|r| r.len() != n) {
        return None;
    }
    // NaN too: only positive values have a logarithm.
    if !runs().flatten().all(|v| *v > 0.0) {
        return None;
    }
    let pooled_q = |side: &[Vec<f64>], chosen: &[usize], idx: &[usize], buf: &mut Vec<f64>| {
        buf.clear();
        for &r in chosen {
            buf.extend(idx.iter().map(|&i| side[r][i]));
        }
        quantile_of(buf, q).ln()
    };
    let all: Vec<usize> = (0..n).collect();
    let every = |side: &[Vec<f64>]| (0..side.len()).collect::<Vec<_>>();
    let mut buf = Vec::with_capacity(n * base.len().max(cur.len()));
    let d =
        pooled_q(cur, &every(cur), &all, &mut buf) - pooled_q(base, &every(base), &all, &mut buf);
    let mut idx = vec![0; n];
    let diffs = (0..draws)
        .map(|_| {
            idx.iter_mut().for_each(|i| *i = draw_below(n, rng));
            let (rb, rc) = (draw_runs(base.len(), rng), draw_runs(cur.len(), rng));
            pooled_q(cur, &rc, &idx, &mut buf) - pooled_q(base, &rb, &idx, &mut buf)
        })
        .collect();
    Some(interval(diffs, d, confidence))
}

/// Each side's runs as histograms: the change of the pooled `q` quantile,
/// ln scale. `None` when a side is empty.
pub fn blocked(
    base: &[Cdf],
    cur: &[Cdf],
    q: f64,
    draws: usize,
    confidence: f64,
    rng: &mut Rng,
) -> Option<Diff> {
    if base.is_empty() || cur.is_empty() {
        return None;
    }
    let (mut pb, mut pc) = (Pools::new(base), Pools::new(cur));
    let every = |side: &[Cdf]| (0..side.len()).collect::<Vec<_>>();
    let d = pc.of(every(cur)).at(q).ln() - pb.of(every(base)).at(q).ln();
    let diffs = (0..draws)
        .map(|_| {
            let (rb, rc) = (draw_runs(base.len(), rng), draw_runs(cur.len(), rng));
            let b = pb.of(rb).draw_quantile(q, rng).ln();
            pc.of(rc).draw_quantile(q, rng).ln() - b
        })
        .collect();
    Some(interval(diffs, d, confidence))
}

/// A side's runs pooled for each draw of runs, made once per multiset of
/// runs (three runs have ten), since merging is most of a draw's work.
struct Pools<'a> {
    runs: &'a [Cdf],
    made: std::collections::HashMap<Vec<usize>, Cdf>,
}

impl<'a> Pools<'a> {
    fn new(runs: &'a [Cdf]) -> Self {
        Pools {
            runs,
            made: std::collections::HashMap::new(),
        }
    }

    fn of(&mut self, mut chosen: Vec<usize>) -> &Cdf {
        chosen.sort_unstable();
        // Many runs have too many multisets to keep: keep the latest.
        if self.made.len() >= 128 && !self.made.contains_key(&chosen) {
            self.made.clear();
        }
        let runs = self.runs;
        self.made
            .entry(chosen)
            .or_insert_with_key(|c| Cdf::pooled(c.iter().map(|&r| &runs[r])))
    }
}

#[cfg(test)]
#[path = "blocks_tests.rs"]
mod tests;
