//! Everything that measures: latency and TTFB histograms, the timeline,
//! errors, cache, stages, cost, process CPU/RSS, profilers, and the leak,
//! capacity and spike analyses. Collectors take samples pushed to them and
//! never read clocks themselves: every time arrives on the sample.
//!
//! May depend on `genbench-model` only.

pub mod recorder;
pub mod sample;
pub mod summary;

pub use recorder::Recorder;
pub use sample::{CacheStatus, Outcome, Sample};
