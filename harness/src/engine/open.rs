//! The open model: requests go out at their scheduled times whatever the
//! target does. `W` workers split the schedule round-robin; each owns its
//! in-flight requests and its recorder (no locks per request) and hands over
//! one interval snapshot per second, merged exactly by the aggregator.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use genbench_collectors::Recorder;
use genbench_mock::rng::{Rng, hash_parts};
use genbench_scenarios::{Arrivals, Stage};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::clock::sleep_until_precise;
use super::requests::RequestFactory;
use super::schedule::Schedule;
use super::sender::Sender;

/// Length of a timeline interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// One worker's recording of one interval.
pub struct IntervalReport {
    pub worker: usize,
    /// Interval number: covers [k, k+1) × INTERVAL from the start.
    pub k: u64,
    pub rec: Recorder,
    pub in_flight: u64,
}

pub struct OpenPlan {
    pub stages: Vec<Stage>,
    pub arrivals: Arrivals,
    pub seed: u64,
    pub max_requests: u64,
    pub workers: usize,
    /// Requests still unanswered this long after the last send are abandoned.
    pub drain: Duration,
}

/// Runs one worker's share of the schedule until it is done or `stop` fires.
#[allow(clippy::too_many_arguments)]
async fn worker(
    id: usize,
    plan: Arc<OpenPlan>,
    factory: Arc<RequestFactory>,
    sender: Arc<Sender>,
    t0: Instant,
    reports: mpsc::UnboundedSender<IntervalReport>,
    mut stop: watch::Receiver<bool>,
) {
    let w = plan.workers.max(1);
    let per_worker_cap =
        plan.max_requests / w as u64 + u64::from((id as u64) < plan.max_requests % w as u64);
    let mut sched = Schedule::new(&plan.stages, plan.arrivals, plan.seed, u64::MAX)
        .skip(id)
        .step_by(w)
        .take(per_worker_cap as usize);
    let mut rng = Rng::new(hash_parts(plan.seed, &["requests", &id.to_string()]));
    let mut inflight = FuturesUnordered::new();
    let mut rec = Recorder::default();
    let mut next = sched.next();
    let mut k = 0u64;
    let mut tick = tokio::time::interval_at(t0 + INTERVAL, INTERVAL);
    let mut drain_deadline: Option<Instant> = None;
    loop {
        if next.is_none() && drain_deadline.is_none() {
            drain_deadline = Some(Instant::now() + plan.drain);
        }
        if next.is_none() && inflight.is_empty() {
            break;
        }
        let send_at = next.map(|d| t0 + d);
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = tick.tick() => {
                let _ = reports.send(IntervalReport { worker: id, k, rec: rec.take_interval(), in_flight: inflight.len() as u64 });
                k += 1;
            }
            Some(sample) = inflight.next(), if !inflight.is_empty() => rec.record(&sample),
            _ = sleep_until_precise(send_at.unwrap_or_else(Instant::now)), if send_at.is_some() => {
                let scheduled = next.unwrap_or_default();
                let s = sender.clone();
                let r = factory.render(&mut rng);
                inflight.push(async move { s.send(scheduled, r).await });
                next = sched.next();
            }
            _ = tokio::time::sleep_until(drain_deadline.unwrap_or_else(Instant::now)), if drain_deadline.is_some() => break,
        }
    }
    let _ = reports.send(IntervalReport {
        worker: id,
        k,
        rec: rec.take_interval(),
        in_flight: inflight.len() as u64,
    });
}

/// Starts the workers; reports arrive on the returned channel until all end.
pub fn start(
    plan: OpenPlan,
    factory: RequestFactory,
    sender: Sender,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> mpsc::UnboundedReceiver<IntervalReport> {
    let (tx, rx) = mpsc::unbounded_channel();
    let plan = Arc::new(plan);
    let (factory, sender) = (Arc::new(factory), Arc::new(sender));
    for id in 0..plan.workers.max(1) {
        tokio::spawn(worker(
            id,
            plan.clone(),
            factory.clone(),
            sender.clone(),
            t0,
            tx.clone(),
            stop.clone(),
        ));
    }
    rx
}
