//! `[collect.stages] prometheus`: the target's stage histogram read before
//! the load and after it (the difference is the run's stages), and each
//! second between: each stage's mean over each second, as a series.

use std::collections::BTreeMap;
use std::time::Duration;

use genbench_collectors::stage_histograms::{self, Reading};
use genbench_model::StageSummaryMs;
use genbench_scenarios::StageHistogram;

use genbench_model::{SeriesResult, SeriesSample};
use tokio::sync::mpsc;

use super::caches::metrics_url;
use super::sampler::{Scrape, scrape_every_second};
use super::{AbortOnDrop, http};

/// The histogram being watched, with its first reading and, once the
/// load starts, its readings each second.
pub struct Watch {
    h: StageHistogram,
    url: String,
    before: Reading,
    seconds: Option<(mpsc::UnboundedReceiver<Second>, AbortOnDrop<()>)>,
}

/// One second's reading, reduced to each stage's (count, sum): a soak's
/// hours of readings stay small.
type Second = (f64, Vec<(String, f64, f64)>);

#[derive(Clone)]
struct Source {
    url: String,
    h: StageHistogram,
}

impl Scrape for Source {
    type Reading = Second;
    async fn read(&self, t_s: f64) -> anyhow::Result<Second> {
        let r = read(&self.url, &self.h).await?;
        Ok((
            t_s,
            r.into_iter().map(|(n, s)| (n, s.count, s.sum)).collect(),
        ))
    }
}

/// Each stage's mean (ms) over each second between consecutive readings
/// in which it ran.
pub fn per_second(readings: &[Second], ms_per_unit: f64) -> BTreeMap<String, Vec<SeriesSample>> {
    let mut out: BTreeMap<String, Vec<SeriesSample>> = BTreeMap::new();
    for w in readings.windows(2) {
        let ((_, a), (t_s, b)) = (&w[0], &w[1]);
        for (stage, count, sum) in b {
            let Some((_, c0, s0)) = a.iter().find(|x| &x.0 == stage) else {
                continue;
            };
            let n = count - c0;
            if n > 0.0 {
                out.entry(stage.clone()).or_default().push(SeriesSample {
                    t_s: *t_s,
                    value: (sum - s0) / n * ms_per_unit,
                });
            }
        }
    }
    out
}

async fn read(url: &str, h: &StageHistogram) -> anyhow::Result<Reading> {
    let body = http::get(url, Duration::from_secs(5)).await?;
    Ok(stage_histograms::read(
        &String::from_utf8_lossy(&body),
        &h.histogram,
        &h.label,
    ))
}

impl Watch {
    /// Takes the "before" reading; says so when the target has no such
    /// histogram, and carries on (a service may create it on first use).
    pub async fn start(h: &StageHistogram, target_url: &str) -> Watch {
        let url = metrics_url(target_url, &h.url);
        let before = match read(&url, h).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "warning: [collect.stages]: {e:#}; the stages' histogram is read again at the end"
                );
                Reading::new()
            }
        };
        Watch {
            h: h.clone(),
            url,
            before,
            seconds: None,
        }
    }

    /// Reads the histogram each second from `t0`, the load's start.
    pub fn every_second(&mut self, t0: tokio::time::Instant) {
        let (tx, rx) = mpsc::unbounded_channel();
        let src = Source {
            url: self.url.clone(),
            h: self.h.clone(),
        };
        self.seconds = Some((rx, AbortOnDrop(scrape_every_second(src, t0, tx))));
    }

    /// Each stage's per-second mean, as `series` entries named
    /// `stage_<name>_mean_ms`.
    pub fn series(&mut self) -> BTreeMap<String, SeriesResult> {
        let Some((mut rx, _task)) = self.seconds.take() else {
            return BTreeMap::new();
        };
        let mut got = Vec::new();
        while let Ok(r) = rx.try_recv() {
            got.push(r);
        }
        let unit = stage_histograms::ms_per_unit(&self.h.histogram);
        per_second(&got, unit)
            .into_iter()
            .map(|(stage, samples)| {
                let vals: Vec<f64> = samples.iter().map(|p| p.value).collect();
                let name: String = stage
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let r = SeriesResult {
                    kind: "histogram_mean".into(),
                    source: format!(
                        "{}{{{}=\"{stage}\"}} _sum/_count each second at {}",
                        self.h.histogram, self.h.label, self.url
                    ),
                    min: vals.iter().copied().reduce(f64::min),
                    max: vals.iter().copied().reduce(f64::max),
                    mean: (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64),
                    last: vals.last().copied(),
                    samples,
                    failed_reads: 0,
                };
                (format!("stage_{name}_mean_ms"), r)
            })
            .collect()
    }

    /// Each stage over the run.
    pub async fn finish(mut self) -> BTreeMap<String, StageSummaryMs> {
        self.seconds = None;
        match read(&self.url, &self.h).await {
            Ok(after) if after.is_empty() => {
                eprintln!(
                    "warning: [collect.stages]: {} has no {} histogram with a {:?} label",
                    self.url, self.h.histogram, self.h.label
                );
                BTreeMap::new()
            }
            Ok(after) => stage_histograms::stages(
                &self.before,
                &after,
                stage_histograms::ms_per_unit(&self.h.histogram),
            ),
            Err(e) => {
                eprintln!("warning: no stages from [collect.stages]: {e:#}");
                BTreeMap::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_second_is_the_mean_of_what_ran_in_it() {
        let r = |t: f64, c: f64, s: f64| (t, vec![("search".to_string(), c, s)]);
        let got = per_second(
            &[
                r(1.0, 10.0, 1.0),
                r(2.0, 14.0, 1.8),
                r(3.0, 14.0, 1.8),
                r(4.0, 15.0, 2.3),
            ],
            1000.0,
        );
        let v: Vec<(f64, f64)> = got["search"]
            .iter()
            .map(|p| (p.t_s, (p.value * 1e6).round() / 1e6))
            .collect();
        // 4 in the second second, 0.8 s in all; none in the third; 1 of 0.5 s.
        assert_eq!(v, [(2.0, 200.0), (4.0, 500.0)]);
    }
}
