//! The replay's reader: one thread reads the trace (streamed from disk, or
//! the rows sorted in memory), times each row, keeps this segment's
//! (`--segment I/N`: every N-th row from the I-th) and deals them to the
//! workers in turn through bounded channels, so at most a few thousand rows
//! are in memory whatever the trace's length.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use genbench_traffic::scan::Scanned;
use genbench_traffic::timing::{Timed, Times, Timing};
use tokio::sync::mpsc;

use crate::engine::segment::LoadSegment;

/// Rows are dealt in batches of this many (fewer at the end, or when the
/// next row is far off): one hand-over per batch, so the reader and a
/// worker wake each other once per batch rather than once per row.
const BATCH_ROWS: usize = 256;

/// Batches a worker may have waiting (so at most this many times
/// `BATCH_ROWS` rows are in memory per worker).
const QUEUE_BATCHES: usize = 16;

/// A batch is handed over early when its first row is due within this
/// long, so a sparse trace's rows are not held back waiting for company.
const HOLD_S: f64 = 0.05;

/// How long after the run's start the trace's first row goes: long enough
/// for the workers' threads and event loops to be up, so the first rows
/// are not late by their start (about 6 ms of a debug build's). Every row
/// moves by the same, so the trace's own gaps are kept exactly.
pub const LEAD: std::time::Duration = std::time::Duration::from_millis(50);

/// What the reader counted, read once it has ended.
#[derive(Debug, Clone, Default)]
pub struct Fed {
    pub sent: u64,
    pub held_by_rate_cap: u64,
    /// Why the reader stopped before the trace's end.
    pub error: Option<String>,
}

/// The reader's thread and the workers' ends of its channels.
pub struct Feed {
    pub queues: Queues,
    pub thread: JoinHandle<Fed>,
}

/// The rows of a replay up to `until_s` seconds and `max_requests`.
pub struct Cut {
    pub until_s: Option<f64>,
    pub max_requests: u64,
}

/// Starts reading; `workers` channels, one per worker.
pub fn start(
    scanned: &Scanned,
    timing: Timing,
    segment: LoadSegment,
    cut: Cut,
    workers: usize,
) -> std::io::Result<Feed> {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..workers.max(1))
        .map(|_| mpsc::channel::<Vec<Timed>>(QUEUE_BATCHES))
        .unzip();
    let times = Times::new(timing, scanned);
    let thread = std::thread::Builder::new()
        .name("genbench-replay".into())
        .spawn(move || deal(times, segment, cut, txs, std::time::Instant::now()))?;
    Ok(Feed {
        queues: rxs.into_iter().map(|r| Mutex::new(Some(r))).collect(),
        thread,
    })
}

/// Deals the timed rows in batches, worker by worker in turn. `start`:
/// about when the run's clock started, to know when a batch is due.
fn deal(
    times: Times,
    segment: LoadSegment,
    cut: Cut,
    txs: Vec<mpsc::Sender<Vec<Timed>>>,
    start: std::time::Instant,
) -> Fed {
    let mut fed = Fed::default();
    let (i, n) = (u64::from(segment.index), u64::from(segment.count));
    let mut batches: Vec<Vec<Timed>> = txs.iter().map(|_| Vec::new()).collect();
    let mut next = 0usize;
    let lead = LEAD.as_secs_f64();
    for t in times {
        let t = match t {
            Ok(t) => t,
            Err(e) => {
                fed.error = Some(e.to_string());
                break;
            }
        };
        if cut.until_s.is_some_and(|u| t.trace_s >= u) || fed.sent >= cut.max_requests {
            break;
        }
        if t.index % n != i {
            continue;
        }
        fed.held_by_rate_cap += u64::from(t.send_s > t.trace_s);
        fed.sent += 1;
        let t = Timed {
            trace_s: t.trace_s + lead,
            send_s: t.send_s + lead,
            ..t
        };
        let batch = &mut batches[next];
        batch.push(t);
        let due = batch[0].send_s - start.elapsed().as_secs_f64() < HOLD_S;
        if batch.len() >= BATCH_ROWS || due {
            // A worker that has ended (stopped) drops its end: the run is
            // over.
            if txs[next].blocking_send(std::mem::take(batch)).is_err() {
                return fed;
            }
        }
        next = (next + 1) % txs.len();
    }
    for (tx, batch) in txs.iter().zip(batches) {
        if !batch.is_empty() && tx.blocking_send(batch).is_err() {
            break;
        }
    }
    fed
}

/// The reader's count of what it sent; the rows still queued when the run
/// stopped early were not sent, and are taken off.
pub fn finish(thread: JoinHandle<Fed>, unsent: u64) -> Fed {
    let mut fed = thread.join().unwrap_or_else(|_| Fed {
        error: Some("the trace reader panicked".into()),
        ..Fed::default()
    });
    fed.sent = fed.sent.saturating_sub(unsent);
    fed
}

/// Shared by the workers: how many rows they never sent.
pub type Unsent = Arc<std::sync::atomic::AtomicU64>;

/// The workers' ends of the reader's channels, each taken once.
pub type Queues = Vec<Mutex<Option<mpsc::Receiver<Vec<Timed>>>>>;
