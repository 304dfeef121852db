//! A run's live outputs together: the snapshot channel the aggregator
//! writes, the `--metrics-listen` server and the `--otlp-metrics` pusher.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Snapshot;
use super::otlp::{self, Times};
use super::prom::RunLabels;
use super::server::{self, Latest};

/// How often `--otlp-metrics` pushes (and once more at the end).
pub const PUSH_EVERY: Duration = Duration::from_secs(5);
/// How long the end of a run waits for its last push.
const LAST_PUSH_WAIT: Duration = Duration::from_secs(10);

/// Where the live outputs go; `None` each when not asked for.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub metrics_listen: Option<String>,
    pub otlp_metrics: Option<String>,
}

pub struct Outputs {
    tx: watch::Sender<Option<Arc<Snapshot>>>,
    server: Option<JoinHandle<()>>,
    pusher: Option<JoinHandle<()>>,
}

impl Drop for Outputs {
    fn drop(&mut self) {
        if let Some(s) = &self.server {
            s.abort();
        }
    }
}

impl Outputs {
    /// Starts what `wanted` names, before the load starts; `None` when it
    /// names nothing.
    pub async fn start(wanted: &Wanted, labels: RunLabels) -> anyhow::Result<Option<Outputs>> {
        if wanted.metrics_listen.is_none() && wanted.otlp_metrics.is_none() {
            return Ok(None);
        }
        let (tx, rx) = watch::channel(None);
        let server = match &wanted.metrics_listen {
            Some(addr) => {
                let (local, task) = server::serve(addr, rx.clone(), labels.clone()).await?;
                eprintln!("genbench: live metrics at http://{local}/metrics");
                Some(task)
            }
            None => None,
        };
        let pusher = wanted.otlp_metrics.clone().map(|url| {
            eprintln!(
                "genbench: pushing metrics to {url} every {} s",
                PUSH_EVERY.as_secs()
            );
            tokio::spawn(pushing(url, rx, labels))
        });
        Ok(Some(Outputs { tx, server, pusher }))
    }

    /// The run so far, once a second.
    pub fn publish(&self, snap: Snapshot) {
        self.tx.send_replace(Some(Arc::new(snap)));
    }

    /// The run's final figures: published, pushed once more, and waited
    /// for (at most [`LAST_PUSH_WAIT`]).
    pub async fn finish(mut self, last: Snapshot) {
        self.publish(last);
        let pusher = self.pusher.take();
        // The pusher sees the channel close and makes its last push.
        drop(self);
        if let Some(p) = pusher
            && tokio::time::timeout(LAST_PUSH_WAIT, p).await.is_err()
        {
            eprintln!(
                "warning: the last metrics push took over {} s and was abandoned",
                LAST_PUSH_WAIT.as_secs()
            );
        }
    }
}

fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Pushes the latest snapshot every [`PUSH_EVERY`] and once more when the
/// channel closes. The first failure is said at once; the count of the
/// rest at the end, so a collector that is down never floods stderr.
async fn pushing(url: String, mut rx: Latest, labels: RunLabels) {
    let http = reqwest::Client::new();
    let start_ns = unix_ns(SystemTime::now());
    let mut tick = tokio::time::interval(PUSH_EVERY);
    tick.tick().await;
    let mut failed = 0u64;
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            changed = rx.changed() => match changed {
                Ok(()) => continue,
                Err(_) => true,
            },
        };
        let snap = rx.borrow().clone();
        if let Some(snap) = snap {
            let t = Times {
                start_ns,
                now_ns: unix_ns(SystemTime::now()),
            };
            if let Err(e) = otlp::push(&http, &url, &otlp::request(&snap, &labels, t)).await {
                if failed == 0 || last {
                    eprintln!("warning: {e}");
                }
                failed += 1;
            }
        }
        if last {
            break;
        }
    }
    if failed > 1 {
        eprintln!("warning: {failed} metrics pushes to {url} failed");
    }
}
