//! `genbench ab`: one scenario against two targets on one machine, in
//! alternating rounds (A B, B A, A B, ...), then B gated against A with
//! `genbench gate`'s statistics and outputs. Alternating puts a machine's
//! drift on both sides, where a baseline from another runner at another
//! time carries all of it.

mod service;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::anyhow;
use genbench_model::RunStatus;

use crate::cli::{AbArgs, RunArgs};
use crate::exit::Exit;
use service::{Service, Target};

/// One side: its name (its directory), target and own overrides.
struct Side<'a> {
    name: &'static str,
    target: Target,
    sets: &'a [String],
}

/// Which side runs at each turn: A B, B A, A B, ...
pub fn order(rounds: u32) -> Vec<usize> {
    (0..rounds)
        .flat_map(|r| if r % 2 == 0 { [0, 1] } else { [1, 0] })
        .collect()
}

pub fn run(args: AbArgs) -> Result<u8, Exit> {
    let sides = [
        Side {
            name: "a",
            target: Target::parse("--a", &args.a).map_err(Exit::usage)?,
            sets: &args.a_set,
        },
        Side {
            name: "b",
            target: Target::parse("--b", &args.b).map_err(Exit::usage)?,
            sets: &args.b_set,
        },
    ];
    let ready = genbench_scenarios::parse_duration(&args.ready_timeout)
        .map_err(|e| Exit::usage(anyhow!("--ready-timeout {}: {e}", args.ready_timeout)))?;
    let rules = super::gate::rules_or_default(args.rules.as_deref())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.scenario));
    // Every run's settings are checked before the first one starts.
    for side in &sides {
        config(&args, side, "http://127.0.0.1:1", None, &out.join("check"))?;
    }
    let (rt, stop) = super::run::runtime_with_stop()?;
    let mut made: [Vec<PathBuf>; 2] = [Vec::new(), Vec::new()];
    let turns = order(args.rounds);
    for (turn, &s) in turns.iter().enumerate() {
        let side = &sides[s];
        let dir = out
            .join(side.name)
            .join(format!("run-{}", made[s].len() + 1));
        eprintln!(
            "genbench ab: run {}/{} ({}, round {})",
            turn + 1,
            turns.len(),
            side.name.to_uppercase(),
            made[s].len() + 1
        );
        let service = match &side.target {
            Target::Command(c) => Some(Service::start(c, ready).map_err(|e| {
                Exit::could_not_run(e.context(format!("side {}", side.name.to_uppercase())))
            })?),
            _ => None,
        };
        let url = match (&side.target, &service) {
            (Target::Url(u), _) => Some(u.clone()),
            (_, Some(s)) => Some(s.url.clone()),
            _ => None,
        };
        let pid = service.as_ref().map(Service::pid);
        let cfg = config(&args, side, url.as_deref().unwrap_or_default(), pid, &dir)?;
        let result = rt.block_on(super::run::execute(
            cfg,
            &dir,
            args.opts.junit,
            stop.clone(),
        ))?;
        drop(service);
        if result.status != RunStatus::Completed {
            return Err(not_completed(&dir, result.status, *stop.borrow()));
        }
        made[s].push(dir.join(crate::output::RESULTS));
    }
    let report = super::gate::judge(&made[0], &made[1], &rules).map_err(Exit::usage)?;
    let json = out.join("gate.json");
    super::gate::emit(
        &report,
        &super::gate::Outputs {
            json: &json,
            markdown: args.markdown.as_deref(),
            junit: args.gate_junit.as_deref(),
        },
    )
}

/// A side's run: the scenario with the shared and the side's overrides,
/// against `url` (none: the embedded target), whose process is `pid` when
/// genbench started it.
fn config(
    args: &AbArgs,
    side: &Side,
    url: &str,
    pid: Option<u32>,
    dir: &Path,
) -> Result<crate::run::RunConfig, Exit> {
    let mut opts = args.opts.clone();
    opts.set.extend(side.sets.iter().cloned());
    let target = (side.target != Target::Embedded).then(|| url.to_string());
    let run = RunArgs::single(&args.scenario, target, pid, dir, opts);
    super::run::config(&run)
        .map(|(cfg, _)| cfg)
        .map_err(|e| Exit {
            code: e.code,
            error: e
                .error
                .context(format!("side {}", side.name.to_uppercase())),
        })
}

fn not_completed(dir: &Path, status: RunStatus, stopped: bool) -> Exit {
    let e = anyhow!(
        "the run in {} ended {status:?}; no gate without every run (its results are kept)",
        dir.display()
    );
    if stopped {
        Exit {
            code: 130,
            error: e,
        }
    } else {
        Exit::could_not_run(e)
    }
}

fn default_out(scenario: &str) -> PathBuf {
    let name = Path::new(scenario)
        .file_stem()
        .map_or("ab".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from("genbench-out").join(format!(
        "ab-{name}-{}",
        crate::timefmt::compact(SystemTime::now())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_so_each_side_goes_first_as_often() {
        assert_eq!(order(1), [0, 1]);
        assert_eq!(order(3), [0, 1, 1, 0, 0, 1]);
        for r in 1..10 {
            let o = order(r);
            assert_eq!(o.iter().filter(|&&s| s == 0).count(), r as usize);
            let firsts = o.chunks(2).filter(|c| c[0] == 0).count();
            assert!(firsts.abs_diff(r as usize - firsts) <= 1);
        }
    }
}
