//! The closed model: N virtual users, each sending, waiting for the answer,
//! thinking, and sending again. N follows the stages (linear ramps). User `u`
//! belongs to worker `u % W`; each worker owns its users' requests and its
//! recorder, and reports once per interval like the open model's workers.
//! Latency counts from each send: a user never sends while waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use genbench_collectors::Recorder;
use genbench_presets::rng::Rng;
use genbench_scenarios::{Stage, target_at};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::backoff::Backoff;
use super::segment::LoadSegment;
use super::workers::{self, INTERVAL, IntervalReport, Launch, Slots, Work, WorkerCtx, go};

/// How often a worker re-reads the user target during ramps.
const RAMP_CHECK: Duration = Duration::from_millis(50);

pub struct ClosedPlan {
    pub stages: Vec<Stage>,
    pub think_time: Duration,
    pub seed: u64,
    pub max_requests: u64,
    pub workers: usize,
    /// The share of the users and of `max_requests` this run has
    /// (`--segment`).
    pub segment: LoadSegment,
    pub drain: Duration,
}

/// The plan and the sends left, shared by every worker: users are spread
/// over workers unevenly (one user lives on one worker), so the cap is one
/// budget rather than a share each.
struct Shared {
    plan: ClosedPlan,
    budget: AtomicU64,
}

/// Takes one send from the budget; `false` when it is spent.
fn take_send(budget: &AtomicU64) -> bool {
    budget
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// A worker's users: how many the stages want active, and each user
/// iteration's start.
struct Users<'a> {
    plan: &'a ClosedPlan,
    cx: &'a WorkerCtx,
    /// Iterations started, which numbers the next one's flow.
    started: u64,
}

impl Users<'_> {
    /// Users of this worker that should be active at `t` into the run.
    fn wanted(&self, t: Duration) -> usize {
        let users = (self.plan.segment).share(target_at(&self.plan.stages, t).floor() as u64);
        workers::share(users, self.cx.id, self.cx.workers) as usize
    }

    /// One user iteration: think (unless it is the user's first) and back
    /// off a refusing target, then send. Latency counts from the send: a
    /// user never sends while waiting.
    fn launch(&mut self, think: bool, wait: Duration, rng: &mut Rng, slots: &mut Slots) -> Launch {
        let think = if think {
            self.plan.think_time
        } else {
            Duration::ZERO
        };
        let id = self.cx.flow_id(self.started);
        self.started += 1;
        self.cx
            .work
            .begin(id, rng, slots.take(), None, wait + think)
    }
}

async fn worker(shared: Arc<Shared>, cx: WorkerCtx) {
    let (plan, budget) = (&shared.plan, &shared.budget);
    let mut stop = cx.stop.clone();
    let t0 = cx.t0;
    let end = t0 + genbench_scenarios::total_duration(&plan.stages);
    let mut users = Users {
        plan,
        cx: &cx,
        started: 0,
    };
    let mut rng = Rng::new(
        plan.segment
            .draw_seed(plan.seed, &["users", &cx.id.to_string()]),
    );
    let mut inflight = FuturesUnordered::new();
    let mut rec = Recorder::default();
    let mut slots = Slots::for_worker(cx.id);
    let (mut active, mut k) = (0usize, 0u64);
    let mut tick = tokio::time::interval_at(t0 + INTERVAL, INTERVAL);
    let mut ramp = tokio::time::interval(RAMP_CHECK);
    let drain_deadline = end + plan.drain;
    let run_length = end - t0;
    let mut backoff = Backoff::default();
    // Made once, not per pass through the loop: a future made in `select!`
    // is dropped after each pass, and dropping a waiting sleep or
    // `changed()` unregisters it (the timer wheel's lock, the stop
    // channel's waiter list shared by every worker): twice per response.
    let stopped = stop.changed();
    tokio::pin!(stopped);
    let drain = tokio::time::sleep_until(drain_deadline);
    tokio::pin!(drain);
    loop {
        let now = Instant::now();
        let want = if now < end { users.wanted(now - t0) } else { 0 };
        while active < want && take_send(budget) {
            inflight.push(go(users.launch(
                false,
                Duration::ZERO,
                &mut rng,
                &mut slots,
            )));
            active += 1;
        }
        if inflight.is_empty() && (now >= end || budget.load(Ordering::Relaxed) == 0) {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            _ = tick.tick() => {
                cx.report(k, &mut rec, inflight.len());
                k += 1;
            }
            Some(done) = inflight.next(), if !inflight.is_empty() => {
                // The answer's end time is "now", without reading the clock.
                let (end, outcome) = (done.sample.end, done.sample.outcome);
                if let Some(l) = cx.work.finish(done, &mut slots, &mut rec) {
                    // The same iteration goes on: a flow's next request.
                    inflight.push(go(l));
                    continue;
                }
                let still_wanted = end < run_length && active <= users.wanted(end);
                if still_wanted && take_send(budget) {
                    let wait = backoff.after(outcome);
                    inflight.push(go(users.launch(true, wait, &mut rng, &mut slots)));
                } else {
                    active -= 1;
                }
            }
            _ = ramp.tick() => {}
            _ = &mut drain => break,
        }
    }
    cx.report(k, &mut rec, inflight.len());
}

/// Starts the workers; reports arrive on the returned channel until all end.
pub fn start(
    plan: ClosedPlan,
    work: impl Into<Arc<Work>>,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> mpsc::UnboundedReceiver<IntervalReport> {
    let workers = plan.workers;
    let shared = Shared {
        budget: AtomicU64::new(plan.segment.share(plan.max_requests)),
        plan,
    };
    workers::spawn(shared, workers, work, t0, stop, worker)
}
