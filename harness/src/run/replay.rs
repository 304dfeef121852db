//! A replay's run: the trace scanned before anything starts (every row
//! checked against the scenario, the window's rate second by second as the
//! run's stages), the reader and workers started, and what it sent and how
//! closely it kept the trace's times for results.json.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use genbench_model::ReplayResult;
use genbench_reports::fmt::ms;
use genbench_scenarios::{Load, Passes, Replay, RequestTemplate, Scenario, Stage};
use genbench_traffic::Format;
use genbench_traffic::scan::{Scanned, Window, scan};
use genbench_traffic::timing::Timing;
use std::fmt::Write as _;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::engine::replay::feed::{self, Cut, Fed};
use crate::engine::replay::prompt::Prompts;
use crate::engine::replay::rows::RowFactory;
use crate::engine::replay::{self, ReplayPlan, fidelity_histogram};
use crate::engine::segment::LoadSegment;
use crate::engine::workers::{IntervalReport, Work};
use crate::exit::Exit;

/// A scanned trace, ready to replay.
pub struct Prepared {
    pub replay: Replay,
    pub scanned: Scanned,
    pub timing: Timing,
    /// `loop = true`: the run's end, seconds from its start.
    pub until_s: Option<f64>,
    pub rows: Arc<RowFactory>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("file", &self.replay.file)
            .field("window_rows", &self.scanned.window_rows)
            .finish()
    }
}

/// Scans the trace of a replay scenario (nothing for others) and gives the
/// scenario its stages: the window's rows per second, scaled, pass after
/// pass. `request`: the scenario's request, resolved.
pub fn prepare(s: &mut Scenario, request: &RequestTemplate) -> Result<Option<Arc<Prepared>>, Exit> {
    let Load::Replay { replay, .. } = &s.load else {
        return Ok(None);
    };
    let replay = replay.clone();
    let prompts = (replay.layout.format == Format::LlmTrace).then(|| {
        Prompts::new(
            crate::engine::llm::tokenizer(&replay.model),
            replay.block_tokens,
        )
    });
    let rows = RowFactory::new(request, &s.datasets, prompts);
    let window = Window {
        start_s: replay.start.as_secs_f64(),
        duration_s: replay.duration.map(|d| d.as_secs_f64()),
    };
    let shown = replay.file.display().to_string();
    eprintln!("reading the trace {shown} ...");
    let mut progress = |n: u64| eprintln!("  {} million rows checked", n / 1_000_000);
    let scanned = scan(
        &replay.file,
        &replay.layout,
        window,
        replay.sort,
        &mut |r| rows.check(r),
        &mut progress,
    )
    .map_err(|e| Exit::usage(anyhow!(e)))?;
    let mut timing = Timing {
        time_scale: replay.time_scale,
        rate_cap: replay.rate_cap,
        window,
        passes: 1,
    };
    let pass_s = timing.pass_s(&scanned);
    let until_s = match replay.passes {
        Passes::Count(n) => {
            timing.passes = n;
            None
        }
        Passes::For(d) => {
            timing.passes = (d.as_secs_f64() / pass_s)
                .ceil()
                .clamp(1.0, f64::from(u32::MAX)) as u32;
            Some(d.as_secs_f64())
        }
    };
    *s.load.stages_mut() = stages(&scanned, &timing, pass_s, until_s);
    eprintln!(
        "  {} rows, {} in the window over {:.1} s of the trace; {} pass(es) at {}x: {:.1} s of load",
        scanned.rows,
        scanned.window_rows,
        scanned.window_span_s,
        timing.passes,
        timing.time_scale,
        s.duration().as_secs_f64()
    );
    Ok(Some(Arc::new(Prepared {
        replay,
        scanned,
        timing,
        until_s,
        rows: Arc::new(rows),
    })))
}

/// The window's rate per bucket, scaled, for each pass: what the run's
/// progress, timeline and achieved-rate figures compare against.
fn stages(scanned: &Scanned, t: &Timing, pass_s: f64, until_s: Option<f64>) -> Vec<Stage> {
    let c = &scanned.counts;
    let width_s = c.width_s / t.time_scale;
    let mut one: Vec<Stage> = c
        .buckets
        .iter()
        .map(|n| Stage {
            duration: Duration::from_secs_f64(width_s),
            target: *n as f64 / width_s,
        })
        .collect();
    // The pass's tail past its last bucket (a window's duration, a gap).
    let covered = width_s * c.buckets.len() as f64;
    if pass_s > covered + 1e-9 {
        one.push(Stage {
            duration: Duration::from_secs_f64(pass_s - covered),
            target: 0.0,
        });
    }
    // The trace's first row goes `LEAD` after the run's start.
    let mut all = vec![Stage {
        duration: feed::LEAD,
        target: 0.0,
    }];
    let mut total = 0.0;
    'passes: for _ in 0..t.passes {
        for st in &one {
            let mut st = *st;
            if let Some(u) = until_s {
                if total >= u {
                    break 'passes;
                }
                st.duration = st.duration.min(Duration::from_secs_f64(u - total));
            }
            total += st.duration.as_secs_f64();
            all.push(st);
        }
    }
    all
}

/// A replay under way: what the end needs to say what it sent.
pub struct Started {
    plan: Arc<ReplayPlan>,
    thread: JoinHandle<Fed>,
}

/// How the run sends its share of the trace.
pub struct Share {
    pub segment: LoadSegment,
    pub max_requests: u64,
    pub seed: u64,
    pub workers: usize,
    /// How long requests still unanswered after the last send are awaited.
    pub drain: Duration,
}

/// Starts the reader and the workers.
pub fn start(
    p: &Prepared,
    share: Share,
    work: Work,
    t0: Instant,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(mpsc::UnboundedReceiver<IntervalReport>, Started)> {
    let Share {
        segment,
        max_requests,
        seed,
        workers,
        drain,
    } = share;
    let cut = Cut {
        until_s: p.until_s,
        max_requests,
    };
    let feed = feed::start(&p.scanned, p.timing, segment, cut, workers)
        .context("cannot start the trace reader")?;
    let plan = Arc::new(ReplayPlan {
        queues: feed.queues,
        rows: p.rows.clone(),
        seed,
        segment,
        drain,
        fidelity_us: Arc::new(std::sync::Mutex::new(fidelity_histogram())),
        unsent: Arc::new(AtomicU64::new(0)),
    });
    let reports = replay::start(plan.clone(), workers, work, t0, stop);
    Ok((
        reports,
        Started {
            plan,
            thread: feed.thread,
        },
    ))
}

impl Started {
    /// What was sent of the trace, once every worker has ended.
    pub fn finish(self, p: &Prepared) -> ReplayResult {
        let unsent = self.plan.unsent.load(std::sync::atomic::Ordering::Relaxed);
        let fed = feed::finish(self.thread, unsent);
        let h = self
            .plan
            .fidelity_us
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        ReplayResult {
            file: p.replay.file.display().to_string(),
            format: serde_json::to_value(p.replay.layout.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            rows: p.scanned.rows,
            window_rows: p.scanned.window_rows,
            sent: fed.sent,
            passes: p.timing.passes,
            time_scale: p.timing.time_scale,
            trace_span_s: p.scanned.window_span_s,
            held_by_rate_cap: fed.held_by_rate_cap,
            credentials_dropped: p.scanned.credentials_dropped,
            fidelity_ms: genbench_collectors::summary::latency_ms(&h),
            error: fed.error,
        }
    }
}

/// A replay's lines: what it sent of the trace, and how closely it kept the
/// trace's times.
pub fn summary_lines(o: &mut String, rp: &genbench_model::ReplayResult) {
    let _ = writeln!(
        o,
        "  replay      {} ({}): {} sent of {} rows in the window ({} in the file), {} pass(es) at {}x over {:.1} s of the trace",
        rp.file,
        rp.format,
        rp.sent,
        rp.window_rows,
        rp.rows,
        rp.passes,
        rp.time_scale,
        rp.trace_span_s
    );
    if let Some(f) = &rp.fidelity_ms {
        let _ = writeln!(
            o,
            "  fidelity    sends after the trace's instants: p50 {}  p99 {}  max {}; {} held back by rate_cap",
            ms(f.p50),
            ms(f.p99),
            ms(f.max),
            rp.held_by_rate_cap
        );
    }
    if rp.credentials_dropped > 0 {
        let _ = writeln!(
            o,
            "  credentials {} credential header(s) in the trace were not sent; the scenario's own headers apply",
            rp.credentials_dropped
        );
    }
    if let Some(e) = &rp.error {
        let _ = writeln!(o, "  warning     the replay stopped early: {e}");
    }
}
