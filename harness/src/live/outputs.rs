//! A run's live outputs together: the snapshot channel the aggregator
//! writes, the `--metrics-listen` server, the `--otlp-metrics` pusher and
//! the `--dashboard` page with its frames.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Snapshot;
use super::dashboard::{self, Frame, StopKey};
use super::otlp::{self, Times};
use super::prom::RunLabels;
use super::server::{self, Latest};

/// How often `--otlp-metrics` pushes (and once more at the end).
pub const PUSH_EVERY: Duration = Duration::from_secs(5);
/// How long the end of a run waits for its last push.
const LAST_PUSH_WAIT: Duration = Duration::from_secs(10);

/// How long the end of a run keeps the dashboard up for open pages to get
/// the last frame.
const LAST_FRAME_WAIT: Duration = Duration::from_millis(500);

/// Where the live outputs go; `None` each when not asked for.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub metrics_listen: Option<String>,
    pub otlp_metrics: Option<String>,
    pub dashboard: Option<String>,
    pub dashboard_token: Option<String>,
}

impl Wanted {
    fn any(&self) -> bool {
        self.metrics_listen.is_some() || self.otlp_metrics.is_some() || self.dashboard.is_some()
    }
}

pub struct Outputs {
    tx: watch::Sender<Option<Arc<Snapshot>>>,
    frames: Option<watch::Sender<Option<Arc<Frame>>>>,
    servers: Vec<JoinHandle<()>>,
    pusher: Option<JoinHandle<()>>,
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

/// Who may stop the run from a dashboard bound to `local`.
fn stop_key(local: std::net::SocketAddr, token: Option<&str>) -> StopKey {
    match token {
        Some(t) => StopKey::Token(t.to_string()),
        None if local.ip().is_loopback() => StopKey::Nonce(dashboard::nonce()),
        None => {
            eprintln!(
                "warning: the dashboard on {local} is reachable beyond loopback: anyone who can reach it sees the run. It has no stop button; give --dashboard-token TOKEN for one (open it with ?token=TOKEN)"
            );
            StopKey::None
        }
    }
}

impl Outputs {
    /// Starts what `wanted` names, before the load starts; `None` when it
    /// names nothing. `stop` is what the dashboard's stop button presses.
    pub async fn start(
        wanted: &Wanted,
        labels: RunLabels,
        stop: Option<watch::Sender<bool>>,
    ) -> anyhow::Result<Option<Outputs>> {
        if !wanted.any() {
            return Ok(None);
        }
        let (tx, rx) = watch::channel(None);
        let mut servers = Vec::new();
        if let Some(addr) = &wanted.metrics_listen {
            let (local, task) = server::serve(addr, rx.clone(), labels.clone()).await?;
            eprintln!("genbench: live metrics at http://{local}/metrics");
            servers.push(task);
        }
        let mut frames = None;
        if let Some(addr) = &wanted.dashboard {
            let (ftx, frx) = watch::channel(None);
            let title = format!("genbench: {} (live)", labels.scenario);
            let stop = stop.unwrap_or_else(|| watch::channel(false).0);
            let listener = dashboard::bind(addr).await?;
            let local = listener.local_addr()?;
            let key = stop_key(local, wanted.dashboard_token.as_deref());
            let task = dashboard::serve(listener, frx, key, stop, title);
            eprintln!("genbench: live dashboard at http://{local}/");
            servers.push(task);
            frames = Some(ftx);
        }
        let pusher = wanted.otlp_metrics.clone().map(|url| {
            eprintln!(
                "genbench: pushing metrics to {url} every {} s",
                PUSH_EVERY.as_secs()
            );
            tokio::spawn(pushing(url, rx, labels))
        });
        Ok(Some(Outputs {
            tx,
            frames,
            servers,
            pusher,
        }))
    }

    /// Whether a dashboard wants frames: one is open (its event stream
    /// holds a receiver beside the server's own), or none was ever made.
    /// Rendering is the dashboard's one real cost, so nobody watching
    /// costs one render, not one a second.
    pub fn wants_frames(&self) -> bool {
        self.frames
            .as_ref()
            .is_some_and(|f| f.receiver_count() > 1 || f.borrow().is_none())
    }

    /// Whether the run has a dashboard at all.
    pub fn has_dashboard(&self) -> bool {
        self.frames.is_some()
    }

    /// What the dashboard shows now.
    pub fn frame(&self, frame: Frame) {
        if let Some(f) = &self.frames {
            f.send_replace(Some(Arc::new(frame)));
        }
    }

    /// The run so far, once a second.
    pub fn publish(&self, snap: Snapshot) {
        self.tx.send_replace(Some(Arc::new(snap)));
    }

    /// The run's final figures: published, pushed once more, and waited
    /// for (at most [`LAST_PUSH_WAIT`]).
    pub async fn finish(mut self, last: Snapshot, frame: Option<Frame>) {
        self.publish(last);
        if let Some(f) = frame {
            let watched = self.frames.as_ref().is_some_and(|t| t.receiver_count() > 1);
            self.frame(f);
            if watched {
                // An open page's event stream gets the last frame.
                tokio::time::sleep(LAST_FRAME_WAIT).await;
            }
        }
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
    let http = match genbench_pipeline::client_builder().build() {
        Ok(http) => http,
        Err(e) => {
            eprintln!("warning: no metrics push to {url}: its HTTP client could not be built: {e}");
            return;
        }
    };
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
