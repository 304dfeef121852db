//! `genbench gate`: the baseline's runs against the current build's, every
//! metric judged by the statistics in `genbench_reports::gate`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use genbench_model::RunResult;
use genbench_reports::gate::{self, GateReport, Rules};

use crate::cli::GateArgs;
use crate::exit::Exit;
use crate::output::{read_results, write_atomic};

/// Reads `gate.toml` into validated rules; errors name the file.
pub fn read_rules(path: &Path) -> anyhow::Result<Rules> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the gate rules {}", path.display()))?;
    let rules: Rules = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: {}",
            path.display(),
            e.to_string().trim_end().replace('\n', "\n  ")
        )
    })?;
    rules
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(rules)
}

/// Each file's result, named by its path.
fn side(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, RunResult)>> {
    paths
        .iter()
        .map(|p| Ok((p.display().to_string(), read_results(p)?)))
        .collect()
}

/// The gate over files: the report, or why the sides cannot be compared.
pub fn judge(base: &[PathBuf], cur: &[PathBuf], rules: &Rules) -> anyhow::Result<GateReport> {
    let (b, c) = (side(base)?, side(cur)?);
    gate::check(&b, &c)?;
    Ok(gate::gate(&b, &c, rules))
}

pub fn run(args: GateArgs) -> Result<u8, Exit> {
    let rules = rules_or_default(args.rules.as_deref())?;
    let report = judge(&args.baseline, &args.current, &rules).map_err(Exit::usage)?;
    let outputs = Outputs {
        json: &args.out,
        markdown: args.markdown.as_deref(),
        junit: args.junit.as_deref(),
    };
    emit(&report, &outputs)
}

/// The rules file's rules, or the defaults.
pub fn rules_or_default(path: Option<&Path>) -> Result<Rules, Exit> {
    match path {
        Some(p) => read_rules(p).map_err(Exit::usage),
        None => Ok(Rules::default()),
    }
}

/// Where a gate's report goes.
pub struct Outputs<'a> {
    pub json: &'a Path,
    pub markdown: Option<&'a Path>,
    pub junit: Option<&'a Path>,
}

/// Writes the report's files, prints its table, and gives the exit code:
/// 1 when a metric regressed.
pub fn emit(report: &GateReport, to: &Outputs) -> Result<u8, Exit> {
    let json = serde_json::to_vec_pretty(report).map_err(Exit::could_not_run)?;
    write_atomic(to.json, &json).map_err(Exit::could_not_run)?;
    if let Some(p) = to.markdown {
        write_atomic(p, gate::markdown(report).as_bytes()).map_err(Exit::could_not_run)?;
    }
    if let Some(p) = to.junit {
        write_atomic(p, gate::junit(report).as_bytes()).map_err(Exit::could_not_run)?;
    }
    print!("{}", gate::text(report));
    println!("\ngate  {}", to.json.display());
    Ok(if report.regressed() {
        Exit::FAILED_CHECKS
    } else {
        Exit::OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> anyhow::Result<Rules> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("genbench-gate-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("{n}.toml"));
        std::fs::write(&p, text).unwrap();
        read_rules(&p)
    }

    #[test]
    fn rules_files_override_defaults_and_bad_ones_name_the_key() {
        let r = rules(
            "noise_floor = \"10%\"\n[metrics.latency_p99]\nenabled = false\n[metrics.\"stage_p95.*\"]\nnoise_floor = 0.2\n",
        )
        .unwrap();
        assert_eq!(r.noise_floor.value(), Ok(0.1));
        assert_eq!(r.metrics["latency_p99"].enabled, Some(false));
        let e = rules("[metrics.latency_p42]\nenabled = false\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("latency_p42") && e.contains("latency_p99"),
            "{e}"
        );
        let e = rules("confidence = 95\n").unwrap_err().to_string();
        assert!(e.contains("between 0.5 and 1"), "{e}");
        let e = rules("[metrics.throughput]\ndirection = \"up\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("direction") || e.contains("higher_is_better"),
            "{e}"
        );
    }
}
