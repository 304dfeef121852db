//! Asynchronous article jobs, as many generation services expose them:
//! `POST /api/v1/jobs` queues an article and answers 202 with its
//! `Location`; `GET /api/v1/jobs/{id}` reports `queued`, `running`, `done`
//! or `failed` with progress; `GET /api/v1/jobs/{id}/result` is the
//! article. A bounded pool of workers takes jobs from a bounded queue; a
//! full queue answers 429 with `Retry-After`. Queue depth and busy workers
//! are on `/metrics`, so a flow run can chart them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::JobsConfig;
use crate::types::ArticleRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

struct Job {
    req: ArticleRequest,
    state: JobState,
    created: Instant,
    started: Option<Instant>,
    finished: Option<Instant>,
    /// Stages finished so far, of [`STAGES`].
    stages_done: Arc<AtomicUsize>,
    /// The answer `/result` gives: status, body, Server-Timing, cache hit.
    result: Option<(StatusCode, Value, String, Option<bool>)>,
}

/// Stages of an article that misses the cache.
const STAGES: usize = 6;

/// The queue, the jobs, and the pool's counters.
pub struct Jobs {
    cfg: JobsConfig,
    queue: mpsc::Sender<u64>,
    table: Mutex<Table>,
    next_id: AtomicU64,
    queued: AtomicUsize,
    pub(crate) busy: AtomicUsize,
}

#[derive(Default)]
struct Table {
    jobs: HashMap<u64, Job>,
    /// Finished jobs, oldest first, for trimming to `kept`.
    finished: VecDeque<u64>,
}

impl Jobs {
    /// Job `id`'s answer for `/result` (status, body, Server-Timing,
    /// cache hit), or its state while it has none; `None`: no such job.
    #[allow(clippy::type_complexity)]
    pub(crate) fn answer(
        &self,
        id: u64,
    ) -> Option<Result<(StatusCode, Value, String, Option<bool>), JobState>> {
        let t = self.lock();
        let job = t.jobs.get(&id)?;
        Some(job.result.clone().ok_or(job.state))
    }

    /// The pool and its receiver; [`start_workers`] takes the receiver.
    pub fn new(cfg: JobsConfig) -> (Jobs, mpsc::Receiver<u64>) {
        let (tx, rx) = mpsc::channel(cfg.queue_capacity.max(1));
        let jobs = Jobs {
            cfg,
            queue: tx,
            table: Mutex::default(),
            next_id: AtomicU64::new(1),
            queued: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
        };
        (jobs, rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pool's gauges for `/metrics`: (name, help, value).
    pub fn gauges(&self) -> [(&'static str, &'static str, u64); 3] {
        let (depth, busy) = self.depth_and_busy();
        [
            ("jobs_queued", "jobs waiting for a worker", depth as u64),
            ("jobs_workers_busy", "workers generating a job", busy as u64),
            (
                "jobs_workers",
                "workers in the pool",
                self.cfg.workers as u64,
            ),
        ]
    }

    /// Jobs waiting for a worker, and workers generating one.
    pub fn depth_and_busy(&self) -> (usize, usize) {
        (
            self.queued.load(Ordering::Relaxed),
            self.busy.load(Ordering::Relaxed),
        )
    }

    /// Queues `req`; `None` when the queue is full.
    pub(crate) fn submit(&self, req: ArticleRequest) -> Option<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().jobs.insert(
            id,
            Job {
                req,
                state: JobState::Queued,
                created: Instant::now(),
                started: None,
                finished: None,
                stages_done: Arc::default(),
                result: None,
            },
        );
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.queue.try_send(id).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            self.lock().jobs.remove(&id);
            return None;
        }
        Some(id)
    }

    /// Marks `id` running; its request and progress counter.
    pub(crate) fn start(&self, id: u64) -> Option<(ArticleRequest, Arc<AtomicUsize>)> {
        self.queued.fetch_sub(1, Ordering::Relaxed);
        let mut t = self.lock();
        let job = t.jobs.get_mut(&id)?;
        job.state = JobState::Running;
        job.started = Some(Instant::now());
        Some((job.req.clone(), job.stages_done.clone()))
    }

    pub(crate) fn finish(
        &self,
        id: u64,
        ok: bool,
        result: (StatusCode, Value, String, Option<bool>),
    ) {
        let mut t = self.lock();
        if let Some(job) = t.jobs.get_mut(&id) {
            job.state = if ok { JobState::Done } else { JobState::Failed };
            job.finished = Some(Instant::now());
            job.result = Some(result);
        }
        t.finished.push_back(id);
        while t.finished.len() > self.cfg.kept.max(1) {
            if let Some(old) = t.finished.pop_front() {
                t.jobs.remove(&old);
            }
        }
    }

    /// `GET /api/v1/jobs/{id}`'s body.
    pub(crate) fn status(&self, id: u64) -> Option<Value> {
        let t = self.lock();
        let j = t.jobs.get(&id)?;
        let ms = |a: Instant, b: Option<Instant>| b.map(|b| (b - a).as_secs_f64() * 1000.0);
        let progress = match j.state {
            JobState::Done => 1.0,
            _ => (j.stages_done.load(Ordering::Relaxed) as f64 / STAGES as f64).min(0.99),
        };
        Some(json!({"job": {
            "id": id.to_string(),
            "state": j.state,
            "progress": progress,
            "topic": j.req.topic,
            "queued_ms": ms(j.created, j.started.or(Some(Instant::now()))),
            "running_ms": j.started.map(|s| (j.finished.unwrap_or_else(Instant::now) - s).as_secs_f64() * 1000.0),
        }}))
    }
}
