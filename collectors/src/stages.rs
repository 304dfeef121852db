//! Per-stage time from the target's `Server-Timing` header
//! (`search;dur=12.5, llm;dur=830`). Stage names are whatever the target
//! reports; none is known in advance.

use std::collections::BTreeMap;

use genbench_model::StageSummaryMs;
use hdrhistogram::Histogram;

/// Distinct stage names kept; a target that invents a new name per request
/// cannot grow a worker's memory without bound. Later names are dropped.
pub const MAX_STAGES: usize = 64;
/// Longest stage name kept, bytes.
const MAX_NAME: usize = 64;

/// One `name;dur=ms` metric of a `Server-Timing` value; metrics without a
/// `dur` (descriptions only) are skipped.
pub fn parse_server_timing(value: &[u8]) -> impl Iterator<Item = (&[u8], f64)> {
    value.split(|b| *b == b',').filter_map(|metric| {
        let mut params = metric.split(|b| *b == b';');
        let name = trim(params.next()?);
        if name.is_empty() || name.len() > MAX_NAME {
            return None;
        }
        let dur = params.find_map(|p| {
            let p = trim(p);
            let v = p.strip_prefix(b"dur=")?;
            std::str::from_utf8(v).ok()?.trim().parse::<f64>().ok()
        })?;
        (dur.is_finite() && dur >= 0.0).then_some((name, dur))
    })
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end]
}

pub(crate) fn stage_histogram() -> Histogram<u64> {
    // 1 µs to 1 h at two significant figures: a tenth of the memory of the
    // latency histograms, and 1% is finer than a stage breakdown needs.
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds")
}

/// Stage histograms (µs) by name, in first-seen order. Looking a name up is
/// a short linear scan; only a name never seen before allocates.
#[derive(Debug, Clone, Default)]
pub struct Stages {
    stages: Vec<(Box<str>, Histogram<u64>)>,
}

impl Stages {
    /// Records every timed metric of one `Server-Timing` value.
    pub fn record(&mut self, server_timing: &[u8]) {
        for (name, ms) in parse_server_timing(server_timing) {
            let us = ((ms * 1000.0).round() as u64).max(1);
            if let Some(h) = self.get_mut(name) {
                h.saturating_record(us);
            } else if self.stages.len() < MAX_STAGES
                && let Ok(name) = std::str::from_utf8(name)
            {
                let mut h = stage_histogram();
                h.saturating_record(us);
                self.stages.push((name.into(), h));
            }
        }
    }

    fn get_mut(&mut self, name: &[u8]) -> Option<&mut Histogram<u64>> {
        self.stages
            .iter_mut()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, h)| h)
    }

    pub fn merge(&mut self, other: &Stages) {
        for (name, h) in &other.stages {
            if let Some(mine) = self.get_mut(name.as_bytes()) {
                let _ = mine.add(h);
            } else if self.stages.len() < MAX_STAGES {
                self.stages.push((name.clone(), h.clone()));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Each stage's histogram, encoded for `histograms.stages_us`.
    pub fn encoded(&self) -> BTreeMap<String, String> {
        self.stages
            .iter()
            .filter_map(|(name, h)| Some((name.to_string(), crate::summary::encode_histogram(h)?)))
            .collect()
    }

    /// The `stages` section of results.json.
    pub fn summary(&self) -> BTreeMap<String, StageSummaryMs> {
        self.stages
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .map(|(name, h)| {
                let ms = |us: u64| us as f64 / 1000.0;
                let s = StageSummaryMs {
                    mean: h.mean() / 1000.0,
                    p50: ms(h.value_at_quantile(0.5)),
                    p95: ms(h.value_at_quantile(0.95)),
                    p99: ms(h.value_at_quantile(0.99)),
                    count: h.len(),
                    source: None,
                };
                (name.to_string(), s)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_durations_and_skips_the_rest() {
        let v = b"cache;dur=0.2, search;desc=\"Search\";dur=12.5,miss, total;dur=830 , bad;dur=x";
        let got: Vec<(String, f64)> = parse_server_timing(v)
            .map(|(n, d)| (String::from_utf8(n.to_vec()).unwrap(), d))
            .collect();
        assert_eq!(
            got,
            [
                ("cache".to_string(), 0.2),
                ("search".to_string(), 12.5),
                ("total".to_string(), 830.0)
            ]
        );
    }

    #[test]
    fn names_come_from_the_target_and_merge_by_name() {
        let mut a = Stages::default();
        a.record(b"retrieve;dur=10, rerank;dur=2");
        a.record(b"retrieve;dur=30");
        let mut b = Stages::default();
        b.record(b"rerank;dur=4, generate;dur=900");
        a.merge(&b);
        let s = a.summary();
        assert_eq!(
            s.keys().collect::<Vec<_>>(),
            ["generate", "rerank", "retrieve"]
        );
        assert_eq!(s["retrieve"].count, 2);
        assert!(
            (s["retrieve"].mean - 20.0).abs() < 0.2,
            "{:?}",
            s["retrieve"]
        );
        assert!((s["generate"].p50 - 900.0).abs() < 9.0);
    }

    #[test]
    fn invented_names_are_capped() {
        let mut a = Stages::default();
        for i in 0..1000 {
            a.record(format!("s{i};dur=1").as_bytes());
        }
        assert_eq!(a.summary().len(), MAX_STAGES);
    }
}
