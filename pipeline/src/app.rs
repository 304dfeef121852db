//! The pipeline's shared state.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::cache::Cache;
use crate::config::PipelineConfig;
use crate::error::Stage;
use crate::metrics::Metrics;
use crate::providers::Providers;

pub struct App {
    pub cfg: PipelineConfig,
    pub cache: Cache,
    pub providers: Providers,
    pub metrics: Arc<Metrics>,
    /// Articles generated at once.
    pub limit: Arc<Semaphore>,
    pub jobs: crate::jobs::Jobs,
    /// Articles being made, for `cache.coalesce`.
    pub flights: crate::coalesce::Flights,
    /// The job queue's receiving end, until the workers take it.
    pub job_queue: Mutex<Option<tokio::sync::mpsc::Receiver<u64>>>,
    /// OpenTelemetry spans, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    pub telemetry: Option<crate::telemetry::Telemetry>,
    /// Held while a CPU profile is being taken: one at a time.
    pub profiling: tokio::sync::Mutex<()>,
    leaked: Mutex<Vec<Box<[u8]>>>,
}

impl App {
    pub async fn new(cfg: PipelineConfig) -> Result<Self, crate::PipelineError> {
        cfg.validate()?;
        let metrics = Arc::new(Metrics::default());
        let (jobs, job_queue) = crate::jobs::Jobs::new(cfg.jobs);
        let providers = Providers::new(cfg.clone(), metrics.clone())?;
        Ok(App {
            telemetry: crate::telemetry::Telemetry::from_env(providers.client()),
            jobs,
            flights: Default::default(),
            job_queue: Mutex::new(Some(job_queue)),
            cache: Cache::from_config(&cfg.cache).await?,
            providers,
            limit: Arc::new(Semaphore::new(cfg.max_concurrent_requests)),
            metrics,
            profiling: tokio::sync::Mutex::new(()),
            leaked: Mutex::default(),
            cfg,
        })
    }

    /// The deliberate slowdown of a stage (`extra_delay_ms`), inside the
    /// stage's timing.
    pub async fn extra_delay(&self, stage: Stage) {
        sleep_ms(self.cfg.extra_delay_ms.of(stage)).await;
    }

    /// The deliberate slowdown outside every stage (`extra_delay_ms.handler`).
    pub async fn handler_delay(&self) {
        sleep_ms(self.cfg.extra_delay_ms.handler).await;
    }

    /// The deliberate leak: keeps `leak_bytes_per_request` bytes forever,
    /// written so the pages count in RSS.
    pub fn leak(&self) {
        let n = self.cfg.leak_bytes_per_request;
        if n > 0 {
            let block = vec![0xa5u8; n].into_boxed_slice();
            self.leaked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(block);
        }
    }
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
