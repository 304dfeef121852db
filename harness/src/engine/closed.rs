//! The closed model: N virtual users, each sending, waiting for the answer,
//! thinking, and sending again. N follows the stages (linear ramps). User `u`
//! belongs to worker `u % W`; each worker owns its users' requests and its
//! recorder, and reports once per interval like the open model's workers.
//! Latency counts from each send: a user never sends while waiting.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use genbench_collectors::Recorder;
use genbench_mock::rng::{Rng, hash_parts};
use genbench_scenarios::{Stage, target_at};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::open::{INTERVAL, IntervalReport};
use super::requests::RequestFactory;
use super::sender::Sender;

/// How often a worker re-reads the user target during ramps.
const RAMP_CHECK: Duration = Duration::from_millis(50);

pub struct ClosedPlan {
    pub stages: Vec<Stage>,
    pub think_time: Duration,
    pub seed: u64,
    pub max_requests: u64,
    pub workers: usize,
    pub drain: Duration,
}

/// Users of worker `id` that should be active when `total` users are.
fn my_users(total: usize, id: usize, w: usize) -> usize {
    total / w + usize::from(id < total % w)
}

async fn worker(
    id: usize,
    plan: Arc<ClosedPlan>,
    factory: Arc<RequestFactory>,
    sender: Arc<Sender>,
    t0: Instant,
    reports: mpsc::UnboundedSender<IntervalReport>,
    mut stop: watch::Receiver<bool>,
) {
    let w = plan.workers.max(1);
    let end = t0 + genbench_scenarios::total_duration(&plan.stages);
    let cap = plan.max_requests / w as u64 + u64::from((id as u64) < plan.max_requests % w as u64);
    let mut rng = Rng::new(hash_parts(plan.seed, &["users", &id.to_string()]));
    let mut inflight = FuturesUnordered::new();
    let mut rec = Recorder::default();
    let (mut active, mut sent, mut k) = (0usize, 0u64, 0u64);
    let mut tick = tokio::time::interval_at(t0 + INTERVAL, INTERVAL);
    let mut ramp = tokio::time::interval(RAMP_CHECK);
    let drain_deadline = end + plan.drain;
    // Starts one user iteration: think (unless first), then send.
    let launch = |think: bool, rng: &mut Rng, inflight: &mut FuturesUnordered<_>| {
        let (s, r, pause) = (
            sender.clone(),
            factory.render(rng),
            if think {
                plan.think_time
            } else {
                Duration::ZERO
            },
        );
        inflight.push(async move {
            tokio::time::sleep(pause).await;
            let at = t0.elapsed();
            s.send(at, r).await
        });
    };
    loop {
        let now = Instant::now();
        let want = if now < end {
            my_users(target_at(&plan.stages, now - t0).floor() as usize, id, w)
        } else {
            0
        };
        while active < want && sent < cap {
            launch(false, &mut rng, &mut inflight);
            active += 1;
            sent += 1;
        }
        if inflight.is_empty() && (now >= end || sent >= cap) {
            break;
        }
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = tick.tick() => {
                let _ = reports.send(IntervalReport { worker: id, k, rec: rec.take_interval(), in_flight: inflight.len() as u64 });
                k += 1;
            }
            Some(sample) = inflight.next(), if !inflight.is_empty() => {
                rec.record(&sample);
                let still_wanted = Instant::now() < end
                    && active <= my_users(target_at(&plan.stages, t0.elapsed()).floor() as usize, id, w);
                if still_wanted && sent < cap {
                    launch(true, &mut rng, &mut inflight);
                    sent += 1;
                } else {
                    active -= 1;
                }
            }
            _ = ramp.tick() => {}
            _ = tokio::time::sleep_until(drain_deadline) => break,
        }
    }
    let _ = reports.send(IntervalReport {
        worker: id,
        k,
        rec: rec.take_interval(),
        in_flight: inflight.len() as u64,
    });
}

pub fn start(
    plan: ClosedPlan,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_split_evenly_across_workers() {
        let split: Vec<usize> = (0..3).map(|i| my_users(10, i, 3)).collect();
        assert_eq!(split, [4, 3, 3]);
        assert_eq!((0..4).map(|i| my_users(2, i, 4)).sum::<usize>(), 2);
    }
}
