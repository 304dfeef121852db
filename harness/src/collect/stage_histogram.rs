//! `[collect.stages] prometheus`: the target's stage histogram read before
//! the load and after it; the difference is the run's stages.

use std::collections::BTreeMap;
use std::time::Duration;

use genbench_collectors::stage_histograms::{self, Reading};
use genbench_model::StageSummaryMs;
use genbench_scenarios::StageHistogram;

use super::caches::metrics_url;
use super::http;

/// The histogram being watched, with its first reading.
pub struct Watch {
    h: StageHistogram,
    url: String,
    before: Reading,
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
        }
    }

    /// Each stage over the run.
    pub async fn finish(self) -> BTreeMap<String, StageSummaryMs> {
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
