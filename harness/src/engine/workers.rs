//! What the open and closed models' workers share: the per-interval report,
//! a worker's context, what each arrival or user iteration runs (one
//! request, or a flow's steps: [`Work`]), how a total splits across
//! workers, and spawning them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use genbench_collectors::{Recorder, Sample};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use genbench_presets::rng::Rng;

use super::flow::FlowPlan;
use super::flow_run::FlowRun;
pub use super::launch::{Launch, Slots};
use super::requests::RequestFactory;
use super::sender::{Sender, Slot};

/// Length of a timeline interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// One worker's recording of one interval.
pub struct IntervalReport {
    pub worker: usize,
    /// Interval number: covers [k, k+1) × INTERVAL from the start.
    pub k: u64,
    pub rec: Recorder,
    pub in_flight: u64,
    /// The load this interval was offered, where the stages do not say
    /// (a capacity search's probes).
    pub target: Option<f64>,
}

/// What one arrival (open model) or user iteration (closed model) runs.
pub enum Work {
    /// One request from the scenario's `[request]`.
    Request {
        factory: RequestFactory,
        sender: Arc<Sender>,
    },
    /// A `[[flow.steps]]` flow, one request at a time.
    Flow(FlowPlan),
}

/// A sent request's measurement, with what it carried.
pub struct Done {
    pub sample: Sample,
    slot: Slot,
    flow: Option<Box<FlowRun>>,
}

/// Sends a launch: every request in flight is one of these futures.
pub async fn go(l: Launch) -> Done {
    // A zero sleep still waits for the timer wheel's next tick (up to
    // 1 ms): requests with no pause must not pay it.
    if !l.pause.is_zero() {
        tokio::time::sleep(l.pause).await;
    }
    let (sample, slot) = l.sender.send(l.scheduled, l.slot).await;
    Done {
        sample,
        slot,
        flow: l.flow,
    }
}

impl Work {
    /// The first request of a new iteration, scheduled at `scheduled`
    /// (`None`: sent when its pause ends). `flow_id`: unique in the run
    /// ([`WorkerCtx::flow_id`]).
    pub fn begin(
        &self,
        flow_id: u64,
        rng: &mut Rng,
        mut slot: Slot,
        scheduled: Option<Duration>,
        pause: Duration,
    ) -> Launch {
        match self {
            Work::Request { factory, sender } => {
                factory.render_into(rng, slot.request_mut());
                slot.request_mut().trace = sender.trace_ids(flow_id, 0);
                Launch {
                    sender: sender.clone(),
                    pause,
                    scheduled,
                    slot,
                    flow: None,
                }
            }
            Work::Flow(plan) => plan.begin(flow_id, rng, slot, scheduled, pause),
        }
    }

    /// Records a finished request; the iteration's next request, if it has
    /// one (a flow's next step or poll).
    pub fn finish(&self, d: Done, slots: &mut Slots, rec: &mut Recorder) -> Option<Launch> {
        match self {
            Work::Request { sender, .. } => {
                slots.finish(d.sample, d.slot, sender, rec, None);
                None
            }
            // Every request a flow sends carries it (see `FlowPlan::begin`).
            Work::Flow(plan) => {
                let run = d.flow?;
                plan.advance(run, d.sample, d.slot, slots, rec)
            }
        }
    }
}

/// Everything a worker needs besides its model's plan.
pub struct WorkerCtx {
    pub id: usize,
    pub workers: usize,
    pub work: Arc<Work>,
    pub t0: Instant,
    pub stop: watch::Receiver<bool>,
    reports: mpsc::UnboundedSender<IntervalReport>,
}

impl WorkerCtx {
    /// Hands over interval `k` and starts the next one empty.
    pub fn report(&self, k: u64, rec: &mut Recorder, in_flight: usize) {
        self.report_into(k, rec, in_flight, Recorder::default());
    }

    /// As [`WorkerCtx::report`], with the next interval's recorder made
    /// ahead (`fresh`, empty).
    pub fn report_into(&self, k: u64, rec: &mut Recorder, in_flight: usize, fresh: Recorder) {
        let rec = rec.take_interval_into(fresh);
        // The receiver only goes away when the run is being torn down.
        let _ = self.reports.send(IntervalReport {
            worker: self.id,
            k,
            rec,
            in_flight: in_flight as u64,
            target: None,
        });
    }

    /// The id of this worker's `n`-th flow: unique across workers.
    pub fn flow_id(&self, n: u64) -> u64 {
        n * self.workers as u64 + self.id as u64
    }

    /// This worker's part of `total` (requests, users): an even split.
    pub fn share(&self, total: u64) -> u64 {
        share(total, self.id, self.workers)
    }
}

pub fn share(total: u64, id: usize, workers: usize) -> u64 {
    let w = workers.max(1) as u64;
    total / w + u64::from((id as u64) < total % w)
}

/// Starts `workers` copies of `run`, each on its own thread with its own
/// single-threaded runtime (one event loop per core, as wrk and `genbench
/// mock --workers` do): a worker's connections are registered with its own
/// poller, so an answer wakes the thread that owns it, never another core's
/// queue. Reports arrive on the returned channel until every worker has
/// ended.
pub fn spawn<P, F, Fut>(
    plan: P,
    workers: usize,
    work: impl Into<Arc<Work>>,
    t0: Instant,
    stop: watch::Receiver<bool>,
    run: F,
) -> mpsc::UnboundedReceiver<IntervalReport>
where
    P: Send + Sync + 'static,
    F: Fn(Arc<P>, WorkerCtx) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let (plan, work) = (Arc::new(plan), work.into());
    let workers = workers.max(1);
    for id in 0..workers {
        let cx = WorkerCtx {
            id,
            workers,
            work: work.clone(),
            t0,
            stop: stop.clone(),
            reports: tx.clone(),
        };
        let (plan, run) = (plan.clone(), run.clone());
        let started = std::thread::Builder::new()
            .name(format!("genbench-worker-{id}"))
            .spawn(move || on_own_runtime(run(plan, cx)));
        if let Err(e) = started {
            // The worker's reports are missed and the aggregator counts one
            // worker fewer reporting; the run goes on with the others.
            tracing::error!("cannot start load worker {id}: {e}");
        }
    }
    rx
}

/// Runs a worker to its end on a runtime of the calling thread's own.
fn on_own_runtime(worker: impl Future<Output = ()>) {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(worker),
        Err(e) => tracing::error!("cannot start a load worker's runtime: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_in_flight_stays_small() {
        // Every request's future is moved into the worker's queue and its
        // result out: at 3.9 KB (a TLS connect and hyper's exchange inline,
        // the slot's buffers by value) those copies were a tenth of the
        // engine's instructions per response.
        fn size<Fut>(_: fn(Launch) -> Fut) -> usize {
            std::mem::size_of::<Fut>()
        }
        assert!(size(go) <= 1200, "{} bytes", size(go));
        assert_eq!(std::mem::size_of::<Slot>(), 8);
    }

    #[test]
    fn shares_split_evenly_and_add_up() {
        let split: Vec<u64> = (0..3).map(|i| share(10, i, 3)).collect();
        assert_eq!(split, [4, 3, 3]);
        assert_eq!((0..4).map(|i| share(2, i, 4)).sum::<u64>(), 2);
    }
}
