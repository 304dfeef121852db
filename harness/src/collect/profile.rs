//! Which profiler runs, over which window, and what became of it. A
//! profiler that cannot run is reported in the result; it never fails the
//! run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use genbench_collectors::profile::{self, ProfileError};
use genbench_model::{Profile, ProfileStatus, ProfilerKind, ScenarioKind};
use tokio::task::JoinHandle;

use super::http;

/// `--profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileMode {
    /// pprof for the embedded pipeline, py-spy for a Python pid, perf for
    /// another pid; nothing for a soak, whose RSS a profiler would distort.
    #[default]
    Auto,
    Off,
    Pprof,
    PySpy,
    Perf,
}

/// A decided profiler and its window, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfilePlan {
    Run {
        tool: ProfilerKind,
        /// Seconds from the run's start.
        start_s: u64,
        seconds: u64,
    },
    Skip(String),
}

/// The steady-state window: after the first quarter of the run (ramps,
/// cold caches), half the run at most 30 s, at least 1 s.
pub fn window(run: Duration) -> (u64, u64) {
    let total = run.as_secs_f64();
    let start = (total * 0.25).floor() as u64;
    let len = (total * 0.5).clamp(1.0, 30.0).floor() as u64;
    (start, len)
}

pub struct Context<'a> {
    pub embedded: bool,
    /// The target's pid, for the external target; the embedded pipeline's
    /// pid is always known (once it starts), so it is not needed here.
    pub pid: Option<u32>,
    pub kind: ScenarioKind,
    pub run: Duration,
    /// Whether a program is on PATH (a parameter so tests can decide).
    pub installed: &'a dyn Fn(&str) -> bool,
    pub is_python: &'a dyn Fn(u32) -> bool,
    /// Whether py-spy can be found for this pid.
    pub has_py_spy: &'a dyn Fn(u32) -> bool,
}

pub fn plan(mode: ProfileMode, cx: &Context<'_>) -> ProfilePlan {
    let (start_s, seconds) = window(cx.run);
    let run = |tool| ProfilePlan::Run {
        tool,
        start_s,
        seconds,
    };
    let skip = |why: &str| ProfilePlan::Skip(why.to_string());
    match mode {
        ProfileMode::Off => skip("turned off with --profile off"),
        ProfileMode::Auto if cx.kind == ScenarioKind::Soak => skip(
            "a soak judges the target's RSS, which a profiler would distort; \
use --profile pprof|py-spy|perf to profile anyway",
        ),
        ProfileMode::Auto if cx.embedded => run(ProfilerKind::Pprof),
        ProfileMode::Auto => match cx.pid {
            None => skip("no --target-pid to attach a profiler to"),
            Some(pid) if (cx.is_python)(pid) && (cx.has_py_spy)(pid) => run(ProfilerKind::PySpy),
            Some(pid) if (cx.is_python)(pid) => {
                skip("the target is Python but py-spy is not installed (pip install py-spy)")
            }
            Some(_) if (cx.installed)("perf") => run(ProfilerKind::Perf),
            Some(_) => skip("perf is not installed (Debian: linux-perf)"),
        },
        ProfileMode::Pprof => run(ProfilerKind::Pprof),
        ProfileMode::PySpy if cx.pid.is_none() && !cx.embedded => {
            skip("--profile py-spy needs --target-pid")
        }
        ProfileMode::PySpy => run(ProfilerKind::PySpy),
        ProfileMode::Perf if cx.pid.is_none() && !cx.embedded => {
            skip("--profile perf needs --target-pid")
        }
        ProfileMode::Perf => run(ProfilerKind::Perf),
    }
}

/// Where a profile is taken from.
pub struct Attach {
    pub target_url: String,
    pub pid: Option<u32>,
    pub out_dir: PathBuf,
}

/// Starts the planned profiler at its window (relative to `t0`); the task
/// yields the SVG or why there is none.
pub fn start(
    tool: ProfilerKind,
    start_s: u64,
    seconds: u64,
    at: Attach,
    t0: tokio::time::Instant,
) -> JoinHandle<Result<Vec<u8>, ProfileError>> {
    tokio::spawn(async move {
        tokio::time::sleep_until(t0 + Duration::from_secs(start_s)).await;
        let pid = at.pid;
        match tool {
            ProfilerKind::Pprof => {
                let url = format!("{}/debug/pprof/profile?seconds={seconds}", at.target_url);
                let svg = http::get(&url, Duration::from_secs(seconds + 30))
                    .await
                    .map_err(|e| ProfileError(format!("{e:#}")))?;
                profile::check_svg(svg, "the pprof endpoint")
            }
            ProfilerKind::PySpy | ProfilerKind::Perf => {
                let pid = pid.ok_or_else(|| ProfileError("no pid to attach to".into()))?;
                let dir = at.out_dir.clone();
                tokio::task::spawn_blocking(move || blocking(tool, pid, seconds, &dir))
                    .await
                    .map_err(|e| ProfileError(format!("the profiler thread failed: {e}")))?
            }
        }
    })
}

fn blocking(
    tool: ProfilerKind,
    pid: u32,
    seconds: u64,
    dir: &Path,
) -> Result<Vec<u8>, ProfileError> {
    match tool {
        ProfilerKind::PySpy => profile::py_spy(pid, seconds, &dir.join(".py-spy.svg")),
        _ => profile::perf(pid, seconds, dir),
    }
}

/// The result's `profile` section for an outcome.
impl ProfilePlan {
    /// Seconds into the run the window opens (infinite when skipped).
    pub fn start_s(&self) -> f64 {
        match self {
            ProfilePlan::Run { start_s, .. } => *start_s as f64,
            ProfilePlan::Skip(_) => f64::INFINITY,
        }
    }
}

pub fn report(plan: &ProfilePlan, outcome: Option<Result<(), String>>) -> Profile {
    match plan {
        ProfilePlan::Skip(why) => Profile {
            tool: None,
            status: ProfileStatus::Skipped,
            detail: why.clone(),
            window_s: None,
        },
        ProfilePlan::Run {
            tool,
            start_s,
            seconds,
        } => {
            let window_s = Some([*start_s as f64, (*start_s + *seconds) as f64]);
            let (status, detail) = match outcome {
                Some(Ok(())) => (ProfileStatus::Captured, "flamegraph.svg".to_string()),
                Some(Err(e)) => (ProfileStatus::Failed, e),
                None => (
                    ProfileStatus::Skipped,
                    "the run ended before the profiling window did".to_string(),
                ),
            };
            Profile {
                tool: Some(*tool),
                status,
                detail,
                window_s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx<'a>(
        embedded: bool,
        pid: Option<u32>,
        kind: ScenarioKind,
        tools: &'a dyn Fn(&str) -> bool,
        py: &'a dyn Fn(u32) -> bool,
    ) -> Context<'a> {
        Context {
            embedded,
            pid,
            kind,
            run: Duration::from_secs(60),
            installed: tools,
            is_python: py,
            has_py_spy: if tools("py-spy") {
                &|_| true
            } else {
                &|_| false
            },
        }
    }

    #[test]
    fn auto_picks_the_profiler_that_fits_the_target() {
        let all = |_: &str| true;
        let none = |_: &str| false;
        let py = |_: u32| true;
        let native = |_: u32| false;
        let b = ScenarioKind::Baseline;
        let tool = |p: ProfilePlan| match p {
            ProfilePlan::Run { tool, .. } => Some(tool),
            ProfilePlan::Skip(_) => None,
        };
        let auto = ProfileMode::Auto;
        assert_eq!(
            tool(plan(auto, &cx(true, Some(1), b, &all, &native))),
            Some(ProfilerKind::Pprof)
        );
        assert_eq!(
            tool(plan(auto, &cx(false, Some(1), b, &all, &py))),
            Some(ProfilerKind::PySpy)
        );
        assert_eq!(
            tool(plan(auto, &cx(false, Some(1), b, &all, &native))),
            Some(ProfilerKind::Perf)
        );
        assert_eq!(tool(plan(auto, &cx(false, None, b, &all, &py))), None);
        assert_eq!(tool(plan(auto, &cx(false, Some(1), b, &none, &py))), None);
        // A soak is never profiled unless asked.
        let soak = ScenarioKind::Soak;
        assert_eq!(
            tool(plan(auto, &cx(true, Some(1), soak, &all, &native))),
            None
        );
        assert_eq!(
            tool(plan(
                ProfileMode::Pprof,
                &cx(true, Some(1), soak, &all, &native)
            )),
            Some(ProfilerKind::Pprof)
        );
        assert_eq!(
            tool(plan(ProfileMode::Off, &cx(true, Some(1), b, &all, &native))),
            None
        );
        assert_eq!(
            tool(plan(ProfileMode::PySpy, &cx(false, None, b, &all, &py))),
            None
        );
    }

    #[test]
    fn the_window_is_steady_state() {
        assert_eq!(window(Duration::from_secs(60)), (15, 30));
        assert_eq!(window(Duration::from_secs(600)), (150, 30));
        assert_eq!(window(Duration::from_secs(4)), (1, 2));
        assert_eq!(window(Duration::from_secs(1)), (0, 1));
    }

    #[test]
    fn failures_and_skips_are_reported_not_raised() {
        let p = ProfilePlan::Run {
            tool: ProfilerKind::PySpy,
            start_s: 5,
            seconds: 10,
        };
        let r = report(&p, Some(Err("py-spy failed: permission denied".into())));
        assert_eq!(r.status, ProfileStatus::Failed);
        assert_eq!(r.window_s, Some([5.0, 15.0]));
        assert_eq!(report(&p, None).status, ProfileStatus::Skipped);
        assert_eq!(report(&p, Some(Ok(()))).status, ProfileStatus::Captured);
    }
}
