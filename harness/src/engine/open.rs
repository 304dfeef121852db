//! The open model: requests go out at their scheduled times whatever the
//! target does. `W` workers split the schedule round-robin; each owns its
//! in-flight requests and its recorder (no locks per request) and hands over
//! one interval snapshot per second, merged exactly by the aggregator. Each
//! worker sleeps until its next send on its own [`Pacer`], so an idle
//! worker costs nothing between sends.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use genbench_collectors::Recorder;
use genbench_presets::rng::Rng;
use genbench_scenarios::{Arrivals, Stage};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Sleep};

use super::clock::Pacer;
use super::schedule::Schedule;
use super::segment::LoadSegment;
use super::workers::{self, INTERVAL, IntervalReport, Slots, Work, WorkerCtx, go};

pub struct OpenPlan {
    pub stages: Vec<Stage>,
    pub arrivals: Arrivals,
    pub seed: u64,
    pub max_requests: u64,
    pub workers: usize,
    /// The share of the schedule this run sends (`--segment`).
    pub segment: LoadSegment,
    /// Requests (or flows) still unanswered this long after the last start
    /// are abandoned.
    pub drain: Duration,
}

/// Runs one worker's share of the schedule until it is done or `stop` fires.
async fn worker(plan: Arc<OpenPlan>, cx: WorkerCtx) {
    let (id, w, t0) = (cx.id, cx.workers, cx.t0);
    let whole = Schedule::new(&plan.stages, plan.arrivals, plan.seed, plan.max_requests);
    let mut sched = plan.segment.arrivals(whole, id, w);
    let mut rng = Rng::new(
        plan.segment
            .draw_seed(plan.seed, &["requests", &id.to_string()]),
    );
    let mut inflight = FuturesUnordered::new();
    let mut rec = Recorder::default();
    let mut slots = Slots::for_worker(cx.id);
    let mut next = sched.next();
    let (mut k, mut started) = (0u64, 0u64);
    let mut tick = tokio::time::interval_at(t0 + INTERVAL, INTERVAL);
    let mut pacer = Pacer::new();
    // Made once, not per pass through the loop (see `closed::worker`).
    let mut stop = cx.stop.clone();
    let stopped = stop.changed();
    tokio::pin!(stopped);
    let mut drain: Option<Pin<Box<Sleep>>> = None;
    loop {
        if next.is_none() && drain.is_none() {
            drain = Some(Box::pin(tokio::time::sleep(plan.drain)));
        }
        if next.is_none() && inflight.is_empty() {
            break;
        }
        let send_at = next.map(|d| t0 + d);
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            _ = tick.tick() => {
                cx.report(k, &mut rec, inflight.len());
                k += 1;
            }
            Some(done) = inflight.next(), if !inflight.is_empty() => {
                if let Some(l) = cx.work.finish(done, &mut slots, &mut rec) {
                    inflight.push(go(l));
                }
            }
            _ = pacer.sleep_until(send_at.unwrap_or_else(Instant::now)), if send_at.is_some() => {
                let scheduled = next.unwrap_or_default();
                let id = cx.flow_id(started);
                let l = cx.work.begin(id, &mut rng, slots.take(), Some(scheduled), Duration::ZERO);
                started += 1;
                inflight.push(go(l));
                next = sched.next();
            }
            _ = async { if let Some(d) = drain.as_mut() { d.await } }, if drain.is_some() => break,
        }
    }
    cx.report(k, &mut rec, inflight.len());
}

/// Starts the workers; reports arrive on the returned channel until all end.
pub fn start(
    plan: OpenPlan,
    work: impl Into<Arc<Work>>,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> mpsc::UnboundedReceiver<IntervalReport> {
    let workers = plan.workers;
    workers::spawn(plan, workers, work, t0, stop, worker)
}
