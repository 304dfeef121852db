//! Scenario files (TOML) and their validation into an immutable `Scenario`:
//! the built-ins (baseline, stress, spike, soak, llm, ci) and user files, with errors
//! that name the file, line, key and fix.
//!
//! May depend on `genbench-model` only; never on the engine, collectors or
//! reports, so a scenario can be checked without running anything.

mod abandon;
mod abort;
mod analysis;
mod builtin;
mod collect;
mod dataset;
mod duration;
mod env;
mod error;
mod flow;
mod http;
mod load;
mod names;
mod overrides;
mod replay;
mod request;
mod scenario;
mod search;
mod sections;
mod serde_secs;
mod slo;
mod stage_source;
mod stages;
mod threshold;
mod traces;

pub use abandon::{Abandon, Cancel};
pub use abort::Abort;
pub use analysis::{Analysis, Inconclusive, MemorySignal, PIPELINE_HEAP_GAUGE};
pub use builtin::{BUILTIN_NAMES, builtin, builtin_overridden};
pub use collect::{CacheSource, Collect, CostConfig, Price, Series, SeriesKind};
pub use duration::parse_duration;
pub use env::{MissingEnv, env_refs, process_env, required_env, resolve_env};
pub use error::ScenarioError;
pub use flow::{Extract, ExtractFrom, Flow, Poll, Step};
pub use http::{HttpSettings, HttpVersion};
pub use load::{Arrivals, Load};
pub use overrides::{Override, parse_override};
pub use replay::{DEFAULT_BLOCK_TOKENS, DEFAULT_REPLAY_MODEL, Passes, Replay};
pub use request::{Check, CheckRule, Checks};
pub use scenario::{
    Dataset, EmbeddedTarget, FileReader, Repeat, RequestTemplate, Scenario, Slo, variables,
};
pub use search::{Search, SearchVariable};
pub use stage_source::StageHistogram;
pub use stages::{Stage, parse_shorthand, target_at, total as total_duration};
pub use threshold::{LatencyStat, Metric, Op, SeriesStat, Threshold, parse_threshold};
pub use traces::{SpanMatch, SpanSource, StageRule, Traces};
