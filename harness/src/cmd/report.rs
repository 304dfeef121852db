//! `genbench report`: re-renders a run's reports from its results.json.

use std::path::{Path, PathBuf};

use crate::cli::ReportArgs;
use crate::exit::Exit;
use crate::output::{self, write_atomic};

pub fn run(args: ReportArgs) -> Result<u8, Exit> {
    let r = output::read_results(&args.results).map_err(Exit::usage)?;
    let dir = args.results.parent().unwrap_or(Path::new("")).to_path_buf();
    let html_path = args.out.clone().unwrap_or_else(|| dir.join(output::REPORT));
    let flame = output::read_flamegraph(&dir, &r);
    let write = |path: &PathBuf, bytes: &[u8]| {
        write_atomic(path, bytes).map_err(Exit::could_not_run)?;
        println!("{}", path.display());
        Ok::<(), Exit>(())
    };
    write(
        &html_path,
        &genbench_reports::report_html(&r, flame.as_deref()),
    )?;
    if let Some(p) = &args.markdown {
        write(p, genbench_reports::summary_markdown(&r).as_bytes())?;
    }
    if let Some(p) = &args.junit {
        write(p, genbench_reports::junit(&r).as_bytes())?;
    }
    Ok(Exit::OK)
}
