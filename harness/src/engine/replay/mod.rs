//! `[load] model = "replay"`: a trace's rows sent at their own times,
//! scaled. Timing is the open model's: each request's latency counts from
//! its row's scheduled instant. A reader thread ([`feed`]) deals timed rows
//! to the workers; each worker renders its rows ([`rows`]), sleeps until
//! each one's instant on its own pacer, and records as the open model's
//! workers do. How far each send fell from the trace's instant (schedule
//! fidelity) is kept per worker and merged at the end.

pub mod feed;
pub mod prompt;
pub mod rows;

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use genbench_collectors::Recorder;
use genbench_presets::rng::Rng;
use genbench_traffic::timing::Timed;
use hdrhistogram::Histogram;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Sleep};

use super::clock::Pacer;
use super::segment::LoadSegment;
use super::workers::{self, INTERVAL, IntervalReport, Launch, Slots, Work, WorkerCtx, go};
use feed::{Queues, Unsent};
use rows::{RowFactory, Scratch};

/// What the workers share.
pub struct ReplayPlan {
    pub queues: Queues,
    pub rows: Arc<RowFactory>,
    pub seed: u64,
    pub segment: LoadSegment,
    /// Requests still unanswered this long after the last send are
    /// abandoned.
    pub drain: Duration,
    /// Schedule fidelity, µs: each worker's merged in as it ends.
    pub fidelity_us: Arc<Mutex<Histogram<u64>>>,
    pub unsent: Unsent,
}

/// A histogram for fidelity: 1 µs to an hour, 3 digits.
pub fn fidelity_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds are valid")
}

/// The worker's own rows: its channel, taken once.
fn queue(plan: &ReplayPlan, id: usize) -> Option<mpsc::Receiver<Vec<Timed>>> {
    let q = plan.queues.get(id)?;
    q.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Renders a row into a launch on the scenario's one request sender.
fn launch(
    plan: &ReplayPlan,
    cx: &WorkerCtx,
    t: &Timed,
    rng: &mut Rng,
    s: &mut Scratch,
    slots: &mut Slots,
) -> Option<Launch> {
    let Work::Request { sender, .. } = &*cx.work else {
        return None;
    };
    let mut slot = slots.take();
    plan.rows
        .render(&t.row, t.index, rng, s, slot.request_mut());
    slot.request_mut().trace = sender.trace_ids(t.index, 0);
    Some(Launch {
        sender: sender.clone(),
        pause: Duration::ZERO,
        scheduled: Some(Duration::from_secs_f64(t.send_s)),
        slot,
        flow: None,
    })
}

/// Makes the next second's recorder ahead, while the worker is idle: when
/// the next send is further off than twice what making one last took (and
/// a millisecond), so making it never delays a send.
#[derive(Default)]
struct Spare {
    rec: Option<Recorder>,
    /// How long making the last one took.
    cost: Duration,
}

impl Spare {
    fn make_if_idle(&mut self, next_send: Option<Instant>) {
        let margin = self.cost * 2 + Duration::from_millis(1);
        if self.rec.is_none() && next_send.is_none_or(|at| at > Instant::now() + margin) {
            let started = Instant::now();
            self.rec = Some(Recorder::default());
            self.cost = started.elapsed();
        }
    }

    fn take(&mut self) -> Recorder {
        self.rec.take().unwrap_or_default()
    }
}

fn send_at_of(next: &Option<Timed>, t0: Instant) -> Option<Instant> {
    next.as_ref()
        .map(|t| t0 + Duration::from_secs_f64(t.send_s))
}

/// One worker: its rows at their instants until they end or `stop` fires.
async fn worker(plan: Arc<ReplayPlan>, cx: WorkerCtx) {
    let t0 = cx.t0;
    let Some(mut rx) = queue(&plan, cx.id) else {
        return;
    };
    let mut rng = Rng::new(
        plan.segment
            .draw_seed(plan.seed, &["replay", &cx.id.to_string()]),
    );
    let (mut inflight, mut rec, mut slots) = (
        FuturesUnordered::new(),
        Recorder::default(),
        Slots::for_worker(cx.id),
    );
    let mut scratch = Scratch::default();
    let mut fidelity = fidelity_histogram();
    let mut tick = tokio::time::interval_at(t0 + INTERVAL, INTERVAL);
    let mut pacer = Pacer::new();
    let mut stop = cx.stop.clone();
    let stopped = stop.changed();
    tokio::pin!(stopped);
    let mut drain: Option<Pin<Box<Sleep>>> = None;
    let (mut next, mut ended, mut k) = (None::<Timed>, false, 0u64);
    // The rest of the batch `next` came from, last row first.
    let mut batch: Vec<Timed> = Vec::new();
    // The next second's recorder, made while idle (see `report_into`).
    let mut spare = Spare::default();
    loop {
        let send_at = send_at_of(&next, t0);
        spare.make_if_idle(send_at);
        if ended && next.is_none() && drain.is_none() {
            drain = Some(Box::pin(tokio::time::sleep(plan.drain)));
        }
        if ended && next.is_none() && inflight.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            _ = tick.tick() => {
                cx.report_into(k, &mut rec, inflight.len(), spare.take());
                k += 1;
            }
            Some(done) = inflight.next(), if !inflight.is_empty() => {
                cx.work.finish(done, &mut slots, &mut rec);
            }
            got = rx.recv(), if next.is_none() && batch.is_empty() && !ended => match got {
                Some(mut b) => {
                    b.reverse();
                    batch = b;
                    next = batch.pop();
                }
                None => ended = true,
            },
            _ = pacer.sleep_until(send_at.unwrap_or_else(Instant::now)), if send_at.is_some() => {
                let Some(t) = next.take() else { continue };
                let late = Instant::now().saturating_duration_since(t0 + Duration::from_secs_f64(t.trace_s));
                let _ = fidelity.record((late.as_micros() as u64).max(1));
                if let Some(l) = launch(&plan, &cx, &t, &mut rng, &mut scratch, &mut slots) {
                    inflight.push(go(l));
                }
                next = batch.pop();
            }
            _ = async { if let Some(d) = drain.as_mut() { d.await } }, if drain.is_some() => break,
        }
    }
    cx.report(k, &mut rec, inflight.len());
    // Rows dealt to this worker but never sent (a stop, an early end).
    rx.close();
    let mut unsent = u64::from(next.is_some()) + batch.len() as u64;
    while let Ok(b) = rx.try_recv() {
        unsent += b.len() as u64;
    }
    plan.unsent.fetch_add(unsent, Ordering::Relaxed);
    let mut all = plan.fidelity_us.lock().unwrap_or_else(|p| p.into_inner());
    let _ = all.add(&fidelity);
}

/// Starts the workers; reports arrive on the returned channel until all end.
pub fn start(
    plan: Arc<ReplayPlan>,
    workers: usize,
    work: Work,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> mpsc::UnboundedReceiver<IntervalReport> {
    workers::spawn(
        plan,
        workers,
        work,
        t0,
        stop,
        |p: Arc<Arc<ReplayPlan>>, cx| worker(Arc::clone(&p), cx),
    )
}
