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

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::app::App;
use crate::article::{ArticleRequest, Timings, generate};
use crate::http::{Shared, parse_request};

/// The worker pool's settings (`[jobs]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs generated at once.
    pub workers: usize,
    /// Jobs waiting for a worker; one more is refused with 429.
    pub queue_capacity: usize,
    /// Finished jobs kept for their result; the oldest go first.
    pub kept: usize,
    /// Seconds a refused client is told to wait (`Retry-After`).
    pub retry_after_s: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 4,
            queue_capacity: 64,
            kept: 10_000,
            retry_after_s: 1,
        }
    }
}

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
    busy: AtomicUsize,
}

#[derive(Default)]
struct Table {
    jobs: HashMap<u64, Job>,
    /// Finished jobs, oldest first, for trimming to `kept`.
    finished: VecDeque<u64>,
}

impl Jobs {
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

    /// Jobs waiting for a worker, and workers generating one.
    pub fn depth_and_busy(&self) -> (usize, usize) {
        (
            self.queued.load(Ordering::Relaxed),
            self.busy.load(Ordering::Relaxed),
        )
    }

    /// Queues `req`; `None` when the queue is full.
    fn submit(&self, req: ArticleRequest) -> Option<u64> {
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
    fn start(&self, id: u64) -> Option<(ArticleRequest, Arc<AtomicUsize>)> {
        self.queued.fetch_sub(1, Ordering::Relaxed);
        let mut t = self.lock();
        let job = t.jobs.get_mut(&id)?;
        job.state = JobState::Running;
        job.started = Some(Instant::now());
        Some((job.req.clone(), job.stages_done.clone()))
    }

    fn finish(&self, id: u64, ok: bool, result: (StatusCode, Value, String, Option<bool>)) {
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

    /// The pool's gauges in Prometheus text.
    pub fn render(&self, o: &mut String) {
        use std::fmt::Write as _;
        let (depth, busy) = self.depth_and_busy();
        let p = "genbench_pipeline_jobs";
        let _ = writeln!(
            o,
            "# HELP {p}_queued jobs waiting for a worker\n# TYPE {p}_queued gauge\n{p}_queued {depth}"
        );
        let _ = writeln!(
            o,
            "# HELP {p}_workers_busy workers generating a job\n# TYPE {p}_workers_busy gauge\n{p}_workers_busy {busy}"
        );
        let _ = writeln!(
            o,
            "# HELP {p}_workers workers in the pool\n# TYPE {p}_workers gauge\n{p}_workers {}",
            self.cfg.workers
        );
    }

    /// `GET /api/v1/jobs/{id}`'s body.
    fn status(&self, id: u64) -> Option<Value> {
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

/// Spawns the pool's workers; they run until the queue closes. Once.
pub fn start_workers(app: Arc<App>) {
    let Some(rx) = app
        .job_queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    else {
        return;
    };
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..app.cfg.jobs.workers.max(1) {
        let (app, rx) = (app.clone(), rx.clone());
        tokio::spawn(async move {
            loop {
                let Some(id) = rx.lock().await.recv().await else {
                    return;
                };
                run(&app, id).await;
            }
        });
    }
}

async fn run(app: &App, id: u64) {
    let jobs = &app.jobs;
    let Some((req, progress)) = jobs.start(id) else {
        return;
    };
    jobs.busy.fetch_add(1, Ordering::Relaxed);
    app.leak();
    let mut tm = Timings::new(Instant::now()).with_progress(progress);
    let result = generate(app, &req, &mut tm).await;
    tm.finish();
    app.metrics.total(tm.total);
    let timing = tm.server_timing();
    let (ok, answer) = match result {
        Ok(a) => (
            true,
            (StatusCode::OK, a.json(&tm), timing, Some(a.cache_hit)),
        ),
        Err(e) => {
            let (status, body) = e.status_and_body();
            (false, (status, body, timing, None))
        }
    };
    jobs.busy.fetch_sub(1, Ordering::Relaxed);
    jobs.finish(id, ok, answer);
}

fn not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": {"kind": "not_found", "message": format!("no job {id}: it never existed, or it finished long enough ago to be dropped")}})),
    )
        .into_response()
}

pub async fn submit(State(app): State<Shared>, body: Result<Bytes, BytesRejection>) -> Response {
    let req = match parse_request(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let resp = match app.jobs.submit(req) {
        Some(id) => {
            let location = format!("/api/v1/jobs/{id}");
            let mut r = (
                StatusCode::ACCEPTED,
                axum::Json(json!({"job": {"id": id.to_string(), "state": JobState::Queued}})),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        None => {
            let wait = app.cfg.jobs.retry_after_s;
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"error": {"kind": "queue_full", "message": format!("all {} queue places are taken; retry after {wait} s", app.cfg.jobs.queue_capacity)}})),
            )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            r
        }
    };
    app.metrics.request("jobs", resp.status().as_u16());
    resp
}

pub async fn status(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    match id.parse().ok().and_then(|n| app.jobs.status(n)) {
        Some(v) => axum::Json(v).into_response(),
        None => not_found(&id),
    }
}

pub async fn result(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(n) = id.parse::<u64>().ok() else {
        return not_found(&id);
    };
    let t = app.jobs.lock();
    let Some(job) = t.jobs.get(&n) else {
        drop(t);
        return not_found(&id);
    };
    match &job.result {
        Some((status, body, timing, hit)) => {
            let mut r = (*status, axum::Json(body.clone())).into_response();
            if let Ok(v) = HeaderValue::from_str(timing) {
                r.headers_mut().insert("server-timing", v);
            }
            if let Some(hit) = hit {
                let v = if *hit { "HIT" } else { "MISS" };
                r.headers_mut().insert("x-cache", HeaderValue::from_static(v));
            }
            r
        }
        None => (
            StatusCode::CONFLICT,
            axum::Json(json!({"error": {"kind": "not_ready", "message": format!("job {id} is {:?}; poll GET /api/v1/jobs/{id} until its state is done", job.state).to_lowercase()}})),
        )
            .into_response(),
    }
}
