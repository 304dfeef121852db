//! When a segment's load starts (`--start-at`): every segment waits for the
//! same wall-clock instant, because pods start at different times; one that
//! gets there more than the scenario's `max_start_lag` late refuses to run
//! rather than skew the merged result. And what results.json says about the
//! segment.

use std::time::{Duration, SystemTime};

use genbench_model::SegmentInfo;
use tokio::sync::watch;

use super::RunConfig;
use crate::timefmt::rfc3339;

/// Waits until `cfg.start_at` (if any); the lag past it, or an error when
/// it is over the limit or the wait was interrupted.
pub async fn wait(
    cfg: &RunConfig,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<Duration>> {
    let Some(at) = cfg.start_at else {
        return Ok(None);
    };
    if let Ok(ahead) = at.duration_since(SystemTime::now()) {
        eprintln!(
            "waiting {:.1} s for --start-at {}",
            ahead.as_secs_f64(),
            rfc3339(at)
        );
        tokio::select! {
            _ = tokio::time::sleep(ahead) => {}
            _ = stop.changed() => anyhow::bail!("interrupted while waiting for --start-at"),
        }
    }
    let lag = SystemTime::now().duration_since(at).unwrap_or_default();
    let limit = cfg.scenario.max_start_lag;
    if lag > limit {
        anyhow::bail!(
            "reached --start-at {} {:.1} s late, more than max_start_lag ({:.1} s): the other \
segments have been sending without this one, so it sends nothing. Give the pods a later \
--start-at, or raise max_start_lag in the scenario",
            rfc3339(at),
            lag.as_secs_f64(),
            limit.as_secs_f64()
        );
    }
    Ok(Some(lag))
}

/// A hash of the resolved scenario, so a merge knows parts of one run.
pub fn scenario_hash(resolved: &serde_json::Value) -> String {
    let text = resolved.to_string();
    format!("{:016x}", genbench_presets::rng::hash_parts(0, &[&text]))
}

/// The `segment` section, for a segmented run or one told when to start.
pub fn info(
    cfg: &RunConfig,
    resolved: &serde_json::Value,
    lag: Option<Duration>,
) -> Option<SegmentInfo> {
    if cfg.segment.is_none() && cfg.start_at.is_none() {
        return None;
    }
    let seg = cfg.segment.unwrap_or_default();
    Some(SegmentInfo {
        index: seg.index,
        count: seg.count,
        scenario_hash: scenario_hash(resolved),
        seed: cfg.seed,
        start_at: cfg.start_at.map(rfc3339),
        start_lag_ms: lag.map(|d| d.as_secs_f64() * 1e3),
        // Filled with the analyses, when the run ends.
        analysis: None,
    })
}
