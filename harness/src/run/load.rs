//! Starts the scenario's load: the open or closed model's workers on the
//! stages, a replay's trace, or a capacity search's probes one by one.

use anyhow::Context as _;
use genbench_scenarios::Load;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{RunConfig, replay, search};
use crate::collect::analyze;
use crate::engine::closed::{self, ClosedPlan};
use crate::engine::open::{self, OpenPlan};
use crate::engine::workers::{IntervalReport, Work};

/// The load as started: its reports, and what a replay or a search gives
/// at its end.
pub struct Started {
    pub reports: mpsc::UnboundedReceiver<IntervalReport>,
    pub replay: Option<replay::Started>,
    pub search: Option<tokio::task::JoinHandle<search::Found>>,
}

impl Started {
    fn of(reports: mpsc::UnboundedReceiver<IntervalReport>) -> Self {
        Started {
            reports,
            replay: None,
            search: None,
        }
    }
}

/// Starts the scenario's load model; reports arrive until every worker ends.
/// A replay also gives what its end reads.
pub fn start_load(
    cfg: &RunConfig,
    work: Work,
    t0: Instant,
    stop: watch::Receiver<bool>,
    cost: crate::collect::cost::StretchCost,
) -> anyhow::Result<Started> {
    let s = &cfg.scenario;
    let stages = s.load.stages().to_vec();
    let drain = match &work {
        Work::Flow(plan) => plan.longest(s.timeout),
        Work::Request { .. } => s.timeout,
    };
    let (seed, max_requests, workers) = (cfg.seed, s.max_requests, cfg.workers);
    let segment = cfg.segment.unwrap_or_default();
    if let Some(wanted) = &s.search {
        let plan = search::SearchPlan {
            search: wanted.clone(),
            load: probe_load(&s.load)?,
            slo: analyze::slo_of(s),
            seed,
            max_requests,
            workers,
            drain,
            cost,
        };
        let (reports, task) = search::start(plan, work, t0, stop);
        return Ok(Started {
            reports,
            replay: None,
            search: Some(task),
        });
    }
    match &s.load {
        Load::Open { arrivals, .. } => {
            let plan = OpenPlan {
                stages,
                arrivals: *arrivals,
                seed,
                max_requests,
                workers,
                drain,
                segment,
            };
            Ok(Started::of(open::start(plan, work, t0, stop)))
        }
        Load::Closed { think_time, .. } => {
            let plan = ClosedPlan {
                stages,
                think_time: *think_time,
                seed,
                max_requests,
                workers,
                drain,
                segment,
            };
            Ok(Started::of(closed::start(plan, work, t0, stop)))
        }
        Load::Replay { .. } => {
            let share = replay::Share {
                segment,
                max_requests,
                seed,
                workers,
                drain,
            };
            start_replay(cfg, share, work, t0, stop)
        }
    }
}

/// A search probe's load: the scenario's model at the probed rate or users.
fn probe_load(load: &Load) -> anyhow::Result<search::ProbeLoad> {
    Ok(match load {
        Load::Closed { think_time, .. } => search::ProbeLoad::Closed {
            think_time: *think_time,
        },
        Load::Open { arrivals, .. } => search::ProbeLoad::Open {
            arrivals: *arrivals,
        },
        Load::Replay { .. } => anyhow::bail!("a replay cannot search"),
    })
}

fn start_replay(
    cfg: &RunConfig,
    share: replay::Share,
    work: Work,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Started> {
    let p = cfg
        .replay
        .as_ref()
        .context("a replay scenario's trace was not scanned")?;
    let (reports, started) = replay::start(p, share, work, t0, stop)?;
    Ok(Started {
        reports,
        replay: Some(started),
        search: None,
    })
}
