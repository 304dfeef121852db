//! `genbench merge`: the segments of one run into its one result, checked
//! to belong together first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::anyhow;
use genbench_collectors::merge::{Part, Seconds, merge, second_of};
use genbench_model::{RunResult, SegmentInfo};

use crate::cli::MergeArgs;
use crate::exit::Exit;
use crate::output;

/// The results.json files `p` stands for: itself, the one in it, or those
/// of its subdirectories.
fn results_in(p: &Path) -> Result<Vec<PathBuf>, Exit> {
    if !p.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let own = p.join("results.json");
    if own.is_file() {
        return Ok(vec![own]);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| Exit::usage(anyhow!("cannot read {}: {e}", p.display())))?
        .filter_map(|e| e.ok().map(|e| e.path().join("results.json")))
        .filter(|f| f.is_file())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(Exit::usage(anyhow!(
            "{} holds no results.json, nor do its subdirectories",
            p.display()
        )));
    }
    Ok(found)
}

/// The segments, checked: one run's (scenario hash, seed, count), every
/// index once.
fn check(parts: &[(PathBuf, RunResult)]) -> Result<Vec<&SegmentInfo>, Exit> {
    let mut segs = Vec::new();
    for (path, r) in parts {
        let s = r.segment.as_ref().ok_or_else(|| {
            Exit::usage(anyhow!(
                "{} is not a segment: it ran the whole load (merge takes the parts of `genbench run --segment I/N`)",
                path.display()
            ))
        })?;
        segs.push(s);
    }
    let (p0, s0) = (&parts[0].0, segs[0]);
    for ((path, _), s) in parts.iter().zip(&segs) {
        let differs = |what: &str, a: String, b: String| {
            Exit::usage(anyhow!(
                "{} and {} are not parts of one run: {what} {a} and {b}",
                p0.display(),
                path.display()
            ))
        };
        if s.scenario_hash != s0.scenario_hash {
            return Err(differs(
                "scenario",
                s0.scenario_hash.clone(),
                s.scenario_hash.clone(),
            ));
        }
        if s.seed != s0.seed {
            return Err(differs("seed", s0.seed.to_string(), s.seed.to_string()));
        }
        if s.count != s0.count {
            return Err(differs(
                "segment count",
                s0.count.to_string(),
                s.count.to_string(),
            ));
        }
    }
    let mut by_index: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for ((path, _), s) in parts.iter().zip(&segs) {
        if let Some(other) = by_index.insert(s.index, path) {
            return Err(Exit::usage(anyhow!(
                "segment {} of {} is given twice: {} and {}",
                s.index,
                s.count,
                other.display(),
                path.display()
            )));
        }
    }
    let missing: Vec<String> = (0..s0.count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        let shown = if missing.len() > 10 {
            format!(
                "{} and {} more",
                missing[..10].join(", "),
                missing.len() - 10
            )
        } else {
            missing.join(", ")
        };
        return Err(Exit::usage(anyhow!(
            "segment{} {shown} of {} missing: a merge of fewer parts is not the run",
            if missing.len() == 1 { " is" } else { "s are" },
            s0.count
        )));
    }
    Ok(segs)
}

/// When a part's load started: its start instant plus its lag, or when it
/// says it started.
fn start_of(r: &RunResult) -> SystemTime {
    let at = r.segment.as_ref().and_then(|s| {
        let t = crate::timefmt::parse_rfc3339(s.start_at.as_deref()?).ok()?;
        Some(t + Duration::from_secs_f64(s.start_lag_ms.unwrap_or(0.0) / 1e3))
    });
    at.or_else(|| crate::timefmt::parse_rfc3339(&r.started_at).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

pub fn run(args: MergeArgs) -> Result<u8, Exit> {
    let mut files = Vec::new();
    for p in &args.parts {
        files.extend(results_in(p)?);
    }
    let parts: Vec<(PathBuf, RunResult)> = files
        .into_iter()
        .map(|f| {
            output::read_results(&f)
                .map(|r| (f, r))
                .map_err(Exit::usage)
        })
        .collect::<Result<_, _>>()?;
    check(&parts)?;
    let starts: Vec<SystemTime> = parts.iter().map(|(_, r)| start_of(r)).collect();
    let earliest = starts
        .iter()
        .min()
        .copied()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let merged_parts: Vec<Part<'_>> = parts
        .iter()
        .zip(&starts)
        .map(|((_, r), t)| Part {
            result: r,
            offset_s: t.duration_since(earliest).unwrap_or_default().as_secs_f64(),
        })
        .collect();
    let seconds = seconds(&parts, &merged_parts);
    if seconds.is_none() {
        eprintln!(
            "warning: not every part's interval log could be read: the merged timeline has no per-second percentiles"
        );
    }
    let mut r = merge(&merged_parts, seconds.as_ref())
        .map_err(|e| Exit::usage(anyhow!("cannot merge: {e}")))?;
    r.started_at = crate::timefmt::rfc3339(earliest);
    crate::collect::merged::fill(&mut r, &merged_parts);
    let thresholds = thresholds_of(&r).map_err(Exit::usage)?;
    r.thresholds = crate::run::evaluate(&thresholds, &r, inconclusive_of(&r));
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Exit::could_not_run(anyhow!("cannot create {}: {e}", args.out.display())))?;
    let path = output::write_run(&args.out, &mut r, args.junit).map_err(Exit::could_not_run)?;
    print!("{}", output::summary(&r, &path));
    eprintln!("merged {} segments", parts.len());
    Ok(super::run::exit_code(&r))
}

/// Each merged second's latency histogram: every part's interval log (beside
/// its results.json) read one entry at a time and added into its second, so
/// memory holds one histogram per merged second, however many parts.
fn seconds(files: &[(PathBuf, RunResult)], parts: &[Part<'_>]) -> Option<Seconds> {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let mut by_s = Seconds::new();
    for ((path, r), p) in files.iter().zip(parts) {
        let file = path.parent()?.join(r.artifacts.interval_log.as_deref()?);
        let text = std::fs::read(&file).ok()?;
        for e in IntervalLogIterator::new(&text) {
            let LogEntry::Interval(i) = e.ok()? else {
                continue;
            };
            let h = genbench_collectors::pool::decode_histogram(i.encoded_histogram())?;
            if h.is_empty() {
                continue;
            }
            let t = second_of(p.offset_s, i.start_timestamp().as_secs_f64());
            // Grows to what the second holds, not to the run's bounds.
            let acc = match by_s.entry(t) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(hdrhistogram::Histogram::new(3).ok()?)
                }
            };
            acc.add(&h).ok()?;
        }
    }
    Some(by_s)
}

/// The scenario's thresholds, from the resolved scenario the parts carry.
/// The parts' `[analysis] inconclusive`, from their resolved scenario.
fn inconclusive_of(r: &RunResult) -> genbench_scenarios::Inconclusive {
    serde_json::from_value(r.scenario.resolved["analysis"]["inconclusive"].clone())
        .unwrap_or_default()
}

fn thresholds_of(r: &RunResult) -> anyhow::Result<Vec<genbench_scenarios::Threshold>> {
    let list = r.scenario.resolved["thresholds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|t| t["expr"].as_str())
        .map(|e| {
            genbench_scenarios::parse_threshold(e).map_err(|m| anyhow!("threshold `{e}`: {m}"))
        })
        .collect()
}
