//! Starting and stopping the pipeline's HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::PipelineError;
use crate::app::App;
use crate::config::PipelineConfig;

/// A running pipeline. Dropping it without [`Pipeline::shutdown`] aborts it.
pub struct Pipeline {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Validates the config, connects the cache, binds `addr`, and serves.
    pub async fn start(config: PipelineConfig, addr: SocketAddr) -> Result<Self, PipelineError> {
        let app = Arc::new(App::new(config).await?);
        crate::job_api::start_workers(app.clone());
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| PipelineError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| PipelineError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let (stop, mut rx) = watch::channel(false);
        let router = crate::router::router(app.clone());
        let task = tokio::spawn(async move {
            let signal = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::error!("pipeline server stopped: {e}");
            }
            // Spans still queued go out before the pipeline ends; the SDK
            // blocks while it exports, so off the runtime's threads.
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(t) = &app.telemetry {
                    t.shutdown();
                }
            })
            .await;
        });
        Ok(Pipeline {
            addr,
            stop,
            task: Some(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and lets requests in flight finish for up to `grace`.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(grace, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}
