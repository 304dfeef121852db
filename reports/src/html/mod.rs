//! `report.html`: one self-contained page per run.

mod analyses;
mod breaks;
mod charts;
mod flamegraph;
mod flows;
mod llm;
pub mod page;
mod replay;
mod resources;
mod search;
mod sections;
mod series;
mod traces;

use genbench_model::RunResult;

use crate::fmt::enum_name;
pub use charts::stages_by_mean;

/// Renders the report of one run. `flamegraph_svg` is the run's
/// `flamegraph.svg`, when the caller has it, embedded so the page needs
/// no other file.
pub fn report(r: &RunResult, flamegraph_svg: Option<&[u8]>) -> Vec<u8> {
    let title = format!("genbench: {} ({})", r.scenario.name, enum_name(&r.status));
    page::document(&title, &sections_html(r, flamegraph_svg, false)).into_bytes()
}

/// The report's sections, without the page around them; `running`: of a
/// run still going.
pub fn sections_html(r: &RunResult, flamegraph_svg: Option<&[u8]>, running: bool) -> String {
    let mut o = String::new();
    sections::header(&mut o, r, running);
    sections::summary_cards(&mut o, r);
    sections::thresholds(&mut o, r);
    sections::latency(&mut o, r);
    flows::flows(&mut o, r);
    llm::llm(&mut o, r);
    replay::replay(&mut o, r);
    sections::throughput(&mut o, r);
    series::series(&mut o, r);
    sections::stages(&mut o, r);
    traces::traces(&mut o, r);
    sections::cache(&mut o, r);
    analyses::process(&mut o, r);
    analyses::analyses(&mut o, r);
    resources::cost(&mut o, r);
    flamegraph::flamegraph(&mut o, r, flamegraph_svg);
    resources::environment(&mut o, r);
    o
}
