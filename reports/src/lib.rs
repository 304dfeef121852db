//! Pure renderers from serialized results to bytes: the HTML report, the
//! Markdown summary and JUnit XML of a run, the comparison of N runs, and
//! the regression gate's statistics and verdicts.
//!
//! Reads only `genbench-model` types deserialized from `results.json`, so an
//! old results file always re-renders; it must depend on no other workspace
//! crate, read no clock and touch no file: callers pass bytes in and write
//! the bytes out.

mod chart;
mod compare;
mod decimate;
mod escape;
pub mod fmt;
pub mod gate;
mod hdr;
mod html;
mod junit;
mod markdown;
mod pareto;

pub use compare::{Run, comparison_html, comparison_markdown};
pub use fmt::{cost_per_article, objectives_text, observed as threshold_value, outage_text};
pub use junit::junit;
pub use markdown::summary as summary_markdown;

/// Renders `report.html` for one run; `flamegraph_svg` (the run's
/// `flamegraph.svg`, if the caller has it) is embedded.
pub fn report_html(r: &genbench_model::RunResult, flamegraph_svg: Option<&[u8]>) -> Vec<u8> {
    html::report(r, flamegraph_svg)
}
