//! Serving on several cores: one listener per API accepts on the caller's
//! runtime and deals each connection, round-robin, to one of N threads,
//! each a single-threaded runtime serving the same routers over the same
//! state (one ledger, one set of faults). A connection then lives on one
//! core with no work-stealing between them, so stream capacity grows with
//! the cores given. One listener, not N with SO_REUSEPORT: a second mock
//! started on the same port must still fail to bind, not share the port.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// Connections handed to one worker, as axum serves a listener.
struct Handoff {
    rx: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Handoff {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some((std, peer)) = self.rx.recv().await else {
                // The acceptor is gone: no more connections, ever.
                return std::future::pending().await;
            };
            // Registered with this worker's runtime, not the acceptor's.
            if let Ok(s) = tokio::net::TcpStream::from_std(std) {
                // One small write per token: Nagle would hold them back.
                let _ = s.set_nodelay(true);
                return (s, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// The worker threads serving `apps` (one per listener, in order).
pub struct Workers {
    threads: Vec<std::thread::JoinHandle<()>>,
    senders: Vec<Vec<mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>>>,
}

impl Workers {
    /// `n` threads, each serving every app in `apps` until `stop`, then
    /// at most `grace` more for requests in flight.
    pub fn start(
        n: usize,
        apps: &[(Router, SocketAddr)],
        stop: &watch::Receiver<bool>,
        grace: Duration,
    ) -> std::io::Result<Self> {
        let mut threads = Vec::new();
        let mut senders: Vec<Vec<_>> = vec![Vec::new(); apps.len()];
        for i in 0..n {
            let mut served = Vec::new();
            for (k, (app, local)) in apps.iter().enumerate() {
                let (tx, rx) = mpsc::unbounded_channel();
                senders[k].push(tx);
                served.push((app.clone(), Handoff { rx, local: *local }));
            }
            let stop = stop.clone();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let t = std::thread::Builder::new()
                .name(format!("mock-worker-{i}"))
                .spawn(move || rt.block_on(serve(served, stop, grace)))?;
            threads.push(t);
        }
        Ok(Workers { threads, senders })
    }

    /// Accepts on `listener` (the `k`-th app's) until `stop`, dealing
    /// connections round-robin.
    pub fn acceptor(
        &self,
        k: usize,
        listener: TcpListener,
        mut stop: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let senders = self.senders[k].clone();
        async move {
            let mut next = 0usize;
            loop {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    accepted = listener.accept() => {
                        let Ok((s, peer)) = accepted else { continue };
                        let Ok(std) = s.into_std() else { continue };
                        let _ = senders[next % senders.len()].send((std, peer));
                        next = next.wrapping_add(1);
                    }
                }
            }
        }
    }

    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Waits for the threads, which end within their grace after `stop`.
    pub fn join(self) {
        drop(self.senders);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

async fn serve(apps: Vec<(Router, Handoff)>, mut stop: watch::Receiver<bool>, grace: Duration) {
    let servers = apps.into_iter().map(|(app, h)| {
        let mut stop = stop.clone();
        let signal = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        async move {
            let _ = axum::serve(h, app).with_graceful_shutdown(signal).await;
        }
    });
    let all = futures_util::future::join_all(servers);
    tokio::select! {
        _ = all => {}
        // Hung requests would hold a graceful shutdown forever.
        _ = async {
            let _ = stop.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => {}
    }
}
