//! One `genbench run`: start the target, drive the scenario, aggregate,
//! evaluate thresholds and assemble the `RunResult`.

use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use genbench_collectors::Recorder;
use genbench_collectors::summary::{encode_histogram, errors, latency_ms};
use genbench_model::{
    ProfilerKind, RequestCounts, RunResult, RunStatus, ScenarioInfo, TargetInfo, TargetKind,
    ThresholdResult,
};
use genbench_scenarios::{Load, Metric, Scenario, Threshold};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::collect::profile::{self, ProfileMode, ProfilePlan};
use crate::collect::{Collecting, Setup};
use crate::engine::aggregate::Aggregator;
use crate::engine::closed::{self, ClosedPlan};
use crate::engine::open::{self, OpenPlan};
use crate::engine::requests::RequestFactory;
use crate::engine::sender::Sender;
use crate::engine::workers::INTERVAL;
use crate::target::Embedded;
use crate::timefmt::rfc3339;

/// Where the load goes.
#[derive(Debug, Clone)]
pub enum TargetChoice {
    /// genbench's mock providers and reference pipeline as children; the
    /// mock's latencies are scaled by `mock_time_scale` (0 = instant).
    Embedded {
        mock_time_scale: f64,
        /// The reference pipeline's settings (validated TOML), from the
        /// scenario's `[pipeline]` and `--set pipeline.*`; empty for defaults.
        pipeline_toml: String,
    },
    External {
        url: String,
        pid: Option<u32>,
    },
}

/// A validated run: nothing here is checked again.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub scenario: Scenario,
    /// Where results.json and intervals.hlog go.
    pub out_dir: std::path::PathBuf,
    pub target: TargetChoice,
    pub seed: u64,
    pub workers: usize,
    pub profile: ProfileMode,
}

/// Decides the profiler before the target starts: the embedded pipeline
/// must be told to serve its profile endpoint.
fn profile_plan(cfg: &RunConfig) -> ProfilePlan {
    let (embedded, pid) = match &cfg.target {
        TargetChoice::Embedded { .. } => (true, None),
        TargetChoice::External { pid, .. } => (false, *pid),
    };
    let installed = |p: &str| genbench_collectors::profile::which(p).is_some();
    let plan = profile::plan(
        cfg.profile,
        &profile::Context {
            embedded,
            pid,
            kind: cfg.scenario.kind,
            run: cfg.scenario.duration(),
            installed: &installed,
            is_python: &genbench_collectors::profile::is_python,
            has_py_spy: &|pid| genbench_collectors::profile::find_py_spy(pid).is_some(),
        },
    );
    if cfg.scenario.kind == genbench_model::ScenarioKind::Soak
        && matches!(plan, ProfilePlan::Run { .. })
    {
        eprintln!(
            "warning: profiling a soak: the profiler's own memory will show in the leak slope"
        );
    }
    plan
}

/// The pipeline settings with its profile endpoint on (it costs nothing
/// until a profile is asked for).
fn with_profiling(pipeline_toml: &str) -> anyhow::Result<String> {
    let mut t: toml::Table = toml::from_str(pipeline_toml).context("pipeline settings")?;
    t.entry("profiling").or_insert(toml::Value::Boolean(true));
    Ok(toml::to_string(&t)?)
}

/// The observed value of a threshold's metric, `None` if not measured.
fn observe(t: &Threshold, r: &RunResult) -> Option<f64> {
    match t.metric {
        Metric::Latency(l) => r.latency_ms.as_ref().map(|s| l.of(s)),
        Metric::Ttfb(l) => r.ttfb_ms.as_ref().map(|s| l.of(s)),
        Metric::ErrorRate => (r.requests.total > 0).then_some(r.errors.rate),
        Metric::CacheHitRate => r.cache.as_ref().and_then(|c| c.hit_rate),
        Metric::ThroughputRps => Some(r.throughput_rps),
        Metric::CostPerArticle => r.cost.as_ref().and_then(|c| c.per_article_usd),
        Metric::RssGrowth => r.leak.as_ref().map(|l| l.slope_mib_per_h),
    }
}

/// Evaluates thresholds. One that could not be measured fails: a gate that
/// passes what it never saw would be worse than one that says so.
///
/// Memory growth is a fitted slope, and a short run's slope is noisy (a
/// steady process read +20 MiB/h with a 95% CI of -10 to +49 over 24 s):
/// `rss_growth` fails only when the whole CI is on the failing side, as the
/// leak verdict does, so noise never fails a gate.
pub fn evaluate(thresholds: &[Threshold], r: &RunResult) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let observed = observe(t, r);
            let passed = match (t.metric, &r.leak) {
                (Metric::RssGrowth, Some(l)) => {
                    t.passes(l.ci95_mib_per_h[0]) || t.passes(l.ci95_mib_per_h[1])
                }
                _ => observed.is_some_and(|v| t.passes(v)),
            };
            ThresholdResult {
                expr: t.expr.clone(),
                observed,
                passed,
            }
        })
        .collect()
}

fn progress(p: &genbench_model::TimelinePoint, total_s: f64, total: &Recorder) {
    let p95 = p.p95_ms.map_or("-".to_string(), |v| format!("{v:.0} ms"));
    eprintln!(
        "[{:>5.0}s/{:.0}s] {:>7.1} rps  p95 {:>9}  errors {:>4}  in flight {:>4}  total {}",
        p.t_s,
        total_s,
        p.rps,
        p95,
        p.errors,
        p.in_flight,
        total.total()
    );
}

/// Runs the scenario until done or `stop` fires; returns the result.
pub async fn run(cfg: RunConfig, stop: watch::Receiver<bool>) -> anyhow::Result<RunResult> {
    let s = &cfg.scenario;
    let stages = s.load.stages().to_vec();
    let plan = profile_plan(&cfg);
    let pprof = matches!(
        plan,
        ProfilePlan::Run {
            tool: ProfilerKind::Pprof,
            ..
        }
    );
    let (embedded, target) = match &cfg.target {
        TargetChoice::Embedded {
            mock_time_scale,
            pipeline_toml,
        } => {
            let toml = if pprof {
                with_profiling(pipeline_toml)?
            } else {
                pipeline_toml.clone()
            };
            let e = Embedded::start(*mock_time_scale, &toml, &cfg.out_dir)
                .await
                .context("cannot start the embedded target")?;
            let info = TargetInfo {
                kind: TargetKind::Embedded,
                url: e.url.clone(),
                pid: e.pipeline_pid,
            };
            (Some(e), info)
        }
        TargetChoice::External { url, pid } => (
            None,
            TargetInfo {
                kind: TargetKind::External,
                url: url.clone(),
                pid: *pid,
            },
        ),
    };
    let setup = Setup::new(s, embedded.as_ref().map(|e| e.llm_url.as_str()), plan);
    let sender = Sender::new(
        &target.url,
        &s.request.method,
        &s.request.headers,
        s.timeout,
        Instant::now(),
    )?;
    let sender = sender
        .with_stream(s.request.stream)
        .with_cache_header(setup.cache_header())
        .with_inspect(setup.inspect());
    // "Before" readings (ledger, counters) are taken before the clock
    // starts, so their time is not charged to the first requests.
    let collecting = Collecting::prepare(setup, s, &target.url).await;
    let started = SystemTime::now();
    let t0 = Instant::now();
    let sender = sender.with_t0(t0);
    let mut collecting = collecting.start(target.pid, &cfg.out_dir, t0);
    let factory = RequestFactory::new(&s.request, &s.datasets);
    let (seed, max_requests, workers, drain) = (cfg.seed, s.max_requests, cfg.workers, s.timeout);
    let mut reports = match &s.load {
        Load::Open { arrivals, .. } => {
            let plan = OpenPlan {
                stages: stages.clone(),
                arrivals: *arrivals,
                seed,
                max_requests,
                workers,
                drain,
            };
            open::start(plan, factory, sender, t0, stop.clone())
        }
        Load::Closed { think_time, .. } => {
            let plan = ClosedPlan {
                stages: stages.clone(),
                think_time: *think_time,
                seed,
                max_requests,
                workers,
                drain,
            };
            closed::start(plan, factory, sender, t0, stop.clone())
        }
    };
    let mut agg = Aggregator::new(cfg.workers, stages.clone());
    let total_s = s.duration().as_secs_f64();
    let mut hlog = IntervalLog::create(&cfg.out_dir.join(INTERVAL_LOG), started)?;
    while let Some(r) = reports.recv().await {
        for (p, rec) in agg.add(r) {
            progress(&p, total_s, &agg.total);
            hlog.write(&p, &rec)?;
            collecting.interval(&p, &rec);
        }
    }
    for (p, rec) in agg.finish() {
        hlog.write(&p, &rec)?;
        collecting.interval(&p, &rec);
    }
    let duration = t0.elapsed();
    let info = ScenarioInfo {
        name: s.name.clone(),
        kind: s.kind,
        resolved: serde_json::to_value(s).unwrap_or_default(),
    };
    let mut r = RunResult::new(env!("CARGO_PKG_VERSION"), info, target, rfc3339(started));
    r.host = Some(genbench_collectors::host::host());
    r.status = if *stop.borrow() {
        RunStatus::Interrupted
    } else {
        RunStatus::Completed
    };
    fill(&mut r, &agg, duration, s.duration());
    let stopped = *stop.borrow();
    collecting
        .finish(&mut r, &agg.total, s, &cfg.out_dir, stopped)
        .await;
    // The target outlives collection: its ledger, counters and profile are
    // read from it at the end.
    drop(embedded);
    r.thresholds = evaluate(&s.thresholds, &r);
    r.artifacts.interval_log = Some(INTERVAL_LOG.into());
    Ok(r)
}

const INTERVAL_LOG: &str = "intervals.hlog";

/// The HdrHistogram interval log, one latency histogram per second, written
/// as each second completes (unbuffered, so a crash loses at most one).
struct IntervalLog {
    file: std::fs::File,
    serializer: V2DeflateSerializer,
    header: Option<SystemTime>,
}

impl IntervalLog {
    fn create(path: &std::path::Path, started: SystemTime) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(IntervalLog {
            file,
            serializer: V2DeflateSerializer::new(),
            header: Some(started),
        })
    }

    fn write(&mut self, p: &genbench_model::TimelinePoint, rec: &Recorder) -> anyhow::Result<()> {
        let mut b = IntervalLogWriterBuilder::new();
        if let Some(started) = self.header.take() {
            b.add_comment(
                "genbench: latency per second in microseconds, from each request's scheduled time",
            );
            b.with_start_time(started).with_base_time(started);
        }
        let mut log = b
            .begin_log_with(&mut self.file, &mut self.serializer)
            .context("cannot write the interval log")?;
        let start = Duration::from_secs_f64((p.t_s - INTERVAL.as_secs_f64()).max(0.0));
        log.write_histogram(&rec.latency_us, start, INTERVAL, Tag::new("latency"))
            .map_err(|e| anyhow::anyhow!("cannot write the interval log: {e:?}"))
    }
}

/// Requests per second over the load window: the planned stages, or less if
/// the run was stopped early. The drain after the last send is not load.
pub fn throughput(requests: u64, elapsed: Duration, planned: Duration) -> f64 {
    let window = elapsed.min(planned).as_secs_f64();
    if window > 0.0 {
        requests as f64 / window
    } else {
        0.0
    }
}

fn fill(r: &mut RunResult, agg: &Aggregator, duration: Duration, planned: Duration) {
    let t = &agg.total;
    r.duration_s = duration.as_secs_f64();
    r.requests = RequestCounts {
        total: t.total(),
        ok: t.ok,
        failed: t.failed(),
    };
    r.throughput_rps = throughput(t.total(), duration, planned);
    r.latency_ms = latency_ms(&t.latency_us);
    r.ttfb_ms = latency_ms(&t.ttfb_us);
    r.chunk_gap_ms = latency_ms(&t.chunk_gap_us);
    r.errors = errors(t);
    r.timeline = agg.timeline.clone();
    r.histograms.latency_us = encode_histogram(&t.latency_us);
    r.histograms.ttfb_us = encode_histogram(&t.ttfb_us);
    r.histograms.chunk_gap_us = encode_histogram(&t.chunk_gap_us);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_leak(slope: f64, ci: [f64; 2]) -> RunResult {
        let info = ScenarioInfo {
            name: "soak".into(),
            kind: genbench_model::ScenarioKind::Soak,
            resolved: serde_json::Value::Null,
        };
        let target = TargetInfo {
            kind: TargetKind::External,
            url: "http://127.0.0.1:1".into(),
            pid: None,
        };
        let mut r = RunResult::new("0", info, target, String::new());
        r.leak = Some(genbench_model::Leak {
            slope_mib_per_h: slope,
            ci95_mib_per_h: ci,
            theil_sen_mib_per_h: slope,
            warmup_excluded_s: 0.0,
            verdict: genbench_model::LeakVerdict::Inconclusive,
            tolerance_mib_per_h: 10.0,
            samples: 20,
        });
        r
    }

    #[test]
    fn rss_growth_fails_only_when_the_whole_ci_is_over_the_limit() {
        let t = [genbench_scenarios::parse_threshold("rss_growth < 10MiB/h").unwrap()];
        // A noisy steady run: the point slope is over, the CI straddles.
        let noisy = evaluate(&t, &with_leak(19.6, [-9.7, 48.9]));
        assert_eq!(noisy[0].observed, Some(19.6));
        assert!(noisy[0].passed);
        let leaking = evaluate(&t, &with_leak(4490.0, [4477.0, 4502.0]));
        assert!(!leaking[0].passed);
        let t = [genbench_scenarios::parse_threshold("rss_growth < 10MiB/h").unwrap()];
        let mut none = with_leak(0.0, [0.0, 0.0]);
        none.leak = None;
        assert!(!evaluate(&t, &none)[0].passed, "not measured fails");
    }

    #[test]
    fn throughput_counts_the_load_window_not_the_drain() {
        let (sixty, sixty_four) = (Duration::from_secs(60), Duration::from_secs(64));
        assert_eq!(throughput(120, sixty_four, sixty), 2.0);
        // Interrupted after 10 s of a 60 s plan.
        assert_eq!(throughput(20, Duration::from_secs(10), sixty), 2.0);
        assert_eq!(throughput(5, Duration::ZERO, sixty), 0.0);
    }
}
