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
mod nines;
mod pareto;

pub use compare::{Run, comparison_html, comparison_markdown};
pub use escape::html as escape_html;
pub use fmt::{
    abandoned as abandoned_text, cost_per_article, objectives_text, observed as threshold_value,
    outage_text,
};
pub use junit::junit;
pub use markdown::summary as summary_markdown;

/// The sections of a run's report without the page around them, as the
/// live dashboard shows the run so far: drawn by the same code as
/// `report.html`.
/// `running`: the header says the run is still going, whatever its status.
pub fn report_sections_html(r: &genbench_model::RunResult, running: bool) -> String {
    html::sections_html(r, None, running)
}

/// A self-contained page (report.html's style) around `body`.
pub fn page_html(title: &str, body: &str) -> String {
    html::page::document(title, body)
}

/// Renders `report.html` for one run; `flamegraph_svg` (the run's
/// `flamegraph.svg`, if the caller has it) is embedded.
pub fn report_html(r: &genbench_model::RunResult, flamegraph_svg: Option<&[u8]>) -> Vec<u8> {
    html::report(r, flamegraph_svg)
}
