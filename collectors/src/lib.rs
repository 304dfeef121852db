//! Everything that measures: latency and TTFB histograms, the timeline,
//! errors, cache, stages, cost, process CPU/RSS, profilers, and the leak,
//! capacity and spike analyses. Collectors take samples pushed to them and
//! never read clocks themselves: every time arrives on the sample.
//!
//! May depend on `genbench-model` only: never on the engine, scenarios or
//! reports. Profilers that run other programs live in `profile`.

pub mod analysis;
pub mod body;
pub mod connections;
pub mod cost;
pub mod flows;
pub mod histogram;
pub mod host;
pub mod llm;
pub mod merge;
pub mod outages;
pub mod pool;
pub mod process;
pub mod profile;
pub mod prometheus;
pub mod recorder;
pub mod records;
pub mod response;
pub mod sample;
pub mod self_limit;
pub mod stage_histograms;
pub mod stages;
pub mod steady;
pub mod summary;
pub mod traces;

pub use recorder::{Recorder, Traced};
pub use response::{BodyFacts, Response};
pub use sample::{CacheStatus, Outcome, Sample};
