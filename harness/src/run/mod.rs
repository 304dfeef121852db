//! One `genbench run`, in its parts: start the target, build the sender,
//! start the load model's workers, aggregate their reports as they come,
//! then assemble the `RunResult` and judge its thresholds.

mod abort;
mod fill;
mod hlog;
mod judge;
mod live;
mod load;
pub mod records;
pub mod replay;
pub mod search;
mod start;

pub use judge::evaluate;

use std::time::SystemTime;

use anyhow::Context as _;
use genbench_collectors::Recorder;
use genbench_model::{
    AbortInfo, Connections, ProfilerKind, RunResult, RunStatus, ScenarioInfo, TargetInfo,
    TargetKind,
};
use genbench_scenarios::{EmbeddedTarget, RequestTemplate, Scenario};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::collect::profile::{self, ProfileMode, ProfilePlan};
use crate::collect::{Collecting, Setup};
use crate::engine::aggregate::Aggregator;
use crate::engine::flow::FlowPlan;
use crate::engine::requests::RequestFactory;
use crate::engine::sender::{Net, Sender};
use crate::engine::workers::{IntervalReport, Work};
use crate::live::outputs::Outputs;
use crate::live::prom::RunLabels;
use crate::net::tls::Verify;
use crate::target::Embedded;
use crate::timefmt::rfc3339;
use live::Live;

/// How long a stopped run waits for its last readings of the target (the
/// ledger, counters, profile): a stop writes its results within 2 s.
const FINAL_READS_WHEN_STOPPED: std::time::Duration = std::time::Duration::from_secs(1);

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
        /// As the user wrote it (`${env:NAME}` kept): what outputs show.
        url: String,
        /// With `${env:NAME}` resolved: what is connected to, never shown.
        resolved: String,
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
    /// HTTP version and TLS verification.
    pub net: Net,
    /// The scenario's request with `${env:NAME}` resolved: sent, never
    /// written (`scenario.request` keeps the references).
    pub request: RequestTemplate,
    /// A flow's step requests, likewise resolved, in step order (empty
    /// without `[[flow.steps]]`).
    pub steps: Vec<RequestTemplate>,
    /// `--records FILE`: one JSON line per request.
    pub records: Option<std::path::PathBuf>,
    /// `--segment I/N`: the share of the load this run sends; `None` for
    /// the whole (not written as a segment).
    pub segment: Option<crate::engine::segment::LoadSegment>,
    /// `--start-at`: when the load starts.
    pub start_at: Option<SystemTime>,
    /// `--metrics-listen` and `--otlp-metrics`: the live outputs.
    pub live: crate::live::outputs::Wanted,
    /// A replay's scanned trace (`model = "replay"`).
    pub replay: Option<std::sync::Arc<replay::Prepared>>,
}

/// Decides the profiler before the target starts: the embedded pipeline
/// must be told to serve its profile endpoint.
fn profile_plan(cfg: &RunConfig) -> ProfilePlan {
    let (embedded, pid) = match &cfg.target {
        // The mock alone has no pprof endpoint: profiled like an external
        // target whose pid is not known yet.
        TargetChoice::Embedded { .. } if cfg.scenario.embedded == EmbeddedTarget::Mock => {
            (false, None)
        }
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

fn progress(p: &genbench_model::TimelinePoint, total_s: f64, total: &Recorder) {
    let p95 = p.p95_ms.map_or("-".to_string(), |v| format!("{v:.0} ms"));
    // A flow run says how many flows ended; its in-flight count is flows.
    let flows = total.flows.as_ref().map_or(String::new(), |f| {
        format!("  flows {} done, {} failed", f.completed, f.failed_total())
    });
    // A search's length is found as it goes: no planned total to show.
    let of = if total_s > 0.0 {
        format!("/{total_s:.0}s")
    } else {
        String::new()
    };
    eprintln!(
        "[{:>5.0}s{of}] {:>7.1} rps  p95 {:>9}  errors {:>4}  in flight {:>4}  total {}{flows}",
        p.t_s,
        p.rps,
        p95,
        p.errors,
        p.in_flight,
        total.total()
    );
}

/// The target, started if embedded: its description for the result and
/// the URL to connect to.
async fn start_target(
    cfg: &RunConfig,
    plan: &ProfilePlan,
    otlp: Option<&str>,
) -> anyhow::Result<(Option<Embedded>, TargetInfo, String)> {
    match &cfg.target {
        TargetChoice::Embedded {
            mock_time_scale,
            pipeline_toml,
        } => {
            let pprof = matches!(
                plan,
                ProfilePlan::Run {
                    tool: ProfilerKind::Pprof,
                    ..
                }
            );
            let toml = if pprof {
                with_profiling(pipeline_toml)?
            } else {
                pipeline_toml.clone()
            };
            let e = match cfg.scenario.embedded {
                EmbeddedTarget::Mock => Embedded::start_mock_only(*mock_time_scale).await,
                EmbeddedTarget::Pipeline => {
                    Embedded::start(*mock_time_scale, &toml, &cfg.out_dir, otlp).await
                }
            }
            .context("cannot start the embedded target")?;
            let info = TargetInfo {
                kind: TargetKind::Embedded,
                url: e.url.clone(),
                pid: e.pid,
                mock_time_scale: Some(*mock_time_scale),
            };
            let url = e.url.clone();
            Ok((Some(e), info, url))
        }
        TargetChoice::External { url, resolved, pid } => Ok((
            None,
            TargetInfo {
                kind: TargetKind::External,
                url: url.clone(),
                pid: *pid,
                mock_time_scale: None,
            },
            resolved.clone(),
        )),
    }
}

/// A sender of template `t` to `url`, as the run's settings say.
fn configure(
    cfg: &RunConfig,
    url: &str,
    setup: &Setup,
    t: &RequestTemplate,
    timeout: std::time::Duration,
    net: &Net,
) -> anyhow::Result<Sender> {
    let sender = Sender::new(url, &t.method, &t.headers, timeout, Instant::now())
        // Errors quote nothing of the resolved URL or headers but names.
        .and_then(|s| s.with_net(net))?
        .with_stream(t.stream)
        .with_cache_header(setup.cache_header())
        .with_request_id_header(&cfg.scenario.collect.request_id_header)
        .with_inspect(setup.inspect())
        .with_checks(t.checks.clone(), t.follow_redirects)
        .with_objectives(Some(cfg.scenario.objectives))
        .with_abandon(cfg.scenario.abandon)
        .with_trace_run(setup.trace_run());
    Ok(sender)
}

/// The sender for `url`, with the protocol settled (ALPN for `auto` over
/// TLS) before the clock starts.
async fn build_sender(cfg: &RunConfig, url: &str, setup: &Setup) -> anyhow::Result<Sender> {
    let sender = configure(
        cfg,
        url,
        setup,
        &cfg.request,
        cfg.scenario.timeout,
        &cfg.net,
    )?;
    if sender.is_tls() && cfg.net.verify == Verify::Insecure {
        eprintln!(
            "warning: --insecure: the target's TLS certificate is not verified (recorded in results.json)"
        );
    }
    Ok(sender.negotiate().await)
}

/// Each flow step's sender, speaking what `main` settled on and writing
/// records where it does; none without a flow.
fn step_senders(
    cfg: &RunConfig,
    url: &str,
    setup: &Setup,
    main: &Sender,
) -> anyhow::Result<Vec<Sender>> {
    let Some(flow) = &cfg.scenario.flow else {
        return Ok(Vec::new());
    };
    let mut net = cfg.net.clone();
    net.http.version = match main.protocol() {
        "h2" => genbench_scenarios::HttpVersion::Http2,
        _ => genbench_scenarios::HttpVersion::Http1,
    };
    let mut senders = Vec::new();
    for (i, (step, t)) in flow.steps.iter().zip(&cfg.steps).enumerate() {
        let timeout = step.timeout.unwrap_or(cfg.scenario.timeout);
        let mut s = configure(cfg, url, setup, t, timeout, &net)
            .with_context(|| format!("flow step \"{}\"", step.name))?;
        if let Some(tx) = main.records() {
            s = s.with_records(tx.clone());
        }
        senders.push(FlowPlan::step_sender(flow, i, s));
    }
    Ok(senders)
}

/// What each arrival or user runs, timed from `t0`.
fn work(cfg: &RunConfig, sender: Sender, steps: Vec<Sender>, t0: Instant) -> Work {
    let s = &cfg.scenario;
    match &s.flow {
        Some(flow) => {
            let steps = steps.into_iter().map(|x| x.with_t0(t0)).collect();
            Work::Flow(FlowPlan::new(flow, &cfg.steps, &s.datasets, steps))
        }
        None => Work::Request {
            factory: RequestFactory::new(&cfg.request, &s.datasets),
            sender: std::sync::Arc::new(sender.with_t0(t0)),
        },
    }
}

/// Merges the workers' reports as they arrive: progress on stderr, the
/// interval log, and the per-second collectors.
/// Merges the workers' reports a second at a time, judging `[abort]` on
/// each: a broken rule stops the load through `stop_load`.
async fn aggregate(
    cfg: &RunConfig,
    mut reports: tokio::sync::mpsc::UnboundedReceiver<IntervalReport>,
    collecting: &mut Collecting,
    started: SystemTime,
    stop_load: &watch::Sender<bool>,
    live: Option<&Live>,
) -> anyhow::Result<(Aggregator, Option<AbortInfo>)> {
    let s = &cfg.scenario;
    // A search hands on one merged report a second, its probes' workers
    // merged already.
    let workers = if s.search.is_some() { 1 } else { cfg.workers };
    let mut agg = Aggregator::new(workers, s.load.stages().to_vec()).with_flows(s.flow.is_some());
    let total_s = s.duration().as_secs_f64();
    let mut hlog = hlog::IntervalLog::create(&cfg.out_dir.join(hlog::INTERVAL_LOG), started)?;
    let mut abort = abort::AbortWatch::new(&s.abort, &s.objectives);
    let open = s.load.is_open();
    while let Some(r) = reports.recv().await {
        for (p, rec) in agg.add(r) {
            progress(&p, total_s, &agg.total);
            hlog.write(&p, &rec)?;
            collecting.interval(&p, &rec);
            collecting.traced(&agg.take_traced());
            if abort.second(&p, &agg, fill::planned(s), open).is_some() {
                let _ = stop_load.send(true);
            }
            if let Some(live) = live {
                live.second(cfg, &agg, &p, collecting);
            }
        }
    }
    for (p, rec) in agg.finish() {
        hlog.write(&p, &rec)?;
        collecting.interval(&p, &rec);
    }
    collecting.traced(&agg.take_traced());
    Ok((agg, abort.fired))
}

/// How requests reached the target.
fn connections(agg: &Aggregator, sender_protocol: &str, tls: Option<&Verify>) -> Connections {
    use genbench_collectors::summary::latency_ms;
    let c = &agg.total.connections;
    Connections {
        protocol: sender_protocol.to_string(),
        opened: c.opened,
        resumed: c.resumed,
        failed: c.failed,
        connect_ms: latency_ms(&c.connect_us),
        tls_ms: latency_ms(&c.tls_us),
        tls: tls.map(Verify::record),
    }
}

/// Runs the scenario until done or `stop` fires; returns the result.
pub async fn run(cfg: RunConfig, stop: watch::Receiver<bool>) -> anyhow::Result<RunResult> {
    let s = &cfg.scenario;
    let (stop, pressed) = dashboard_stop(&cfg, stop);
    let plan = profile_plan(&cfg);
    // The span receiver is up before the target, which is told of it.
    let traces = crate::collect::traces::Traces::for_scenario(s).await?;
    let otlp = traces.as_ref().and_then(|t| t.endpoint());
    let (embedded, target, url) = start_target(&cfg, &plan, otlp).await?;
    let setup = Setup::new(s, embedded.as_ref().map(|e| e.llm_url.as_str()), plan)
        .with_trace_run(traces.as_ref().map(|t| t.run()));
    let (sender, records) = records::attach(&cfg.records, build_sender(&cfg, &url, &setup).await?)?;
    let steps = step_senders(&cfg, &url, &setup, &sender)?;
    let (protocol, tls) = (
        sender.protocol(),
        sender.is_tls().then_some(&cfg.net.verify),
    );
    // "Before" readings (ledger, counters) are taken before the clock
    // starts, so their time is not charged to the first requests.
    let mut stopping = stop.clone();
    let collecting = tokio::select! {
        c = Collecting::prepare(setup, s, &url, traces) => c,
        _ = stopping.changed() => anyhow::bail!("interrupted before the load started"),
    };
    let outputs = live_outputs(&cfg, pressed).await?;
    let lag = start::wait(&cfg, stop.clone()).await?;
    let started = SystemTime::now();
    let t0 = Instant::now();
    let mut collecting = collecting.start(target.pid, &cfg.out_dir, t0);
    let work = work(&cfg, sender, steps, t0);
    let flow_names = flow_names(&work);
    if outputs.is_some() {
        collecting.watch_ledger();
    }
    let live = outputs.map(|outputs| Live {
        outputs,
        base: result_base(&cfg, target.clone(), started, lag),
        flow_names: flow_names.clone(),
    });
    let (stop_load, load_stopped, forward) = load_stop(&stop);
    let started_load = load::start_load(&cfg, work, t0, load_stopped, collecting.stretch_cost())?;
    let (replayed, searched) = (started_load.replay, started_load.search);
    let (agg, aborted) = aggregate(
        &cfg,
        started_load.reports,
        &mut collecting,
        started,
        &stop_load,
        live.as_ref(),
    )
    .await?;
    let stopped = *stop.borrow();
    let status = status(aborted.is_some(), stopped);
    if let Some(live) = live {
        live.finish(&cfg, &agg, &collecting, status).await;
    }
    forward.abort();
    let duration = t0.elapsed();
    // Every worker has ended, so every records sender is gone.
    let records = records::written(records).await;
    let mut r = result_base(&cfg, target, started, lag);
    r.status = status;
    r.abort = aborted;
    measured(&mut r, &cfg, &agg, duration, replayed, &flow_names);
    r.connections = Some(connections(&agg, protocol, tls));
    final_reads(
        collecting.finish(&mut r, &agg.total, s, &cfg.out_dir, stopped),
        stopped,
    )
    .await;
    // The target outlives collection: its ledger, counters and profile are
    // read from it at the end.
    drop(embedded);
    if let Some(task) = searched {
        search::fill(&mut r, task).await?;
    }
    judge_and_file(&mut r, s, records);
    Ok(r)
}

/// The live outputs asked for (metrics endpoint, OTLP push, dashboard),
/// labelled with the run.
async fn live_outputs(
    cfg: &RunConfig,
    pressed: Option<watch::Sender<bool>>,
) -> anyhow::Result<Option<Outputs>> {
    let segment = cfg.segment.map(|s| (s.index, s.count));
    let labels = RunLabels::new(&cfg.scenario.name, &cfg.out_dir, segment);
    Outputs::start(&cfg.live, labels, pressed).await
}

/// The verdicts on the finished result (thresholds, a generator that
/// limited itself) and the files beside it.
fn judge_and_file(r: &mut RunResult, s: &Scenario, records: Option<String>) {
    r.generator_limited = self_limited(r);
    r.thresholds = evaluate(&s.thresholds, r, s.analysis.inconclusive);
    r.artifacts.interval_log = Some(hlog::INTERVAL_LOG.into());
    r.artifacts.records = records;
}

/// What the load measured, into the result: counts and percentiles, a
/// replay's end, goodput, checks and flows.
fn measured(
    r: &mut RunResult,
    cfg: &RunConfig,
    agg: &Aggregator,
    duration: std::time::Duration,
    replayed: Option<replay::Started>,
    flow_names: &Option<(Vec<String>, Option<std::time::Duration>)>,
) {
    let s = &cfg.scenario;
    fill::fill(r, agg, duration, fill::planned(s), s.load.is_open());
    if let (Some(started), Some(p)) = (replayed, &cfg.replay) {
        r.replay = Some(started.finish(p));
    }
    fill::goodput(r, agg, &s.objectives, duration, fill::planned(s));
    fill::checks(r, agg, &s.request.checks);
    if let Some((names, poll)) = flow_names {
        fill::flows(r, agg, names, *poll, duration);
    }
}

/// A flow's step names and poll interval, for its part of the result.
fn flow_names(work: &Work) -> Option<(Vec<String>, Option<std::time::Duration>)> {
    match work {
        Work::Flow(plan) => Some((plan.names(), plan.poll_interval())),
        Work::Request { .. } => None,
    }
}

/// With a dashboard, its stop button stops the run as Ctrl-C does.
fn dashboard_stop(
    cfg: &RunConfig,
    stop: watch::Receiver<bool>,
) -> (watch::Receiver<bool>, Option<watch::Sender<bool>>) {
    match cfg.live.dashboard {
        Some(_) => {
            let (stop, pressed) = crate::live::dashboard::merged_stop(stop);
            (stop, Some(pressed))
        }
        None => (stop, None),
    }
}

/// The load's own stop: set on a signal (forwarded by the task returned)
/// or by an [abort] rule.
fn load_stop(
    signal: &watch::Receiver<bool>,
) -> (
    std::sync::Arc<watch::Sender<bool>>,
    watch::Receiver<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (stop_load, load_stopped) = watch::channel(false);
    let stop_load = std::sync::Arc::new(stop_load);
    let (tx, mut signal) = (stop_load.clone(), signal.clone());
    let forward = tokio::spawn(async move {
        if signal.wait_for(|s| *s).await.is_ok() {
            let _ = tx.send(true);
        }
    });
    (stop_load, load_stopped, forward)
}

fn status(aborted: bool, stopped: bool) -> RunStatus {
    match (aborted, stopped) {
        (true, _) => RunStatus::Aborted,
        (false, true) => RunStatus::Interrupted,
        (false, false) => RunStatus::Completed,
    }
}

/// The target's last readings; after a stop, cut short past
/// [`FINAL_READS_WHEN_STOPPED`].
async fn final_reads(finish: impl std::future::Future<Output = ()>, stopped: bool) {
    if !stopped {
        finish.await;
    } else if tokio::time::timeout(FINAL_READS_WHEN_STOPPED, finish)
        .await
        .is_err()
    {
        // Whatever was filled in stays; what needed the target is left out.
        eprintln!(
            "warning: stopping: the final readings of the target (cost, cache counters, memory) took over {} s and were cut short",
            FINAL_READS_WHEN_STOPPED.as_secs_f64()
        );
    }
}

/// The result's parts known when the load starts.
fn result_base(
    cfg: &RunConfig,
    target: TargetInfo,
    started: SystemTime,
    lag: Option<std::time::Duration>,
) -> RunResult {
    let s = &cfg.scenario;
    let info = ScenarioInfo {
        name: s.name.clone(),
        kind: s.kind,
        resolved: serde_json::to_value(s).unwrap_or_default(),
        seed: Some(cfg.seed),
    };
    let mut r = RunResult::new(env!("CARGO_PKG_VERSION"), info, target, rfc3339(started));
    r.host = Some(genbench_collectors::host::host());
    r.segment = start::info(cfg, &r.scenario.resolved, lag);
    r
}

/// Whether genbench itself limited what it measured; said on stderr at
/// once, and kept in the result for every output.
fn self_limited(r: &RunResult) -> Option<genbench_model::GeneratorLimited> {
    use genbench_collectors::self_limit;
    let samples = r
        .process
        .harness
        .as_ref()
        .map_or(&[][..], |h| &h.samples[..]);
    let lag = r.send_lag_ms.map(|l| l.p99);
    let g = self_limit::judge(samples, self_limit::cores(), lag, r.llm.is_some())?;
    eprintln!("warning: {}", g.message);
    Some(g)
}
