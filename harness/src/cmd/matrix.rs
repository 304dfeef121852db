//! `genbench matrix`: one run per combination of settings, against the
//! embedded target or the user's own `--target`, then their comparison.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::anyhow;
use genbench_reports::Run;

use crate::cli::{MatrixArgs, RunArgs};
use crate::exit::Exit;

/// More runs than this is a typo more often than a plan.
const MAX_RUNS: usize = 64;

/// One `--vary key=v1,v2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

pub fn parse_vary(spec: &str) -> Result<Axis, String> {
    let (key, values) = spec.split_once('=').ok_or_else(|| {
        format!("--vary {spec}: give key=v1,v2 (e.g. pipeline.model=gpt-4o,gpt-4o-mini)")
    })?;
    let key = key.trim();
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.is_empty() || values.iter().any(String::is_empty) {
        return Err(format!(
            "--vary {spec}: a key and comma-separated values, none empty"
        ));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

/// Every combination, as (key, value) settings in --vary order.
pub fn combinations(axes: &[Axis]) -> Vec<Vec<(String, String)>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.iter()
            .flat_map(|combo| {
                axis.values.iter().map(move |v| {
                    let mut c = combo.clone();
                    c.push((axis.key.clone(), v.clone()));
                    c
                })
            })
            .collect()
    })
}

/// The short name a key goes by in labels: its last segment, unless two
/// varied keys share that.
fn short_keys(axes: &[Axis]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    axes.iter()
        .map(|a| {
            let short = last(&a.key);
            let shared = axes.iter().filter(|b| last(&b.key) == short).count() > 1;
            if shared { a.key.clone() } else { short }
        })
        .collect()
}

/// "model=gpt-4o cache=off"
pub fn label(axes: &[Axis], combo: &[(String, String)]) -> String {
    short_keys(axes)
        .iter()
        .zip(combo)
        .map(|(k, (_, v))| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A directory name for a run: its number and label, filename-safe.
pub fn dir_name(index: usize, label: &str) -> String {
    let safe: String = label
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            '=' => '-',
            _ => '_',
        })
        .collect();
    format!("{:02}-{safe}", index + 1)
}

struct Planned {
    label: String,
    cfg: crate::run::RunConfig,
    out: PathBuf,
}

/// Validates every combination before anything runs.
fn plan(args: &MatrixArgs, out: &Path) -> Result<Vec<Planned>, Exit> {
    let axes = args
        .vary
        .iter()
        .map(|s| parse_vary(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Exit::usage(anyhow!(e)))?;
    for (i, a) in axes.iter().enumerate() {
        let set_key = |s: &String| s.split_once('=').map(|(k, _)| k.trim() == a.key);
        if axes[..i].iter().any(|b| b.key == a.key)
            || args.opts.set.iter().any(|s| set_key(s) == Some(true))
        {
            return Err(Exit::usage(anyhow!(
                "{} is given twice: vary it once (--vary {}=v1,v2), and leave it out of --set",
                a.key,
                a.key
            )));
        }
    }
    let combos = combinations(&axes);
    if combos.len() > MAX_RUNS {
        return Err(Exit::usage(anyhow!(
            "{} combinations is more than {MAX_RUNS} runs: vary fewer keys or values",
            combos.len()
        )));
    }
    combos
        .iter()
        .enumerate()
        .map(|(i, combo)| {
            let label = label(&axes, combo);
            let run_out = out.join(dir_name(i, &label));
            let mut opts = args.opts.clone();
            opts.set
                .extend(combo.iter().map(|(k, v)| format!("{k}={v}")));
            let run = RunArgs::single(
                &args.scenario,
                args.target.clone(),
                args.target_pid,
                &run_out,
                opts,
            );
            let (cfg, _) = super::run::config(&run).map_err(|e| Exit {
                code: e.code,
                error: e.error.context(format!("in the combination {label}")),
            })?;
            Ok(Planned {
                label,
                cfg,
                out: run_out,
            })
        })
        .collect()
}

pub fn run(args: MatrixArgs) -> Result<u8, Exit> {
    let out = args.out.clone().unwrap_or_else(|| {
        let name = Path::new(&args.scenario)
            .file_stem()
            .map_or("matrix".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("genbench-out").join(format!(
            "matrix-{name}-{}",
            crate::timefmt::compact(SystemTime::now())
        ))
    });
    let planned = plan(&args, &out)?;
    let (rt, stop) = super::run::runtime_with_stop()?;
    let total = planned.len();
    let mut runs = Vec::new();
    let mut failure = None;
    for (i, p) in planned.into_iter().enumerate() {
        if *stop.borrow() {
            eprintln!(
                "genbench matrix: stopped; {} of {total} runs not started",
                total - i
            );
            break;
        }
        eprintln!("genbench matrix: run {}/{total}: {}", i + 1, p.label);
        match rt.block_on(super::run::execute(
            p.cfg,
            &p.out,
            args.opts.junit,
            stop.clone(),
        )) {
            Ok(result) => runs.push(Run {
                label: p.label,
                report_href: super::compare::report_href(
                    &out.join("comparison.html"),
                    &p.out.join(crate::output::RESULTS),
                    &result,
                ),
                result,
            }),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if !runs.is_empty() {
        super::compare::write(&runs, &out.join("comparison.html"))?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(runs
        .iter()
        .map(|r| super::run::exit_code(&r.result))
        .max_by_key(|c| match *c {
            Exit::COULD_NOT_RUN => 2,
            Exit::FAILED_CHECKS => 1,
            _ => 0,
        })
        .unwrap_or(Exit::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axes() -> Vec<Axis> {
        vec![
            parse_vary("pipeline.model=gpt-4o,gpt-4o-mini").unwrap(),
            parse_vary("pipeline.cache=on, off").unwrap(),
        ]
    }

    #[test]
    fn every_combination_in_vary_order() {
        let combos = combinations(&axes());
        let labels: Vec<String> = combos.iter().map(|c| label(&axes(), c)).collect();
        assert_eq!(
            labels,
            [
                "model=gpt-4o cache=on",
                "model=gpt-4o cache=off",
                "model=gpt-4o-mini cache=on",
                "model=gpt-4o-mini cache=off"
            ]
        );
        assert_eq!(dir_name(0, &labels[0]), "01-model-gpt-4o_cache-on");
    }

    #[test]
    fn shared_short_names_keep_the_whole_key() {
        let a = vec![
            parse_vary("load.timeout=5s,9s").unwrap(),
            parse_vary("pipeline.timeout=1").unwrap(),
        ];
        let c = combinations(&a);
        assert_eq!(label(&a, &c[0]), "load.timeout=5s pipeline.timeout=1");
    }

    #[test]
    fn malformed_vary_says_how() {
        assert!(
            parse_vary("pipeline.model")
                .unwrap_err()
                .contains("key=v1,v2")
        );
        assert!(
            parse_vary("pipeline.model=a,,b")
                .unwrap_err()
                .contains("none empty")
        );
    }
}
