//! Readings taken once a second beside the load: the target's and the
//! harness's CPU and RSS (on a thread of their own, since sysinfo blocks),
//! and the target's cache counters from `/metrics`; the scrape loop that
//! `[collect.metrics]` shares.

use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use genbench_collectors::process::ProcessWatch;
use genbench_collectors::prometheus::counter;
use genbench_model::ProcessStats;

use super::http;

const EVERY: Duration = Duration::from_secs(1);

/// (target, harness) readings.
type Both = (Option<ProcessStats>, Option<ProcessStats>);

/// Samples processes until stopped; the readings come back from `stop`.
pub struct ProcessSampler {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Both>,
    /// The readings so far, for the live dashboard: replaced each second.
    so_far: Arc<Mutex<Both>>,
}

impl ProcessSampler {
    /// `target`: the target's pid (its children are included); the harness
    /// is this process alone (its children are the embedded target).
    /// `t0`: the run's start, which readings are timed from.
    pub fn start(target: Option<u32>, t0: Instant) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let so_far = Arc::new(Mutex::new((None, None)));
        let shared = so_far.clone();
        let thread = std::thread::spawn(move || {
            let mut target = target.and_then(|pid| match ProcessWatch::new(pid, true) {
                Ok(w) => Some(w),
                Err(e) => {
                    eprintln!("warning: target CPU and RSS will not be measured: {e}");
                    None
                }
            });
            let mut harness = ProcessWatch::new(std::process::id(), false).ok();
            let mut target_alive = true;
            for k in 0u32.. {
                let t_s = t0.elapsed().as_secs_f64();
                if let Some(w) = target.as_mut().filter(|_| target_alive) {
                    target_alive = w.sample(t_s);
                }
                if let Some(w) = harness.as_mut() {
                    w.sample(t_s);
                }
                let now = (
                    target.as_ref().and_then(|w| w.stats()),
                    harness.as_ref().and_then(|w| w.stats()),
                );
                *shared.lock().unwrap_or_else(|p| p.into_inner()) = now;
                // Absolute deadlines: readings stay a second apart on average.
                let next = t0 + EVERY * (k + 1);
                let wait = next.saturating_duration_since(Instant::now());
                match stopped.recv_timeout(wait) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            }
            (
                target.and_then(|w| w.stats()),
                harness.and_then(|w| w.stats()),
            )
        });
        ProcessSampler {
            stop,
            thread,
            so_far,
        }
    }

    /// (target, harness) readings so far.
    pub fn so_far(&self) -> Both {
        self.so_far
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops sampling: (target, harness).
    pub fn finish(self) -> Both {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or((None, None))
    }
}

/// One reading of the cache counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CounterReading {
    pub t_s: f64,
    pub hits: f64,
    pub misses: f64,
}

/// Where and what to scrape.
#[derive(Debug, Clone)]
pub struct CounterSource {
    pub url: String,
    pub hits: String,
    pub misses: String,
}

/// Something read from the target once a second.
pub trait Scrape: Clone + Send + Sync + 'static {
    type Reading: Send + 'static;
    fn read(&self, t_s: f64) -> impl Future<Output = anyhow::Result<Self::Reading>> + Send;
}

impl Scrape for CounterSource {
    type Reading = CounterReading;
    async fn read(&self, t_s: f64) -> anyhow::Result<CounterReading> {
        let body = http::get(&self.url, Duration::from_secs(5)).await?;
        let text = String::from_utf8_lossy(&body);
        let find = |name: &str| {
            counter(&text, name)
                .ok_or_else(|| anyhow::anyhow!("{} has no counter `{name}`", self.url))
        };
        Ok(CounterReading {
            t_s,
            hits: find(&self.hits)?,
            misses: find(&self.misses)?,
        })
    }
}

/// Scrapes `source` each second until aborted.
pub fn scrape_every_second<S: Scrape>(
    source: S,
    t0: tokio::time::Instant,
    readings: tokio::sync::mpsc::UnboundedSender<S::Reading>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(t0 + EVERY, EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            // A failed scrape leaves a gap: counter totals come from the
            // first and last readings, and a leak fit needs no even spacing.
            if let Ok(r) = source.read(t0.elapsed().as_secs_f64()).await
                && readings.send(r).is_err()
            {
                return;
            }
        }
    })
}
