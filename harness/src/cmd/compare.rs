//! `genbench compare`: several runs side by side, as HTML and Markdown.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use anyhow::anyhow;
use genbench_reports::Run;

use crate::cli::CompareArgs;
use crate::exit::Exit;
use crate::output::{read_results, write_atomic};

/// A run's name in the comparison: its directory for a `results.json`
/// (runs are told apart by where they were written), else the file name.
fn label(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if path.file_name().is_some_and(|n| n == "results.json")
        && let Some(dir) = path.parent().and_then(|d| d.file_name())
    {
        return dir.to_string_lossy().into_owned();
    }
    stem.unwrap_or_else(|| path.display().to_string())
}

/// Labels made unique by a number where two runs share one.
pub fn unique(labels: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if seen.insert(l.clone()) {
                l
            } else {
                let l = format!("{l} #{}", i + 1);
                seen.insert(l.clone());
                l
            }
        })
        .collect()
}

/// A path made absolute, with `.` and `..` resolved by name.
fn normalized(p: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(p).ok()?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// A link from a page in `from_dir` to the file `to`: relative, '/'
/// separated, and percent-encoded where a URL needs it.
pub fn href(from_dir: &Path, to: &Path) -> Option<String> {
    let (from, to) = (normalized(from_dir)?, normalized(to)?);
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from.components().count() - common;
    let parts: Vec<String> = std::iter::repeat_n("..".to_string(), ups)
        .chain(
            to.components()
                .skip(common)
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        )
        .collect();
    let joined = parts.join("/");
    let mut out = String::with_capacity(joined.len());
    for b in joined.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    Some(out)
}

/// The link to the report a results.json names, if it is there.
pub fn report_href(
    comparison: &Path,
    results: &Path,
    r: &genbench_model::RunResult,
) -> Option<String> {
    let report = results.parent()?.join(r.artifacts.report_html.as_ref()?);
    if !report.exists() {
        return None;
    }
    href(comparison.parent().unwrap_or(Path::new("")), &report)
}

/// Writes comparison.html and comparison.md (beside it) and prints the
/// Markdown on stdout.
pub fn write(runs: &[Run], html_path: &Path) -> Result<(), Exit> {
    let md_path = html_path.with_extension("md");
    write_atomic(html_path, &genbench_reports::comparison_html(runs))
        .map_err(Exit::could_not_run)?;
    let md = genbench_reports::comparison_markdown(runs);
    write_atomic(&md_path, md.as_bytes()).map_err(Exit::could_not_run)?;
    print!("{md}");
    println!(
        "\ncomparison  {}\n            {}",
        html_path.display(),
        md_path.display()
    );
    Ok(())
}

pub fn run(args: CompareArgs) -> Result<u8, Exit> {
    if args.results.len() < 2 {
        return Err(Exit::usage(anyhow!(
            "give at least two results.json files to compare (the first is the base the others are compared with)"
        )));
    }
    let results = args
        .results
        .iter()
        .map(|p| read_results(p))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(Exit::usage)?;
    let labels = unique(args.results.iter().map(|p| label(p)).collect());
    let out = args.out;
    let runs: Vec<Run> = labels
        .into_iter()
        .zip(results)
        .zip(&args.results)
        .map(|((label, result), path)| Run {
            label,
            report_href: report_href(&out, path, &result),
            result,
        })
        .collect();
    write(&runs, &out)?;
    Ok(Exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_run_directories_and_stay_unique() {
        assert_eq!(label(Path::new("out/gpt-4o/results.json")), "gpt-4o");
        assert_eq!(label(Path::new("base.json")), "base");
        assert_eq!(
            unique(vec!["a".into(), "b".into(), "a".into()]),
            vec!["a", "b", "a #3"]
        );
    }

    #[test]
    fn links_are_relative_to_the_comparison() {
        let h = |a: &str, b: &str| href(Path::new(a), Path::new(b)).unwrap();
        assert_eq!(h("/out/m", "/out/m/01-a/report.html"), "01-a/report.html");
        assert_eq!(
            h("/out/cmp", "/out/runs/b/report.html"),
            "../runs/b/report.html"
        );
        assert_eq!(
            h("/out/./x/..", "/out/r 1/report.html"),
            "r%201/report.html"
        );
    }
}
