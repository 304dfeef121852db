//! `genbench run`: arguments into a validated `RunConfig`, then the run,
//! results.json and the summary.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, anyhow};
use genbench_model::RunStatus;
use genbench_scenarios::{
    Load, Override, RequestTemplate, Scenario, Stage, builtin_overridden, parse_duration,
    parse_override, process_env, resolve_env,
};
use tokio::sync::watch;

use crate::cli::{ProfileArg, RunArgs, RunOptions};
use crate::collect::profile::ProfileMode;
use crate::engine::segment::LoadSegment;
use crate::engine::sender::Net;
use crate::exit::Exit;
use crate::net::tls::Verify;
use crate::run::{RunConfig, TargetChoice};

pub(crate) fn load_scenario(name: &str, overrides: &[Override]) -> Result<Scenario, Exit> {
    if let Some(s) = builtin_overridden(name, overrides) {
        return s.map_err(Exit::usage);
    }
    let path = Path::new(name);
    if !path.exists() {
        return Err(Exit::usage(anyhow!(
            "`{name}` is neither a built-in scenario ({}) nor a file",
            genbench_scenarios::BUILTIN_NAMES.join(", ")
        )));
    }
    Scenario::from_file_overridden(path, overrides).map_err(Exit::usage)
}

/// The embedded pipeline's settings from the scenario's `[pipeline]`,
/// validated now so a typo fails before anything starts.
fn pipeline_toml(s: &Scenario) -> Result<String, Exit> {
    if s.pipeline.is_empty() {
        return Ok(String::new());
    }
    let text = toml::to_string(&s.pipeline).map_err(|e| Exit::usage(anyhow!("[pipeline]: {e}")))?;
    genbench_pipeline::PipelineConfig::from_toml(
        &text,
        "the scenario's [pipeline] (or --set pipeline.*)",
    )
    .map_err(Exit::usage)?;
    Ok(text)
}

/// Applies --duration, --rate and --users to the scenario.
fn apply_overrides(s: &mut Scenario, args: &RunOptions) -> Result<(), Exit> {
    if matches!(s.load, Load::Replay { .. }) {
        let given = [
            (
                "--duration",
                args.duration.is_some(),
                "load.replay.duration=10m (the window of the trace) or loop/run_for",
            ),
            (
                "--rate",
                args.rate.is_some(),
                "load.replay.time_scale=3 (three times as fast) or load.replay.rate_cap=100",
            ),
            ("--users", args.users.is_some(), "load.replay.time_scale"),
        ];
        if let Some((flag, _, fix)) = given.iter().find(|g| g.1) {
            return Err(Exit::usage(anyhow!(
                "{flag} does not apply to a replay, whose times come from its trace: use --set {fix}"
            )));
        }
    }
    if s.search.is_some() {
        let given = [
            ("--duration", args.duration.is_some()),
            ("--rate", args.rate.is_some()),
            ("--users", args.users.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|g| g.1) {
            return Err(Exit::usage(anyhow!(
                "{flag} does not apply to a capacity search, which finds the load itself: \
use --set load.search.min=…, load.search.max=…, load.search.probe=30s or load.search.hold=60s"
            )));
        }
    }
    if let Some(d) = &args.duration {
        let want = parse_duration(d).map_err(|e| Exit::usage(anyhow!("--duration: {e}")))?;
        if want.is_zero() {
            return Err(Exit::usage(anyhow!("--duration must be more than 0")));
        }
        let factor = want.as_secs_f64() / s.duration().as_secs_f64();
        for st in s.load.stages_mut() {
            st.duration = st.duration.mul_f64(factor);
        }
    }
    if let Some(r) = args.rate {
        if !(r > 0.0 && r.is_finite()) {
            return Err(Exit::usage(anyhow!(
                "--rate must be a positive number of requests per second"
            )));
        }
        let Load::Open { stages, .. } = &mut s.load else {
            return Err(Exit::usage(anyhow!(
                "--rate applies to open-model scenarios; this one is closed"
            )));
        };
        scale_peak(stages, r);
    }
    if let Some(n) = args.users {
        if n == 0 {
            return Err(Exit::usage(anyhow!("--users must be at least 1")));
        }
        let Load::Closed { stages, .. } = &mut s.load else {
            return Err(Exit::usage(anyhow!(
                "--users applies to closed-model scenarios; this one is open: use --rate"
            )));
        };
        scale_peak(stages, n as f64);
    }
    Ok(())
}

/// Scales every stage's target so the highest becomes `peak`.
fn scale_peak(stages: &mut [Stage], peak: f64) {
    let max = stages.iter().map(|st| st.target).fold(0.0, f64::max);
    if max > 0.0 {
        for st in stages.iter_mut() {
            st.target *= peak / max;
        }
    }
}

/// The request template with `${env:NAME}` resolved in its headers and
/// body: what is sent, never what is written (the scenario keeps the
/// references). An unset variable is a usage error naming it, unless the
/// reference has a default; against an external target, a default used is
/// warned about (a mock's placeholder key would fail there).
/// `key`: where the template sits in the file (`request`, `flow.steps[2]`).
fn resolve_request(
    t: &RequestTemplate,
    key: &str,
    external: bool,
) -> Result<RequestTemplate, Exit> {
    let unset = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let lookup = |name: &str| {
        let v = process_env(name);
        if v.is_none() {
            unset.borrow_mut().insert(name.to_string());
        }
        v
    };
    let mut t = t.clone();
    for (k, v) in t.headers.iter_mut() {
        *v = resolve_env(v, &format!("{key}.headers.{k}"), &lookup).map_err(Exit::usage)?;
    }
    if let Some(b) = t.body.as_mut() {
        *b = resolve_env(b, &format!("{key}.body"), &lookup).map_err(Exit::usage)?;
    }
    if external {
        for name in unset.into_inner() {
            eprintln!(
                "warning: {name} is not set, so the request uses the scenario's default for it; export {name} if the target needs it"
            );
        }
    }
    Ok(t)
}

/// `--segment I/N`, or `--segments N` with the pod's JOB_COMPLETION_INDEX.
fn segment(args: &RunArgs) -> Result<Option<LoadSegment>, Exit> {
    if let Some(s) = &args.segment {
        return LoadSegment::parse(s)
            .map(Some)
            .map_err(|e| Exit::usage(anyhow!("--segment: {e}")));
    }
    let Some(n) = args.segments else {
        return Ok(None);
    };
    let index = process_env("JOB_COMPLETION_INDEX").ok_or_else(|| {
        Exit::usage(anyhow!(
            "--segments {n}: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it \
in each pod); outside one, give --segment I/{n}"
        ))
    })?;
    let index: u32 = index.trim().parse().map_err(|_| {
        Exit::usage(anyhow!(
            "JOB_COMPLETION_INDEX `{index}` is not a whole number"
        ))
    })?;
    LoadSegment::new(index, n).map(Some).map_err(|e| {
        Exit::usage(anyhow!(
            "--segments {n} with JOB_COMPLETION_INDEX {index}: {e}"
        ))
    })
}

/// `--start-at`: an RFC 3339 instant, or `+DURATION` from now.
fn start_at(args: &RunArgs) -> Result<Option<SystemTime>, Exit> {
    let Some(text) = &args.start_at else {
        return Ok(None);
    };
    if args.repeat > 1 {
        return Err(Exit::usage(anyhow!(
            "--start-at starts one run; it cannot be given with --repeat"
        )));
    }
    let at = match text.strip_prefix('+') {
        Some(d) => genbench_scenarios::parse_duration(d)
            .map(|d| SystemTime::now() + d)
            .map_err(|e| anyhow!("--start-at {text}: {e}")),
        None => crate::timefmt::parse_rfc3339(text).map_err(|e| anyhow!("--start-at: {e}")),
    };
    at.map(Some).map_err(Exit::usage)
}

pub fn config(args: &RunArgs) -> Result<(RunConfig, PathBuf), Exit> {
    let opts = &args.opts;
    let overrides = opts
        .set
        .iter()
        .map(|s| parse_override(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Exit::usage(anyhow!(e)))?;
    let mut scenario = load_scenario(&args.scenario, &overrides)?;
    apply_overrides(&mut scenario, opts)?;
    let target = target_choice(args, &scenario)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("genbench-out").join(format!(
            "{}-{}",
            scenario.name,
            crate::timefmt::compact(SystemTime::now())
        ))
    });
    let external = matches!(target, TargetChoice::External { .. });
    let request = resolve_request(&scenario.request, "request", external)?;
    let replay = crate::run::replay::prepare(&mut scenario, &request)?;
    let steps = match &scenario.flow {
        Some(f) => f
            .steps
            .iter()
            .enumerate()
            .map(|(i, st)| {
                resolve_request(&st.request, &format!("flow.steps[{}]", i + 1), external)
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let net = Net {
        http: scenario.http,
        verify: match (&opts.ca_cert, opts.insecure) {
            (_, true) => Verify::Insecure,
            (Some(p), false) => Verify::CaCert(p.clone()),
            (None, false) => Verify::SystemRoots,
        },
    };
    // One worker (a thread with its own event loop) per core.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let segment = match (segment(args)?, &scenario.search) {
        (Some(_), Some(_)) => {
            return Err(Exit::usage(anyhow!(
                "--segment: a capacity search chooses each load from the last probe's \
verdict, so it runs from one machine; split a fixed-step stress run instead"
            )));
        }
        (seg, _) => seg,
    };
    Ok((
        RunConfig {
            scenario,
            out_dir: out.clone(),
            target,
            seed: opts.seed,
            workers,
            net,
            request,
            steps,
            records: args.records.clone(),
            segment,
            start_at: start_at(args)?,
            replay,
            live: crate::live::outputs::Wanted {
                metrics_listen: args.metrics_listen.clone(),
                otlp_metrics: args.otlp_metrics.clone(),
                dashboard: args.dashboard.clone(),
                dashboard_token: args.dashboard_token.clone(),
            },
            profile: profile_mode(opts.profile),
        },
        out,
    ))
}

fn profile_mode(arg: ProfileArg) -> ProfileMode {
    match arg {
        ProfileArg::Auto => ProfileMode::Auto,
        ProfileArg::Off => ProfileMode::Off,
        ProfileArg::Pprof => ProfileMode::Pprof,
        ProfileArg::PySpy => ProfileMode::PySpy,
        ProfileArg::Perf => ProfileMode::Perf,
    }
}

/// `--target URL` (checked now, so a typo fails before the target is
/// touched), or the embedded pipeline on mocks at `--mock-time-scale`.
fn target_choice(args: &RunArgs, scenario: &Scenario) -> Result<TargetChoice, Exit> {
    let mock_time_scale = args
        .opts
        .mock_time_scale
        .or(scenario.mock_time_scale)
        .unwrap_or(1.0);
    if !(mock_time_scale >= 0.0 && mock_time_scale.is_finite()) {
        return Err(Exit::usage(anyhow!(
            "--mock-time-scale must be a factor >= 0"
        )));
    }
    let Some(url) = &args.target else {
        return Ok(TargetChoice::Embedded {
            mock_time_scale,
            pipeline_toml: pipeline_toml(scenario)?,
        });
    };
    if !scenario.pipeline.is_empty() {
        return Err(Exit::usage(anyhow!(
            "[pipeline] settings (and --set pipeline.*) configure genbench's embedded \
pipeline; with --target, configure your own service and drop them"
        )));
    }
    let url = url.trim_end_matches('/').to_string();
    let resolved = resolve_env(&url, "--target", &process_env).map_err(Exit::usage)?;
    crate::net::url::TargetUrl::parse(&resolved).map_err(|e| {
        // The error quotes the URL: show it as written, never a secret.
        Exit::usage(anyhow!("--target: {}", e.why))
    })?;
    Ok(TargetChoice::External {
        url,
        resolved,
        pid: args.target_pid,
    })
}

/// Runs one validated configuration and writes everything it measured;
/// prints the summary. `stop` ends the run early (Ctrl-C).
pub async fn execute(
    cfg: RunConfig,
    out: &Path,
    junit: bool,
    stop: watch::Receiver<bool>,
) -> Result<genbench_model::RunResult, Exit> {
    let mut result = crate::run::run(cfg, stop)
        .await
        .map_err(Exit::could_not_run)?;
    let path = crate::output::write_run(out, &mut result, junit).map_err(Exit::could_not_run)?;
    print!("{}", crate::output::summary(&result, &path));
    Ok(result)
}

/// The exit code a finished run asks for.
pub fn exit_code(result: &genbench_model::RunResult) -> u8 {
    if result.status == RunStatus::Interrupted {
        Exit::COULD_NOT_RUN
    } else if result.status == RunStatus::Aborted || result.thresholds.iter().any(|t| !t.passed) {
        // An abort is a rule the target broke, like a failed threshold.
        Exit::FAILED_CHECKS
    } else {
        Exit::OK
    }
}

/// A runtime, and a stop signal that fires on Ctrl-C, SIGTERM or SIGHUP;
/// a second one exits at once.
pub fn runtime_with_stop() -> Result<(tokio::runtime::Runtime, watch::Receiver<bool>), Exit> {
    let rt = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(Exit::could_not_run)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Handlers are installed now, in the runtime, not when the task first
    // runs: a Ctrl-C right after start must still reach the run.
    let stop = {
        let _rt = rt.enter();
        super::signal::stop()
    };
    rt.spawn(async move {
        stop.await;
        eprintln!("genbench: stopping; writing what was measured so far (again to exit at once)");
        // The second signal's handlers are in place before the run is told.
        let again = super::signal::stop();
        let _ = stop_tx.send(true);
        again.await;
        eprintln!("genbench: stopped at once; results not written");
        // The embedded target's children see their pipe close and exit.
        std::process::exit(130);
    });
    Ok((rt, stop_rx))
}

pub fn run(args: RunArgs) -> Result<u8, Exit> {
    let (cfg, out) = config(&args)?;
    if args.repeat == 0 {
        return Err(Exit::usage(anyhow!("--repeat must be at least 1")));
    }
    let (rt, stop) = runtime_with_stop()?;
    if args.repeat == 1 {
        let result = rt.block_on(execute(cfg, &out, args.opts.junit, stop))?;
        return Ok(exit_code(&result));
    }
    rt.block_on(repeat(cfg, &out, args.repeat, args.opts.junit, stop))
}

/// The directory of run `i` (from 1) of a `--repeat`.
pub fn repeat_dir(out: &Path, i: u32) -> PathBuf {
    out.join(format!("run-{i}"))
}

/// `n` runs of one configuration, each into its own directory, then the
/// pooled result into `out`. Every run starts its own embedded target, so
/// each starts cold the same way.
async fn repeat(
    cfg: RunConfig,
    out: &Path,
    n: u32,
    junit: bool,
    stop: watch::Receiver<bool>,
) -> Result<u8, Exit> {
    let mut results = Vec::new();
    for i in 1..=n {
        if *stop.borrow() {
            eprintln!("genbench: interrupted; runs {i} to {n} skipped");
            break;
        }
        eprintln!("genbench: run {i} of {n}");
        let dir = repeat_dir(out, i);
        let mut c = cfg.clone();
        c.out_dir = dir.clone();
        c.records = cfg
            .records
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|f| dir.join(f));
        results.push(execute(c, &dir, junit, stop.clone()).await?);
    }
    let mut pooled = genbench_collectors::pool::pool(&results)
        .map_err(|e| Exit::could_not_run(anyhow!("cannot pool the runs: {e}")))?;
    pooled.thresholds = crate::run::evaluate(
        &cfg.scenario.thresholds,
        &pooled,
        cfg.scenario.analysis.inconclusive,
    );
    let path = crate::output::write_run(out, &mut pooled, junit).map_err(Exit::could_not_run)?;
    println!("\npooled: {} runs", results.len());
    print!("{}", crate::output::summary(&pooled, &path));
    Ok(exit_code(&pooled))
}
